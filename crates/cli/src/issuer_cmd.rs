//! The issuer-side commands talking to a node's HTTP API: `attest`,
//! `revoke`, `proof attestation`, `proof status`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use credex_api_types::KeyFile;
use credex_api_types::client::{Client, Refused};
use credex_api_types::types::{AttestationAnswer, ListStatus, ProofAnswer, Standing, Submitted};
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId, ClaimField};
use credex_types::{AttestationKind, FieldCode, LegalBasis, ListKind, SubjectId, Timestamp};
use serde_json::Value;

/// What `attest` needs besides the key.
pub(crate) struct AttestArgs<'a> {
    /// Subject.
    pub subject: SubjectId,
    /// Kind.
    pub kind: AttestationKind,
    /// CODE=VALUE fields.
    pub fields: &'a [String],
    /// Superseded attestation.
    pub supersedes: Option<AttestationId>,
    /// The subject's case this answers.
    pub case: Option<credex_types::lifecycle::CaseId>,
    /// Legal basis.
    pub legal_basis: Option<LegalBasis>,
    /// Effective time (default now).
    pub effective_at: Timestamp,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
}

/// Signs an attestation with the issuer key and submits it.
pub(crate) fn attest(client: &Client, key_path: &Path, args: AttestArgs<'_>, wait: bool) -> anyhow::Result<Submitted> {
    let (file, key) = KeyFile::read(key_path)?;
    let chain_id = client.chain_id()?;
    let mut fields = Vec::new();
    for f in args.fields {
        let (code, value) = f.split_once('=').ok_or_else(|| anyhow::anyhow!("--field {f:?}: expected CODE=VALUE"))?;
        let code: FieldCode = code.parse()?;
        fields.push(ClaimField::salted(code, value.to_string()).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?);
    }
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let defaults =
        AttestationHeader::new(chain_id, file.agency.clone(), args.subject, args.kind, args.effective_at, nonce)?;
    let header = AttestationHeader {
        expires_at: args.expires_at.or(defaults.expires_at),
        legal_basis: args.legal_basis.unwrap_or_else(|| defaults.legal_basis.clone()),
        supersedes: args.supersedes,
        case: args.case,
        ..defaults
    };
    submit(client, Attestation::sign(header, fields, &key)?, wait)
}

fn submit(client: &Client, att: Attestation, wait: bool) -> anyhow::Result<Submitted> {
    let id = att.id();
    let v = client.post_as("/v1/attestations", &att)?;
    finish(client, id, v, wait)
}

/// Posts a non-attestation transaction (`POST /v1/transactions`).
pub(crate) fn submit_tx(client: &Client, tx: &credex_chain::Transaction, wait: bool) -> anyhow::Result<Submitted> {
    let v = client.post_as("/v1/transactions", tx)?;
    finish(client, tx.id(), v, wait)
}

/// With `wait`, polls until `id` is anchored, and turns a later rejection into a refusal.
fn finish(client: &Client, id: AttestationId, submitted: Submitted, wait: bool) -> anyhow::Result<Submitted> {
    if !wait {
        return Ok(submitted);
    }
    match client.wait(&id, Duration::from_secs(30))? {
        // Admitted, then refused when its block was built (e.g. a conflicting
        // transaction went first): a refusal like any other.
        Standing::Rejected { error } => Err(Refused { status: 409, code: error.code, message: error.message }.into()),
        standing => Ok(Submitted { id, standing }),
    }
}

/// Revokes `id`: a `revocation` attestation by the same issuer naming it.
pub(crate) fn revoke(
    client: &Client,
    key_path: &Path,
    id: AttestationId,
    now: Timestamp,
    wait: bool,
) -> anyhow::Result<Submitted> {
    let info: AttestationAnswer = client.get_as(&format!("/v1/attestations/{id}"))?;
    let subject = info.header.ok_or_else(|| anyhow::anyhow!("attestation {id} is not anchored yet"))?.subject;
    let args = AttestArgs {
        subject,
        kind: AttestationKind::Revocation,
        fields: &[],
        supersedes: Some(id),
        case: None,
        legal_basis: None,
        effective_at: now,
        expires_at: None,
    };
    attest(client, key_path, args, wait)
}

/// Fetches an attestation proof and writes its text form to `out`.
pub(crate) fn proof_attestation(
    client: &Client,
    id: AttestationId,
    disclose: &[FieldCode],
    legal_basis: Option<&credex_types::LegalBasis>,
    out: &Path,
) -> anyhow::Result<Value> {
    let codes: Vec<&str> = disclose.iter().map(FieldCode::as_str).collect();
    let basis = legal_basis.map(|b| format!("&legal_basis={b}")).unwrap_or_default();
    let p: ProofAnswer = client.get_as(&format!("/v1/attestations/{id}/proof?disclose={}{basis}", codes.join(",")))?;
    let file_bytes = write_proof(&p.proof_text, out)?;
    let mut r = serde_json::json!({
        "id": id.to_string(), "out": out.display().to_string(), "file_bytes": file_bytes, "proof_bytes": p.size,
    });
    if let Some(w) = p.withheld {
        eprintln!(
            "warning: fields withheld ({}): {}",
            w.join(","),
            p.withheld_reason.as_deref().unwrap_or("no basis for disclosure")
        );
        r["withheld"] = serde_json::json!(w);
    }
    Ok(r)
}

/// Fetches a list-status proof and writes its text form to `out`.
pub(crate) fn proof_status(client: &Client, subject: &SubjectId, list: ListKind, out: &Path) -> anyhow::Result<Value> {
    let v: ListStatus = client.get_as(&format!("/v1/lists/{list}/{subject}"))?;
    let file_bytes = write_proof(&v.proof.proof_text, out)?;
    Ok(serde_json::json!({
        "subject": subject, "list": list, "listed": v.listed, "out": out.display().to_string(),
        "file_bytes": file_bytes, "proof_bytes": v.proof.size,
    }))
}

/// `credex proof status --all`: the subject on every list, one proof.
pub(crate) fn proof_standing(client: &Client, subject: &SubjectId, out: &Path) -> anyhow::Result<Value> {
    let v: credex_api_types::types::AllLists = client.get_as(&format!("/v1/standing/{subject}"))?;
    let file_bytes = write_proof(&v.proof.proof_text, out)?;
    Ok(serde_json::json!({
        "subject": subject, "listed_on": v.listed_on, "out": out.display().to_string(),
        "file_bytes": file_bytes, "proof_bytes": v.proof.size,
    }))
}

/// Writes the proof's text and a newline to `out`; the bytes written (the
/// file's size: the text form, a third larger than the canonical bytes
/// reported as `proof_bytes`).
fn write_proof(text: &str, out: &Path) -> anyhow::Result<usize> {
    let content = format!("{text}\n");
    std::fs::write(out, &content).with_context(|| format!("writing {}", out.display()))?;
    Ok(content.len())
}
