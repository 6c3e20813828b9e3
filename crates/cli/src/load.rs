//! `credex load`: a load generator against a node's HTTP API.
//!
//! Pre-signs `count` attestations (distinct subjects, kind
//! `administrative-licence`, which changes no list), submits them from
//! `concurrency` threads, and watches committed blocks to time each
//! attestation from its submission to the block that finalizes it.
//! Prints sustained attestations/s and submit-to-final latency p50/p99.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use credex_api_types::types::BlockAnswer;
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId};
use credex_types::{AttestationKind, Timestamp};

use credex_api_types::client::Client;

/// What `credex load` measured.
#[derive(Debug, serde::Serialize)]
pub(crate) struct LoadReport {
    /// Attestations submitted.
    pub submitted: usize,
    /// Of which finalized within the run.
    pub finalized: usize,
    /// Refused by the node.
    pub refused: usize,
    /// First submission to last finalization, seconds.
    pub seconds: f64,
    /// finalized / seconds.
    pub attestations_per_second: f64,
    /// Median submit-to-final latency, ms.
    pub latency_p50_ms: f64,
    /// 99th percentile submit-to-final latency, ms.
    pub latency_p99_ms: f64,
    /// Blocks that carried them.
    pub blocks: u64,
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

/// Runs the load; `now` stamps the attestations' effective time.
/// A signed request's four headers.
type Headers = [(&'static str, String); 4];

/// Runs the load: see the module docs.
pub(crate) fn run(
    node: &str,
    key_path: &Path,
    count: usize,
    concurrency: usize,
    now: Timestamp,
) -> anyhow::Result<LoadReport> {
    let (file, key) = credex_api_types::keyfile::KeyFile::read(key_path)?;
    let client = Client::with_key(node, key_path)?;
    let start_height = client.status()?.height;
    let audience = client.audience()?;
    let chain_id = audience.chain_id.clone();
    let mut run_nonce = [0u8; 8];
    getrandom::fill(&mut run_nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let atts: Vec<Attestation> = (0..count)
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
    // Each submission is a request signed by the issuer (spec §12.1), signed up front.
    let client_id = file.agency.to_string();
    let bodies: Vec<(AttestationId, Vec<u8>, Headers)> = atts
        .iter()
        .map(|a| {
            let body = serde_json::to_vec(a)?;
            let headers = credex_api_types::sign::sign_headers(
                &audience,
                &client_id,
                &key,
                "POST",
                "/v1/attestations",
                &body,
                now,
            )?;
            Ok((a.id(), body, headers))
        })
        .collect::<anyhow::Result<_>>()?;

    let submitted_at: Arc<Mutex<HashMap<AttestationId, Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(count)));
    let refused = Arc::new(Mutex::new(0usize));
    let work = Arc::new(Mutex::new(bodies.into_iter()));
    let t0 = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (work, submitted_at, refused, node) =
            (work.clone(), submitted_at.clone(), refused.clone(), node.to_string());
        workers.push(std::thread::spawn(move || {
            let agent = Client::new(&node);
            loop {
                let next = work.lock().map(|mut w| w.next()).unwrap_or(None);
                let Some((id, body, headers)) = next else { break };
                // Record before sending: the block may be seen before the answer arrives.
                if let Ok(mut m) = submitted_at.lock() {
                    m.insert(id, Instant::now());
                }
                let ok =
                    agent.post_presigned("/v1/attestations", &body, &headers).is_ok_and(|s| (200..300).contains(&s));
                if !ok {
                    if let Ok(mut m) = submitted_at.lock() {
                        m.remove(&id);
                    }
                    if let Ok(mut r) = refused.lock() {
                        *r += 1;
                    }
                }
            }
        }));
    }

    // Watch blocks until every accepted attestation is final (or 60 s of no progress).
    let mut latencies = Vec::with_capacity(count);
    let mut seen = start_height;
    let mut last_progress = Instant::now();
    let mut last_final = t0;
    let mut blocks = 0u64;
    loop {
        let workers_done = workers.iter().all(|w| w.is_finished());
        let accepted = submitted_at.lock().map(|m| m.len()).unwrap_or(0);
        if workers_done && latencies.len() >= accepted {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(60) {
            break;
        }
        let height = client.status()?.height;
        if height == seen {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let observed = Instant::now();
        for h in seen + 1..=height {
            // the load generator signs as the issuer, so blocks come whole; the ids suffice
            let block: BlockAnswer = client.get_as(&format!("/v1/blocks/{h}"))?;
            let mut mine = 0;
            for t in &block.transactions {
                if let Some(sent) = submitted_at.lock().ok().and_then(|m| m.get(&t.id).copied()) {
                    latencies.push(observed.duration_since(sent).as_secs_f64() * 1000.0);
                    mine += 1;
                }
            }
            if mine > 0 {
                blocks += 1;
            }
        }
        seen = height;
        last_progress = Instant::now();
        last_final = observed;
    }
    for w in workers {
        let _ = w.join();
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let seconds = last_final.duration_since(t0).as_secs_f64();
    let refused = refused.lock().map(|r| *r).unwrap_or(0);
    Ok(LoadReport {
        submitted: count,
        finalized: latencies.len(),
        refused,
        seconds,
        attestations_per_second: if seconds > 0.0 { latencies.len() as f64 / seconds } else { 0.0 },
        latency_p50_ms: percentile(&latencies, 500),
        latency_p99_ms: percentile(&latencies, 990),
        blocks,
    })
}
