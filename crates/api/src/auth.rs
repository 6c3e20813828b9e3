//! The authentication middleware and the role table of the API (spec §12.2).
//!
//! | route | roles |
//! |---|---|
//! | `GET /healthz`, `/readyz`, `/metrics`, `/v1/status`, `/v1/labels`, `/v1/issuers`, `/v1/lists/…`, `/v1/blocks/…`, `/v1/transactions/{id}`, `POST /v1/verify`, the web UI | public |
//! | `POST /v1/attestations` | issuer (of its own agency) |
//! | `POST /v1/transactions` | any authenticated caller (the transaction carries its own signatures) |
//! | `GET /v1/attestations/{id}[/proof]`, `GET /v1/cases/{id}` | official, issuer, the subject itself |
//! | `POST /v1/attestations/{id}/record` | official, platform, issuer, the subject itself (each needs an authorization or legal basis unless it is the subject) |
//! | `GET /v1/subjects/{s}[/grade]` | platform, official, issuer, the subject itself |
//! | `GET /v1/subjects/{s}/access-log` | official, the subject itself |
//! | `/v1/warnings…` | official, issuer, platform |
//! | `/v1/audit/…` | official, issuer |
//!
//! Public block reads see transaction types, hashes and ids only (the
//! handler redacts them; spec §12.2). Without credentials a route that needs a role answers 401; with the
//! wrong role 403; a replayed nonce 409; over the rate 429. Every
//! authenticated read is appended to the node's audit log.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use credex_types::SubjectId;
use credex_types::access::Role;
use credex_types::lifecycle::CaseId;

use super::{ApiError, AppState, BODY_LIMIT};
use credex_node::access::{AuthError, Caller, Credentials};
use credex_node::service::Node;

pub use super::server::PeerAddr;

/// A handler marks its response with this when it wrote its own audit entry.
#[derive(Clone, Copy)]
pub struct Audited;

