//! A blocking client of a node's HTTP API (feature `client`): requests
//! signed under spec §12.1 when it has credentials, answers and refusals
//! typed ([`ClientError`]), TLS roots of the caller's choosing.

use std::path::Path;
use std::time::{Duration, Instant};

use credex_types::Timestamp;
use credex_types::attestation::AttestationId;
use serde_json::Value;

use crate::FileError;
use credex_types::attestation::Attestation;

use crate::types::{BulkResult, BulkSubmission, BulkSubmitted, ErrorBody, NodeStatus};

/// Why a request to a node failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node cannot be reached (or the connection broke).
    #[error("{what}: cannot reach the node at {base}: {source}")]
    Unreachable {
        /// The request.
        what: String,
        /// The node's URL.
        base: String,
        /// Why.
        source: Box<ureq::Error>,
    },
    /// The node answered something that is not the expected JSON.
    #[error("{what}: the node's answer is not what the API promises: {reason}")]
    BadAnswer {
        /// The request.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The node refused the request.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The key file cannot be used.
    #[error(transparent)]
    Credentials(#[from] FileError),
    /// A key file whose role cannot sign API requests.
    #[error("{path}: a {role} key cannot sign API requests")]
    NotAClientKey {
        /// The key file.
        path: String,
        /// Its role.
        role: String,
    },
    /// The TLS roots cannot be read.
    #[error("CA file {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Waited too long.
    #[error("transaction {id} not anchored after {after:?}")]
    Timeout {
        /// The transaction.
        id: AttestationId,
        /// How long.
        after: Duration,
    },
}

/// A refusal by the node: exit code 1, with its JSON error.
#[derive(Debug, thiserror::Error)]
#[error("node refused ({status}): {code}: {message}")]
pub struct Refused {
    /// HTTP status.
    pub status: u16,
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
}

/// A node's API. Requests are signed (spec §12.1) when the client has
/// credentials: its own (`with_key`), or the process-wide ones from
/// `--auth FILE` / `CREDEX_AUTH` ([`set_default_auth`]).
pub struct Client {
    base: String,
    agent: ureq::Agent,
    auth: Option<(String, credex_crypto::SecretKey)>,
    chain: std::sync::OnceLock<credex_types::access::Audience>,
    patience: Duration,
    retries: std::sync::atomic::AtomicU64,
}

/// How long a client waits in all, per request, on refusals that are only
/// for now (503 or 429 with `Retry-After`) before it gives the refusal to
/// its caller: [`Client::with_patience`].
pub const DEFAULT_PATIENCE: Duration = Duration::from_secs(120);

/// The longest single wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The wait before attempt `attempt + 1` (from 0) after a refusal that said
/// `Retry-After: retry_after`: at least what the node asked, doubling on
/// repeats (capped at [`MAX_BACKOFF`]), plus up to a quarter more of jitter
/// from `noise` so that refused clients do not come back together.
pub fn backoff(retry_after: Duration, attempt: u32, noise: u64) -> Duration {
    let doubled = Duration::from_millis(500).saturating_mul(1u32 << attempt.min(6));
    let base = retry_after.max(doubled).min(MAX_BACKOFF);
    let quarter = u64::try_from(base.as_millis() / 4).unwrap_or(u64::MAX);
    base + Duration::from_millis(noise % quarter.max(1))
}

/// A little noise for the jitter of [`backoff`] (the clock's nanoseconds).
fn noise() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::from(d.subsec_nanos()))
}

/// The `Retry-After` of a refusal that is only for now (503, 429), in
/// seconds; `None` for anything else (or an HTTP date, which nodes never send).
fn retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    if !matches!(resp.status().as_u16(), 429 | 503) {
        return None;
    }
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

static DEFAULT_AUTH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

static DEFAULT_TLS: std::sync::OnceLock<ureq::tls::TlsConfig> = std::sync::OnceLock::new();

/// Makes the certificates in the PEM file `ca` the only roots every client
/// trusts for `https://` nodes (default: the Web PKI roots).
pub fn set_default_ca(ca: &Path) -> Result<(), ClientError> {
    let _ = DEFAULT_TLS.set(tls_roots(Some(ca))?);
    Ok(())
}

