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

use credex_rules::{WARN_MODEL, Warning};
use credex_types::{SubjectId, Timestamp};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc, watch};

use crate::service::Node;

/// A regulator's webhook.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Subscription {
    /// Id (hex).
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Last event delivered.
    pub cursor: u64,
}

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
    seq: watch::Sender<u64>,
    lock: Mutex<()>,
}

fn rules_json(w: &[Warning]) -> Vec<String> {
    w.iter().map(|w| w.rule.to_string()).collect()
}

impl Warnings {
    /// Starts the service: the evaluator and the webhook deliverer.
    pub fn start(node: Arc<Node>) -> anyhow::Result<Arc<Warnings>> {
        let (tx, rx) = mpsc::unbounded_channel();
        node.set_touched(tx);
        let last = node.store().last_warning_seq()?;
        let w = Arc::new(Warnings { node, seq: watch::channel(last).0, lock: Mutex::new(()) });
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
            out.extend(self.node.abnormal_since(Timestamp(cutoff), 10_000));
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
            let current: BTreeMap<SubjectId, Vec<String>> = node
                .store()
                .risk_list()?
                .into_iter()
                .map(|(s, v)| (s, serde_json::from_slice(&v).unwrap_or_default()))
                .collect();
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
                let event = json!({
                    "seq": seq, "subject": subject, "change": change, "rules": fired,
                    "previous": before, "model": WARN_MODEL, "time": now, "height": node.height(),
                });
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
    pub fn events_after(&self, after: u64, limit: usize) -> anyhow::Result<Vec<Value>> {
        Ok(self
            .node
            .store()
            .warning_events_after(after, limit)?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect())
    }

    /// Registers a webhook; delivery starts after the current last event.
    pub fn subscribe(&self, url: &str) -> anyhow::Result<Subscription> {
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let sub = Subscription { id: hex::encode(id), url: url.to_string(), cursor: self.last_seq() };
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

    /// Removes a webhook; false if there was none.
    pub fn unsubscribe(&self, id: &str) -> anyhow::Result<bool> {
        let exists = self.subscriptions()?.iter().any(|s| s.id == id);
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
        let Some(last) = events.last().and_then(|e| e["seq"].as_u64()) else { return Ok(()) };
        let url = sub.url.clone();
        let body = serde_json::to_vec(&events)?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let agent: ureq::Agent =
                ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
            agent.post(&url).content_type("application/json").send(&body[..])?;
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
