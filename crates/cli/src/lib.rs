//! The credex command line: the clap tree and every command that is not a running node (offline verification, genesis, keys, issuer and lifecycle commands, access, CSV, load, reports).
//!
//! The binary (`node/`) flattens [`Command`] beside the node's own
//! commands (`credex node`, `credex dev`, which live in `credex-node`) and
//! dispatches to [`run`]. Nothing here opens a database or a peer-to-peer
//! socket: the commands either work offline (verify, genesis, keys, id,
//! labels, evidence) or talk to a node's HTTP API through the typed client
//! of `credex-api-types`.
//!
//! Exit codes are part of the interface:
//! * `credex id check`: 0 valid, 1 invalid (reason on stderr);
//! * `credex verify`: 0 valid, 1 a well-formed negative outcome (listed,
//!   revoked, superseded, erased, expired, stale), 2 invalid or malformed;
//! * `credex attest`, `revoke`, `proof`: 0 done, 1 refused by the node
//!   (its error code and message on stderr), 2 other errors;
//! * usage errors: 2.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
// The commands' answers go to standard output, their interface, through
// `outln!` / `out!`: they survive a reader that went away.

/// Writes to standard output; see [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_out(format_args!($($arg)*), false) };
}
/// Writes a line to standard output; see [`write_out`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::write_out(format_args!($($arg)*), true) };
}

/// Writes a command's answer to standard output. When the reader went
/// away (`credex warnings … | head`) the process ends at once with status
/// 141 (128 + SIGPIPE, what a Unix tool stopped by a closed pipe reports)
/// instead of panicking as `println!` does; other write errors end it with 2.
pub(crate) fn write_out(args: std::fmt::Arguments<'_>, newline: bool) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let r = stdout.write_fmt(args).and_then(|()| if newline { stdout.write_all(b"\n") } else { Ok(()) });
    match r.and_then(|()| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(141),
        Err(e) => {
            eprintln!("error: writing to standard output: {e}");
            std::process::exit(2)
        }
    }
}

mod access_cmd;
mod check_cmd;
mod csv_cmd;
mod genesis_cmd;
mod import_map;
mod issuer_cmd;
mod lifecycle_cmd;
mod load;

pub use credex_api_types::client::{Client, ClientError, Refused};

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use credex_types::genesis::Genesis;
use credex_types::labels::{LabelTable, Lang};
use credex_types::{AgencyId, Jurisdiction, SubjectId, Timestamp};
use credex_verify::VerifyArgs;

/// Options every client command takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Global {
    /// Sign API requests with this key file (an official's, platform's,
    /// issuer's or subject's). Commands that take a
    /// `--key` sign with that key.
    #[arg(long, global = true, env = "CREDEX_AUTH")]
    pub auth: Option<PathBuf>,
    /// Trust exactly the certificates in this PEM file for `https://` node
    /// URLs (a partner's private CA). Default: the Web PKI roots.
    #[arg(long, global = true, env = "CREDEX_CA")]
    pub ca: Option<PathBuf>,
    /// How long, in seconds, to keep resending a request the node refused
    /// only for now (503 busy or read-only, 429) before giving up with its
    /// refusal; 0 gives up at once. Default 120.
    #[arg(long, global = true, env = "CREDEX_PATIENCE", value_name = "SECONDS")]
    pub patience: Option<u64>,
}