static DEFAULT_PATIENCE_SET: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Makes `patience` the patience of every client made after (instead of
/// [`DEFAULT_PATIENCE`]); [`Client::with_patience`] still overrides it.
pub fn set_default_patience(patience: Duration) {
    let _ = DEFAULT_PATIENCE_SET.set(patience);
}

/// Makes `path` the credentials of every client without its own.
pub fn set_default_auth(path: std::path::PathBuf) {
    let _ = DEFAULT_AUTH.set(path);
}

/// The client id and key of a key file: an official's or platform's
/// (`client`), an issuer's (its agency), or a subject's (its id).
pub fn credentials(path: &Path) -> Result<(String, credex_crypto::SecretKey), ClientError> {
    if let Ok((file, key)) = crate::KeyFile::read(path) {
        return match (file.role.as_str(), file.client) {
            ("official" | "platform", Some(client)) => Ok((client, key)),
            ("issuer", _) => Ok((file.agency.to_string(), key)),
            (role, _) => Err(ClientError::NotAClientKey { path: path.display().to_string(), role: role.to_string() }),
        };
    }
    let (file, key) = crate::SubjectKeyFile::read(path)?;
    Ok((file.subject.to_string(), key))
}

impl Client {
    /// A client for the node at `url` (e.g. `http://127.0.0.1:8080`), with
    /// the process-wide credentials if any.
    pub fn new(url: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .tls_config(DEFAULT_TLS.get().cloned().unwrap_or_default())
            .build()
            .into();
        let auth = DEFAULT_AUTH
            .get()
            .cloned()
            .or_else(|| std::env::var_os("CREDEX_AUTH").map(std::path::PathBuf::from))
            .and_then(|p| match credentials(&p) {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("warning: credentials {}: {e}; sending unsigned requests", p.display());
                    None
                }
            });
        Client {
            base: url.trim_end_matches('/').to_string(),
            agent,
            auth,
            chain: std::sync::OnceLock::new(),
            patience: DEFAULT_PATIENCE_SET.get().copied().unwrap_or(DEFAULT_PATIENCE),
            retries: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Waits at most `patience` in all, per request, on busy (503) or
    /// rate (429) refusals with `Retry-After`, resending (signed afresh)
    /// after each; `Duration::ZERO` gives such refusals back at once.
    #[must_use]
    pub fn with_patience(mut self, patience: Duration) -> Client {
        self.patience = patience;
        self
    }

    /// How many times this client resent a request because the node said
    /// "retry after" (busy, read-only or over the rate).
    pub fn retries(&self) -> u64 {
        self.retries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends `method path` with `body` (signed afresh for every attempt),
    /// resending after the node's `Retry-After` while the patience lasts.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<ureq::http::Response<ureq::Body>, ClientError> {
        self.send_as(method, path, body, true)
    }

    /// As [`Client::send`], never signed (the audience itself, which signing needs).
    fn send_unsigned(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<ureq::http::Response<ureq::Body>, ClientError> {
        self.send_as(method, path, body, false)
    }

    fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        signed: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, ClientError> {
        let what = format!("{method} {path}");
        let url = format!("{}{path}", self.base);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let headers = if signed { self.headers(method, path, body.unwrap_or(b""))? } else { Vec::new() };
            let sent = match body {
                Some(bytes) => {
                    let mut req = match method {
                        "PUT" => self.agent.put(&url),
                        _ => self.agent.post(&url),
                    }
                    .content_type("application/json");
                    for (k, v) in &headers {
                        req = req.header(*k, v);
                    }
                    req.send(bytes)
                }
                None => {
                    let mut req = match method {
                        "DELETE" => self.agent.delete(&url),
                        _ => self.agent.get(&url),
                    };
                    for (k, v) in &headers {
                        req = req.header(*k, v);
                    }
                    req.call()
                }
            };
            let resp = sent.map_err(|e| self.unreachable(&what, e))?;
            let Some(asked) = retry_after(&resp) else { return Ok(resp) };
            let wait = backoff(asked, attempt, noise());
            if started.elapsed() + wait > self.patience {
                return Ok(resp);
            }
            // the caller waits: say why, and how to wait less
            eprintln!(
                "{what}: the node answered {} (retry after {} s); resending in {:.1} s, for at most {} s in all (--patience)",
                resp.status().as_u16(),
                asked.as_secs(),
                wait.as_secs_f64(),
                self.patience.as_secs()
            );
            self.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// As [`Client::new`], signing with the key file `path` instead.
    pub fn with_key(url: &str, path: &Path) -> Result<Client, ClientError> {
        let mut c = Client::new(url);
        c.auth = Some(credentials(path)?);
        Ok(c)
    }

    fn unreachable(&self, what: &str, e: ureq::Error) -> ClientError {
        ClientError::Unreachable { what: what.to_string(), base: self.base.clone(), source: Box::new(e) }
    }

    /// The body of a successful answer as `T`, or the node's refusal.
    fn answer<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ClientError> {
        let text = self.text(what, resp)?;
        serde_json::from_str(&text)
            .map_err(|e| ClientError::BadAnswer { what: what.to_string(), reason: e.to_string() })
    }

    /// The text of a successful answer, or the node's refusal.
    fn text(
        &self,
        what: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<String, ClientError> {
        let mut resp = resp.map_err(|e| self.unreachable(what, e))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().map_err(|e| self.unreachable(what, e))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        // A refusal is `ErrorBody`; anything else (a proxy's page) keeps its status.
        let body = serde_json::from_str::<ErrorBody>(&text)
            .unwrap_or_else(|_| ErrorBody { code: "unknown".into(), message: text.chars().take(200).collect() });
        Err(Refused { status, code: body.code, message: body.message }.into())
    }

    /// The chain id the node runs.
    pub fn chain_id(&self) -> Result<credex_types::ChainId, ClientError> {
        Ok(self.audience()?.chain_id)
    }

    /// The node's status (`GET /v1/status`, signed when this client has
    /// credentials: a signed caller is held to its own rate, not the public one).
    pub fn status(&self) -> Result<NodeStatus, ClientError> {
        self.get_as("/v1/status")
    }

    /// Whom this node's requests are for: chain id, genesis hash and the
    /// node's agency (public `GET /v1/status`, asked once).
    pub fn audience(&self) -> Result<credex_types::access::Audience, ClientError> {
        if let Some(c) = self.chain.get() {
            return Ok(c.clone());
        }
        // unsigned: the audience is what a signature needs
        let status: NodeStatus = self.answer("GET /v1/status", Ok(self.send_unsigned("GET", "/v1/status", None)?))?;
        let audience = credex_types::access::Audience {
            chain_id: status.chain_id,
            genesis: status.genesis,
            node: status.agency.map(|a| a.to_string()).unwrap_or_default(),
        };
        let _ = self.chain.set(audience.clone());
        Ok(audience)
    }

    /// The signature headers for a request, if this client has credentials.
    fn headers(&self, method: &str, path: &str, body: &[u8]) -> Result<Vec<(&'static str, String)>, ClientError> {
        let Some((client, key)) = &self.auth else { return Ok(Vec::new()) };
        let audience = self.audience()?;
        Ok(crate::sign::sign_headers(&audience, client, key, method, path, body, Timestamp::system_now())?.to_vec())
    }

    /// GET `path` as `T` (`serde_json::Value` for any JSON).
    pub fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let resp = self.send("GET", path, None)?;
        self.answer(&format!("GET {path}"), Ok(resp))
    }

    /// GET `path` as JSON.
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.get_as(path)
    }

    /// GET `path` as text (HTML pages).
    pub fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let resp = self.send("GET", path, None)?;
        self.text(&format!("GET {path}"), Ok(resp))
    }

    /// POST JSON to `path`.
    pub fn post_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ClientError::BadAnswer { what: format!("POST {path}"), reason: e.to_string() })?;
        let resp = self.send("POST", path, Some(&bytes))?;
        self.answer(&format!("POST {path}"), Ok(resp))
    }

    /// DELETE `path`, answer as `T`.
    pub fn delete_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let resp = self.send("DELETE", path, None)?;
        self.answer(&format!("DELETE {path}"), Ok(resp))
    }

    /// POST `body` (JSON) to `path` with headers signed beforehand (the load
    /// generator signs everything before it starts the clock); the status.
    pub fn post_presigned(&self, path: &str, body: &[u8], headers: &[(&str, String)]) -> Result<u16, ClientError> {
        let mut req = self.agent.post(format!("{}{path}", self.base)).content_type("application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let mut resp = req.send(body).map_err(|e| self.unreachable(&format!("POST {path}"), e))?;
        let _ = resp.body_mut().read_to_string();
        Ok(resp.status().as_u16())
    }

    /// POST JSON to `path`, answer as JSON.
    pub fn post(&self, path: &str, body: &impl serde::Serialize) -> Result<Value, ClientError> {
        self.post_as(path, body)
    }

    /// Submits `atts` (an issuer's, signed) through `POST
    /// /v1/bulk/attestations`, in as many requests as
    /// [`BulkSubmitted::chunks`] makes; attestations refused only for now
    /// (busy, read-only) are resent after the node's `Retry-After` while
    /// the patience lasts. One result per attestation, in order (`index`
    /// into `atts`); `on_chunk` hears how many are answered so far.
    pub fn submit_bulk(
        &self,
        atts: &[Attestation],
        mut on_chunk: impl FnMut(usize),
    ) -> Result<BulkSubmitted, ClientError> {
        let mut results = Vec::with_capacity(atts.len());
        let mut retry_after = None;
        for chunk in BulkSubmitted::chunks(atts) {
            let offset = results.len();
            let answer = self.submit_chunk(chunk)?;
            retry_after = retry_after.max(answer.retry_after_s);
            results.extend(answer.results.into_iter().map(|r| BulkResult { index: r.index + offset, ..r }));
            on_chunk(results.len());
        }
        Ok(BulkSubmitted::of(results, retry_after))
    }

    /// One bulk request, its retryable attestations resent while the patience lasts.
    fn submit_chunk(&self, atts: &[Attestation]) -> Result<BulkSubmitted, ClientError> {
        const PATH: &str = "/v1/bulk/attestations";
        let started = Instant::now();
        let all = BulkSubmission { attestations: atts.to_vec() };
        let mut answer: BulkSubmitted = self.post_as(PATH, &all)?;
        let mut attempt = 0u32;
        while answer.retry > 0 {
            let asked = Duration::from_secs(answer.retry_after_s.unwrap_or(1));
            let wait = backoff(asked, attempt, noise());
            if started.elapsed() + wait > self.patience {
                break;
            }
            eprintln!(
                "POST {PATH}: the node took {} of {} for now (busy or read-only); resending {} in {:.1} s, for at most {} s in all (--patience)",
                answer.results.len().saturating_sub(answer.retry),
                answer.results.len(),
                answer.retry,
                wait.as_secs_f64(),
                self.patience.as_secs()
            );
            self.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(wait);
            attempt += 1;
            let again: Vec<usize> = answer.results.iter().filter(|r| r.retryable()).map(|r| r.index).collect();
            let resend = BulkSubmission { attestations: again.iter().filter_map(|i| atts.get(*i).cloned()).collect() };
            let second: BulkSubmitted = match self.post_as(PATH, &resend) {
                Ok(a) => a,
                // none taken again (the whole request refused for now): keep waiting
                Err(ClientError::Refused(r)) if r.status == 503 || r.status == 429 => continue,
                Err(e) => return Err(e),
            };
            let retry_after = second.retry_after_s;
            for r in second.results {
                if let Some(slot) = again.get(r.index).and_then(|orig| answer.results.get_mut(*orig)) {
                    *slot = BulkResult { index: slot.index, ..r };
                }
            }
            answer = BulkSubmitted::of(std::mem::take(&mut answer.results), retry_after);
        }
        Ok(answer)
    }

    /// Polls until `id` is anchored or rejected (or `timeout`).
    pub fn wait(&self, id: &AttestationId, timeout: Duration) -> Result<crate::types::Standing, ClientError> {
        use crate::types::Standing;
        let start = Instant::now();
        loop {
            let s: Standing = self.get_as(&format!("/v1/transactions/{id}"))?;
            match s {
                Standing::Anchored { .. } | Standing::Rejected { .. } => return Ok(s),
                _ if start.elapsed() > timeout => return Err(ClientError::Timeout { id: *id, after: timeout }),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// The roots a client trusts: the Web PKI, or exactly the certificates in `ca`.
pub fn tls_roots(ca: Option<&Path>) -> Result<ureq::tls::TlsConfig, ClientError> {
    let Some(ca) = ca else { return Ok(ureq::tls::TlsConfig::default()) };
    let err = |reason: String| ClientError::Ca { path: ca.display().to_string(), reason };
    let pem = std::fs::read(ca).map_err(|e| err(e.to_string()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(c) = item.map_err(|e| err(format!("not PEM: {e}")))? {
            certs.push(c.to_owned());
        }
    }
    if certs.is_empty() {
        return Err(err("no certificate in it".into()));
    }
    Ok(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs))).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_waits_at_least_what_the_node_asks_doubles_on_repeats_and_is_capped() {
        let s = Duration::from_secs;
        // what the node asked, plus at most a quarter of jitter
        for noise in [0, 1, 999_999_999] {
            let w = backoff(s(1), 0, noise);
            assert!(w >= s(1) && w <= Duration::from_millis(1_250), "{w:?}");
        }
        // repeats double (0.5 s × 2^attempt) past what was asked
        assert!(backoff(s(1), 3, 0) >= s(4));
        assert!(backoff(s(1), 4, 0) >= s(8));
        // never beyond the cap (plus its jitter), however many repeats
        assert!(backoff(s(1), 40, 999_999_999) <= MAX_BACKOFF + MAX_BACKOFF / 4);
        assert!(backoff(s(3_600), 0, 0) <= MAX_BACKOFF, "a node cannot park a client for an hour");
    }
}
