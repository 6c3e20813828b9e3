//! Access and audit commands (spec §12): client registration, subject
//! authorizations, raw-record reads, access logs, audit export and verification.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use credex_types::access::{AuditEntry, Authorization, Scope, SignedAuthorization};
use credex_types::{AgencyId, AttestationId, AttestationKind, SubjectId, Timestamp};
use serde_json::{Value, json};

use credex_api_types::client::Client;
use credex_api_types::keyfile::{KeyFile, SubjectKeyFile};
use credex_api_types::types;

/// Access and audit commands.
#[derive(clap::Subcommand)]
pub enum AccessCommand {
    /// Registers an official's or platform's key file in a node's clients.toml.
    ClientsAdd {
        /// The clients.toml to edit (created if missing).
        file: PathBuf,
        /// The key file (`credex keygen --role official|platform --client ID`).
        #[arg(long)]
        key: PathBuf,
    },
    /// A subject signs an authorization (数据授权) for an agency to read its raw records.
    Authorize {
        /// Node URL (for the chain id).
        #[arg(long)]
        node: String,
        /// The subject's key file.
        #[arg(long)]
        key: PathBuf,
        /// The agency granted.
        #[arg(long)]
        grantee: AgencyId,
        /// Attestations covered (repeatable); none and no --kind: all.
        #[arg(long = "attestation")]
        attestations: Vec<AttestationId>,
        /// Kinds covered (comma-separated).
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<AttestationKind>,
        /// Expiry: a time (RFC 3339) or a duration from now (e.g. 30d, 12h).
        /// It must lie in the future.
        #[arg(long, value_parser = parse_expiry)]
        expires: Timestamp,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// A subject withdraws an authorization it granted (on chain: every
    /// record holder refuses it from then on).
    Unauthorize {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The subject's key file.
        #[arg(long)]
        key: PathBuf,
        /// The authorization file `credex authorize` wrote.
        #[arg(long, conflicts_with = "hash", required_unless_present = "hash")]
        authorization: Option<PathBuf>,
        /// Or its hash, as `credex authorize` printed it.
        #[arg(long)]
        hash: Option<credex_crypto::Hash32>,
        /// Wait until it is on chain.
        #[arg(long)]
        wait: bool,
    },
    /// Reads a raw record (fields and salts) through your node, which
    /// fetches it from the holder if needed; sign with --auth.
    Record {
        /// Attestation id.
        id: AttestationId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The subject's authorization file.
        #[arg(long, conflicts_with = "legal_basis")]
        authorization: Option<PathBuf>,
        /// A legal-basis code your role may invoke.
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
    },
    /// Who read a subject's data through a node (sign as the subject or an official).
    AccessLog {
        /// Subject id.
        subject: SubjectId,
        /// Node URL.
        #[arg(long)]
        node: String,
    },
    /// The node's query audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// Audit log commands.
#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Writes a node's audit log as JSON lines (sign as an official or issuer).
    Export {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Checks an exported log: its hash chain, and every head the node
    /// anchored on chain, taken from **another** node of the chain (the
    /// audited node could lie about its own anchors). Exit 0 if intact and
    /// complete up to its last anchored head; 1 with the first altered or
    /// missing entry.
    Verify {
        /// The exported log (JSON lines).
        file: PathBuf,
        /// A node of the chain other than the audited one: the anchored heads come from it.
        #[arg(long)]
        node: String,
        /// The node (agency) whose log it is.
        #[arg(long)]
        of: AgencyId,
        /// Accept anchors from the audited node itself (they are then only as trustworthy as it is).
        #[arg(long)]
        trust_audited_node: bool,
    },
}

fn print(v: &Value) -> anyhow::Result<ExitCode> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(ExitCode::SUCCESS)
}

/// `--expires`: RFC 3339, or a duration (`30d`, `12h`, …) from now.
fn parse_expiry(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    credex_types::time::parse_duration_ms(s).map(|ms| Timestamp::system_now().plus_ms(ms)).ok_or_else(|| {
        format!("invalid expiry {s:?}: an RFC 3339 time (2027-01-01T00:00:00Z) or a duration (30d, 12h)")
    })
}

fn nonce() -> anyhow::Result<[u8; 16]> {
    let mut n = [0u8; 16];
    getrandom::fill(&mut n).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(n)
}

/// What `audit verify` concludes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AuditVerdict {
    /// Chain intact, every anchored head matches, and the log reaches the
    /// newest anchored head.
    Intact {
        /// Entries.
        entries: u64,
        /// Anchored heads checked.
        anchors: usize,
    },
    /// Intact as far as it goes, but entries up to an anchored head are
    /// missing: the export was cut (or is older than the anchor).
    Truncated {
        /// The last entry in the log.
        last: u64,
        /// The newest anchored head.
        anchored: u64,
    },
    /// The first altered entry.
    Tampered {
        /// Its number.
        seq: u64,
        /// How it shows.
        reason: String,
    },
}

