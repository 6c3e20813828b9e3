//! Early warning (信用预警, spec §11.7): the node keeps a risk list by
//! evaluating the rules of `credex-rules` on the subjects each committed
//! block touched, on the subjects already on the list (rules with time
//! windows clear by themselves) and on subjects whose abnormal-operation
//! listing nears escalation. Every entry, change and exit is an event with
//! a sequence number, stored durably with the new risk-list entry.
//!
//! Regulators follow the events by long-poll (`GET /v1/warnings/events?after=N&wait=30`)
//! or register a webhook (`POST /v1/warnings/subscriptions`). Each webhook
//! has a durable cursor; a delivery is a `POST` of a JSON array of events
//! and counts only on a 2xx answer; failures are retried with exponential
//! backoff (1 s doubling to 5 min). None of this runs on the consensus path:
//! the node hands touched subjects over an unbounded channel and moves on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use credex_api_types::types::WarningEvent;
use credex_rules::{WARN_MODEL, Warning};
use credex_types::{SubjectId, Timestamp};
use tokio::sync::{Mutex, mpsc, watch};

use crate::service::Node;

pub use credex_api_types::types::Subscription;

/// How long touched subjects are collected before one evaluation.
const COALESCE: Duration = Duration::from_millis(250);
/// How often the risk list is re-evaluated without new blocks.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// An abnormal-operation listing this old is close to escalation (2.5 years).
const IMMINENT_MS: u64 = 913 * credex_types::time::DAY_MS;
/// Longest webhook backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The early-warning service.
pub struct Warnings {
    node: Arc<Node>,
    policy: WebhookPolicy,
    seq: watch::Sender<u64>,
    lock: Mutex<()>,
}

fn rules_json(w: &[Warning]) -> Vec<String> {
    w.iter().map(|w| w.rule.to_string()).collect()
}

impl Warnings {
    /// Starts evaluation (of the subjects `touched` names, and a sweep) and delivery.
    pub fn start(
        node: Arc<Node>,
        policy: WebhookPolicy,
        rx: mpsc::UnboundedReceiver<Vec<SubjectId>>,
    ) -> anyhow::Result<Arc<Warnings>> {
        let last = node.store().last_warning_seq()?;
        let w = Arc::new(Warnings { node, policy, seq: watch::channel(last).0, lock: Mutex::new(()) });
        tokio::spawn(w.clone().evaluate_loop(rx));
        tokio::spawn(w.clone().deliver_loop());
        Ok(w)
    }

    /// Last event number.
    pub fn last_seq(&self) -> u64 {
        *self.seq.borrow()
    }

