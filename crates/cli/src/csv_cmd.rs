//! `credex import` and `credex export`: an agency's existing lists in and out as CSV.
//!
//! **Import** turns each row of a CSV file into a signed attestation of
//! `--kind` (or the profile's kind). The file is credex's own format
//! (header: `subject`, optionally `effective_at` and `expires_at`, then
//! claim field codes such as `reason-code`, `decision-no`) or, with
//! `--profile` or `--mapping`, the agency's own export (Chinese headers,
//! reason texts, local dates; see [`crate::import_map`]); UTF-8, UTF-16 or
//! GB18030. Rows are checked first (subject id, times, field codes and
//! coded values); rows for the same subject and effective time are one
//! record: identical repeats are dropped, complementary ones merged, and a
//! row whose value contradicts an earlier one is rejected naming that line.
//! Nonce and salts are derived from the issuer's secret and the record, so
//! the same file gives the same attestations: re-running an import
//! re-submits identical ids, which the node answers as already anchored
//! (idempotent). `--dry-run` shows what would be submitted, merged and
//! rejected without a node. Rejected rows are reported with their line
//! numbers and reasons; the rest are imported. Exit 0 if every row was
//! imported (or, in a dry run, would be), 1 otherwise.
//!
//! **Export** writes the subjects on a list now, as CSV or JSON.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use credex_crypto::{Hash32, SecretKey};
use credex_types::attestation::{Attestation, AttestationHeader, ClaimField};
use credex_types::labels::LabelTable;
use credex_types::{AttestationKind, FieldCode, ListKind, SubjectId, Timestamp};
use serde_json::{Value, json};

use crate::import_map::{Mapping, Target};
use credex_api_types::client::Client;
use credex_api_types::keyfile::KeyFile;
use credex_api_types::types;

/// One record to import, with the lines it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// First line.
    pub line: u64,
    /// Subject.
    pub subject: SubjectId,
    /// Effective time.
    pub effective_at: Timestamp,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
    /// Field values by code.
    pub fields: BTreeMap<FieldCode, String>,
}

/// A row that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Rejected {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What parsing a file gives.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Records to import, in first-line order.
    pub records: Vec<Record>,
    /// Rows refused.
    pub rejected: Vec<Rejected>,
    /// Data rows read.
    pub rows: u64,
    /// Rows folded into an earlier record (repeats or complements).
    pub merged: u64,
}

/// Parses and checks a CSV file's rows (see the module docs), its columns
/// mapped by `mapping`.
pub(crate) fn parse(text: &str, default_effective: Option<Timestamp>, mapping: &Mapping) -> anyhow::Result<Parsed> {
    let labels = LabelTable::builtin();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().context("reading the CSV header")?.iter().map(str::to_string).collect();
    let mut targets = Vec::with_capacity(headers.len());
    for h in &headers {
        let t = mapping.target(h).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Target::Field(code) = &t
            && !labels.has_field(code.as_str())
        {
            anyhow::bail!(
                "column {h:?} is not a field code (see `credex labels show`), nor subject, effective_at or expires_at"
            );
        }
        targets.push(t);
    }
    anyhow::ensure!(
        targets.contains(&Target::Subject),
        "the CSV header has no `subject` column{}",
        if mapping.is_own() { " (for an agency's own export, pass --profile or --mapping)" } else { "" }
    );
    anyhow::ensure!(
        targets.contains(&Target::EffectiveAt) || default_effective.is_some(),
        "the file has no effective_at column: pass --effective so that a re-run gives the same attestations"
    );
    let mut out = Parsed::default();
    let mut by_key: BTreeMap<(SubjectId, Timestamp), usize> = BTreeMap::new();
    for result in reader.records() {
        out.rows += 1;
        let line = out.rows + 1;
        let row = match result {
            Ok(r) => r,
            Err(e) => {
                out.rejected.push(Rejected { line, reason: format!("malformed CSV row: {e}") });
                continue;
            }
        };
        match parse_row(&targets, &row, default_effective, &labels, mapping) {
            Err(reason) => out.rejected.push(Rejected { line, reason }),
            Ok(rec) => match by_key.get(&(rec.subject.clone(), rec.effective_at)) {
                None => {
                    by_key.insert((rec.subject.clone(), rec.effective_at), out.records.len());
                    out.records.push(Record { line, ..rec });
                }
                Some(&i) => {
                    let earlier = &mut out.records[i];
                    let conflict = rec.fields.iter().find(|(c, v)| earlier.fields.get(*c).is_some_and(|e| e != *v));
                    match conflict {
                        Some((code, v)) => out.rejected.push(Rejected {
                            line,
                            reason: format!(
                                "{code} = {v:?} contradicts line {} ({:?})",
                                earlier.line, earlier.fields[code]
                            ),
                        }),
                        None => {
                            for (c, v) in rec.fields {
                                earlier.fields.entry(c).or_insert(v);
                            }
                            earlier.expires_at = earlier.expires_at.or(rec.expires_at);
                            out.merged += 1;
                        }
                    }
                }
            },
        }
    }
    Ok(out)
}