fn auth_error(e: &AuthError) -> Response {
    let status = match e {
        AuthError::Replay => StatusCode::CONFLICT,
        AuthError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        AuthError::Unreadable(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    };
    let e = ApiError::new(status, e.code(), e.to_string());
    // a rate refusal is for now: a token returns within a second at the lowest rate
    if status == StatusCode::TOO_MANY_REQUESTS { e.retry_after(1) } else { e }.into_response()
}

/// Who may call a route: everyone, any authenticated caller, or these roles
/// (and, with `true`, the subject the route is about).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// No credentials needed.
    Public,
    /// Any signed request.
    Authenticated,
    /// These roles; `true`: the subject itself too.
    Roles(&'static [Role], bool),
}

/// One route: method, pattern, who may call it, and its handler.
pub type Row = (&'static str, &'static str, Need, fn() -> axum::routing::MethodRouter<super::AppState>);

/// The role table (spec §12.2): one row per route pattern and method, with
/// its handler; the router is built from these rows (`super::router`), so a
/// route cannot exist without an entry. HEAD follows GET. Anything not in the table is
/// refused: 404 for an unknown path, 405 for a method the path does not
/// have. Patterns are segments, `{name}` a parameter.
pub const ROLE_TABLE: &[Row] = {
    use Role::{Issuer, Official, Platform};
    use axum::routing::{delete, get, post};
    const READERS: Need = Need::Roles(&[Official, Issuer], true);
    const WARNINGS: Need = Need::Roles(&[Official, Issuer, Platform], false);
    &[
        ("GET", "/healthz", Need::Public, || {
            get(|| async { axum::Json(credex_api_types::types::Health { status: "ok".into() }) })
        }),
        ("GET", "/readyz", Need::Public, || get(super::readyz)),
        ("GET", "/metrics", Need::Public, || get(super::metrics)),
        ("GET", "/openapi.json", Need::Public, || get(super::openapi::serve)),
        ("GET", "/", Need::Public, || get(super::web::index)),
        ("GET", "/assets/app.js", Need::Public, || get(super::web::app_js)),
        ("GET", "/assets/sign.js", Need::Public, || get(super::web::sign_js)),
        ("GET", "/assets/style.css", Need::Public, || get(super::web::style_css)),
        ("GET", "/assets/verifier.js", Need::Public, || get(super::web::verifier_js)),
        ("GET", "/assets/verify.wasm", Need::Public, || get(super::web::verify_wasm)),
        ("GET", "/verify.html", Need::Public, || get(super::web::offline)),
        ("GET", "/report/{subject}", Need::Public, || get(super::web::report)),
        ("GET", "/v1/status", Need::Public, || get(super::status)),
        ("GET", "/v1/labels", Need::Public, || get(super::lifecycle::labels)),
        ("GET", "/v1/issuers", Need::Public, || get(super::lifecycle::issuers)),
        ("GET", "/v1/validators", Need::Public, || get(super::lifecycle::validators)),
        ("GET", "/v1/checkpoint", Need::Public, || get(super::lifecycle::checkpoint)),
        ("GET", "/v1/genesis", Need::Public, || get(super::web::genesis)),
        ("GET", "/v1/lists/{list}", Need::Public, || get(super::public::members)),
        ("GET", "/v1/lists/{list}/{subject}", Need::Public, || get(super::list_status)),
        ("GET", "/v1/lists/{list}/{subject}/qr.svg", Need::Public, || get(super::public::status_qr)),
        ("GET", "/v1/standing/{subject}", Need::Public, || get(super::all_lists)),
        ("POST", "/v1/standing", WARNINGS, || {
            post(super::public::bulk_standing)
                .layer(axum::extract::DefaultBodyLimit::max(super::public::BULK_BODY_LIMIT))
        }),
        ("GET", "/v1/standing/{subject}/qr.svg", Need::Public, || get(super::public::standing_qr)),
        ("GET", "/v1/blocks/{height}", Need::Public, || get(super::block)),
        ("GET", "/v1/transactions/{id}", Need::Public, || get(super::lifecycle::transaction)),
        ("POST", "/v1/verify", Need::Public, || post(super::public::verify)),
        ("POST", "/v1/attestations", Need::Roles(&[Issuer], false), || post(super::submit)),
        ("POST", "/v1/bulk/attestations", Need::Roles(&[Issuer], false), || {
            post(super::submit_bulk).layer(axum::extract::DefaultBodyLimit::max(super::public::BULK_BODY_LIMIT))
        }),
        ("POST", "/v1/transactions", Need::Authenticated, || post(super::lifecycle::submit_tx)),
        ("GET", "/v1/attestations/{id}", READERS, || get(super::attestation)),
        ("GET", "/v1/attestations/{id}/proof", READERS, || get(super::attestation_proof)),
        ("GET", "/v1/cases/{id}", READERS, || get(super::lifecycle::case)),
        ("POST", "/v1/attestations/{id}/record", Need::Roles(&[Official, Platform, Issuer], true), || {
            post(super::records::record)
        }),
        ("GET", "/v1/subjects/{subject}", Need::Roles(&[Platform, Official, Issuer], true), || {
            get(super::lifecycle::subject)
        }),
        ("GET", "/v1/subjects/{subject}/grade", Need::Roles(&[Platform, Official, Issuer], true), || {
            get(super::lifecycle::grade)
        }),
        ("GET", "/v1/subjects/{subject}/access-log", Need::Roles(&[Official], true), || {
            get(super::records::access_log)
        }),
        ("GET", "/v1/warnings", WARNINGS, || get(super::lifecycle::risk_list)),
        ("GET", "/v1/warnings/events", WARNINGS, || get(super::lifecycle::events)),
        ("GET", "/v1/warnings/subscriptions", WARNINGS, || get(super::lifecycle::subscriptions)),
        ("POST", "/v1/warnings/subscriptions", WARNINGS, || post(super::lifecycle::subscribe)),
        ("DELETE", "/v1/warnings/subscriptions/{id}", WARNINGS, || delete(super::lifecycle::unsubscribe)),
        ("GET", "/v1/audit/log", Need::Roles(&[Official, Issuer], false), || get(super::records::audit_log)),
        ("GET", "/v1/audit/anchors", Need::Roles(&[Official, Issuer], false), || get(super::records::audit_anchors)),
    ]
};

/// A request path checked and percent-decoded once: routing (axum decodes
/// the same way), the role table and the audit entry all see these segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    /// The decoded segments (none for `/`).
    pub segments: Vec<String>,
}

