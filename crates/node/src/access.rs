//! Who is calling (spec §12.1): registered clients, request signatures,
//! replay and clock-skew checks, per-client rate limits, and the node's
//! query audit log (§12.4).
//!
//! A signed request carries four headers:
//!
//! ```text
//! X-Credex-Client:    client id (clients.toml), issuer agency id, or subject id
//! X-Credex-Time:      milliseconds since the epoch
//! X-Credex-Nonce:     32 hex digits, never reused within the skew window
//! X-Credex-Signature: ed25519 (purpose request) over H("credex/request/v2", encode(SignedRequest))
//! ```
//!
//! The key is the registered client's (role official or platform), the
//! issuer registry's (role issuer), or the subject's bound key (role
//! subject). No headers: role public.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use credex_api_types::Clients;
use credex_api_types::sign::signed_request;
use credex_crypto::{Hash32, PublicKey, Purpose, Signature};
use credex_types::access::{AuditEntry, Role};
use credex_types::{AgencyId, SubjectId, Timestamp};

use crate::service::Node;

/// Largest accepted difference between a request's time and the node's clock.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// An authenticated (or public) caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Client id (`public` for none).
    pub client: String,
    /// Role.
    pub role: Role,
    /// The agency it acts for (officials, platforms, issuers).
    pub agency: Option<AgencyId>,
    /// The subject it is (subjects).
    pub subject: Option<SubjectId>,
}

impl Caller {
    /// The caller without credentials.
    pub fn public() -> Caller {
        Caller { client: "public".into(), role: Role::Public, agency: None, subject: None }
    }
}

/// Why a request is not authenticated. Each maps to an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Some but not all headers, or malformed ones.
    #[error("malformed credentials: {0}")]
    Malformed(String),
    /// No such client, issuer or subject key.
    #[error("unknown client {0}")]
    UnknownClient(String),
    /// Signature does not verify.
    #[error("request signature does not verify under the key of {0}")]
    BadSignature(String),
    /// Too far from the node's clock.
    #[error("request time is {0} ms away from the node's clock (at most {MAX_SKEW_MS} allowed)")]
    Skewed(u64),
    /// Nonce seen before.
    #[error("replayed request: this nonce was already used")]
    Replay,
    /// Signed before this node started (it cannot know the nonces used before).
    #[error("request signed before this node started; sign it again")]
    BeforeStart,
    /// Over the client's rate.
    #[error("rate limit exceeded; retry later")]
    RateLimited,
    /// The node could not read its state to resolve the client (its own
    /// storage failed; no verdict on the caller).
    #[error("the node could not read its state: {0}")]
    Unreadable(String),
}

impl AuthError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Malformed(_) => "malformed-credentials",
            AuthError::UnknownClient(_) => "unknown-client",
            AuthError::BadSignature(_) => "bad-request-signature",
            AuthError::Skewed(_) | AuthError::BeforeStart => "stale-request",
            AuthError::Replay => "replay",
            AuthError::RateLimited => "rate-limited",
            AuthError::Unreadable(_) => "internal",
        }
    }
}

/// The credential headers of a request.
pub struct Credentials<'a> {
    /// `X-Credex-Client`.
    pub client: &'a str,
    /// `X-Credex-Time`.
    pub time: &'a str,
    /// `X-Credex-Nonce`.
    pub nonce: &'a str,
    /// `X-Credex-Signature`.
    pub signature: &'a str,
}

/// Token bucket per key.
struct Buckets {
    rate: f64,
    burst: f64,
    state: HashMap<String, (f64, u64)>,
}

impl Buckets {
    fn take(&mut self, key: &str, now_ms: u64) -> bool {
        self.take_n(key, now_ms, 1.0)
    }

    /// Takes `cost` tokens at once (a bulk request's subjects), or none.
    fn take_n(&mut self, key: &str, now_ms: u64, cost: f64) -> bool {
        if self.state.len() > 100_000 {
            // forget idle clients rather than grow without bound
            self.state.retain(|_, (tokens, at)| *tokens < self.burst || now_ms.saturating_sub(*at) < 60_000);
        }
        let (tokens, at) = self.state.entry(key.to_string()).or_insert((self.burst, now_ms));
        #[allow(clippy::cast_precision_loss)] // elapsed milliseconds are far below 2^52
        let refill = now_ms.saturating_sub(*at) as f64 / 1000.0 * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now_ms;
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }
}

