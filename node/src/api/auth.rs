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

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use credex_types::SubjectId;
use credex_types::access::Role;
use credex_types::lifecycle::CaseId;

use super::{ApiError, AppState, BODY_LIMIT};
use crate::access::{AuthError, Caller, Credentials};
use crate::service::Node;

/// The remote address of a connection (connect info of [`LimitedListener`]).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, LimitedListener>> for PeerAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, LimitedListener>) -> PeerAddr {
        PeerAddr(*stream.remote_addr())
    }
}

/// A TCP listener that holds at most `max` open connections: beyond that
/// it stops accepting, and new connections wait in the kernel's backlog.
pub struct LimitedListener {
    inner: tokio::net::TcpListener,
    slots: std::sync::Arc<tokio::sync::Semaphore>,
}

impl LimitedListener {
    /// Wraps `inner`.
    pub fn new(inner: tokio::net::TcpListener, max: usize) -> LimitedListener {
        LimitedListener { inner, slots: std::sync::Arc::new(tokio::sync::Semaphore::new(max)) }
    }
}

/// A connection holding one of the listener's slots until dropped.
pub struct LimitedStream {
    inner: tokio::net::TcpStream,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl tokio::io::AsyncRead for LimitedStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (LimitedStream, SocketAddr) {
        loop {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                // the semaphore is never closed; wait and try again
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            match self.inner.accept().await {
                Ok((inner, addr)) => return (LimitedStream { inner, _slot: slot }, addr),
                Err(e) => {
                    tracing::warn!(target: "credex::api", error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A handler marks its response with this when it wrote its own audit entry.
#[derive(Clone, Copy)]
pub struct Audited;

fn auth_error(e: &AuthError) -> Response {
    let status = match e {
        AuthError::Replay => StatusCode::CONFLICT,
        AuthError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::UNAUTHORIZED,
    };
    ApiError::new(status, e.code(), e.to_string()).into_response()
}

enum Need {
    Public,
    Authenticated,
    Roles(&'static [Role], bool),
}

/// Who may call `method path`; `bool`: the subject itself may too.
fn need(method: &Method, path: &str) -> Need {
    use Role::{Issuer, Official, Platform};
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["healthz" | "readyz" | "metrics" | "openapi.json"]) => Need::Public,
        ("GET", ["v1", "status" | "labels" | "issuers"]) => Need::Public,
        ("GET", ["v1", "lists", ..] | ["v1", "blocks", ..] | ["v1", "transactions", _]) => Need::Public,
        ("POST", ["v1", "verify"]) => Need::Public,
        ("POST", ["v1", "attestations"]) => Need::Roles(&[Issuer], false),
        ("POST", ["v1", "transactions"]) => Need::Authenticated,
        ("GET", ["v1", "attestations", _] | ["v1", "attestations", _, "proof"] | ["v1", "cases", _]) => {
            Need::Roles(&[Official, Issuer], true)
        }
        ("POST", ["v1", "attestations", _, "record"]) => Need::Roles(&[Official, Platform, Issuer], true),
        ("GET", ["v1", "subjects", _, "access-log"]) => Need::Roles(&[Official], true),
        ("GET", ["v1", "subjects", ..]) => Need::Roles(&[Platform, Official, Issuer], true),
        ("GET", ["v1", "warnings"] | ["v1", "warnings", "events" | "subscriptions"])
        | ("POST", ["v1", "warnings", "subscriptions"])
        | ("DELETE", ["v1", "warnings", "subscriptions", _]) => Need::Roles(&[Official, Issuer, Platform], false),
        ("GET", ["v1", "audit", "log" | "anchors"]) => Need::Roles(&[Official, Issuer], false),
        _ => Need::Public,
    }
}

/// The subject whose data `path` is about, if any.
pub fn subject_of(node: &Node, path: &str) -> Option<SubjectId> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["v1", "subjects", s, ..] | ["v1", "lists", _, s, ..] => s.parse().ok(),
        ["v1", "attestations", id, ..] => id.parse().ok().and_then(|id| node.anchored_header(&id)).map(|h| h.subject),
        ["v1", "cases", id] => id.parse::<CaseId>().ok().and_then(|id| node.case(&id)).map(|c| c.subject),
        _ => None,
    }
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
    let path = parts.uri.path().to_string();
    let path_and_query = parts.uri.path_and_query().map_or_else(|| path.clone(), |p| p.as_str().to_string());
    let creds =
        (header("x-credex-client"), header("x-credex-time"), header("x-credex-nonce"), header("x-credex-signature"));
    let (caller, body) = match creds {
        (None, None, None, None) if matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics") => {
            (Caller::public(), body)
        }
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
            let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    format!("request body exceeds {BODY_LIMIT} bytes"),
                )
                .into_response();
            };
            let creds = Credentials { client: &client, time: &time, nonce: &nonce, signature: &signature };
            match app.access.authenticate(&app.node, &creds, parts.method.as_str(), &path_and_query, &bytes, now) {
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
    let subject = if caller.role == Role::Public { None } else { subject_of(&app.node, &path) };
    match need(&parts.method, &path) {
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
    if caller.role != Role::Public && method == Method::GET && resp.extensions().get::<Audited>().is_none() {
        let status = resp.status().as_u16().to_string();
        let action = format!("GET {path_and_query}");
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