impl CanonicalPath {
    /// `/` and the segments joined.
    pub fn text(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }
}

/// Why a path is not canonical (400 `non-canonical-path`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("non-canonical path: {0}")]
pub struct PathError(pub &'static str);

/// Checks and decodes `raw` (the path without query). Refused: a path not
/// starting with `/`, empty segments (`//`, a trailing `/`), `.` or `..`
/// segments (also percent-encoded), malformed or non-UTF-8 escapes, and
/// escapes that decode to `/`, `\\` or control characters.
pub fn canonical_path(raw: &str) -> Result<CanonicalPath, PathError> {
    let rest = raw.strip_prefix('/').ok_or(PathError("a path starts with /"))?;
    if rest.is_empty() {
        return Ok(CanonicalPath { segments: Vec::new() });
    }
    let mut segments = Vec::new();
    for seg in rest.split('/') {
        if seg.is_empty() {
            return Err(PathError("empty segment (// or a trailing /)"));
        }
        let decoded = percent_decode(seg)?;
        if decoded == "." || decoded == ".." {
            return Err(PathError("dot segment"));
        }
        if decoded.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
            return Err(PathError("an escape decodes to a separator or control character"));
        }
        segments.push(decoded);
    }
    Ok(CanonicalPath { segments })
}

fn percent_decode(seg: &str) -> Result<String, PathError> {
    if !seg.contains('%') {
        return Ok(seg.to_string());
    }
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(PathError("truncated escape"))?;
            let hex = std::str::from_utf8(hex).map_err(|_| PathError("malformed escape"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| PathError("malformed escape"))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PathError("escape is not UTF-8"))
}

/// The table's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A row: its pattern and who may call it.
    Row(&'static str, Need),
    /// The path exists with other methods (405, `Allow`).
    WrongMethod(String),
    /// No such path (404).
    Unknown,
}

fn matches(pattern: &str, segs: &[String]) -> bool {
    let pat: Vec<&str> = pattern.split('/').skip(1).filter(|s| !s.is_empty()).collect();
    pat.len() == segs.len() && pat.iter().zip(segs).all(|(p, s)| p.starts_with('{') || *p == s.as_str())
}

/// Looks `method path` up in [`ROLE_TABLE`]; HEAD is looked up as GET.
/// No two patterns of the table match the same path (a test holds this),
/// so the rows a path matches share one pattern.
pub fn route(method: &Method, path: &CanonicalPath) -> Route {
    let m = if method == Method::HEAD { "GET" } else { method.as_str() };
    let mut allow: Vec<&str> = Vec::new();
    for (rm, p, n, _) in ROLE_TABLE.iter().filter(|(_, p, _, _)| matches(p, &path.segments)) {
        if *rm == m {
            return Route::Row(p, *n);
        }
        allow.push(rm);
    }
    if allow.is_empty() {
        return Route::Unknown;
    }
    if allow.contains(&"GET") {
        allow.push("HEAD");
    }
    Route::WrongMethod(allow.join(","))
}

/// The subject whose data the request is about, if any: the `{subject}`
/// parameter (parsed, so every spelling of one subject is the same
/// subject), or the subject of the attestation or case `{id}` (an
/// attestation's header is read from the store, which may fail).
pub fn subject_of(
    node: &Node,
    pattern: &str,
    path: &CanonicalPath,
) -> Result<Option<SubjectId>, credex_node::StoreError> {
    let pat: Vec<&str> = pattern.split('/').skip(1).filter(|s| !s.is_empty()).collect();
    let param = |name: &str| pat.iter().position(|p| *p == name).and_then(|i| path.segments.get(i));
    if let Some(s) = param("{subject}") {
        return Ok(s.parse().ok());
    }
    let Some(id) = param("{id}") else { return Ok(None) };
    Ok(match path.segments.get(1).map(String::as_str) {
        Some("attestations") => match id.parse() {
            Ok(id) => node.anchored_header(&id)?.map(|h| h.subject),
            Err(_) => None,
        },
        Some("cases") => match id.parse::<CaseId>() {
            Ok(id) => node.case(&id)?.map(|c| c.subject),
            Err(_) => None,
        },
        _ => None,
    })
}