fn parse_row(
    targets: &[Target],
    row: &csv::StringRecord,
    default_effective: Option<Timestamp>,
    labels: &LabelTable,
    mapping: &Mapping,
) -> Result<Record, String> {
    let mut subject = None;
    let mut effective = default_effective;
    let mut expires = None;
    let mut fields = BTreeMap::new();
    let time = |what: &str, v: &str| {
        mapping.zone.parse_local(v).map_err(|_| {
            format!(
                "{what}: {v:?} is not a time: use 2025-06-18 (a day, {} time), 2025-06-18 09:30, or RFC 3339 (2025-06-18T01:30:00Z)",
                mapping.zone.name
            )
        })
    };
    for (t, v) in targets.iter().zip(row.iter()) {
        match t {
            Target::Subject => {
                subject = Some(mapping.subject_text(v).parse::<SubjectId>().map_err(|e| format!("subject: {e}"))?);
            }
            Target::EffectiveAt if !v.is_empty() => effective = Some(time("effective_at", v)?),
            Target::ExpiresAt if !v.is_empty() => expires = Some(time("expires_at", v)?),
            Target::Field(code) if !v.is_empty() => {
                let value = mapping.value(code, v)?;
                if let Some(earlier) = fields.insert(code.clone(), value.clone())
                    && earlier != value
                {
                    return Err(format!("{code} is given twice in the row: {earlier:?} and {value:?}"));
                }
            }
            _ => {}
        }
    }
    let subject = subject.ok_or("no subject")?;
    let effective_at = effective.ok_or("no effective_at")?;
    // coded values (reason-code, grade, sector) must be codes of the label table
    let probe = Attestation {
        header: header_for(&subject, effective_at, expires, AttestationKind::AdministrativeLicence)?,
        claims: fields.iter().map(|(c, v)| ClaimField::new(c.clone(), v.clone(), [0; 16])).collect(),
        signature: credex_crypto::Signature([0; 64]),
    };
    probe.check_shape().map_err(|e| e.to_string())?;
    probe.check_labels(labels).map_err(|e| e.to_string())?;
    Ok(Record { line: 0, subject, effective_at, expires_at: expires, fields })
}

fn header_for(
    subject: &SubjectId,
    effective_at: Timestamp,
    expires_at: Option<Timestamp>,
    kind: AttestationKind,
) -> Result<AttestationHeader, String> {
    // Only the row's own fields matter for the shape check; chain and issuer are placeholders.
    let placeholder = "credex-import";
    let defaults = AttestationHeader::new(
        placeholder.parse().map_err(|e| format!("{e}"))?,
        placeholder.parse().map_err(|e| format!("{e}"))?,
        subject.clone(),
        kind,
        effective_at,
        [0; 16],
    )
    .map_err(|e| format!("{e}"))?;
    Ok(AttestationHeader { expires_at, ..defaults })
}

