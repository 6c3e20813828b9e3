//! `credex load`: a load generator against a node's HTTP API.
//!
//! Signs `count` attestations up front (distinct subjects, kind
//! `administrative-licence`, which changes no list), submits them from
//! `concurrency` threads — one per request, or `bulk` per request through
//! `POST /v1/bulk/attestations` — and watches committed blocks to time
//! each accepted attestation from the request that was accepted to the
//! block that finalizes it.
//!
//! Two ways to load (spec §12.5, backpressure):
//! * **closed loop** (default): a refusal that is only for now (503 busy or
//!   read-only, 429 rate, each with `Retry-After`) is resent after the
//!   client's backoff ([`credex_api_types::client::backoff`]), signed
//!   afresh, so every attestation ends accepted or refused for what it is;
//! * **open loop** (`rate`): requests leave at a fixed offered rate whatever
//!   the node answers, and what it refuses for now is counted, not resent:
//!   at an offered rate above what the node sustains this measures that the
//!   accepted attestations' latency stays bounded while the excess is refused.
//!
//! Prints attestations/s, latency p50/p99, refusals, and the bare Ed25519
//! verifications per second of this machine measured in the same run, so
//! figures from different machines compare as ratios.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credex_api_types::client::{Client, backoff};
use credex_api_types::types::{BlockAnswer, BulkSubmission, BulkSubmitted};
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId};
use credex_types::{AttestationKind, Timestamp};

/// How `credex load` loads the node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadOptions {
    /// Attestations.
    pub count: usize,
    /// Concurrent submitters.
    pub concurrency: usize,
    /// Open loop: requests offered per second (none: closed loop).
    pub rate: Option<f64>,
    /// Attestations per request (1: `POST /v1/attestations`; more: the bulk route).
    pub bulk: usize,
}

/// What `credex load` measured.
#[derive(Debug, serde::Serialize)]
pub(crate) struct LoadReport {
    /// Attestations offered.
    pub submitted: usize,
    /// Accepted by the node (202, or 200 on chain already).
    pub accepted: usize,
    /// Of which finalized within the run.
    pub finalized: usize,
    /// Refused for what they are (4xx): never resent.
    pub refused: usize,
    /// Refused only for now (503 busy or read-only, 429): in the open loop
    /// not resent; in the closed loop given up after the client's patience.
    pub refused_for_now: usize,
    /// Of those, refused by the issuer's request rate (429) rather than the pool (503).
    pub rate_limited: usize,
    /// Busy or rate answers seen (each followed by a resend in the closed loop).
    pub busy_answers: u64,
    /// Requests that got no answer.
    pub unreachable: usize,
    /// The open loop's offered rate, attestations per second (achieved).
    pub offered_per_second: Option<f64>,
    /// First submission to last finalization, seconds.
    pub seconds: f64,
    /// finalized / seconds.
    pub attestations_per_second: f64,
    /// Median accepted-to-final latency, ms.
    pub latency_p50_ms: f64,
    /// 99th percentile accepted-to-final latency, ms.
    pub latency_p99_ms: f64,
    /// 99th percentile latency from the first attempt (backoff included), ms.
    pub latency_p99_from_first_attempt_ms: f64,
    /// Blocks that carried them.
    pub blocks: u64,
    /// Bare Ed25519 verifications per second on this machine (one thread), measured in this run.
    pub ed25519_verifies_per_second: f64,
    /// attestations_per_second / ed25519_verifies_per_second.
    pub ratio_to_ed25519: f64,
}

/// The value at `per_mille`/1000 of the way through `sorted` (nearest rank).
fn percentile(sorted: &[f64], per_mille: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let last = sorted.len() - 1;
    let i = (last * per_mille + 500) / 1000;
    sorted.get(i.min(last)).copied().unwrap_or(f64::NAN)
}