/// Nonces seen within the replay window: (client, nonce) → time, and the same in time order.
type Seen = (HashMap<(String, [u8; 16]), u64>, VecDeque<(u64, String, [u8; 16])>);

/// Authentication, replay protection, rate limits and the audit log of one node.
pub struct Access {
    clients: Clients,

    seen: Mutex<Seen>,
    clients_rate: Mutex<Buckets>,
    issuers_rate: Mutex<Buckets>,
    public_rate: Mutex<Buckets>,
    bulk_rate: Mutex<Buckets>,
    audit: Mutex<(u64, Hash32)>,
    /// When this node started: requests signed earlier are refused, so a
    /// restart (which forgets the nonces) cannot reopen a replay window.
    started: Timestamp,
}

/// Per-client and per-address request rates (requests/s, burst).
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    /// Officials, platforms and subjects, per client.
    pub client: (f64, f64),
    /// Issuer agencies, per agency (their systems submit in bulk).
    pub issuer: (f64, f64),
    /// Public callers, per IP address.
    pub public: (f64, f64),
    /// Subjects checked in bulk (`POST /v1/standing`), per client: a
    /// platform checks 100,000 sellers at once, then at this rate.
    pub bulk: (f64, f64),
}

impl Default for Rates {
    fn default() -> Rates {
        Rates { client: (50.0, 100.0), issuer: (5_000.0, 10_000.0), public: (50.0, 100.0), bulk: (20_000.0, 100_000.0) }
    }
}

impl Access {
    /// Access control over `clients`, continuing the audit log in `node`'s store.
    pub fn new(node: &Node, clients: Clients, rates: Rates) -> anyhow::Result<Access> {
        let head = node.store().audit_head()?;
        let bucket = |(rate, burst)| Mutex::new(Buckets { rate, burst, state: HashMap::new() });
        Ok(Access {
            clients,
            seen: Mutex::new((HashMap::new(), VecDeque::new())),
            clients_rate: bucket(rates.client),
            issuers_rate: bucket(rates.issuer),
            public_rate: bucket(rates.public),
            bulk_rate: bucket(rates.bulk),
            audit: Mutex::new(head),
            started: node.now(),
        })
    }

    /// Rate limit for a public caller at `addr`.
    pub fn admit_public(&self, addr: &str, now: Timestamp) -> Result<(), AuthError> {
        if self.public_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take(addr, now.0) {
            Ok(())
        } else {
            Err(AuthError::RateLimited)
        }
    }

    /// Charges the attestations of a bulk submission beyond the first (the
    /// request itself was charged) to the request budget of `issuer` (its client id, the agency):
    /// one request of many costs what many requests would.
    pub fn admit_issuer_items(&self, issuer: &str, items: usize, now: Timestamp) -> Result<(), AuthError> {
        #[allow(clippy::cast_precision_loss)] // at most a thousand
        let cost = items.saturating_sub(1) as f64;
        if cost == 0.0
            || self.issuers_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take_n(issuer, now.0, cost)
        {
            Ok(())
        } else {
            Err(AuthError::RateLimited)
        }
    }

    /// Charges `subjects` subjects of a bulk check to `client`'s budget.
    pub fn admit_bulk(&self, client: &str, subjects: usize, now: Timestamp) -> Result<(), AuthError> {
        #[allow(clippy::cast_precision_loss)] // at most a few thousand
        let cost = subjects as f64;
        if self.bulk_rate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take_n(client, now.0, cost) {
            Ok(())
        } else {
            Err(AuthError::RateLimited)
        }
    }

