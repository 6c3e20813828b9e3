//! The credex HTTP API: the axum router built from the role table, authentication, handlers by area, the OpenAPI document from the shared types, the web UI, and the server loop.
//!
//! The routes (answers: `credex_api_types::types`):
//!
//! | route | does |
//! |---|---|
//! | `POST /v1/attestations` | submit a signed attestation (full, with fields and salts); idempotent |
//! | `GET /v1/attestations/{id}` | standing (pending / anchored / rejected), header, on-chain record |
//! | `GET /v1/attestations/{id}/proof?disclose=a,b` | credit proof (text and JSON) |
//! | `GET /v1/lists/{list}?q=&after=&limit=` | who is on a list now (public, paged, searchable) |
//! | `GET /v1/lists/{list}/{subject}` | list status with membership or non-membership proof |
//! | `GET /v1/lists/{list}/{subject}/qr.svg` | that proof as a QR code |
//! | `POST /v1/verify?lang=` | verifies a proof (text or bytes) against this node's genesis |
//! | `GET /v1/subjects/{subject}` | the subject's profile: attestations (penalties only within their publication window), list statuses with repair conditions, grade, warnings, cases with history |
//! | `GET /v1/blocks/{height}` | block, transactions, certificate |
//! | `POST /v1/transactions` | submit a subject-key binding, subject act, governance or evidence transaction (JSON) |
//! | `GET /v1/transactions/{id}` | standing of any transaction |
//! | `GET /v1/cases/{id}` | a case (commitment, repair, objection): status, history, repair conditions, offline proof |
//! | `GET /v1/subjects/{subject}/grade?sector=` | the subject's grade under `credex-grade-v1`, line by line |
//! | `GET /v1/issuers` | the issuer registry (genesis plus governance) |
//! | `GET /v1/warnings` | the risk list |
//! | `GET /v1/warnings/events?after=N&wait=S` | risk-list events after N, long-polling up to S ≤ 60 s |
//! | `POST/GET /v1/warnings/subscriptions`, `DELETE …/{id}` | webhooks |
//! | `GET /v1/labels` | the label table (zh / ru / en) |
//! | `POST /v1/attestations/{id}/record` | a raw record, from this node or the holder, with an authorization or legal basis |
//! | `GET /v1/subjects/{subject}/access-log` | who read the subject's data through this node |
//! | `GET /v1/audit/log?from=&limit=` | this node's hash-chained audit log |
//! | `GET /v1/audit/anchors?node=` | the audit heads a node anchored on chain |
//!
//! Labels follow `Accept-Language` (or `?lang=zh|ru|en`; default `en`):
//! responses carry `…_label` fields in that language beside every code.
//! | `GET /v1/status` | chain, genesis, height, head, mempool, role (dev / validator / observer), connected peers |
//! | `GET /` | the web UI (verify, trader profile with QR, lists, explorer; zh / ru / en) |
//! | `GET /report/{subject}?lang=` | printable credit report with QR status proofs |
//! | `GET /openapi.json` | the OpenAPI document ([`openapi`]) |
//! | `GET /healthz` | liveness |
//! | `GET /readyz` | readiness: chain loaded, and a networked node has a peer (503 otherwise) |
//! | `GET /metrics` | Prometheus metrics (`credex_node::metrics`) |
//!
//! Errors are `{"code": "...", "message": "..."}`: 400 malformed or invalid
//! input (bad id, bad signature, unknown issuer, kind not allowed, wrong
//! chain), 401 no or bad credentials, stale request, 403 wrong role, 404
//! unknown, 409 refused by the current state (already listed, target not
//! active, …) or a replayed request, 408 request not completed within 15 s,
//! 413 body over 64 KiB, 429 over the caller's rate, 503 mempool full.
//! Who may call what: [`auth`].

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use credex_api_types::types::{self, ErrorBody};
use credex_chain::TxError;
use credex_types::attestation::{Attestation, AttestationId};
use credex_types::labels::Category;
use credex_types::state::AttestationStatus;
use credex_types::{FieldCode, ListKind, SubjectId};