/// Times every request and counts refusals by code (metrics), around [`middleware`].
pub async fn measure(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let method = req.method().to_string();
    let mut resp = next.run(req).await;
    // Extractors (path, query, body) refuse in plain text: every error is JSON.
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if resp.status().is_client_error() && !json && resp.extensions().get::<super::ErrorCode>().is_none() {
        let status = resp.status();
        let text = axum::body::to_bytes(std::mem::take(resp.body_mut()), 4096).await.unwrap_or_default();
        let code = match status {
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            StatusCode::REQUEST_TIMEOUT => "timeout",
            StatusCode::PAYLOAD_TOO_LARGE => "too-large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
            _ => "bad-request",
        };
        let mut fixed = ApiError::new(status, code, String::from_utf8_lossy(&text).trim().to_string()).into_response();
        if let Some(allow) = resp.headers().get(axum::http::header::ALLOW) {
            fixed.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
        }
        resp = fixed;
    }
    let m = app.node.metrics();
    m.observe_api(&method, resp.status().as_u16(), start.elapsed().as_secs_f64());
    if let Some(super::ErrorCode(code)) = resp.extensions().get::<super::ErrorCode>() {
        m.reject(code);
    }
    resp
}

/// Authenticates, enforces the role table, and audits authenticated reads.
pub async fn middleware(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let now = app.node.now();
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let canonical = match canonical_path(parts.uri.path()) {
        Ok(c) => c,
        Err(e) => return ApiError::bad("non-canonical-path", e.to_string()).into_response(),
    };
    let (pattern, need) = match route(&parts.method, &canonical) {
        Route::Row(p, n) => (p, n),
        Route::Unknown => return ApiError::not_found("not-found", "no such route").into_response(),
        Route::WrongMethod(allow) => {
            let mut r = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                format!("{} is not allowed here; allowed: {allow}", parts.method),
            )
            .into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&allow) {
                r.headers_mut().insert(axum::http::header::ALLOW, v);
            }
            return r;
        }
    };
    let path = canonical.text();
    // the signature covers the path exactly as sent
    let signed_path =
        parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let creds =
        (header("x-credex-client"), header("x-credex-time"), header("x-credex-nonce"), header("x-credex-signature"));
    let (caller, body) = match creds {
        (None, None, None, None) if matches!(pattern, "/healthz" | "/readyz" | "/metrics") => (Caller::public(), body),
        (None, None, None, None) => {
            let addr = parts
                .extensions
                .get::<ConnectInfo<PeerAddr>>()
                .map_or_else(|| "local".into(), |c| c.0.0.ip().to_string());
            if let Err(e) = app.access.admit_public(&addr, now) {
                return auth_error(&e);
            }
            (Caller::public(), body)
        }
        (Some(client), Some(time), Some(nonce), Some(signature)) => {
            // the bulk check takes up to 10,000 subject ids, the bulk submission
            // up to 1,000 attestations; every other route 64 KiB
            let limit = if matches!(pattern, "/v1/standing" | "/v1/bulk/attestations") {
                super::public::BULK_BODY_LIMIT
            } else {
                BODY_LIMIT
            };
            let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    format!("request body exceeds {limit} bytes"),
                )
                .into_response();
            };
            let creds = Credentials { client: &client, time: &time, nonce: &nonce, signature: &signature };
            match app.access.authenticate(&app.node, &creds, parts.method.as_str(), &signed_path, &bytes, now) {
                Ok(c) => (c, Body::from(bytes)),
                Err(e) => {
                    tracing::info!(target: "credex::api", client = %client, error = %e, "request refused");
                    return auth_error(&e);
                }
            }
        }
        _ => return auth_error(&AuthError::Malformed("send all four X-Credex-* headers or none".into())),
    };
    // the role table
    let subject = if caller.role == Role::Public {
        None
    } else {
        match subject_of(&app.node, pattern, &canonical) {
            Ok(s) => s,
            Err(e) => return ApiError::internal(e).into_response(),
        }
    };
    match need {
        Need::Public => {}
        Need::Authenticated | Need::Roles(..) if caller.role == Role::Public => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "this route needs a signed request (spec §12.1)",
            )
            .into_response();
        }
        Need::Authenticated => {}
        Need::Roles(roles, own) => {
            let is_own = own && caller.role == Role::Subject && subject.is_some() && caller.subject == subject;
            if !roles.contains(&caller.role) && !is_own {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("role {} may not {} {path}", caller.role, parts.method),
                )
                .into_response();
            }
        }
    }
    parts.extensions.insert(caller.clone());
    let method = parts.method.clone();
    let resp = next.run(Request::from_parts(parts, body)).await;
    let read = method == Method::GET || method == Method::HEAD;
    if caller.role != Role::Public && read && resp.extensions().get::<Audited>().is_none() {
        let status = resp.status().as_u16().to_string();
        let action = format!("{method} {path}{query}");
        let (node, access) = (app.node.clone(), app.access.clone());
        let written =
            tokio::task::spawn_blocking(move || access.audit(&node, &caller, action, subject, None, status, false))
                .await;
        if !matches!(written, Ok(Ok(_))) {
            // An unaudited answer must not leave the node.
            tracing::error!(target: "credex::audit", "audit append failed; withholding the response");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit-unavailable",
                "the audit log could not be written",
            )
            .into_response();
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn path(p: &str) -> CanonicalPath {
        canonical_path(p).unwrap()
    }

    /// A concrete path for a pattern: every parameter filled in.
    fn sample(pattern: &str) -> String {
        pattern.split('/').map(|s| if s.starts_with('{') { "x" } else { s }).collect::<Vec<_>>().join("/")
    }

    #[test]
    fn every_row_is_reached_by_its_own_paths_and_head_follows_get() {
        for (m, p, n, _) in ROLE_TABLE {
            let method: Method = m.parse().unwrap();
            let c = path(&sample(p));
            assert_eq!(route(&method, &c), Route::Row(p, *n), "{m} {p}");
            if *m == "GET" {
                assert_eq!(route(&Method::HEAD, &c), Route::Row(p, *n), "HEAD {p}");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (m, p, _, _) in ROLE_TABLE {
            assert!(seen.insert((m, p)), "{m} {p} twice in the role table");
            // no other pattern matches this one's paths (literal samples too: "x" and the literals)
            let c = path(&sample(p));
            for (_, q, _, _) in ROLE_TABLE.iter().filter(|(_, q, _, _)| q != p) {
                assert!(!matches(q, &c.segments), "{p} and {q} overlap");
            }
        }
    }

    #[test]
    fn anything_not_in_the_table_is_refused() {
        assert_eq!(route(&Method::GET, &path("/v1/nothing")), Route::Unknown);
        assert_eq!(route(&Method::GET, &path("/v1/subjects/x/secret")), Route::Unknown);
        assert_eq!(route(&Method::PUT, &path("/v1/status")), Route::WrongMethod("GET,HEAD".into()));
        assert_eq!(route(&Method::DELETE, &path("/v1/subjects/x")), Route::WrongMethod("GET,HEAD".into()));
        assert_eq!(route(&Method::OPTIONS, &path("/v1/attestations")), Route::WrongMethod("POST".into()));
        assert!(matches!(route(&Method::HEAD, &path("/v1/attestations")), Route::WrongMethod(_)));
    }

    #[test]
    fn paths_are_decoded_once_and_odd_spellings_refused() {
        assert_eq!(path("/v1/subjects/%39%31350100M000100Y43").segments[2], "91350100M000100Y43");
        assert_eq!(path("/v1/lists/x/ru-inn%3A7707083893").segments[3], "ru-inn:7707083893");
        assert_eq!(path("/").segments, Vec::<String>::new());
        for bad in [
            "/v1//subjects/x",
            "/v1/subjects/x/",
            "/v1/./subjects/x",
            "/v1/subjects/../audit/log",
            "/v1/subjects/%2e%2e",
            "/v1/subjects/a%2Fb",
            "/v1/subjects/a%5Cb",
            "/v1/subjects/%4",
            "/v1/subjects/%zz",
            "/v1/subjects/%ff",
            "/v1/subjects/a%00",
            "v1/status",
        ] {
            assert!(canonical_path(bad).is_err(), "{bad} accepted");
        }
    }
}
