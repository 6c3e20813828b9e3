//! Public routes for the web UI, platforms and verifiers: list members,
//! proof verification against this node's genesis, QR codes of status proofs.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use credex_api_types::types::{self, ErrorBody};
use credex_proof::{Policy, Verifier};
use credex_types::labels::Category;

use super::lifecycle::{Labels, lang};
use super::{ApiError, ApiResult, body_bytes, parse_list, parse_subject, proof_error};
use credex_node::service::Node;

#[derive(serde::Deserialize)]
pub(super) struct MembersQuery {
    after: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
    lang: Option<String>,
}

/// `GET /v1/lists/{list}?q=&after=&limit=`: who is on a list now (公示).
pub(super) async fn members(
    State(node): State<Arc<Node>>,
    Path(list): Path<String>,
    Query(q): Query<MembersQuery>,
    headers: HeaderMap,
) -> ApiResult<types::Members> {
    let list = parse_list(&list)?;
    let l = Labels::new(lang(&headers, q.lang.as_deref())?);
    let after = q.after.as_deref().filter(|a| !a.is_empty()).map(parse_subject).transpose()?;
    let limit = super::page_limit(q.limit, 50)?;
    let query = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let page = node.members(list, after.as_ref(), query, limit)?;
    let (entries, total) = (page.entries, page.total);
    let next = page.more.then(|| entries.last().map(|(s, _)| s.to_string())).flatten();
    Ok(Json(types::Members {
        list,
        label: l.get(Category::List, list.name()),
        total,
        entries: entries
            .iter()
            .map(|(s, x)| -> Result<types::Member, ApiError> {
                Ok(types::Member {
                    name: node.subject_name(s)?.map(|n| types::RegisteredName::from_record(n, l.lang)),
                    subject: s.clone(),
                    since: x.since,
                    issuer: x.issuer.clone(),
                    by: x.by.to_string(),
                    escalated_from: x.escalated_from,
                })
            })
            .collect::<Result<_, _>>()?,
        next,
    }))
}

/// The verdict of `proof` against `node`'s genesis (default policy, the
/// node's clock), with labels in `lang`: [`credex_verify::answer`], the code
/// the in-browser verifier runs too.
pub fn verify_answer(node: &Node, data: &[u8], reader: &credex_verify::Reader) -> types::VerifyAnswer {
    let result = Verifier::new(node.genesis().clone(), Policy::default()).and_then(|v| v.verify_any(data, node.now()));
    credex_verify::answer(node.genesis(), &result, reader)
}

/// `POST /v1/verify?lang=`: body a proof (`credex1:` text or bytes); verified
/// against this node's genesis. Invalid proofs are a 200 answer with `valid: false`.
pub(super) async fn verify(
    State(node): State<Arc<Node>>,
    Query(q): Query<VerifyQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<types::VerifyAnswer> {
    let body = body_bytes(body)?;
    let mut reader = credex_verify::Reader::new(lang(&headers, q.lang.as_deref())?);
    if let Some(tz) = &q.tz {
        reader.zone = tz.parse().map_err(|e: String| ApiError::bad("invalid-tz", e))?;
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("empty-body", "send the proof (credex1: text or its bytes) as the request body"));
    }
    Ok(Json(verify_answer(&node, &body, &reader)))
}

/// `POST /v1/verify`'s query: the reader's language and zone.
#[derive(serde::Deserialize)]
pub(super) struct VerifyQuery {
    lang: Option<String>,
    tz: Option<String>,
}

pub use credex_api_types::types::BULK_BODY_LIMIT;