use credex_node::service::{Node, ProofError, Standing, SubmitError};
use credex_node::warnings::Warnings;

pub mod auth;
mod lifecycle;
pub mod openapi;
pub mod public;
mod records;
pub mod server;
pub mod tls;
mod web;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    node: Arc<Node>,
    warnings: Arc<Warnings>,
    access: Arc<credex_node::access::Access>,
}

impl axum::extract::FromRef<AppState> for Arc<Node> {
    fn from_ref(s: &AppState) -> Arc<Node> {
        s.node.clone()
    }
}

/// Largest request body.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take, body upload included.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// A JSON error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for `Retry-After` (a refusal that is only for now: 503, 429).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
    /// With `Retry-After: seconds`.
    fn retry_after(self, seconds: u64) -> Self {
        ApiError { retry_after: Some(seconds), ..self }
    }
    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(target: "credex::api", error = %e, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the node log")
    }
}

/// The node could not read its own store: a 500, the detail in the log.
impl From<credex_node::StoreError> for ApiError {
    fn from(e: credex_node::StoreError) -> Self {
        ApiError::internal(e)
    }
}

/// The error code of an error response (the middleware counts it in the metrics).
#[derive(Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code.to_string(), message: self.message };
        let mut r = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(s));
        }
        r.extensions_mut().insert(ErrorCode(self.code));
        r
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The router over `node`: exactly the rows of the role table
/// ([`auth::ROLE_TABLE`]), so no route exists without an entry.
pub fn router(node: Arc<Node>, warnings: Arc<Warnings>, access: Arc<credex_node::access::Access>) -> Router {
    let state = AppState { node, warnings, access };
    let mut r = Router::new();
    for (_, pattern, _, handler) in auth::ROLE_TABLE {
        r = r.route(pattern, handler());
    }
    r.fallback(|| async { ApiError::not_found("not-found", "no such route") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::middleware))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::measure))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // A client that trickles its request cannot hold a handler forever.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .with_state(state)
}

pub(crate) fn parse_id(s: &str) -> Result<AttestationId, ApiError> {
    s.parse().map_err(|e| ApiError::bad("invalid-id", format!("attestation id: {e}")))
}

pub(crate) fn parse_subject(s: &str) -> Result<SubjectId, ApiError> {
    s.parse().map_err(|e| ApiError::bad("invalid-subject", format!("subject id: {e}")))
}

fn parse_list(s: &str) -> Result<ListKind, ApiError> {
    s.parse().map_err(|e| ApiError::bad("invalid-list", format!("{e}")))
}

/// Ready to serve: the chain is loaded, and a networked node has a peer.
async fn readyz(State(node): State<Arc<Node>>) -> Response {
    let networked = node.net().is_some();
    let read_only = node.read_only();
    let ready = (!networked || node.peers() > 0) && !read_only;
    let body = types::Readiness {
        ready,
        height: node.height(),
        peers: node.peers(),
        role: node.role().to_string(),
        read_only,
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Prometheus metrics (`credex_node::metrics`).
async fn metrics(State(node): State<Arc<Node>>) -> Response {
    let audit = node.audit_head().map(|(seq, _)| seq).unwrap_or(0);
    // an unreadable count shows as the largest number: an alarm, not a zero
    let purges = node.pending_purges().unwrap_or_else(|e| {
        tracing::error!(target: "credex::storage", error = %e, "reading pending key destructions");
        usize::MAX
    });
    let text = node.metrics().render(
        node.height(),
        (node.mempool_len(), node.mempool_bytes()),
        node.peers(),
        audit,
        purges,
        node.read_only(),
    );
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn status(State(node): State<Arc<Node>>) -> ApiResult<types::NodeStatus> {
    Ok(Json(types::NodeStatus {
        chain_id: node.genesis().chain_id.clone(),
        genesis: node.genesis_hash(),
        height: node.height(),
        head: node.head().map(|h| types::HeadSummary { id: h.id(), time: h.time, state_root: h.state_root }),
        mempool: node.mempool_len(),
        validators: node.validator_set().validators.len(),
        role: node.role().to_string(),
        agency: node.identity().map(|(a, _)| a.clone()),
        peers: node.peers(),
    }))
}

/// A transaction's standing as the API answers it.
pub(crate) fn standing(s: &Standing) -> types::Standing {
    match s {
        Standing::Pending => types::Standing::Pending,
        Standing::Anchored(height) => types::Standing::Anchored { height: *height },
        Standing::Rejected(e) => {
            types::Standing::Rejected { error: ErrorBody { code: e.code().to_string(), message: e.to_string() } }
        }
        Standing::Unknown => types::Standing::Unknown,
    }
}

pub(crate) fn tx_error(e: &TxError, conflict: bool) -> ApiError {
    let status = if conflict { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
    ApiError::new(status, e.code(), e.to_string())
}

/// A page size in 1..=1000 (default `default`), or a 400.
fn page_limit(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad("invalid-limit", format!("limit {n}: use 1 to 1000"))),
    }
}

/// The request body, or the error for an oversized or unreadable one.
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body_within(body, BODY_LIMIT)
}

/// The request body of a route that takes up to `limit` bytes, or the error
/// for an oversized or unreadable one.
fn body_within(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", format!("request body exceeds {limit} bytes"))
        } else {
            ApiError::bad("bad-body", e.body_text())
        }
    })
}