/// The commands that are not a running node.
#[derive(Subcommand)]
// clap turns doc comments into help text: the subcommand fields and the
// flattened groups carry none on purpose.
#[allow(missing_docs)]
pub enum Command {
    /// Subject identifiers.
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// Verifies a credit proof offline against a genesis file.
    Verify(VerifyArgs),
    /// Genesis files.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// The zh / ru / en label table.
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// Credit proofs: fetch from a node, or inspect a file.
    Proof {
        #[command(subcommand)]
        command: ProofCommand,
    },
    /// Checks equivocation evidence (JSON, as in a block's evidence
    /// transaction) against a genesis, offline.
    Evidence {
        /// Evidence JSON file (`{"first": …, "second": …}`); `-` reads stdin.
        file: PathBuf,
        /// The genesis file to trust.
        #[arg(long)]
        genesis: PathBuf,
    },
    /// Signs an attestation with an issuer key and submits it to a node.
    Attest {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// Subject id.
        #[arg(long)]
        subject: SubjectId,
        /// Kind, e.g. abnormal-operation-listing.
        #[arg(long)]
        kind: credex_types::AttestationKind,
        /// A claim field CODE=VALUE (repeatable).
        #[arg(long = "field")]
        fields: Vec<String>,
        /// The attestation this one replaces.
        #[arg(long)]
        supersedes: Option<credex_types::AttestationId>,
        /// The subject's case (commitment, repair application, objection) this answers.
        #[arg(long)]
        case: Option<credex_types::lifecycle::CaseId>,
        /// Legal basis code (default depends on the kind).
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
        /// Effective time (RFC 3339; default now).
        #[arg(long)]
        effective: Option<Timestamp>,
        /// Expiry / end of publication window (RFC 3339). Penalties must
        /// have one (ordinary 90–365 days, serious 182–1,096 days after the
        /// effective time); the default is the shortest.
        #[arg(long)]
        expires: Option<Timestamp>,
        /// Wait until anchored and print the height.
        #[arg(long)]
        wait: bool,
    },
    /// Revokes an attestation (signed by the same issuer).
    Revoke {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// Attestation id.
        id: credex_types::AttestationId,
        /// Wait until anchored.
        #[arg(long)]
        wait: bool,
    },
    /// Load generator: submits many attestations, reports attestations/s and submit-to-final latency.
    Load {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file (its agency must be allowed administrative-licence).
        #[arg(long)]
        key: PathBuf,
        /// How many attestations.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Concurrent submitters.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Open loop: offer this many attestations per second whatever the
        /// node answers, counting what it refuses for now instead of
        /// resending it (default: closed loop, refusals resent after backoff).
        #[arg(long)]
        rate: Option<f64>,
        /// Attestations per request (more than 1: POST /v1/bulk/attestations, at most 1000).
        #[arg(long, default_value_t = 1)]
        bulk: usize,
    },
    /// Generates a key file.
    Keygen {
        /// Agency id (issuer, validator, p2p, official and platform keys).
        #[arg(long, required_unless_present = "subject")]
        agency: Option<AgencyId>,
        /// Client id of an official or platform key (as registered in clients.toml).
        #[arg(long)]
        client: Option<String>,
        /// Subject id (subject keys: `--role subject`).
        #[arg(long, conflicts_with = "agency")]
        subject: Option<SubjectId>,
        /// issuer, validator, p2p (network identity), official, platform or subject.
        #[arg(long, default_value = "issuer")]
        role: String,
        /// Output file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// Mark the key file as an insecure development key.
        #[arg(long)]
        dev_warning: bool,
    },
    #[command(flatten)]
    Lifecycle(lifecycle_cmd::LifecycleCommand),
    #[command(flatten)]
    Access(access_cmd::AccessCommand),
    /// Imports an agency's list (CSV) as signed attestations, with a progress
    /// bar; deduplicates and merges repeated rows, reports rejected rows by
    /// line, and is safe to re-run. Exit 1 if any row was rejected.
    Import {
        /// The CSV file: credex's own format (`subject`, optional
        /// `effective_at` / `expires_at`, then field codes), or an agency's
        /// export read with --profile or --mapping.
        file: PathBuf,
        /// Node URL (not needed with --dry-run).
        #[arg(long, required_unless_present = "dry_run")]
        node: Option<String>,
        /// Issuer key file (not needed with --dry-run).
        #[arg(long, required_unless_present = "dry_run")]
        key: Option<PathBuf>,
        /// The kind of every row, e.g. abnormal-operation-listing (default:
        /// the profile's or mapping's kind).
        #[arg(long)]
        kind: Option<credex_types::AttestationKind>,
        /// A built-in column mapping: cn-abnormal-operation or
        /// cn-serious-violation (China's publicity-system exports).
        #[arg(long, conflicts_with = "mapping")]
        profile: Option<String>,
        /// A column mapping file (TOML, the profiles' form; docs/import.md).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// The file's encoding: utf-8 or gb18030 (also GBK); default: a BOM
        /// decides, else UTF-8 if valid, else GB18030.
        #[arg(long)]
        encoding: Option<String>,
        /// Time zone of dates without one: Asia/Shanghai, Asia/Vladivostok,
        /// UTC, +08:00 … (default: the mapping's, else Asia/Shanghai); a
        /// date alone means the start of that local day.
        #[arg(long)]
        tz: Option<credex_types::time::Zone>,
        /// Effective time of rows without `effective_at` (a date or RFC 3339,
        /// in --tz).
        #[arg(long)]
        effective: Option<String>,
        /// Legal basis code (default depends on the kind).
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
        /// Check and show what would be submitted, merged and rejected;
        /// submit nothing (no node needed).
        #[arg(long)]
        dry_run: bool,
        /// Also publish each legal entity's registered name from the
        /// `subject-name` column (企业名称) on chain, in plain text (spec
        /// §11.10; the key must be a registrar's). Names already published
        /// as they are are left alone.
        #[arg(long)]
        publish_names: bool,
    },
    /// Checks many subjects at once (a platform's sellers) on every list:
    /// one CSV line each, and with --proofs each one's proof to keep.
    /// Signs with --auth (a platform's, official's or issuer's key).
    /// Exit 1 if a line was not a subject id.
    Check {
        /// Subject ids: one per line, or a CSV whose first column holds them (a header is skipped).
        file: PathBuf,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Write the results (CSV) here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write each subject's every-list proof (`credex1:` text) into this directory.
        #[arg(long)]
        proofs: Option<PathBuf>,
    },
    /// Writes who is on a list now, as CSV (or JSON).
    Export {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The list.
        #[arg(long)]
        list: credex_types::ListKind,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes a checkpoint at the node's head (spec §8.5): a later block a
    /// partner trusts besides the genesis (`credex verify --checkpoint`), so
    /// validator keys retired before it no longer count. Check it against
    /// the genesis before handing it out; hand out its hash by a second channel.
    Checkpoint {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// The genesis to check it against (else it is written unchecked).
        #[arg(long)]
        genesis: Option<PathBuf>,
    },
    /// Writes a subject's printable credit report (HTML with QR status proofs).
    Report {
        /// Subject id.
        subject: SubjectId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// zh, ru or en.
        #[arg(long, default_value = "en")]
        lang: Lang,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// A group of subcommands or arguments (see `credex --help`).
#[derive(Subcommand)]
pub enum IdCommand {
    /// Validates an identifier; prints its canonical form, jurisdiction and scheme.
    Check {
        /// e.g. 91350100M000100Y43, ru-inn:7707083893, jp-cn:7000012050002, mn-reg:2081237
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A group of subcommands or arguments (see `credex --help`).
#[derive(Subcommand)]
pub enum GenesisCommand {
    /// Prints the genesis hash (over the canonical encoding, not the text).
    Hash {
        /// Genesis TOML file.
        file: PathBuf,
    },
    /// Writes a new genesis with no validators yet.
    New {
        /// Chain id.
        #[arg(long)]
        chain_id: credex_types::ChainId,
        /// Genesis time (RFC 3339; default now).
        #[arg(long)]
        time: Option<Timestamp>,
        /// Output file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Adds a validator (agency from its key file).
    AddValidator {
        /// Genesis file to edit.
        file: PathBuf,
        /// Consensus key file.
        #[arg(long)]
        key: PathBuf,
        /// Network (libp2p) key file.
        #[arg(long)]
        p2p_key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction, e.g. CN.
        #[arg(long)]
        jurisdiction: Jurisdiction,
        /// Voting power.
        #[arg(long, default_value_t = 1)]
        power: u64,
    },
    /// Adds an observer (agency from its key file).
    AddObserver {
        /// Genesis file to edit.
        file: PathBuf,
        /// Network (libp2p) key file.
        #[arg(long)]
        p2p_key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction.
        #[arg(long)]
        jurisdiction: Jurisdiction,
    },
    /// Adds an issuer (agency from its key file).
    AddIssuer {
        /// Genesis file to edit.
        file: PathBuf,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction.
        #[arg(long)]
        jurisdiction: Jurisdiction,
        /// Kinds it may issue, comma-separated.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<credex_types::AttestationKind>,
    },
}

/// A group of subcommands or arguments (see `credex --help`).
#[derive(Subcommand)]
pub enum LabelsCommand {
    /// Prints the hash of the built-in label table (what genesis pins).
    Hash,
    /// Prints the label table.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A group of subcommands or arguments (see `credex --help`).
#[derive(Subcommand)]
pub enum ProofCommand {
    /// Prints a proof as JSON without verifying it.
    Inspect {
        /// Proof file; `-` reads stdin.
        file: PathBuf,
    },
    /// Fetches the proof of an attestation from a node.
    Attestation {
        /// Attestation id.
        id: credex_types::AttestationId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Field codes to disclose, comma-separated (the subject and the
        /// attestation's issuer may; others need --legal-basis).
        #[arg(long, value_delimiter = ',')]
        disclose: Vec<credex_types::FieldCode>,
        /// A legal basis of your role for the disclosure, e.g. cn-admin-inspection.
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Fetches a subject's list-status proof from a node: for one list
    /// (`--list`), or for every list in one proof (`--all`).
    Status {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Subject id.
        #[arg(long)]
        subject: SubjectId,
        /// List, e.g. abnormal-operation.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        list: Option<credex_types::ListKind>,
        /// Every list at once: one proof, one QR code.
        #[arg(long)]
        all: bool,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The exit code of a failed command: 1 when the node refused (the answer
/// is the verdict), 2 for anything else (bad input, unreachable node).
pub fn exit_code(e: &anyhow::Error) -> ExitCode {
    let refused = e.downcast_ref::<Refused>().is_some()
        || matches!(e.downcast_ref::<ClientError>(), Some(ClientError::Refused(_)));
    if refused { ExitCode::from(1) } else { ExitCode::from(2) }
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<ExitCode> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(ExitCode::SUCCESS)
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().take(1 << 20).read_to_end(&mut buf).context("reading stdin")?;
        return Ok(buf);
    }
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(meta.len() <= 1 << 20, "{} is larger than 1 MiB; not a credit proof", path.display());
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn load_genesis(path: &PathBuf) -> anyhow::Result<Genesis> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading genesis {}", path.display()))?;
    Genesis::from_toml(&text).with_context(|| format!("genesis {}", path.display()))
}

/// Runs `command` with the process-wide client options `global`.
pub fn run(global: Global, command: Command) -> anyhow::Result<ExitCode> {
    if let Some(ca) = &global.ca {
        credex_api_types::client::set_default_ca(ca)?;
    }
    if let Some(path) = global.auth {
        credex_api_types::client::set_default_auth(path);
    }
    if let Some(s) = global.patience {
        credex_api_types::client::set_default_patience(std::time::Duration::from_secs(s));
    }
    match command {
        Command::Id { command: IdCommand::Check { id, json } } => Ok(id_check(&id, json)),
        Command::Verify(args) => Ok(verify(&args)),
        Command::Genesis { command: GenesisCommand::Hash { file } } => {
            outln!("{}", load_genesis(&file)?.hash());
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis { command: GenesisCommand::New { chain_id, time, out } } => {
            genesis_cmd::new(&out, chain_id, time.unwrap_or_else(Timestamp::system_now))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis {
            command: GenesisCommand::AddValidator { file, key, p2p_key, names, jurisdiction, power },
        } => {
            genesis_cmd::add_validator(&file, &key, &p2p_key, genesis_cmd::parse_names(&names)?, jurisdiction, power)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis { command: GenesisCommand::AddObserver { file, p2p_key, names, jurisdiction } } => {
            genesis_cmd::add_observer(&file, &p2p_key, genesis_cmd::parse_names(&names)?, jurisdiction)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis { command: GenesisCommand::AddIssuer { file, key, names, jurisdiction, kinds } } => {
            anyhow::ensure!(!kinds.is_empty(), "--kinds: name at least one kind");
            genesis_cmd::add_issuer(&file, &key, genesis_cmd::parse_names(&names)?, jurisdiction, kinds)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Labels { command } => {
            let table = LabelTable::builtin();
            match command {
                LabelsCommand::Hash => outln!("{}", table.hash()),
                LabelsCommand::Show { json: true } => outln!("{}", serde_json::to_string_pretty(&table)?),
                LabelsCommand::Show { json: false } => {
                    for e in &table.entries {
                        let cat = e.category.name();
                        outln!("{cat}\t{}\t{}\t{}\t{}", e.code, e.zh, e.ru, e.en);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Proof { command: ProofCommand::Inspect { file } } => {
            let proof = credex_proof::CreditProof::from_any(&read_input(&file)?)?;
            outln!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Proof { command: ProofCommand::Attestation { id, node, disclose, legal_basis, out } } => {
            print_json(&issuer_cmd::proof_attestation(&Client::new(&node), id, &disclose, legal_basis.as_ref(), &out)?)
        }
        Command::Proof { command: ProofCommand::Status { node, subject, list, all: _, out } } => match list {
            Some(list) => print_json(&issuer_cmd::proof_status(&Client::new(&node), &subject, list, &out)?),
            None => print_json(&issuer_cmd::proof_standing(&Client::new(&node), &subject, &out)?),
        },
        Command::Evidence { file, genesis } => {
            let genesis = load_genesis(&genesis)?;
            let ev: credex_types::chain::Evidence =
                serde_json::from_slice(&read_input(&file)?).context("evidence JSON")?;
            match ev.verify(&genesis.validator_set(), &genesis.chain_id) {
                Ok(i) => {
                    let v = &ev.first.vote;
                    let agency =
                        genesis.validators.get(usize::from(i)).map(|v| v.agency.to_string()).unwrap_or_default();
                    outln!(
                        "EQUIVOCATION by validator {i} ({agency}) at height {} round {} ({:?})",
                        v.height,
                        v.round,
                        v.kind
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    outln!("INVALID evidence: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Attest {
            node,
            key,
            subject,
            kind,
            fields,
            supersedes,
            case,
            legal_basis,
            effective,
            expires,
            wait,
        } => {
            let args = issuer_cmd::AttestArgs {
                subject,
                kind,
                fields: &fields,
                supersedes,
                case,
                legal_basis,
                effective_at: effective.unwrap_or_else(Timestamp::system_now),
                expires_at: expires,
            };
            print_json(&issuer_cmd::attest(&Client::with_key(&node, &key)?, &key, args, wait)?)
        }
        Command::Revoke { node, key, id, wait } => {
            print_json(&issuer_cmd::revoke(&Client::with_key(&node, &key)?, &key, id, Timestamp::system_now(), wait)?)
        }
        Command::Load { node, key, count, concurrency, rate, bulk } => {
            let opts = load::LoadOptions { count, concurrency, rate, bulk };
            let report = load::run(&node, &key, opts, Timestamp::system_now())?;
            print_json(&serde_json::to_value(report)?)
        }
        Command::Keygen { agency, client, subject, role, out, dev_warning } => {
            anyhow::ensure!(!out.exists(), "{} exists; refusing to overwrite a key", out.display());
            let warning = dev_warning.then_some(credex_api_types::keyfile::DEV_WARNING);
            match (role.as_str(), agency, subject) {
                ("subject", _, Some(subject)) => {
                    let (file, _) = credex_api_types::keyfile::SubjectKeyFile::generate(subject, warning)?;
                    file.write(&out)?;
                    print_json(&serde_json::json!({
                        "subject": file.subject, "role": file.role, "public_key": file.public_key,
                        "out": out.display().to_string(),
                    }))
                }
                ("subject", _, None) => anyhow::bail!("--role subject needs --subject"),
                ("issuer" | "validator" | "p2p", Some(agency), None) => {
                    let (file, key) = credex_api_types::keyfile::KeyFile::generate(agency, &role, warning)?;
                    file.write(&out)?;
                    let peer_id = credex_types::access::ed25519_peer_id(&key.public());
                    print_json(&serde_json::json!({
                        "agency": file.agency, "role": file.role, "public_key": file.public_key,
                        "peer_id": peer_id, "out": out.display().to_string(),
                    }))
                }
                ("official" | "platform", Some(agency), None) => {
                    let id = client.ok_or_else(|| anyhow::anyhow!("--role {role} needs --client ID"))?;
                    let (mut file, _) = credex_api_types::keyfile::KeyFile::generate(agency, &role, warning)?;
                    file.client = Some(id);
                    file.write(&out)?;
                    print_json(&serde_json::json!({
                        "agency": file.agency, "role": file.role, "client": file.client,
                        "public_key": file.public_key, "out": out.display().to_string(),
                    }))
                }
                ("issuer" | "validator" | "p2p" | "official" | "platform", _, _) => {
                    anyhow::bail!("--role {role} needs --agency")
                }
                _ => anyhow::bail!("--role must be issuer, validator, p2p, official, platform or subject"),
            }
        }
        Command::Lifecycle(c) => lifecycle_cmd::run(c, Timestamp::system_now()),
        Command::Access(c) => access_cmd::run(c),
        Command::Import {
            file,
            node,
            key,
            kind,
            profile,
            mapping,
            encoding,
            tz,
            effective,
            legal_basis,
            dry_run,
            publish_names,
        } => {
            let mut map = match (&profile, &mapping) {
                (Some(name), _) => import_map::Mapping::profile(name)?,
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                    import_map::Mapping::from_toml(&text, &path.display().to_string())?
                }
                (None, None) => import_map::Mapping::own(credex_types::time::Zone::shanghai()),
            };
            if let Some(z) = tz {
                map.zone = z;
            }
            let kind = kind.or(map.kind).ok_or_else(|| {
                anyhow::anyhow!("no --kind: name the kind of every row (e.g. --kind abnormal-operation-listing)")
            })?;
            let effective = match effective {
                Some(e) => Some(
                    map.zone.parse_local(&e).map_err(|_| anyhow::anyhow!("--effective {e:?}: not a date or time"))?,
                ),
                None => None,
            };
            let submit = match (&node, &key, dry_run) {
                (_, _, true) => None,
                (Some(n), Some(k), false) => Some((n.as_str(), k.as_path())),
                _ => anyhow::bail!("--node and --key are needed to import (or pass --dry-run)"),
            };
            let args = csv_cmd::ImportArgs {
                file: &file,
                mapping: &map,
                encoding: encoding.as_deref(),
                kind,
                effective,
                legal_basis,
                submit,
                publish_names,
            };
            let (report, ok) = csv_cmd::import(&args)?;
            outln!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Check { file, node, out, proofs } => {
            let (summary, ok) = match &out {
                Some(path) => {
                    let mut f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                    check_cmd::check(&node, &file, &mut f, proofs.as_deref())?
                }
                None => check_cmd::check(&node, &file, &mut std::io::stdout(), proofs.as_deref())?,
            };
            eprintln!("{summary}");
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Export { node, list, format, out } => {
            anyhow::ensure!(matches!(format.as_str(), "csv" | "json"), "--format csv or json");
            let n = match &out {
                Some(path) => {
                    let mut f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                    csv_cmd::export(&node, list, format == "json", &mut f)?
                }
                None => csv_cmd::export(&node, list, format == "json", &mut std::io::stdout())?,
            };
            eprintln!("{n} subjects on the {list} list");
            Ok(ExitCode::SUCCESS)
        }
        Command::Checkpoint { node, out, genesis } => {
            let text = Client::new(&node).get_text("/v1/checkpoint")?;
            let cp =
                credex_proof::Checkpoint::from_any(text.as_bytes()).context("the node's answer is not a checkpoint")?;
            if let Some(g) = &genesis {
                let genesis = load_genesis(g)?;
                credex_proof::Verifier::new(genesis, credex_proof::Policy::default())
                    .and_then(|v| v.with_checkpoint(&cp))
                    .with_context(|| format!("the checkpoint does not follow from {}", g.display()))?;
            }
            std::fs::write(&out, cp.to_text() + "\n").with_context(|| format!("writing {}", out.display()))?;
            let hash = credex_crypto::Hash32::sha256(&[&cp.to_bytes()]);
            print_json(&serde_json::json!({
                "height": cp.height(),
                "block": cp.anchor.header.id().to_string(),
                "validators": cp.next_set.validators.len(),
                "checked_against_genesis": genesis.is_some(),
                "sha256": hash.to_string(),
                "out": out.display().to_string(),
            }))
        }
        Command::Report { subject, node, lang, out } => {
            let html = Client::new(&node).get_text(&format!("/report/{subject}?lang={lang}"))?;
            std::fs::write(&out, html).with_context(|| format!("writing {}", out.display()))?;
            print_json(
                &serde_json::json!({ "subject": subject, "lang": lang.to_string(), "out": out.display().to_string() }),
            )
        }
    }
}

fn id_check(input: &str, json: bool) -> ExitCode {
    match input.parse::<SubjectId>() {
        Ok(id) => {
            if json {
                let v = serde_json::json!({
                    "valid": true,
                    "canonical": id.to_string(),
                    "jurisdiction": id.jurisdiction().to_string(),
                    "scheme": id.scheme_name(),
                });
                outln!("{v}");
            } else {
                outln!("{id}\njurisdiction: {}\nscheme: {}", id.jurisdiction(), id.scheme_name());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                outln!("{}", serde_json::json!({ "valid": false, "input": input, "error": e.to_string() }));
            }
            eprintln!("invalid subject id {input:?}: {e}");
            ExitCode::from(1)
        }
    }
}

fn verify(args: &VerifyArgs) -> ExitCode {
    match credex_verify::run(args) {
        Ok(report) => {
            out!("{}", report.text);
            ExitCode::from(report.exit_code)
        }
        Err(e) => {
            eprintln!("credex verify: {e}");
            ExitCode::from(credex_verify::EXIT_UNCHECKED)
        }
    }
}
