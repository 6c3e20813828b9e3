//! The issuer-side CLI commands talking to a node's HTTP API:
//! `attest`, `revoke`, `proof attestation`, `proof status`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use credex_types::attestation::{ATTESTATION_VERSION, Attestation, AttestationHeader, AttestationId, ClaimField};
use credex_types::{AttestationKind, FieldCode, LegalBasis, ListKind, SubjectId, Timestamp};
use serde_json::Value;

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
}

static DEFAULT_AUTH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

static DEFAULT_TLS: std::sync::OnceLock<ureq::tls::TlsConfig> = std::sync::OnceLock::new();

/// Makes the certificates in the PEM file `ca` the only roots every client
/// trusts for `https://` nodes (default: the Web PKI roots).
pub fn set_default_ca(ca: &Path) -> anyhow::Result<()> {
    let _ = DEFAULT_TLS.set(crate::tls::client_config(Some(ca))?);
    Ok(())
}

/// Makes `path` the credentials of every client without its own.
pub fn set_default_auth(path: std::path::PathBuf) {
    let _ = DEFAULT_AUTH.set(path);
}

/// The client id and key of a key file: an official's or platform's
/// (`client`), an issuer's (its agency), or a subject's (its id).
pub fn credentials(path: &Path) -> anyhow::Result<(String, credex_crypto::SecretKey)> {
    if let Ok((file, key)) = crate::keys::KeyFile::read(path) {
        return match (file.role.as_str(), file.client) {
            ("official" | "platform", Some(client)) => Ok((client, key)),
            ("issuer", _) => Ok((file.agency.to_string(), key)),
            (role, _) => anyhow::bail!("{}: a {role} key cannot sign API requests", path.display()),
        };
    }
    let (file, key) = crate::keys::SubjectKeyFile::read(path)?;
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
                    eprintln!("warning: credentials {}: {e:#}; sending unsigned requests", p.display());
                    None
                }
            });
        Client { base: url.trim_end_matches('/').to_string(), agent, auth, chain: std::sync::OnceLock::new() }
    }

    /// As [`Client::new`], signing with the key file `path` instead.
    pub fn with_key(url: &str, path: &Path) -> anyhow::Result<Client> {
        let mut c = Client::new(url);
        c.auth = Some(credentials(path)?);
        Ok(c)
    }

    fn answer(&self, what: &str, resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> anyhow::Result<Value> {
        let mut resp = resp.with_context(|| format!("{what}: cannot reach the node at {}", self.base))?;
        let status = resp.status().as_u16();
        let body: Value =
            resp.body_mut().read_json().with_context(|| format!("{what}: the node's answer is not JSON"))?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(Refused {
            status,
            code: body["code"].as_str().unwrap_or("unknown").to_string(),
            message: body["message"].as_str().unwrap_or("").to_string(),
        }
        .into())
    }

    /// The chain id the node runs.
    pub fn chain_id(&self) -> anyhow::Result<credex_types::ChainId> {
        Ok(self.audience()?.chain_id)
    }

    /// Whom this node's requests are for: chain id, genesis hash and the
    /// node's agency (public `GET /v1/status`, asked once).
    pub fn audience(&self) -> anyhow::Result<credex_types::access::Audience> {
        if let Some(c) = self.chain.get() {
            return Ok(c.clone());
        }
        let status = self.answer("GET /v1/status", self.agent.get(format!("{}/v1/status", self.base)).call())?;
        let field = |k: &str| status[k].as_str().ok_or_else(|| anyhow::anyhow!("node status has no {k}"));
        let audience = credex_types::access::Audience {
            chain_id: field("chain_id")?.parse()?,
            genesis: field("genesis")?.parse()?,
            node: status["agency"].as_str().unwrap_or_default().to_string(),
        };
        let _ = self.chain.set(audience.clone());
        Ok(audience)
    }

    /// The signature headers for a request, if this client has credentials.
    fn headers(&self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<Vec<(&'static str, String)>> {
        let Some((client, key)) = &self.auth else { return Ok(Vec::new()) };
        let audience = self.audience()?;
        let now = Timestamp(
            u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis())
                .unwrap_or(u64::MAX),
        );
        Ok(crate::access::sign_headers(&audience, client, key, method, path, body, now)?.to_vec())
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in self.headers("GET", path, b"")? {
            req = req.header(k, v);
        }
        self.answer(&format!("GET {path}"), req.call())
    }

    /// GET `path` as text (HTML pages).
    pub fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in self.headers("GET", path, b"")? {
            req = req.header(k, v);
        }
        let mut resp = req.call().with_context(|| format!("GET {path}: cannot reach the node at {}", self.base))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string()?;
        if !(200..300).contains(&status) {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Err(Refused {
                status,
                code: v["code"].as_str().unwrap_or("unknown").to_string(),
                message: v["message"].as_str().unwrap_or("").to_string(),
            }
            .into());
        }
        Ok(text)
    }

    /// POST JSON to `path`.
    pub fn post(&self, path: &str, body: &impl serde::Serialize) -> anyhow::Result<Value> {
        let bytes = serde_json::to_vec(body)?;
        let mut req = self.agent.post(format!("{}{path}", self.base)).content_type("application/json");
        for (k, v) in self.headers("POST", path, &bytes)? {
            req = req.header(k, v);
        }
        self.answer(&format!("POST {path}"), req.send(&bytes[..]))
    }

    /// Polls until `id` is anchored or rejected (or `timeout`).
    pub fn wait(&self, id: &AttestationId, timeout: Duration) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let v = self.get(&format!("/v1/transactions/{id}"))?;
            match v["status"].as_str() {
                Some("anchored") | Some("rejected") => return Ok(v),
                _ if start.elapsed() > timeout => anyhow::bail!("transaction {id} not anchored after {timeout:?}"),
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// The legal basis used when `--legal-basis` is not given.
pub fn default_legal_basis(kind: AttestationKind) -> &'static str {
    use AttestationKind as K;
    match kind {
        K::AdministrativeLicence => "cn-admin-licensing-law",
        K::AdministrativePenalty => "cn-admin-penalty-law",
        K::AbnormalOperationListing | K::AbnormalOperationRemoval => "cn-saic-2014-1",
        K::SeriousViolationListing | K::SeriousViolationRemoval => "cn-samr-2021-44",
        _ => "cn-social-credit-rules",
    }
}