/// The answer to an accepted submission (202 pending, 200 already anchored).
fn submitted(result: Result<(AttestationId, Standing), SubmitError>) -> Result<Response, ApiError> {
    let (id, standing) = result.map_err(submit_error)?;
    let code = if matches!(standing, Standing::Anchored(_)) { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((code, Json(types::Submitted { id, standing: self::standing(&standing) })).into_response())
}

/// A refused submission as the API answers it: 4xx for what it is, 503
/// with `Retry-After` when only the node's load or disk stands in the way.
fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Attestation(e) => ApiError::bad("invalid-attestation", e.to_string()),
        e @ SubmitError::GradeNotModel { .. } => ApiError::bad("grade-not-model", e.to_string()),
        e @ SubmitError::GradeWithoutRecord(_) => ApiError::bad("no-record", e.to_string()),
        SubmitError::Invalid(e) => tx_error(&e, false),
        SubmitError::Conflict(e) => tx_error(&e, true),
        e @ SubmitError::Erased(_) => ApiError::new(StatusCode::GONE, "erased", e.to_string()),
        e @ SubmitError::Busy { .. } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
            .retry_after(credex_node::service::BUSY_RETRY_AFTER_S),
        e @ SubmitError::ReadOnly => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "read-only", e.to_string())
            .retry_after(credex_node::service::READ_ONLY_RETRY_AFTER_S),
        SubmitError::Store(e) => ApiError::internal(e),
        SubmitError::State(e) => ApiError::internal(e),
        SubmitError::RawWrite(e) => ApiError::internal(e),
    }
}

/// The caller may submit attestations of `issuer` only as that agency.
fn own_agency(caller: &credex_node::access::Caller, issuer: &credex_types::AgencyId) -> Result<(), ApiError> {
    if caller.agency.as_ref() == Some(issuer) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "not-your-agency",
        format!("{} may not submit attestations of {issuer}", caller.client),
    ))
}

async fn submit(
    State(node): State<Arc<Node>>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    let att: Attestation =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad("malformed", format!("attestation JSON: {e}")))?;
    own_agency(&caller, &att.header.issuer)?;
    let n = node.clone();
    submitted(tokio::task::spawn_blocking(move || n.submit(&att)).await.map_err(ApiError::internal)?)
}

