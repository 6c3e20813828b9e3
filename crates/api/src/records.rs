//! Raw records, access logs and the audit log (spec §12.3–12.4).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use credex_api_types::types;
use credex_types::AgencyId;

use super::auth::Audited;
use super::{ApiError, ApiResult, AppState, body_bytes, parse_id, parse_subject};
use credex_node::access::Caller;
use credex_node::service::Node;

/// `POST /v1/attestations/{id}/record` `{"authorization": …}` or `{"legal_basis": "…"}`.
///
/// The caller's own signed request (its headers and body) goes along if the
/// record must be fetched from its holder, which checks it itself.
pub(super) async fn record(
    State(app): State<AppState>,
    Path(id): Path<String>,
    axum::Extension(caller): axum::Extension<Caller>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let body = body_bytes(body)?;
    let basis = credex_node::records::parse_record_body(&body).map_err(|e| ApiError::bad("malformed", e))?;
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let forwarded = credex_node::access::forwarded_request(
        &header("x-credex-client"),
        &header("x-credex-time"),
        &header("x-credex-nonce"),
        &header("x-credex-signature"),
        &body,
    )
    .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string()))?;
    let result = credex_node::records::fetch(app.node.clone(), app.access.clone(), caller, id, basis, forwarded).await;
    let mut resp = match result {
        Ok((att, source)) => {
            Json(types::RecordAnswer { id, source, matches_anchor: true, attestation: att }).into_response()
        }
        Err(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN);
            ApiError::new(status, r.code, r.message).into_response()
        }
    };
    // the access is in the audit log already, with its basis
    resp.extensions_mut().insert(Audited);
    Ok(resp)
}

#[derive(serde::Deserialize)]
pub(super) struct Page {
    from: Option<u64>,
    limit: Option<usize>,
    node: Option<AgencyId>,
}

fn hashed(e: &credex_types::access::AuditEntry) -> types::HashedEntry {
    types::HashedEntry { hash: e.hash(), entry: e.clone() }
}

#[derive(serde::Deserialize)]
pub(super) struct LogPage {
    before: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/subjects/{s}/access-log?before=&limit=`: who read the
/// subject's data through this node, newest first; `next` (when present)
/// is the `before` of the following page, so paging never drops an entry.
pub(super) async fn access_log(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(p): Query<LogPage>,
) -> ApiResult<types::AccessLog> {
    let subject = parse_subject(&subject)?;
    let limit = super::page_limit(p.limit, 1000)?;
    let mut entries = node.audit_of(&subject, p.before, limit + 1).map_err(ApiError::internal)?;
    let next = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    let agency = node.identity().map(|(a, _)| a.clone());
    Ok(Json(types::AccessLog {
        subject,
        node: agency,
        order: "newest-first".into(),
        next,
        entries: entries
            .into_iter()
            .map(|e| types::AccessEntry {
                seq: e.seq,
                time: e.time,
                client: e.client,
                role: e.role,
                action: e.action,
                basis: e.basis,
                result: e.result,
            })
            .collect(),
    }))
}

/// `GET /v1/audit/log?from=&limit=`: this node's audit log, entries as hashed.
pub(super) async fn audit_log(State(node): State<Arc<Node>>, Query(p): Query<Page>) -> ApiResult<types::AuditLog> {
    let from = p.from.unwrap_or(1);
    if from == 0 {
        return Err(ApiError::bad("invalid-from", "entries are numbered from 1"));
    }
    let limit = super::page_limit(p.limit, 1000)?;
    let entries = node.audit_entries(from, limit).map_err(ApiError::internal)?;
    let (seq, head) = node.audit_head().map_err(ApiError::internal)?;
    Ok(Json(types::AuditLog {
        node: node.identity().map(|(a, _)| a.clone()),
        head: types::AuditHead { seq, hash: head },
        entries: entries.iter().map(hashed).collect(),
    }))
}

/// `GET /v1/audit/anchors?node=`: every audit head a node anchored on chain (default: this node).
pub(super) async fn audit_anchors(
    State(node): State<Arc<Node>>,
    Query(p): Query<Page>,
) -> ApiResult<types::AuditAnchors> {
    let agency = match p.node {
        Some(a) => a,
        None => node
            .identity()
            .map(|(a, _)| a.clone())
            .ok_or_else(|| ApiError::bad("no-node", "this node has no agency; name one with ?node="))?,
    };
    let anchors = node.audit_anchors(&agency).map_err(ApiError::internal)?;
    Ok(Json(types::AuditAnchors {
        node: agency,
        anchors: anchors
            .into_iter()
            .map(|(seq, head, height)| types::AuditAnchorAnswer { seq, head, height })
            .collect(),
    }))
}