    /// Resolves the client id to its key and identity: a client registered
    /// here, else an identity on chain ([`on_chain`]).
    fn resolve(&self, node: &Node, client: &str) -> Result<(PublicKey, Caller), AuthError> {
        if let Some(c) = self.clients.clients.iter().find(|c| c.id == client) {
            return Ok((
                c.key,
                Caller { client: c.id.clone(), role: c.role, agency: Some(c.agency.clone()), subject: None },
            ));
        }
        on_chain(node, client)
            .map_err(|e| AuthError::Unreadable(e.to_string()))?
            .ok_or_else(|| AuthError::UnknownClient(client.to_string()))
    }

    /// Checks a signed request: key, signature, clock skew, replay, rate.
    pub fn authenticate(
        &self,
        node: &Node,
        creds: &Credentials<'_>,
        method: &str,
        path: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Caller, AuthError> {
        let time: u64 = creds.time.parse().map_err(|_| AuthError::Malformed("X-Credex-Time".into()))?;
        let mut nonce = [0u8; 16];
        hex::decode_to_slice(creds.nonce, &mut nonce).map_err(|_| AuthError::Malformed("X-Credex-Nonce".into()))?;
        let signature: Signature =
            creds.signature.parse().map_err(|_| AuthError::Malformed("X-Credex-Signature".into()))?;
        let (key, caller) = self.resolve(node, creds.client)?;
        let req = signed_request(audience_of(node), creds.client, method, path, body, Timestamp(time), nonce);
        credex_crypto::verify(&key, Purpose::Request, &req.hash().0, &signature)
            .map_err(|_| AuthError::BadSignature(creds.client.to_string()))?;
        self.check_fresh(&caller.client, time, nonce, now)?;
        let bucket = if caller.role == Role::Issuer { &self.issuers_rate } else { &self.clients_rate };
        if !bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take(&caller.client, now.0) {
            return Err(AuthError::RateLimited);
        }
        Ok(caller)
    }

    /// Refuses a request time too far from `now` and a nonce `client` used within the window.
    fn check_fresh(&self, client: &str, time: u64, nonce: [u8; 16], now: Timestamp) -> Result<(), AuthError> {
        let skew = time.abs_diff(now.0);
        if skew > MAX_SKEW_MS {
            return Err(AuthError::Skewed(skew));
        }
        if time < self.started.0 {
            return Err(AuthError::BeforeStart);
        }
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, order) = &mut *seen;
        while order.front().is_some_and(|(t, _, _)| *t + 2 * MAX_SKEW_MS < now.0) {
            if let Some((_, c, n)) = order.pop_front() {
                set.remove(&(c, n));
            }
        }
        let k = (client.to_string(), nonce);
        if set.contains_key(&k) {
            return Err(AuthError::Replay);
        }
        set.insert(k, now.0);
        order.push_back((now.0, client.to_string(), nonce));
        Ok(())
    }

    /// The role and key this node vouches for when it forwards `caller`'s
    /// request: a client registered here (official or platform). Subjects
    /// and issuers need none (their keys are on chain).
    pub fn vouch(&self, caller: &Caller) -> Option<(Role, PublicKey)> {
        self.clients.clients.iter().find(|c| c.id == caller.client).map(|c| (c.role, c.key))
    }