/// `POST /v1/bulk/attestations`: an issuer's many attestations in one
/// signed request (spec §12.5), each answered as a single submission would
/// be; charged to the issuer's rate per attestation. 200 with the results,
/// or 503 with `Retry-After` when none could be taken for the node's load.
async fn submit_bulk(
    State(app): State<AppState>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_within(body, public::BULK_BODY_LIMIT)?;
    let req: types::BulkSubmission = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad("malformed", format!("expected {{\"attestations\": [ … ]}}: {e}")))?;
    let n = req.attestations.len();
    if n == 0 || n > types::MAX_BULK_SUBMIT {
        return Err(ApiError::bad(
            "bulk-size",
            format!("send 1 to {} attestations per call (got {n})", types::MAX_BULK_SUBMIT),
        ));
    }
    app.access.admit_issuer_items(&caller.client, n, app.node.now()).map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!("{n} attestations are over this agency's rate; retry in a few seconds"),
        )
        .retry_after(1)
    })?;
    // Another agency's attestations are refused one by one, the rest go in together.
    let ids: Vec<AttestationId> = req.attestations.iter().map(Attestation::id).collect();
    type Numbered = Vec<(usize, Attestation)>;
    let (own, foreign): (Numbered, Numbered) =
        req.attestations.into_iter().enumerate().partition(|(_, a)| caller.agency.as_ref() == Some(&a.header.issuer));
    let node = app.node.clone();
    let (positions, atts): (Vec<usize>, Vec<Attestation>) = own.into_iter().unzip();
    let answers = tokio::task::spawn_blocking(move || node.submit_many(&atts)).await.map_err(ApiError::internal)?;
    let mut outcomes: Vec<Option<Result<Standing, ApiError>>> = (0..n).map(|_| None).collect();
    for (index, a) in foreign {
        if let (Some(slot), Err(e)) = (outcomes.get_mut(index), own_agency(&caller, &a.header.issuer)) {
            *slot = Some(Err(e));
        }
    }
    let mut retry_after = None::<u64>;
    for (index, answer) in positions.into_iter().zip(answers) {
        let answer = answer.map(|(_, s)| s).map_err(|e| {
            let e = submit_error(e);
            retry_after = retry_after.max(e.retry_after);
            e
        });
        if let Some(slot) = outcomes.get_mut(index) {
            *slot = Some(answer);
        }
    }
    // every position is filled: the attestations were split between the two loops
    let results: Vec<types::BulkResult> = ids
        .into_iter()
        .zip(outcomes)
        .enumerate()
        .filter_map(|(index, (id, outcome))| {
            outcome.map(|o| match o {
                Ok(s) => types::BulkResult {
                    index,
                    id,
                    status: if matches!(s, Standing::Anchored(_)) { 200 } else { 202 },
                    standing: Some(standing(&s)),
                    error: None,
                },
                Err(e) => types::BulkResult {
                    index,
                    id,
                    status: e.status.as_u16(),
                    standing: None,
                    error: Some(ErrorBody { code: e.code.to_string(), message: e.message }),
                },
            })
        })
        .collect();
    let answer = types::BulkSubmitted::of(results, retry_after);
    if answer.retry == n {
        // Nothing was taken: the request as a whole is to be sent again.
        let first = answer.results.first().and_then(|r| r.error.clone());
        let (code, message) = first
            .map_or(("busy", String::new()), |e| (if e.code == "read-only" { "read-only" } else { "busy" }, e.message));
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
            .retry_after(retry_after.unwrap_or(credex_node::service::BUSY_RETRY_AFTER_S)));
    }
    Ok((StatusCode::OK, Json(answer)).into_response())
}

pub(crate) fn status_name(s: &AttestationStatus) -> &'static str {
    match s {
        AttestationStatus::Active => "active",
        AttestationStatus::Revoked { .. } => "revoked",
        AttestationStatus::Superseded { .. } => "superseded",
        AttestationStatus::Erased { .. } => "erased",
    }
}