/// Checks `entries` against the anchored heads `(seq, head)`.
pub(crate) fn verify_log(entries: &[AuditEntry], anchors: &[(u64, credex_crypto::Hash32)]) -> AuditVerdict {
    if let Err(b) = credex_types::access::verify_chain(entries) {
        return AuditVerdict::Tampered { seq: b.seq, reason: b.to_string() };
    }
    let mut checked = 0;
    let mut previous = 0u64;
    let last = entries.last().map_or(0, |e| e.seq);
    for (seq, head) in anchors {
        let Some(e) = usize::try_from(*seq).ok().and_then(|s| s.checked_sub(1)).and_then(|i| entries.get(i)) else {
            continue;
        };
        if e.hash() != *head {
            // a consistent rewrite: the first entry after the last matching anchor is the earliest that can differ
            return AuditVerdict::Tampered {
                seq: previous + 1,
                reason: format!(
                    "entries {}..={seq} do not hash to the head anchored on chain at entry {seq}",
                    previous + 1
                ),
            };
        }
        previous = *seq;
        checked += 1;
    }
    let anchored = anchors.iter().map(|(s, _)| *s).max().unwrap_or(0);
    if anchored > last {
        return AuditVerdict::Truncated { last, anchored };
    }
    AuditVerdict::Intact { entries: u64::try_from(entries.len()).unwrap_or(u64::MAX), anchors: checked }
}