/// The deterministic attestation of `rec`: nonce and salts derived from
/// the issuer's secret seed and the record (unguessable, and the same on a re-run).
pub(crate) fn attestation(
    rec: &Record,
    key: &SecretKey,
    issuer: &credex_types::AgencyId,
    chain_id: &credex_types::ChainId,
    kind: AttestationKind,
    legal_basis: &credex_types::LegalBasis,
) -> anyhow::Result<Attestation> {
    let seed = key.seed();
    let record =
        credex_codec::encode(&(kind, rec.subject.clone(), rec.effective_at, rec.fields.iter().collect::<Vec<_>>()));
    let n = Hash32::sha256(&[b"credex-import/nonce", &seed, &record]);
    let mut nonce = [0u8; 16];
    nonce.copy_from_slice(&n.0[..16]);
    let fields = rec
        .fields
        .iter()
        .map(|(c, v)| {
            let s = Hash32::sha256(&[b"credex-import/salt", &seed, &nonce, c.as_str().as_bytes()]);
            let mut salt = [0u8; 16];
            salt.copy_from_slice(&s.0[..16]);
            ClaimField::new(c.clone(), v.clone(), salt)
        })
        .collect();
    let defaults =
        AttestationHeader::new(chain_id.clone(), issuer.clone(), rec.subject.clone(), kind, rec.effective_at, nonce)?;
    let header = AttestationHeader {
        expires_at: rec.expires_at.or(defaults.expires_at),
        legal_basis: legal_basis.clone(),
        ..defaults
    };
    Ok(Attestation::sign(header, fields, key)?)
}

fn progress(done: usize, total: usize, rejected: usize) {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    eprint!("\r[{}{}] {done}/{total} submitted, {rejected} rejected", "#".repeat(filled), ".".repeat(width - filled));
    if done == total {
        eprintln!();
    }
}

/// What `credex import` is asked to do.
pub(crate) struct ImportArgs<'a> {
    /// The file.
    pub file: &'a Path,
    /// Its columns' mapping.
    pub mapping: &'a Mapping,
    /// `--encoding`, if given.
    pub encoding: Option<&'a str>,
    /// The kind of every row.
    pub kind: AttestationKind,
    /// `--effective`.
    pub effective: Option<Timestamp>,
    /// `--legal-basis`.
    pub legal_basis: Option<credex_types::LegalBasis>,
    /// Node and issuer key; `None` for a dry run.
    pub submit: Option<(&'a str, &'a Path)>,
    /// `--publish-names`.
    pub publish_names: bool,
}