async fn attestation(
    State(node): State<Arc<Node>>,
    Path(id): Path<String>,
    Query(q): Query<lifecycle::LangQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<types::AttestationAnswer> {
    let l = lifecycle::Labels::new(lifecycle::lang(&headers, q.lang.as_deref())?);
    let id = parse_id(&id)?;
    let s = node.standing(&id).map_err(ApiError::internal)?;
    if s == Standing::Unknown {
        return Err(ApiError::not_found("unknown-attestation", format!("attestation {id} is not known to this node")));
    }
    let header = node.anchored_header(&id).map_err(ApiError::internal)?;
    let record = node.record(&id)?;
    Ok(Json(types::AttestationAnswer {
        id,
        standing: standing(&s),
        kind_label: header.as_ref().map(|h| l.get(Category::Kind, h.kind.name())),
        header,
        state: record.as_ref().map(|r| status_name(&r.status).to_string()),
        record,
        fields_held: node.holds_fields(&id).map_err(ApiError::internal)?,
    }))
}

#[derive(serde::Deserialize)]
struct ProofQuery {
    disclose: Option<String>,
    legal_basis: Option<credex_types::LegalBasis>,
}

pub(crate) fn proof_error(e: ProofError) -> ApiError {
    match e {
        ProofError::NotAnchored(id) => ApiError::not_found("not-anchored", format!("attestation {id} is not anchored")),
        e @ ProofError::NoRawRecord(_) => ApiError::not_found("fields-not-held", e.to_string()),
        ProofError::Disclose(e) => ApiError::bad("invalid-disclosure", e.to_string()),
        ProofError::NoBlock => ApiError::not_found("no-block", "no block committed yet"),
        e @ ProofError::NoCase(_) => ApiError::not_found("unknown-case", e.to_string()),
        ProofError::Store(e) => ApiError::internal(e),
        e @ ProofError::Unreadable(_) => ApiError::internal(e),
    }
}

pub(crate) fn proof_answer(p: &credex_proof::CreditProof) -> Result<types::ProofAnswer, ApiError> {
    Ok(types::ProofAnswer {
        proof_text: p.to_text(),
        size: p.to_bytes().len(),
        proof: serde_json::to_value(p).map_err(ApiError::internal)?,
        withheld: None,
        withheld_reason: None,
    })
}

/// `GET /v1/attestations/{id}/proof?disclose=a,b[&legal_basis=code]`.
///
/// Field values leave the node under the raw-record rule (spec §12.3):
/// the subject itself and the attestation's own issuer may disclose; any
/// other caller needs a legal basis its role may invoke. Without one the
/// proof comes with every field hidden and says so (`withheld`). Every
/// disclosure request is written to the audit log, durably, with its basis.
async fn attestation_proof(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ProofQuery>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
) -> Result<Response, ApiError> {
    let node = &app.node;
    let id = parse_id(&id)?;
    let mut codes: Vec<FieldCode> = match q.disclose.as_deref() {
        None | Some("") => vec![],
        Some(list) => list
            .split(',')
            .map(|c| c.trim().parse().map_err(|e| ApiError::bad("invalid-field-code", format!("{e}"))))
            .collect::<Result<_, _>>()?,
    };
    if codes.is_empty() {
        if q.legal_basis.is_some() {
            return Err(ApiError::bad("malformed", "legal_basis without disclose: nothing to disclose"));
        }
        let p = node.attestation_proof(&id, &[]).map_err(proof_error)?;
        return Ok(Json(proof_answer(&p)?).into_response());
    }
    let header = node
        .anchored_header(&id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("not-anchored", format!("attestation {id} is not anchored")))?;
    let basis = credex_node::records::disclosure_basis(node, &caller, &header, q.legal_basis.as_ref())
        .map_err(|r| ApiError::new(StatusCode::FORBIDDEN, r.code, r.message))?;
    let requested: Vec<String> = codes.iter().map(ToString::to_string).collect();
    let withheld = if basis.is_none() { std::mem::take(&mut codes) } else { vec![] };
    let result = node.attestation_proof(&id, &codes).map_err(proof_error);
    let outcome = match (&result, &basis) {
        (Err(e), _) => format!("refused:{}", e.code),
        (Ok(_), Some(_)) => format!("disclosed {}", requested.join(",")),
        (Ok(_), None) => format!("withheld {}", requested.join(",")),
    };
    let (n, access, c, subject) = (node.clone(), app.access.clone(), caller.clone(), header.subject.clone());
    let action = format!("disclose {id} {}", requested.join(","));
    let written =
        tokio::task::spawn_blocking(move || access.audit(&n, &c, action, Some(subject), basis, outcome, true)).await;
    if !matches!(written, Ok(Ok(_))) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit-unavailable",
            "the audit log could not be written",
        ));
    }
    let p = result?;
    let mut v = proof_answer(&p)?;
    if !withheld.is_empty() {
        v.withheld = Some(requested);
        v.withheld_reason = Some(
            "field values go only to the subject, the attestation's issuer, or a caller with a legal basis of its role (legal_basis=…)".into(),
        );
    }
    let mut resp = Json(v).into_response();
    resp.extensions_mut().insert(auth::Audited);
    Ok(resp)
}