/// Runs an access command.
pub(crate) fn run(cmd: AccessCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AccessCommand::ClientsAdd { file, key } => {
            let (kf, k) = KeyFile::read(&key)?;
            let id = kf.client.clone().ok_or_else(|| anyhow::anyhow!("{} has no client id", key.display()))?;
            let role = kf.role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let mut clients = if file.exists() {
                credex_api_types::Clients::read(&file)?
            } else {
                credex_api_types::Clients::default()
            };
            anyhow::ensure!(!clients.clients.iter().any(|c| c.id == id), "client {id} is already registered");
            clients.clients.push(credex_api_types::Client { id: id.clone(), role, agency: kf.agency, key: k.public() });
            clients.write(&file)?;
            // re-read: the file must stay valid (roles official or platform)
            credex_api_types::Clients::read(&file)?;
            print(&json!({ "client": id, "role": kf.role, "file": file.display().to_string() }))
        }
        AccessCommand::Authorize { node, key, grantee, attestations, kinds, expires, out } => {
            let now = Timestamp::system_now();
            anyhow::ensure!(
                expires > now,
                "--expires {expires} is not in the future (now {now}): an authorization that has already expired grants nothing; give a later time or a duration such as 30d"
            );
            let (sf, sk) = SubjectKeyFile::read(&key)?;
            let scope = match (attestations.is_empty(), kinds.is_empty()) {
                (false, true) => Scope::Attestations(attestations),
                (true, false) => Scope::Kinds(kinds),
                (true, true) => Scope::All,
                (false, false) => anyhow::bail!("give --attestation or --kinds, not both"),
            };
            let signed: SignedAuthorization = Authorization {
                chain_id: Client::new(&node).chain_id()?,
                subject: sf.subject,
                grantee,
                scope,
                expires,
                nonce: nonce()?,
            }
            .sign(&sk);
            std::fs::write(&out, serde_json::to_string_pretty(&signed)? + "\n")
                .with_context(|| format!("writing {}", out.display()))?;
            print(
                &json!({ "authorization": signed.authorization.hash().to_string(), "out": out.display().to_string() }),
            )
        }
        AccessCommand::Unauthorize { node, key, authorization, hash, wait } => {
            let hash = match (authorization, hash) {
                (_, Some(h)) => h,
                (Some(path), None) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    let a: SignedAuthorization =
                        serde_json::from_str(&text).with_context(|| format!("authorization {}", path.display()))?;
                    let (sf, _) = SubjectKeyFile::read(&key)?;
                    anyhow::ensure!(
                        a.authorization.subject == sf.subject,
                        "{} was granted by {}, not by {} (whose key this is)",
                        path.display(),
                        a.authorization.subject,
                        sf.subject
                    );
                    a.authorization.hash()
                }
                (None, None) => anyhow::bail!("give --authorization FILE or --hash"),
            };
            let client = Client::with_key(&node, &key)?;
            let mut v = crate::lifecycle_cmd::file_act(
                &client,
                &key,
                credex_types::lifecycle::ActBody::RevokeAuthorization { authorization: hash },
                wait,
            )?;
            if let Some(o) = v.as_object_mut() {
                o.remove("case"); // a withdrawal opens no case
                o.insert("revoked".into(), json!(hash.to_string()));
            }
            print(&v)
        }
        AccessCommand::Record { id, node, authorization, legal_basis } => {
            let body = match (authorization, legal_basis) {
                (Some(path), _) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                    let a: SignedAuthorization =
                        serde_json::from_str(&text).with_context(|| format!("authorization {}", path.display()))?;
                    json!({ "authorization": a })
                }
                (None, Some(l)) => json!({ "legal_basis": l }),
                (None, None) => json!({}),
            };
            print(&Client::new(&node).post(&format!("/v1/attestations/{id}/record"), &body)?)
        }
        AccessCommand::AccessLog { subject, node } => {
            // every page, newest first: the whole log, nothing dropped
            let client = Client::new(&node);
            let mut all = Vec::new();
            let mut before: Option<u64> = None;
            let mut last = loop {
                let path = match before {
                    Some(b) => format!("/v1/subjects/{subject}/access-log?limit=1000&before={b}"),
                    None => format!("/v1/subjects/{subject}/access-log?limit=1000"),
                };
                let mut page: types::AccessLog = client.get_as(&path)?;
                all.append(&mut page.entries);
                match page.next {
                    Some(n) if before.is_none_or(|b| n < b) => before = Some(n),
                    _ => {
                        page.next = None;
                        break page;
                    }
                }
            };
            last.entries = all;
            print(&serde_json::to_value(&last)?)
        }
        AccessCommand::Audit { command: AuditCommand::Export { node, out } } => {
            let client = Client::new(&node);
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?,
            );
            let mut from = 1u64;
            let mut n = 0u64;
            let mut agency: Option<Option<credex_types::AgencyId>> = None;
            // Each page request is itself audited: export up to the head as it
            // was at the first page, or the log would grow as it is read.
            let mut last: Option<u64> = None;
            loop {
                let page: types::AuditLog = client.get_as(&format!("/v1/audit/log?from={from}&limit=1000"))?;
                agency.get_or_insert_with(|| page.node.clone());
                let end = *last.get_or_insert(page.head.seq);
                let entries: Vec<types::HashedEntry> =
                    page.entries.into_iter().filter(|e| e.entry.seq <= end).collect();
                if entries.is_empty() {
                    break;
                }
                for e in &entries {
                    writeln!(f, "{}", serde_json::to_string(e)?)?;
                    n += 1;
                }
                from += u64::try_from(entries.len())?;
            }
            f.flush()?;
            print(&json!({ "node": agency.flatten(), "entries": n, "out": out.display().to_string() }))
        }
        AccessCommand::Audit { command: AuditCommand::Verify { file, node, of, trust_audited_node } } => {
            let f = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let mut entries = Vec::new();
            for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let e: AuditEntry = serde_json::from_str(&line)
                    .with_context(|| format!("{} line {}: not an audit entry", file.display(), i + 1))?;
                entries.push(e);
            }
            let client = Client::new(&node);
            let status = client.status()?;
            if status.agency.as_ref() == Some(&of) && !trust_audited_node {
                anyhow::bail!(
                    "{node} is {of}'s own node: take the anchored heads from another node of the chain \
                     (or pass --trust-audited-node)"
                );
            }
            let v: types::AuditAnchors = client.get_as(&format!("/v1/audit/anchors?node={of}"))?;
            let anchors: Vec<(u64, credex_crypto::Hash32)> = v.anchors.iter().map(|a| (a.seq, a.head)).collect();
            match verify_log(&entries, &anchors) {
                AuditVerdict::Intact { entries, anchors } => print(&json!({
                    "intact": true, "node": v.node, "entries": entries, "anchors_checked": anchors,
                    "anchors_from": status.agency,
                })),
                AuditVerdict::Truncated { last, anchored } => {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&json!({
                            "intact": false, "first_altered_entry": last + 1,
                            "reason": format!("the log ends at entry {last}, but {of} anchored entry {anchored} on chain: entries {}..={anchored} are missing", last + 1),
                        }))?
                    );
                    Ok(ExitCode::from(1))
                }
                AuditVerdict::Tampered { seq, reason } => {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({ "intact": false, "first_altered_entry": seq, "reason": reason })
                        )?
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credex_types::access::Role;

    fn log(n: u64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(credex_crypto::Hash32::ZERO, AuditEntry::hash);
            out.push(AuditEntry {
                seq,
                prev,
                time: Timestamp(seq),
                client: format!("c{seq}"),
                role: Role::Official,
                action: "GET /v1/subjects/x".into(),
                subject: None,
                basis: None,
                result: "200".into(),
            });
        }
        out
    }

    #[test]
    fn edits_are_found_at_their_entry() {
        let entries = log(6);
        let anchors = vec![(3, entries[2].hash()), (6, entries[5].hash())];
        assert_eq!(verify_log(&entries, &anchors), AuditVerdict::Intact { entries: 6, anchors: 2 });
        // a plain edit of entry 4
        let mut e = entries.clone();
        e[3].client = "someone-else".into();
        assert!(matches!(verify_log(&e, &anchors), AuditVerdict::Tampered { seq: 4, .. }));
        // an edit of entry 5 with every later hash recomputed: the anchor at 6 catches it, after 3
        let mut e = entries.clone();
        e[4].result = "403".into();
        e[5].prev = e[4].hash();
        assert!(matches!(verify_log(&e, &anchors), AuditVerdict::Tampered { seq: 4, .. }));
        // a cut end (or an export older than the last anchor) is not intact: entries are missing
        assert_eq!(verify_log(&entries[..5], &anchors), AuditVerdict::Truncated { last: 5, anchored: 6 });
        assert_eq!(verify_log(&[], &anchors), AuditVerdict::Truncated { last: 0, anchored: 6 });
        // a cut head, and two entries swapped
        assert!(matches!(verify_log(&entries[2..], &anchors), AuditVerdict::Tampered { seq: 1, .. }));
        let mut e = entries.clone();
        e.swap(1, 2);
        assert!(matches!(verify_log(&e, &anchors), AuditVerdict::Tampered { seq: 2, .. }));
        // an entry removed from the middle
        let mut e = entries.clone();
        e.remove(1);
        assert!(matches!(verify_log(&e, &anchors), AuditVerdict::Tampered { seq: 2, .. }));
    }
}