    /// The holder's check of a peer's [`RawRequest`](credex_wire::RawRequest) (spec §12.3): who
    /// signed the forwarded request, decided from keys this node can verify
    /// — a subject's key bound on chain, an issuer's registry key, or, for
    /// a client registered at the asking node, the key that node's agency
    /// (`relay`, from the authenticated peer id) vouches for; the
    /// signature over the record route, the clock skew, the nonce; and the
    /// basis from the signed body.
    pub fn verify_forwarded(
        &self,
        node: &Node,
        relay: &AgencyId,
        req: &crate::records::RawRequest,
        now: Timestamp,
    ) -> Result<(Caller, crate::records::Basis), crate::records::Refusal> {
        use crate::records::Refusal;
        let refuse = |code: &'static str, message: String| Refusal { status: 403, code, message };
        let f = &req.request;
        let found = on_chain(node, &f.client).map_err(|e| Refusal {
            status: 500,
            code: "internal",
            message: format!("the node could not read its state: {e}"),
        })?;
        let (key, caller) = match found {
            // the relay's agency is the grantee a subject's own authorizations name
            Some((key, c)) => {
                let agency = if c.role == Role::Subject { Some(relay.clone()) } else { c.agency };
                (key, Caller { client: format!("{relay}/{}", c.client), agency, ..c })
            }
            // a subject is never taken on the relay's word
            None if f.client.parse::<SubjectId>().is_ok() => {
                return Err(refuse("unverified-caller", format!("{} has no key bound on chain", f.client)));
            }
            None => match req.vouched {
                Some((role @ (Role::Official | Role::Platform), key)) => {
                    let client = format!("{relay}/{}", f.client);
                    (key, Caller { client, role, agency: Some(relay.clone()), subject: None })
                }
                _ => {
                    return Err(refuse(
                        "unverified-caller",
                        format!("{} is neither a subject nor an issuer on chain, nor vouched for by {relay}", f.client),
                    ));
                }
            },
        };
        // the caller signed for its own node, the relay: that is the audience here
        let audience = credex_types::access::Audience { node: relay.to_string(), ..audience_of(node) };
        let path = crate::records::record_path(&req.id);
        let signed = signed_request(audience, &f.client, "POST", &path, &f.body, f.time, f.nonce);
        credex_crypto::verify(&key, Purpose::Request, &signed.hash().0, &f.signature).map_err(|_| {
            refuse("bad-forwarded-signature", format!("the forwarded request does not verify under {}'s key", f.client))
        })?;
        self.check_fresh(&caller.client, f.time.0, f.nonce, now)
            .map_err(|e| refuse(if e == AuthError::Replay { "replay" } else { "stale-request" }, e.to_string()))?;
        let basis = crate::records::parse_record_body(&f.body).map_err(|e| refuse("wrong-forwarded-request", e))?;
        Ok((caller, basis))
    }

    /// Appends one entry to the node's audit log; returns its sequence number.
    #[allow(clippy::too_many_arguments)]
    pub fn audit(
        &self,
        node: &Node,
        caller: &Caller,
        action: String,
        subject: Option<SubjectId>,
        basis: Option<String>,
        result: String,
        durable: bool,
    ) -> anyhow::Result<u64> {
        let mut head = self.audit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = AuditEntry {
            seq: head.0 + 1,
            prev: head.1,
            time: node.now(),
            client: caller.client.clone(),
            role: caller.role,
            action,
            subject,
            basis,
            result,
        };
        node.store().append_audit(&entry, durable)?;
        *head = (entry.seq, entry.hash());
        Ok(entry.seq)
    }
}

/// The key and identity `client` has on chain: an active issuer agency
/// (its registry key, §11.8) or a subject with a bound key (§11.3).
fn on_chain(node: &Node, client: &str) -> Result<Option<(PublicKey, Caller)>, crate::StoreError> {
    if let Ok(agency) = client.parse::<AgencyId>()
        && let Some(r) = node.issuer(&agency)?.filter(|r| r.active)
    {
        return Ok(Some((
            r.key,
            Caller { client: client.into(), role: Role::Issuer, agency: Some(agency), subject: None },
        )));
    }
    let Ok(subject) = client.parse::<SubjectId>() else { return Ok(None) };
    let Some(k) = node.subject_key(&subject)? else { return Ok(None) };
    Ok(Some((k.key, Caller { client: subject.to_string(), role: Role::Subject, agency: None, subject: Some(subject) })))
}

/// The audience of requests to `node`: its chain id, genesis hash and agency.
pub fn audience_of(node: &Node) -> credex_types::access::Audience {
    credex_types::access::Audience {
        chain_id: node.genesis().chain_id.clone(),
        genesis: node.genesis_hash(),
        node: node.identity().map(|(a, _)| a.to_string()).unwrap_or_default(),
    }
}

