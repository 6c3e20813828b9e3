//! Human-readable verdicts, with labels in the chosen language.

use std::fmt::Write as _;

use credex_crypto::Hash32;
use credex_proof::{Outcome, Policy, ProofError, Verdict};
use credex_types::Timestamp;
use credex_types::labels::{Category, LabelTable, Lang};

/// The label of `code`, or the code itself when the genesis does not pin
/// this verifier's table (`t` is `None`) or the table has none.
fn label<'a>(t: Option<&'a LabelTable>, c: Category, code: &'a str, lang: Lang) -> &'a str {
    t.and_then(|t| t.label(c, code, lang)).unwrap_or(code)
}

/// `3 d 4 h`, `5 h 12 min`, `40 s`: an age a reader takes in at a glance.
fn age(ms: u64) -> String {
    let (d, h, m, s) = (ms / 86_400_000, ms / 3_600_000 % 24, ms / 60_000 % 60, ms / 1000 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

fn policy_text(p: &Policy) -> String {
    let mut parts = vec![match p.max_age_ms {
        Some(ms) => format!("max age {}", age(ms)),
        None => "no max age".to_string(),
    }];
    if let Some(w) = p.clear_for_ms {
        parts.push(format!("clear for {}", age(w)));
    }
    if !p.required_jurisdictions.is_empty() {
        let j: Vec<String> = p.required_jurisdictions.iter().map(ToString::to_string).collect();
        parts.push(format!("signers of {}", j.join(", ")));
    }
    if let Some(t) = &p.trusted_issuers {
        let t: Vec<String> = t.iter().map(ToString::to_string).collect();
        parts.push(format!("issuers {}", t.join(", ")));
    }
    parts.join("; ")
}

/// The text `credex verify` and `credex-verify` print; `pins_labels`: the
/// genesis pins the label table built into this verifier.
pub fn verdict_text(
    result: &Result<Verdict, ProofError>,
    genesis: &Hash32,
    now: Timestamp,
    lang: Lang,
    pins_labels: bool,
) -> String {
    let table = LabelTable::builtin();
    let t = pins_labels.then_some(&table);
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
        // "valid" of a list proof means the subject is not on the list
        Outcome::Valid if !f.lists.is_empty() => "VALID: ON NO LIST".to_string(),
        Outcome::Valid if f.list.is_some() => "VALID: NOT LISTED".to_string(),
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
            format!("STALE: proof is {} old, policy allows {}; ask for a fresh proof", age(*age_ms), age(*max_age_ms))
        }
    };
    let _ = writeln!(out, "{headline}");
    let _ = writeln!(out, "  subject      {}", f.subject);
    if let (Some(kind), Some(id)) = (f.kind, f.attestation) {
        let _ = writeln!(out, "  attestation  {} ({})", label(t, Category::Kind, kind.name(), lang), kind);
        let _ = writeln!(out, "  id           {id}");
    }
    if let Some(issuer) = &f.issuer {
        let _ = writeln!(out, "  issuer       {issuer}");
    }
    for d in &f.disclosed {
        let code = d.code.as_str();
        let value = match code {
            "reason-code" => format!("{} ({})", label(t, Category::Reason, &d.value, lang), d.value),
            _ => d.value.clone(),
        };
        let _ = writeln!(out, "  field        {} ({code}): {value}", label(t, Category::Field, code, lang));
    }
    for l in &f.lists {
        let name = label(t, Category::List, l.list.name(), lang);
        let status = match (&l.listed, l.last_removed) {
            (Some(c), _) => format!("LISTED since {} by {}", c.since, c.issuer),
            (None, Some(r)) => format!("not listed (left {r}; listed {} time(s) before)", l.times_listed),
            (None, None) => "not listed".to_string(),
        };
        let _ = writeln!(out, "  list         {name} ({}): {status}", l.list);
    }
    if let (Some(w), false) = (f.clear_since, f.lists.is_empty()) {
        let _ = writeln!(out, "  window       {w} – {}", f.block_time);
    }
    if let Some(list) = f.list.filter(|_| f.lists.is_empty()) {
        let _ = writeln!(out, "  list         {} ({list})", label(t, Category::List, list.name(), lang));
        if let Some(r) = f.last_removed {
            let _ = writeln!(out, "  last removed {r}");
        }
        if let Some(w) = f.clear_since {
            let _ = writeln!(out, "  window       {w} – {}", f.block_time);
        }
    }
    if let Some(c) = &f.case {
        let kind = c.kind.name();
        let _ = writeln!(out, "  case         {} ({kind}) {}", label(t, Category::Case, kind, lang), c.id);
        let status = c.status.name();
        let _ = writeln!(out, "  status       {} ({status})", label(t, Category::Status, status, lang));
        let _ = writeln!(out, "  decided by   {}", c.agency);
    }
    let _ = writeln!(out, "  block        height {} at {} ({})", f.height, f.block_time, f.block_id);
    let _ = writeln!(out, "  age          {}", age(f.age_ms));
    let signers: Vec<String> =
        f.signers.iter().map(|s| format!("{} [{}]", s.names.get(lang), s.jurisdiction)).collect();
    let _ = writeln!(out, "  signed by    {}", signers.join(", "));
    match (f.checkpoint, f.set_changes) {
        (Some(h), n) => {
            let _ = writeln!(out, "  trusted from the checkpoint at height {h}; validator-set changes since: {n}");
        }
        (None, 0) => {}
        (None, n) => {
            let _ = writeln!(out, "  validator-set changes followed from genesis: {n}");
        }
    }
    let _ = writeln!(out, "  policy       {}", policy_text(&v.policy));
    if !pins_labels {
        let _ = writeln!(
            out,
            "  labels       not shown: this genesis does not pin the label table of this verifier (codes shown)"
        );
    }
    let _ = writeln!(out, "  checked against genesis {genesis} (chain {}) at {now}", f.chain_id);
    out
}