/// Reads and parses an import file; the encoding it was read as.
fn read_and_parse(args: &ImportArgs<'_>) -> anyhow::Result<(Parsed, &'static str)> {
    let bytes = std::fs::read(args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let (text, encoding) = crate::import_map::decode(&bytes, args.encoding)?;
    let parsed = parse(&text, args.effective, args.mapping)?;
    Ok((parsed, encoding))
}

/// `credex import` (or, without a node, its dry run).
pub(crate) fn import(args: &ImportArgs<'_>) -> anyhow::Result<(Value, bool)> {
    let (parsed, encoding) = read_and_parse(args)?;
    let kind = args.kind;
    let read = json!({
        "file": args.file.display().to_string(), "encoding": encoding, "mapping": args.mapping.name,
        "time_zone": args.mapping.zone.name, "kind": kind.name(),
    });
    let Some((node, key_path)) = args.submit else {
        let ok = parsed.rejected.is_empty();
        let records: Vec<Value> = parsed
            .records
            .iter()
            .map(|r| {
                json!({
                    "line": r.line, "subject": r.subject.to_string(), "effective_at": r.effective_at,
                    "expires_at": r.expires_at,
                    "fields": r.fields.iter().map(|(c, v)| (c.to_string(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        return Ok((
            json!({
                "dry_run": true, "read": read, "rows": parsed.rows, "would_submit": records.len(),
                "merged_rows": parsed.merged, "rejected": parsed.rejected, "records": records,
            }),
            ok,
        ));
    };
    let (kf, key) = KeyFile::read(key_path)?;
    let client = Client::with_key(node, key_path)?;
    let chain_id = client.chain_id()?;
    let basis = match &args.legal_basis {
        Some(b) => b.clone(),
        None => kind.default_legal_basis().parse()?,
    };
    let mut rejected = parsed.rejected.clone();
    let total = parsed.records.len();
    let atts: Vec<Attestation> = parsed
        .records
        .iter()
        .map(|rec| attestation(rec, &key, &kf.agency, &chain_id, kind, &basis))
        .collect::<anyhow::Result<_>>()?;
    let ids: Vec<Value> = parsed
        .records
        .iter()
        .zip(&atts)
        .map(|(rec, att)| json!({ "line": rec.line, "id": att.id().to_string() }))
        .collect();
    // Bulk requests (up to 1,000 attestations each), each attestation answered on its own;
    // those refused for the node's load are resent after its Retry-After.
    progress(0, total, rejected.len());
    let before = rejected.len();
    let answer = client.submit_bulk(&atts, |done| progress(done, total, before))?;
    for r in &answer.results {
        if let (Some(e), Some(rec)) = (&r.error, parsed.records.get(r.index)) {
            let reason = if r.retryable() {
                format!(
                    "{}: {} (the node stayed busy; import the file again later, it is idempotent)",
                    e.code, e.message
                )
            } else {
                format!("{}: {}", e.code, e.message)
            };
            rejected.push(Rejected { line: rec.line, reason });
        }
    }
    let (submitted, already) = (answer.admitted, answer.already_on_chain);
    let names =
        if args.publish_names { Some(publish_names(&client, key_path, &parsed.records, &mut rejected)?) } else { None };
    rejected.sort_by_key(|r| r.line);
    let ok = rejected.is_empty();
    let mut report = json!({
        "read": read, "rows": parsed.rows, "records": total, "merged_rows": parsed.merged,
        "submitted": submitted, "already_on_chain": already, "rejected": rejected, "ids": ids,
        "busy_retries": client.retries(),
    });
    if let Some(n) = names {
        report["names"] = n;
    }
    Ok((report, ok))
}

/// `--publish-names`: each legal entity's `subject-name` (企业名称), once
/// per subject, unless already published as it is; a row whose name is
/// refused is reported as rejected (its attestation stands).
fn publish_names(
    client: &Client,
    key_path: &Path,
    records: &[Record],
    rejected: &mut Vec<Rejected>,
) -> anyhow::Result<Value> {
    let code: credex_types::FieldCode = "subject-name".parse()?;
    let mut seen = std::collections::BTreeSet::new();
    let (mut published, mut unchanged) = (0u64, 0u64);
    for rec in records {
        let Some(name) = rec.fields.iter().find(|(c, _)| **c == code).map(|(_, v)| v.trim().to_string()) else {
            continue;
        };
        if name.is_empty() || !seen.insert(rec.subject.clone()) {
            continue;
        }
        let current: types::AllLists = client.get_as(&format!("/v1/standing/{}", rec.subject))?;
        if current.name.is_some_and(|n| n.name == name) {
            unchanged += 1;
            continue;
        }
        match crate::lifecycle_cmd::publish_name(client, key_path, rec.subject.clone(), name, None, false) {
            Ok(_) => published += 1,
            Err(e) => rejected.push(Rejected { line: rec.line, reason: format!("registered name: {e:#}") }),
        }
    }
    Ok(json!({ "published": published, "unchanged": unchanged }))
}

/// `credex export`: the subjects on `list` now, as CSV (or JSON).
pub(crate) fn export(
    node: &str,
    list: ListKind,
    json_out: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<usize> {
    let client = Client::new(node);
    let mut after: Option<String> = None;
    let mut rows: Vec<types::Member> = Vec::new();
    loop {
        let path = match &after {
            Some(a) => format!("/v1/lists/{list}?limit=1000&after={a}"),
            None => format!("/v1/lists/{list}?limit=1000"),
        };
        let mut page: types::Members = client.get_as(&path)?;
        rows.append(&mut page.entries);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if json_out {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["subject", "name", "list", "since", "issuer", "attestation", "escalated_from"])?;
        for r in &rows {
            w.write_record([
                r.subject.to_string(),
                r.name.as_ref().map(|n| n.name.clone()).unwrap_or_default(),
                list.to_string(),
                r.since.to_string(),
                r.issuer.to_string(),
                r.by.clone(),
                r.escalated_from.map(|l| l.to_string()).unwrap_or_default(),
            ])?;
        }
        w.flush()?;
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn own() -> Mapping {
        Mapping::own(credex_types::time::Zone::shanghai())
    }

    const CSV: &str = "subject,effective_at,reason-code,decision-no\n\
        91350100M000100Y43,2026-03-01T00:00:00Z,annual-report,A-1\n\
        91350100M000100Y43,2026-03-01T00:00:00Z,annual-report,A-1\n\
        ru-inn:7707083893,2026-03-02T00:00:00Z,unreachable-address,\n\
        ru-inn:7707083893,2026-03-02T00:00:00Z,,B-2\n\
        91350100M000100Y44,2026-03-03T00:00:00Z,annual-report,C-3\n\
        jp-cn:7000012050002,yesterday,annual-report,D-4\n\
        jp-cn:7000012050002,2026-03-04T00:00:00Z,too-rich,D-4\n\
        91350100M000100Y43,2026-03-01T00:00:00Z,false-disclosure,A-1\n";

    #[test]
    fn rows_are_checked_deduplicated_merged_and_refused_by_line() {
        let p = parse(CSV, None, &own()).unwrap();
        assert_eq!(p.rows, 8);
        assert_eq!(p.records.len(), 2, "{:?}", p.records);
        assert_eq!(p.merged, 2, "one repeat, one complement");
        let inn = &p.records[1];
        assert_eq!(inn.line, 4);
        assert_eq!(inn.fields.len(), 2, "reason-code and decision-no merged from lines 4 and 5");
        let lines: Vec<u64> = p.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![6, 7, 8, 9]);
        assert!(p.rejected[0].reason.contains("check digit"), "{:?}", p.rejected[0]);
        assert!(p.rejected[1].reason.contains("effective_at"));
        assert!(p.rejected[2].reason.contains("too-rich"));
        assert!(p.rejected[3].reason.contains("contradicts line 2"));
    }

    #[test]
    fn files_without_subjects_or_times_or_with_unknown_columns_are_refused_whole() {
        assert!(parse("name\nx\n", None, &own()).unwrap_err().to_string().contains("subject"));
        assert!(parse("subject,shoe-size\nx,1\n", None, &own()).unwrap_err().to_string().contains("shoe-size"));
        assert!(parse("subject\n91350100M000100Y43\n", None, &own()).unwrap_err().to_string().contains("--effective"));
        assert_eq!(parse("subject\n91350100M000100Y43\n", Some(Timestamp(1)), &own()).unwrap().records.len(), 1);
    }

    #[test]
    fn the_same_record_gives_the_same_attestation() {
        let p = parse(CSV, None, &own()).unwrap();
        let key = SecretKey::from_seed([3; 32]);
        let (issuer, chain, basis) =
            ("cn-sfh-amr".parse().unwrap(), "credex-dev".parse().unwrap(), "x".parse().unwrap());
        let k = AttestationKind::AbnormalOperationListing;
        let a = attestation(&p.records[0], &key, &issuer, &chain, k, &basis).unwrap();
        let b = attestation(&p.records[0], &key, &issuer, &chain, k, &basis).unwrap();
        assert_eq!(a, b);
        assert!(a.verify_signature(&key.public()).is_ok());
        let other = attestation(&p.records[0], &SecretKey::from_seed([4; 32]), &issuer, &chain, k, &basis).unwrap();
        assert_ne!(a.header.nonce, other.header.nonce, "nonces depend on the issuer's secret");
    }
}