/// What `attest` needs besides the key.
pub struct AttestArgs<'a> {
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
pub fn attest(client: &Client, key_path: &Path, args: AttestArgs<'_>, wait: bool) -> anyhow::Result<Value> {
    let (file, key) = crate::keys::KeyFile::read(key_path)?;
    let chain_id = client.chain_id()?;
    let mut fields = Vec::new();
    for f in args.fields {
        let (code, value) = f.split_once('=').ok_or_else(|| anyhow::anyhow!("--field {f:?}: expected CODE=VALUE"))?;
        let code: FieldCode = code.parse()?;
        fields.push(ClaimField::salted(code, value.to_string()).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?);
    }
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let header = AttestationHeader {
        version: ATTESTATION_VERSION,
        chain_id,
        issuer: file.agency.clone(),
        subject: args.subject,
        kind: args.kind,
        effective_at: args.effective_at,
        // Penalties must declare their publication window: default to the shortest.
        expires_at: args
            .expires_at
            .or_else(|| args.kind.publication_window().map(|(min, _)| args.effective_at.plus_ms(min))),
        legal_basis: match args.legal_basis {
            Some(l) => l,
            None => default_legal_basis(args.kind).parse()?,
        },
        supersedes: args.supersedes,
        case: args.case,
        nonce,
    };
    submit(client, Attestation::sign(header, fields, &key)?, wait)
}

fn submit(client: &Client, att: Attestation, wait: bool) -> anyhow::Result<Value> {
    let id = att.id();
    let v = client.post("/v1/attestations", &att)?;
    finish(client, id, v, wait)
}

/// Posts a non-attestation transaction (`POST /v1/transactions`).
pub fn submit_tx(client: &Client, tx: &credex_chain::Transaction, wait: bool) -> anyhow::Result<Value> {
    let v = client.post("/v1/transactions", tx)?;
    finish(client, tx.id(), v, wait)
}

/// With `wait`, polls until `id` is anchored, and turns a later rejection into a refusal.
fn finish(client: &Client, id: AttestationId, mut v: Value, wait: bool) -> anyhow::Result<Value> {
    if wait {
        v = client.wait(&id, Duration::from_secs(30))?;
        if v["status"] == "rejected" {
            // Admitted, then refused when its block was built (e.g. a conflicting
            // transaction went first): a refusal like any other.
            return Err(Refused {
                status: 409,
                code: v["error"]["code"].as_str().unwrap_or("rejected").to_string(),
                message: v["error"]["message"].as_str().unwrap_or("").to_string(),
            }
            .into());
        }
    }
    v["id"] = serde_json::json!(id.to_string());
    Ok(v)
}

/// Revokes `id`: a `revocation` attestation by the same issuer naming it.
pub fn revoke(
    client: &Client,
    key_path: &Path,
    id: AttestationId,
    now: Timestamp,
    wait: bool,
) -> anyhow::Result<Value> {
    let info = client.get(&format!("/v1/attestations/{id}"))?;
    let subject: SubjectId = info["header"]["subject"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("attestation {id} is not anchored yet"))?
        .parse()?;
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
pub fn proof_attestation(
    client: &Client,
    id: AttestationId,
    disclose: &[FieldCode],
    legal_basis: Option<&credex_types::LegalBasis>,
    out: &Path,
) -> anyhow::Result<Value> {
    let codes: Vec<&str> = disclose.iter().map(FieldCode::as_str).collect();
    let basis = legal_basis.map(|b| format!("&legal_basis={b}")).unwrap_or_default();
    let v = client.get(&format!("/v1/attestations/{id}/proof?disclose={}{basis}", codes.join(",")))?;
    write_proof(&v, out)?;
    let mut r = serde_json::json!({ "id": id.to_string(), "size": v["size"], "out": out.display().to_string() });
    if let Some(w) = v.get("withheld") {
        eprintln!(
            "warning: fields withheld ({}): {}",
            w.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")).unwrap_or_default(),
            v["withheld_reason"].as_str().unwrap_or("no basis for disclosure")
        );
        r["withheld"] = w.clone();
    }
    Ok(r)
}

/// Fetches a list-status proof and writes its text form to `out`.
pub fn proof_status(client: &Client, subject: &SubjectId, list: ListKind, out: &Path) -> anyhow::Result<Value> {
    let v = client.get(&format!("/v1/lists/{list}/{subject}"))?;
    write_proof(&v, out)?;
    Ok(
        serde_json::json!({ "subject": subject, "list": list, "listed": v["listed"], "size": v["size"], "out": out.display().to_string() }),
    )
}

fn write_proof(v: &Value, out: &Path) -> anyhow::Result<()> {
    let text = v["proof_text"].as_str().ok_or_else(|| anyhow::anyhow!("the node's answer has no proof_text"))?;
    std::fs::write(out, format!("{text}\n")).with_context(|| format!("writing {}", out.display()))
}