/// Bare Ed25519 verifications per second, one thread, for about `span`.
pub(crate) fn ed25519_rate(span: Duration) -> f64 {
    use credex_crypto::{Purpose, SecretKey, verify};
    let key = SecretKey::from_seed([7; 32]);
    let msg = [42u8; 32];
    let sig = key.sign(Purpose::Attestation, &msg);
    let pk = key.public();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < span {
        for _ in 0..64 {
            if verify(&pk, Purpose::Attestation, &msg, &sig).is_ok() {
                n += 1;
            }
        }
    }
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let rate = n as f64 / start.elapsed().as_secs_f64();
    rate
}

/// One request's attestations.
struct Job {
    atts: Vec<Attestation>,
}

/// What the workers share.
#[derive(Default)]
struct Tally {
    /// Attestation → when the request that was accepted left.
    accepted_at: Mutex<HashMap<AttestationId, Instant>>,
    /// Attestation → when its first attempt left.
    first_at: Mutex<HashMap<AttestationId, Instant>>,
    refused: AtomicUsize,
    for_now: AtomicUsize,
    rate_limited: AtomicUsize,
    unreachable: AtomicUsize,
    /// When the last request left (the open loop's offered rate).
    last_sent: Mutex<Option<Instant>>,
    busy_answers: AtomicU64,
}