/// A caller's request as its node forwards it to a record's holder (its
/// four credential headers, parsed, and its body).
pub fn forwarded_request(
    client: &str,
    time: &str,
    nonce: &str,
    signature: &str,
    body: &[u8],
) -> Result<crate::records::ForwardedRequest, AuthError> {
    let mut n = [0u8; 16];
    hex::decode_to_slice(nonce, &mut n).map_err(|_| AuthError::Malformed("X-Credex-Nonce".into()))?;
    Ok(crate::records::ForwardedRequest {
        client: client.to_string(),
        time: Timestamp(time.parse().map_err(|_| AuthError::Malformed("X-Credex-Time".into()))?),
        nonce: n,
        signature: signature.parse().map_err(|_| AuthError::Malformed("X-Credex-Signature".into()))?,
        body: body.to_vec(),
    })
}

/// How often a node anchors its audit-log head when it has grown.
pub const ANCHOR_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Anchors this node's audit-log head on chain whenever it grew (spec
/// §12.4), signed with the node key; a node without an identity in the
/// genesis cannot anchor and says so once.
pub async fn anchor_loop(node: std::sync::Arc<Node>) {
    let Some((agency, key)) = node.identity().map(|(a, k)| (a.clone(), credex_crypto::SecretKey::from_seed(k.seed())))
    else {
        tracing::warn!(target: "credex::audit", "this node has no agency in the genesis: its audit log is not anchored");
        return;
    };
    let mut tick = tokio::time::interval(ANCHOR_EVERY);
    loop {
        tick.tick().await;
        let (seq, head) = match node.store().audit_head() {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(target: "credex::audit", error = %e, "reading the audit head");
                continue;
            }
        };
        let anchored = match node.state_value(&credex_types::state::StateKey::AuditHead(agency.clone())) {
            Ok(Some(credex_types::state::StateValue::AuditHead { seq, .. })) => seq,
            Ok(_) => 0,
            Err(e) => {
                tracing::warn!(target: "credex::audit", error = %e, "reading the anchored audit head");
                continue;
            }
        };
        if seq <= anchored {
            continue;
        }
        let anchor = credex_types::access::AuditAnchor {
            chain_id: node.genesis().chain_id.clone(),
            node: agency.clone(),
            seq,
            head,
        };
        let signature = key.sign(Purpose::AuditAnchor, &anchor.hash().0);
        let tx = credex_chain::Transaction::AuditAnchor(credex_types::access::AuditAnchorTx {
            anchor,
            key: key.public(),
            signature,
        });
        let n = node.clone();
        match tokio::task::spawn_blocking(move || n.submit_local(&tx)).await {
            Ok(Ok(_)) => tracing::debug!(target: "credex::audit", seq, "audit head submitted for anchoring"),
            Ok(Err(e)) => tracing::warn!(target: "credex::audit", seq, error = %e, "audit anchor refused"),
            Err(e) => tracing::warn!(target: "credex::audit", error = %e, "audit anchor task"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// A bulk check is charged per subject: a burst's worth at once, then
    /// only what the rate has refilled; one client's use is not another's.
    #[test]
    fn bulk_checks_are_charged_per_subject() {
        let mut b = super::Buckets { rate: 20_000.0, burst: 100_000.0, state: std::collections::HashMap::new() };
        for _ in 0..10 {
            assert!(b.take_n("platform-a", 1_000, 10_000.0));
        }
        assert!(!b.take_n("platform-a", 1_000, 10_000.0), "the burst is spent");
        assert!(b.take_n("platform-b", 1_000, 10_000.0), "another client's budget is its own");
        assert!(!b.take_n("platform-a", 1_400, 10_000.0), "0.4 s refills 8,000");
        assert!(b.take_n("platform-a", 1_500, 10_000.0), "0.5 s refills 10,000");
    }

    #[test]
    fn the_chain_derives_peer_ids_as_libp2p_does() {
        for seed in [[1u8; 32], [77; 32], [200; 32]] {
            let key = credex_crypto::SecretKey::from_seed(seed);
            let libp2p = credex_p2p::keypair_from_seed(seed).public().to_peer_id().to_string();
            assert_eq!(credex_types::access::ed25519_peer_id(&key.public()), libp2p);
        }
    }
}
