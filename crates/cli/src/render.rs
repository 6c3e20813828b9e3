//! Human-readable verdicts, with labels in the chosen language.

use std::fmt::Write as _;

use credex_crypto::Hash32;
use credex_proof::{Outcome, ProofError, Verdict};
use credex_types::Timestamp;
use credex_types::labels::{Category, LabelTable, Lang};

fn label<'a>(t: &'a LabelTable, c: Category, code: &'a str, lang: Lang) -> &'a str {
    t.label(c, code, lang).unwrap_or(code)
}

/// The text `credex verify` prints.
pub(crate) fn verdict_text(
    result: &Result<Verdict, ProofError>,
    genesis: &Hash32,
    now: Timestamp,
    lang: Lang,
) -> String {
    let t = LabelTable::builtin();
    let mut out = String::new();
    let v = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(out, "INVALID ({}): {e}", e.code());
            let _ = writeln!(out, "  checked against genesis {genesis}");
            return out;
        }
    };
    let f = &v.facts;
    let headline = match &v.outcome {
        Outcome::Valid => "VALID".to_string(),
        Outcome::Listed { since, issuer, .. } => format!("LISTED since {since} by {issuer}"),
        Outcome::RecentlyListed { last_removed, window_start } => {
            format!("RECENTLY LISTED: left the list at {last_removed}, inside the window from {window_start}")
        }
        Outcome::Revoked { time, height } => format!("REVOKED at {time} (height {height})"),
        Outcome::Superseded { by, height } => format!("SUPERSEDED by {by} (height {height})"),
        Outcome::Erased { height, .. } => format!("ERASED (height {height}); content no longer available"),
        Outcome::Expired { at } => format!("EXPIRED at {at}"),
        Outcome::Stale { age_ms, max_age_ms } => {
            format!("STALE: proof is {} h old, policy allows {} h", age_ms / 3_600_000, max_age_ms / 3_600_000)
        }
    };
    let _ = writeln!(out, "{headline}");
    let _ = writeln!(out, "  subject      {}", f.subject);
    if let (Some(kind), Some(id)) = (f.kind, f.attestation) {
        let _ = writeln!(out, "  attestation  {} ({})", label(&t, Category::Kind, kind.name(), lang), kind);
        let _ = writeln!(out, "  id           {id}");
    }
    if let Some(issuer) = &f.issuer {
        let _ = writeln!(out, "  issuer       {issuer}");
    }
    for d in &f.disclosed {
        let code = d.code.as_str();
        let value = match code {
            "reason-code" => format!("{} ({})", label(&t, Category::Reason, &d.value, lang), d.value),
            _ => d.value.clone(),
        };
        let _ = writeln!(out, "  field        {} ({code}): {value}", label(&t, Category::Field, code, lang));
    }
    if let Some(list) = f.list {
        let _ = writeln!(out, "  list         {} ({list})", label(&t, Category::List, list.name(), lang));
        if let Some(r) = f.last_removed {
            let _ = writeln!(out, "  last removed {r}");
        }
        if let Some(w) = f.clear_since {
            let _ = writeln!(out, "  window       {w} – {}", f.block_time);
        }
    }
    if let Some(c) = &f.case {
        let kind = c.kind.name();
        let _ = writeln!(out, "  case         {} ({kind}) {}", label(&t, Category::Case, kind, lang), c.id);
        let status = c.status.name();
        let _ = writeln!(out, "  status       {} ({status})", label(&t, Category::Status, status, lang));
        let _ = writeln!(out, "  decided by   {}", c.agency);
    }
    let _ = writeln!(out, "  block        height {} at {} ({})", f.height, f.block_time, f.block_id);
    let signers: Vec<String> =
        f.signers.iter().map(|s| format!("{} [{}]", s.names.get(lang), s.jurisdiction)).collect();
    let _ = writeln!(out, "  signed by    {}", signers.join(", "));
    if f.set_changes > 0 {
        let _ = writeln!(out, "  validator-set changes followed from genesis: {}", f.set_changes);
    }
    let _ = writeln!(out, "  checked against genesis {genesis} (chain {}) at {now}", f.chain_id);
    out
}
