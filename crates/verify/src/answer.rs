//! The verdict as the API's typed answer ([`types::VerifyAnswer`]): what
//! `POST /v1/verify` returns and what the in-browser verifier
//! (`credex-verify-wasm`) computes, from one code, so a page renders both
//! the same way.

use credex_api_types::types::{self, ErrorBody};
use credex_proof::{ProofError, Verdict};
use credex_types::Genesis;
use credex_types::labels::{Category, LabelTable};

use crate::render::{Reader, policy_text, reason, sentence};

/// The answer for `result`, a verification against `genesis`, for
/// `reader`: labels in their language from the built-in label table, when
/// `genesis` pins that table (spec §7; otherwise, and where the table has
/// none, the codes), the summary's times in their zone.
pub fn answer(genesis: &Genesis, result: &Result<Verdict, ProofError>, reader: &Reader) -> types::VerifyAnswer {
    let lang = reader.lang;
    let genesis_hash = genesis.hash().to_string();
    let refused = |code: &str, message: String| {
        types::VerifyAnswer::NotVerified(types::NotVerified {
            valid: false,
            genesis: genesis_hash.clone(),
            reason: reason(code, lang).to_string(),
            error: ErrorBody { code: code.to_string(), message },
        })
    };
    let v = match result {
        Ok(v) => v,
        Err(e) => return refused(e.code(), e.to_string()),
    };
    let detail = match serde_json::to_value(&v.outcome) {
        Ok(d) => d,
        Err(e) => return refused("internal", e.to_string()),
    };
    let table = LabelTable::builtin();
    let pinned = genesis.pins_labels(&table);
    let label =
        |c: Category, code: &str| if pinned { table.label(c, code, lang).unwrap_or(code) } else { code }.to_string();
    let f = &v.facts;
    let name = |a: &credex_types::AgencyId| f.names.get(a).map(|n| n.get(lang).to_string());
    types::VerifyAnswer::Verified(Box::new(types::Verified {
        valid: true,
        genesis: genesis_hash.clone(),
        outcome: v.outcome.name().to_string(),
        summary: sentence(v, reader, pinned),
        detail,
        subject: f.subject.clone(),
        kind: f.kind,
        kind_label: f.kind.map(|k| label(Category::Kind, k.name())),
        list: f.list,
        list_label: f.list.map(|x| label(Category::List, x.name())),
        issuer: f.issuer.clone(),
        issuer_name: f.issuer.as_ref().and_then(name),
        attestation: f.attestation.map(|a| a.to_string()),
        effective_at: f.effective_at,
        expires_at: f.expires_at,
        fields: f
            .disclosed
            .iter()
            .map(|d| types::DisclosedField {
                code: d.code.to_string(),
                label: label(Category::Field, d.code.as_str()),
                value: if d.code.as_str() == "reason-code" {
                    label(Category::Reason, &d.value)
                } else {
                    d.value.clone()
                },
            })
            .collect(),
        height: f.height,
        block_time: f.block_time,
        block_id: f.block_id.to_string(),
        signers: f
            .signers
            .iter()
            .map(|s| types::Signer {
                agency: s.agency.clone(),
                name: s.names.get(lang).to_string(),
                jurisdiction: s.jurisdiction,
            })
            .collect(),
        age_ms: f.age_ms,
        policy: policy_text(&v.policy, lang),
        case: f.case.as_ref().map(|c| types::VerifiedCase {
            id: c.id.to_string(),
            kind: c.kind.name().to_string(),
            status: c.status.name().to_string(),
            status_label: label(Category::Status, c.status.name()),
        }),
        lists: f
            .lists
            .iter()
            .map(|x| types::VerifiedList {
                list: x.list,
                list_label: label(Category::List, x.list.name()),
                since: x.listed.as_ref().map(|c| c.since),
                issuer: x.listed.as_ref().map(|c| c.issuer.clone()),
                issuer_name: x.listed.as_ref().and_then(|c| name(&c.issuer)),
            })
            .collect(),
    }))
}