    /// A receiver that sees each new event number.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.seq.subscribe()
    }

    async fn evaluate_loop(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Vec<SubjectId>>) {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            let subjects = tokio::select! {
                got = rx.recv() => match got {
                    Some(mut s) => {
                        // Coalesce the blocks of the next moment: under load a
                        // subject is evaluated once, not once per block.
                        tokio::time::sleep(COALESCE).await;
                        while let Ok(more) = rx.try_recv() {
                            s.extend(more);
                        }
                        s
                    }
                    None => return,
                },
                _ = tick.tick() => self.sweep_candidates(),
            };
            if let Err(e) = self.evaluate(subjects).await {
                tracing::warn!(target: "credex::warnings", error = %e, "evaluation failed; retried at the next sweep");
            }
        }
    }

    fn sweep_candidates(&self) -> Vec<SubjectId> {
        let mut out: Vec<SubjectId> = match self.node.store().risk_list() {
            Ok(l) => l.into_iter().map(|(s, _)| s).collect(),
            Err(e) => {
                tracing::warn!(target: "credex::warnings", error = %e, "reading the risk list");
                Vec::new()
            }
        };
        let now = self.node.now();
        if let Some(cutoff) = now.0.checked_sub(IMMINENT_MS) {
            match self.node.abnormal_since(Timestamp(cutoff), 10_000) {
                Ok(s) => out.extend(s),
                Err(e) => tracing::warn!(target: "credex::warnings", error = %e, "reading the escalation index"),
            }
        }
        out
    }

    /// Re-evaluates `subjects` and records every change of the risk list.
    pub async fn evaluate(&self, subjects: Vec<SubjectId>) -> anyhow::Result<()> {
        let _one_writer = self.lock.lock().await;
        let node = self.node.clone();
        let seq = self.last_seq();
        let last = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            let now = node.now();
            let current: BTreeMap<SubjectId, Vec<String>> = node.risk_list()?.into_iter().collect();
            let mut seq = seq;
            let mut seen = std::collections::BTreeSet::new();
            for subject in subjects {
                if !seen.insert(subject.clone()) {
                    continue;
                }
                let record = node.subject_record(&subject)?;
                let fired = rules_json(&credex_rules::warnings(&record, now));
                let before = current.get(&subject).cloned().unwrap_or_default();
                if fired == before {
                    continue;
                }
                let change = match (before.is_empty(), fired.is_empty()) {
                    (true, _) => "entered",
                    (_, true) => "left",
                    _ => "changed",
                };
                seq += 1;
                let event = WarningEvent {
                    seq,
                    subject: subject.clone(),
                    change: change.to_string(),
                    rules: fired.clone(),
                    previous: before,
                    model: WARN_MODEL.to_string(),
                    time: now,
                    height: node.height(),
                };
                let rules = (!fired.is_empty()).then(|| serde_json::to_vec(&fired)).transpose()?;
                node.store().put_warning_event(seq, &serde_json::to_vec(&event)?, &subject, rules.as_deref())?;
                tracing::info!(target: "credex::warnings", %subject, change, seq, "risk list changed");
            }
            Ok(seq)
        })
        .await??;
        self.seq.send_if_modified(|s| {
            let changed = *s != last;
            *s = last;
            changed
        });
        Ok(())
    }

    /// Events after `after`, at most `limit`.
    pub fn events_after(&self, after: u64, limit: usize) -> anyhow::Result<Vec<WarningEvent>> {
        self.node
            .store()
            .warning_events_after(after, limit)?
            .into_iter()
            .map(|(seq, v)| {
                serde_json::from_slice(&v).map_err(|e| anyhow::anyhow!("warning event {seq} is corrupt: {e}"))
            })
            .collect()
    }

    /// Where webhooks may go.
    pub fn policy(&self) -> &WebhookPolicy {
        &self.policy
    }

    /// Registers a webhook of `owner` (check its URL with [`WebhookPolicy::check`]
    /// first); delivery starts after the current last event.
    pub fn subscribe(&self, owner: &str, url: &str) -> anyhow::Result<Subscription> {
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let sub = Subscription {
            id: hex::encode(id),
            owner: owner.to_string(),
            url: url.to_string(),
            cursor: self.last_seq(),
            secret: Some(hex::encode(secret)),
        };
        self.node.store().put_subscription(&sub.id, Some(&serde_json::to_vec(&sub)?))?;
        Ok(sub)
    }

    /// Every webhook.
    pub fn subscriptions(&self) -> anyhow::Result<Vec<Subscription>> {
        Ok(self
            .node
            .store()
            .subscriptions()?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect())
    }

    /// The webhooks of `owner`, without their secrets (shown once, at subscription).
    pub fn subscriptions_of(&self, owner: &str) -> anyhow::Result<Vec<Subscription>> {
        Ok(self
            .subscriptions()?
            .into_iter()
            .filter(|s| s.owner == owner)
            .map(|s| Subscription { secret: None, ..s })
            .collect())
    }

    /// Removes `owner`'s webhook `id`; false if it has none of that id.
    pub fn unsubscribe(&self, owner: &str, id: &str) -> anyhow::Result<bool> {
        let exists = self.subscriptions_of(owner)?.iter().any(|s| s.id == id);
        if exists {
            self.node.store().put_subscription(id, None)?;
        }
        Ok(exists)
    }

    async fn deliver_loop(self: Arc<Self>) {
        let mut backoff: BTreeMap<String, (Duration, tokio::time::Instant)> = BTreeMap::new();
        let mut seq = self.watch();
        loop {
            let subs = self.subscriptions().unwrap_or_default();
            let now = tokio::time::Instant::now();
            for sub in subs {
                if sub.cursor >= self.last_seq() {
                    continue;
                }
                if backoff.get(&sub.id).is_some_and(|(_, until)| *until > now) {
                    continue;
                }
                match self.deliver(sub.clone()).await {
                    Ok(()) => {
                        backoff.remove(&sub.id);
                    }
                    Err(e) => {
                        let next =
                            backoff.get(&sub.id).map_or(Duration::from_secs(1), |(d, _)| (*d * 2).min(MAX_BACKOFF));
                        tracing::warn!(target: "credex::warnings", id = %sub.id, url = %sub.url, error = %e, retry_in_s = next.as_secs(), "webhook delivery failed");
                        backoff.insert(sub.id.clone(), (next, now + next));
                    }
                }
            }
            // Wake on a new event, or after a second to retry what failed.
            let _ = tokio::time::timeout(Duration::from_secs(1), seq.changed()).await;
        }
    }

    async fn deliver(&self, mut sub: Subscription) -> anyhow::Result<()> {
        let events = self.events_after(sub.cursor, 100)?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(()) };
        let url = sub.url.clone();
        // checked again at every delivery: the name may resolve elsewhere by now
        self.policy.check(&url).await?;
        let body = serde_json::to_vec(&events)?;
        let tls = self.policy.tls.clone();
        // signed (spec §11.7): the receiver checks the HMAC with the secret
        // it was given at subscription, the time against its clock, and the
        // delivery id (subscription and last event) against replays
        let time = self.node.now().0;
        let signature = match &sub.secret {
            Some(s) => {
                let key = hex::decode(s).map_err(|e| anyhow::anyhow!("subscription {} secret: {e}", sub.id))?;
                Some(credex_api_types::types::webhook_signature(&key, time, &body))
            }
            None => None, // a subscription made before deliveries were signed
        };
        let delivery = format!("{}-{last}", sub.id);
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .tls_config(tls)
                .build()
                .into();
            let mut req = agent
                .post(&url)
                .content_type("application/json")
                .header("X-Credex-Webhook-Id", &delivery)
                .header("X-Credex-Webhook-Time", time.to_string());
            if let Some(sig) = &signature {
                req = req.header("X-Credex-Webhook-Signature", sig);
            }
            req.send(&body[..])?;
            Ok(())
        })
        .await??;
        sub.cursor = last;
        // The subscription may have been removed meanwhile: only advance a live one.
        if self.subscriptions()?.iter().any(|s| s.id == sub.id) {
            self.node.store().put_subscription(&sub.id, Some(&serde_json::to_vec(&sub)?))?;
        }
        Ok(())
    }
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not an http:// or https:// URL of at most 2048 bytes with a host.
    #[error("url must be an http:// or https:// URL with a host, of at most 2048 bytes")]
    Invalid,
    /// The host does not resolve.
    #[error("the webhook host {0} does not resolve")]
    Unresolvable(String),
    /// The host resolves to an address that is not public.
    #[error(
        "the webhook host {host} resolves to {ip}, a loopback, link-local, private or otherwise non-public address; \
         allow it explicitly with --webhook-allow {host}:PORT"
    )]
    NotPublic {
        /// Host as written.
        host: String,
        /// The address it resolved to.
        ip: std::net::IpAddr,
    },
}