/// `POST /v1/standing` `{"subjects": […]}`: every subject on every list at
/// one height, with one anchor and a standing claim each (spec §8.7). For
/// platforms checking their sellers: up to [`types::MAX_BULK`] subjects a
/// call, charged to the caller's bulk budget (subjects per second, not
/// requests). An id that does not parse gets its error in its entry; the
/// rest are answered.
pub(super) async fn bulk_standing(
    State(app): State<crate::AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    Query(lq): Query<super::lifecycle::LangQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<types::BulkStanding> {
    let lang = lang(&headers, lq.lang.as_deref())?;
    let body = super::body_within(body, BULK_BODY_LIMIT)?;
    let q: types::BulkQuery = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad("malformed", format!("expected {{\"subjects\": [\"…\"]}}: {e}")))?;
    if q.subjects.is_empty() || q.subjects.len() > types::MAX_BULK {
        return Err(ApiError::bad(
            "bulk-size",
            format!("send 1 to {} subjects per call (got {})", types::MAX_BULK, q.subjects.len()),
        ));
    }
    app.access.admit_bulk(&caller.client, q.subjects.len(), app.node.now()).map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "over this client's bulk budget (subjects per second); retry in a few seconds",
        )
    })?;
    let parsed: Vec<Result<credex_types::SubjectId, String>> =
        q.subjects.iter().map(|s| s.parse::<credex_types::SubjectId>().map_err(|e| e.to_string())).collect();
    let subjects: Vec<credex_types::SubjectId> = parsed.iter().filter_map(|p| p.as_ref().ok().cloned()).collect();
    let node = app.node.clone();
    let (anchor, claims) = tokio::task::spawn_blocking(move || node.standing_batch(&subjects))
        .await
        .map_err(ApiError::internal)?
        .map_err(proof_error)?;
    let mut claims = claims.into_iter();
    let mut results = Vec::with_capacity(q.subjects.len());
    for (input, p) in q.subjects.into_iter().zip(parsed) {
        results.push(match p {
            Err(message) => types::BulkEntry {
                input,
                subject: None,
                name: None,
                listed_on: Vec::new(),
                claim: None,
                error: Some(ErrorBody { code: "invalid-subject".into(), message }),
            },
            Ok(subject) => {
                let claim = claims.next().ok_or_else(|| ApiError::internal("a claim per subject"))?;
                let listed_on = match &claim {
                    credex_proof::Claim::Standing { record: Some(r), .. } => {
                        r.lists.iter().filter(|(_, rec)| rec.current.is_some()).map(|(l, _)| *l).collect()
                    }
                    _ => Vec::new(),
                };
                let name = app.node.subject_name(&subject)?.map(|n| types::RegisteredName::from_record(n, lang));
                types::BulkEntry {
                    input,
                    subject: Some(subject),
                    name,
                    listed_on,
                    claim: Some(claim.to_part()),
                    error: None,
                }
            }
        });
    }
    Ok(Json(types::BulkStanding {
        height: anchor.header.height,
        block_time: anchor.header.time,
        block_id: anchor.header.id().to_string(),
        anchor: anchor.to_part(),
        results,
    }))
}

/// An SVG QR code of `text` (byte mode, error correction L, so a proof of
/// about 1.5 KB of text fits version 40).
pub fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| ApiError::bad("qr-too-large", format!("the proof does not fit one QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(320, 320).quiet_zone(true).build())
}

/// `GET /v1/lists/{list}/{subject}/qr.svg`: the status proof as a QR code.
pub(super) async fn status_qr(
    State(node): State<Arc<Node>>,
    Path((list, subject)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let list = parse_list(&list)?;
    let subject = parse_subject(&subject)?;
    let proof = node.listing_proof(list, &subject).map_err(proof_error)?;
    let svg = qr_svg(&proof.to_text())?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// `GET /v1/standing/{subject}/qr.svg`: the subject's standing on every
/// list, one proof, as one QR code.
pub(super) async fn standing_qr(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
) -> Result<Response, ApiError> {
    let subject = parse_subject(&subject)?;
    let proof = tokio::task::spawn_blocking(move || node.standing_proof(&subject))
        .await
        .map_err(ApiError::internal)?
        .map_err(proof_error)?;
    let svg = qr_svg(&proof.to_text())?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