async fn list_status(
    State(node): State<Arc<Node>>,
    Path((list, subject)): Path<(String, String)>,
    Query(q): Query<lifecycle::LangQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<types::ListStatus> {
    let l = lifecycle::Labels::new(lifecycle::lang(&headers, q.lang.as_deref())?);
    let list = parse_list(&list)?;
    let subject = parse_subject(&subject)?;
    let p = node.listing_proof(list, &subject).map_err(proof_error)?;
    let record = node.listing(list, &subject)?;
    let listing = record.as_ref().and_then(|r| r.current.clone());
    Ok(Json(types::ListStatus {
        proof: proof_answer(&p)?,
        list,
        list_label: l.get(Category::List, list.name()),
        name: node.subject_name(&subject)?.map(|n| types::RegisteredName::from_record(n, l.lang)),
        subject,
        listed: listing.is_some(),
        listing,
        record,
    }))
}

/// `GET /v1/standing/{subject}`: the subject on every list, one proof.
async fn all_lists(
    State(node): State<Arc<Node>>,
    Path(subject): Path<String>,
    Query(q): Query<lifecycle::LangQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<types::AllLists> {
    let lang = lifecycle::lang(&headers, q.lang.as_deref())?;
    let subject = parse_subject(&subject)?;
    let n = node.clone();
    let s = subject.clone();
    let p = tokio::task::spawn_blocking(move || n.standing_proof(&s)).await.map_err(ApiError::internal)?;
    let p = p.map_err(proof_error)?;
    let lists: Vec<types::ListRecord> = match &p.claim {
        credex_proof::Claim::Standing { record: Some(r), .. } => {
            r.lists.iter().map(|(list, record)| types::ListRecord { list: *list, record: record.clone() }).collect()
        }
        _ => Vec::new(),
    };
    let listed_on = lists.iter().filter(|l| l.record.current.is_some()).map(|l| l.list).collect();
    let name = node.subject_name(&subject)?.map(|n| types::RegisteredName::from_record(n, lang));
    Ok(Json(types::AllLists { proof: proof_answer(&p)?, subject, name, listed_on, lists }))
}

/// A block: header, certificate and transactions, as the caller may see
/// them ([`Node::block_view`] decides).
async fn block(
    State(node): State<Arc<Node>>,
    axum::Extension(caller): axum::Extension<credex_node::access::Caller>,
    Path(height): Path<String>,
) -> ApiResult<types::BlockAnswer> {
    let height: u64 = height.parse().map_err(|_| ApiError::bad("invalid-height", "height must be a number"))?;
    match node.block_view(height, caller.role).map_err(ApiError::internal)? {
        Some(credex_node::queries::BlockView { block: b, certificate: c, whole }) => {
            let transactions = b
                .txs
                .iter()
                .map(|t| {
                    Ok(types::BlockTx {
                        hash: t.hash(),
                        id: t.id(),
                        kind: t.type_name().to_string(),
                        tx: whole.then(|| serde_json::to_value(t)).transpose().map_err(ApiError::internal)?,
                    })
                })
                .collect::<Result<_, ApiError>>()?;
            Ok(Json(types::BlockAnswer {
                id: b.header.id(),
                header: b.header,
                transactions,
                redacted: !whole,
                certificate: c,
            }))
        }
        None => match node.snapshot_base().map_err(ApiError::internal)? {
            Some(base) if height < base => Err(ApiError::not_found(
                "unknown-block",
                format!(
                    "no block at height {height}: this node started from a state snapshot at height {base} and holds no block below it; ask a node that replayed from genesis"
                ),
            )),
            _ => Err(ApiError::not_found("unknown-block", format!("no block at height {height}"))),
        },
    }
}