/// The answer to one request, per attestation: accepted, refused for what
/// it is, or refused for now (with the node's `Retry-After`).
enum Outcome {
    Accepted,
    Refused,
    /// After this long; `true` when it was the rate (429), not the pool.
    ForNow(Duration, bool),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends one request (signed now); per attestation, what happened.
fn send(client: &Client, job: &Job) -> Result<Vec<Outcome>, credex_api_types::client::ClientError> {
    use credex_api_types::client::ClientError;
    let for_now = |status: u16| matches!(status, 429 | 503);
    if let [att] = job.atts.as_slice() {
        return Ok(vec![match client.post_as::<credex_api_types::types::Submitted>("/v1/attestations", att) {
            Ok(_) => Outcome::Accepted,
            Err(ClientError::Refused(r)) if for_now(r.status) => {
                Outcome::ForNow(Duration::from_secs(1), r.status == 429)
            }
            Err(ClientError::Refused(_)) => Outcome::Refused,
            Err(e) => return Err(e),
        }]);
    }
    let body = BulkSubmission { attestations: job.atts.clone() };
    match client.post_as::<BulkSubmitted>("/v1/bulk/attestations", &body) {
        Ok(a) => {
            let after = Duration::from_secs(a.retry_after_s.unwrap_or(1));
            Ok(a.results
                .iter()
                .map(|r| match r.status {
                    200..=299 => Outcome::Accepted,
                    s if for_now(s) => Outcome::ForNow(after, s == 429),
                    _ => Outcome::Refused,
                })
                .collect())
        }
        Err(ClientError::Refused(r)) if for_now(r.status) => {
            Ok(job.atts.iter().map(|_| Outcome::ForNow(Duration::from_secs(1), r.status == 429)).collect())
        }
        Err(ClientError::Refused(_)) => Ok(job.atts.iter().map(|_| Outcome::Refused).collect()),
        Err(e) => Err(e),
    }
}

/// A worker: takes jobs until none are left; in the open loop each leaves
/// at its scheduled time and is not resent, in the closed loop what is
/// refused for now is resent after the backoff.
fn worker(
    node: &str,
    key_path: &Path,
    jobs: &Mutex<std::vec::IntoIter<(usize, Job)>>,
    schedule: Option<(Instant, f64)>,
    tally: &Tally,
) -> anyhow::Result<()> {
    // the node's refusals come back at once: backoff is this worker's, not the client's
    let client = Client::with_key(node, key_path)?.with_patience(Duration::ZERO);
    loop {
        let Some((n, mut job)) = lock(jobs).next() else { return Ok(()) };
        if let Some((t0, per_second)) = schedule {
            #[allow(clippy::cast_precision_loss)]
            let due = t0 + Duration::from_secs_f64(n as f64 / per_second);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let mut attempt = 0u32;
        loop {
            let sent = Instant::now();
            *lock(&tally.last_sent) = Some(sent);
            {
                // Recorded before sending: the block may be seen before the answer arrives.
                let mut first = lock(&tally.first_at);
                let mut accepted = lock(&tally.accepted_at);
                for a in &job.atts {
                    first.entry(a.id()).or_insert(sent);
                    accepted.insert(a.id(), sent);
                }
            }
            let outcomes = match send(&client, &job) {
                Ok(o) => o,
                Err(_) => {
                    let mut accepted = lock(&tally.accepted_at);
                    for a in &job.atts {
                        accepted.remove(&a.id());
                    }
                    tally.unreachable.fetch_add(job.atts.len(), Ordering::Relaxed);
                    break;
                }
            };
            let mut again = Vec::new();
            let mut asked = Duration::ZERO;
            {
                let mut accepted = lock(&tally.accepted_at);
                for (a, o) in job.atts.into_iter().zip(outcomes) {
                    match o {
                        Outcome::Accepted => {}
                        Outcome::Refused => {
                            accepted.remove(&a.id());
                            tally.refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Outcome::ForNow(after, rate) => {
                            accepted.remove(&a.id());
                            if rate && schedule.is_some() {
                                tally.rate_limited.fetch_add(1, Ordering::Relaxed);
                            }
                            asked = asked.max(after);
                            again.push(a);
                        }
                    }
                }
            }
            if again.is_empty() {
                break;
            }
            tally.busy_answers.fetch_add(1, Ordering::Relaxed);
            if schedule.is_some() {
                tally.for_now.fetch_add(again.len(), Ordering::Relaxed);
                break;
            }
            std::thread::sleep(backoff(asked, attempt, u64::from(sent.elapsed().subsec_nanos())));
            attempt += 1;
            job = Job { atts: again };
        }
    }
}

/// Runs the load: see the module docs.
pub(crate) fn run(node: &str, key_path: &Path, opts: LoadOptions, now: Timestamp) -> anyhow::Result<LoadReport> {
    let ed25519 = ed25519_rate(Duration::from_millis(500));
    let (file, key) = credex_api_types::keyfile::KeyFile::read(key_path)?;
    let client = Client::with_key(node, key_path)?;
    let start_height = client.status()?.height;
    let chain_id = client.chain_id()?;
    let mut run_nonce = [0u8; 8];
    getrandom::fill(&mut run_nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let atts: Vec<Attestation> = (0..opts.count)
        .map(|i| {
            let mut nonce = [0u8; 16];
            nonce[..8].copy_from_slice(&run_nonce);
            nonce[8..].copy_from_slice(&(i as u64).to_le_bytes());
            let header = AttestationHeader::new(
                chain_id.clone(),
                file.agency.clone(),
                format!("zz-load:N{i}").parse()?,
                AttestationKind::AdministrativeLicence,
                now,
                nonce,
            )?;
            Ok(Attestation::sign(header, vec![], &key)?)
        })
        .collect::<anyhow::Result<_>>()?;
    let bulk = opts.bulk.clamp(1, credex_api_types::types::MAX_BULK_SUBMIT);
    let jobs: Vec<(usize, Job)> = atts.chunks(bulk).map(|c| Job { atts: c.to_vec() }).enumerate().collect();
    let jobs = Arc::new(Mutex::new(jobs.into_iter()));
    let tally = Arc::new(Tally::default());
    let t0 = Instant::now();
    #[allow(clippy::cast_precision_loss)]
    let schedule = opts.rate.map(|r| (t0, (r / bulk as f64).max(f64::MIN_POSITIVE)));
    let mut workers = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (jobs, tally, node, key_path) = (jobs.clone(), tally.clone(), node.to_string(), key_path.to_path_buf());
        workers.push(std::thread::spawn(move || worker(&node, &key_path, &jobs, schedule, &tally)));
    }

    // When each height was first seen committed: a poller of /v1/status
    // alone, so fetching the (large) blocks never delays the observation.
    let observed: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (observed, stop, node, key_path) =
            (observed.clone(), stop.clone(), node.to_string(), key_path.to_path_buf());
        std::thread::spawn(move || -> anyhow::Result<()> {
            let client = Client::with_key(&node, &key_path)?;
            while !stop.load(Ordering::Relaxed) {
                let height = client.status()?.height;
                let now = Instant::now();
                let mut seen = lock(&observed);
                while start_height + (seen.len() as u64) < height {
                    seen.push(now);
                }
                drop(seen);
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        })
    };
    // Read the blocks in order until every accepted attestation is final (or 60 s of no progress).
    let mut latencies = Vec::with_capacity(opts.count);
    let mut from_first = Vec::with_capacity(opts.count);
    let mut next = start_height + 1;
    let mut last_progress = Instant::now();
    let mut last_final = t0;
    let mut blocks = 0u64;
    loop {
        let workers_done = workers.iter().all(std::thread::JoinHandle::is_finished);
        let accepted = lock(&tally.accepted_at).len();
        if workers_done && latencies.len() >= accepted {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(60) || poller.is_finished() {
            break;
        }
        let at = usize::try_from(next - start_height - 1).ok().and_then(|i| lock(&observed).get(i).copied());
        let Some(at) = at else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        // the load generator signs as the issuer, so blocks come whole; the ids suffice
        let block: BlockAnswer = client.get_as(&format!("/v1/blocks/{next}"))?;
        let mut mine = 0;
        // the workers' order: first attempts, then acceptances
        let (first, accepted) = (lock(&tally.first_at), lock(&tally.accepted_at));
        for t in &block.transactions {
            if let Some(sent) = accepted.get(&t.id) {
                latencies.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
                if let Some(f) = first.get(&t.id) {
                    from_first.push(at.saturating_duration_since(*f).as_secs_f64() * 1000.0);
                }
                mine += 1;
            }
        }
        drop((first, accepted));
        if mine > 0 {
            blocks += 1;
            last_final = last_final.max(at);
        }
        next += 1;
        last_progress = Instant::now();
    }
    stop.store(true, Ordering::Relaxed);
    match poller.join() {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the height poller panicked"),
    }
    for w in workers {
        match w.join() {
            Ok(r) => r?,
            Err(_) => anyhow::bail!("a load worker panicked"),
        }
    }
    latencies.sort_by(f64::total_cmp);
    from_first.sort_by(f64::total_cmp);
    let seconds = last_final.duration_since(t0).as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let per_second = if seconds > 0.0 { latencies.len() as f64 / seconds } else { 0.0 };
    #[allow(clippy::cast_precision_loss)]
    let offered = opts.rate.map(|_| {
        let last = tally.last_sent.lock().map_or(t0, |l| l.unwrap_or(t0));
        opts.count as f64 / last.duration_since(t0).as_secs_f64().max(1e-9)
    });
    Ok(LoadReport {
        submitted: opts.count,
        accepted: lock(&tally.accepted_at).len(),
        finalized: latencies.len(),
        refused: tally.refused.load(Ordering::Relaxed),
        refused_for_now: tally.for_now.load(Ordering::Relaxed),
        rate_limited: tally.rate_limited.load(Ordering::Relaxed),
        busy_answers: tally.busy_answers.load(Ordering::Relaxed),
        unreachable: tally.unreachable.load(Ordering::Relaxed),
        offered_per_second: offered,
        seconds,
        attestations_per_second: per_second,
        latency_p50_ms: percentile(&latencies, 500),
        latency_p99_ms: percentile(&latencies, 990),
        latency_p99_from_first_attempt_ms: percentile(&from_first, 990),
        blocks,
        ed25519_verifies_per_second: ed25519,
        ratio_to_ed25519: if ed25519 > 0.0 { per_second / ed25519 } else { 0.0 },
    })
}