impl WebhookError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Invalid => "invalid-url",
            WebhookError::Unresolvable(_) => "unresolvable-host",
            WebhookError::NotPublic { .. } => "webhook-target-not-allowed",
        }
    }
}

/// Where webhooks may be delivered (spec §11.7): public addresses, and the
/// `host:port` (or `host`) entries of `allow` whatever they resolve to.
/// Loopback, link-local (cloud metadata services live there), private,
/// shared, unspecified, multicast and documentation addresses are refused
/// otherwise, so a subscriber cannot make the node post to itself or to
/// its neighbours.
#[derive(Debug, Clone, Default)]
pub struct WebhookPolicy {
    /// Exceptions, `host:port` or `host`.
    pub allow: Vec<String>,
    /// The roots https:// deliveries trust.
    pub tls: ureq::tls::TlsConfig,
}

impl WebhookPolicy {
    /// Checks `url` against the policy, resolving its host.
    pub async fn check(&self, url: &str) -> Result<(), WebhookError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
            return Err(WebhookError::Invalid);
        }
        let uri: axum::http::Uri = url.parse().map_err(|_| WebhookError::Invalid)?;
        let host = uri.host().filter(|h| !h.is_empty()).ok_or(WebhookError::Invalid)?;
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if self.allow.iter().any(|a| *a == format!("{host}:{port}") || a == host || a == bare) {
            return Ok(());
        }
        let addrs: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
            Err(_) => tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((bare, port)))
                .await
                .ok()
                .and_then(Result::ok)
                .map(Iterator::collect)
                .unwrap_or_default(),
        };
        if addrs.is_empty() {
            return Err(WebhookError::Unresolvable(host.to_string()));
        }
        match addrs.iter().map(std::net::SocketAddr::ip).find(|ip| !is_public(*ip)) {
            Some(ip) => Err(WebhookError::NotPublic { host: host.to_string(), ip }),
            None => Ok(()),
        }
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v) => {
            let [a, b, c, _] = v.octets();
            !(v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_multicast()
                || v.is_broadcast()
                || v.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (18..20).contains(&b)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v) => {
            if let Some(v4) = v.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s0 = v.segments()[0];
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (s0 & 0xfe00) == 0xfc00 // unique local
                || (s0 & 0xffc0) == 0xfe80 // link-local
                || s0 == 0x2001 && v.segments()[1] == 0x0db8) // documentation
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn webhooks_to_the_node_itself_or_its_neighbours_are_refused() {
        let p = WebhookPolicy::default();
        for url in [
            "http://127.0.0.1:22/",
            "http://localhost:8080/v1/audit/log",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.0.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
        ] {
            assert!(matches!(p.check(url).await, Err(WebhookError::NotPublic { .. })), "{url}");
        }
        assert!(matches!(p.check("https://127.0.0.1/hook").await, Err(WebhookError::NotPublic { .. })));
        assert_eq!(p.check("ftp://x/").await, Err(WebhookError::Invalid));
        assert_eq!(p.check("http:///nohost").await, Err(WebhookError::Invalid));
        // public literals pass without any lookup
        assert_eq!(p.check("http://8.8.8.8/hook").await, Ok(()));
        // an explicit exception
        let allowed = WebhookPolicy { allow: vec!["127.0.0.1:9000".into()], ..WebhookPolicy::default() };
        assert_eq!(allowed.check("http://127.0.0.1:9000/hook").await, Ok(()));
        assert!(allowed.check("http://127.0.0.1:9001/hook").await.is_err());
    }
}
