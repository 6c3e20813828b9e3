//! Prometheus metrics (text exposition format 0.0.4) at `GET /metrics`.
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `credex_height` | gauge | committed height |
//! | `credex_round` | gauge | consensus round of the height being decided (BFT validators) |
//! | `credex_mempool_transactions` | gauge | transactions waiting |
//! | `credex_mempool_bytes` | gauge | bytes of the transactions waiting (bounded by `--mempool-max-mb`) |
//! | `credex_peers` | gauge | connected peers |
//! | `credex_finality_seconds` | histogram | block time to local commit |
//! | `credex_api_request_seconds` | histogram | API request latency, by method and status class |
//! | `credex_rejected_total` | counter | inputs refused, by reason code (API errors and transactions dropped at block time) |
//! | `credex_audit_entries` | gauge | entries in this node's audit log |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}", self.counts[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// The node's metrics.
#[derive(Default)]
pub struct Metrics {
    round: AtomicU64,
    finality: Mutex<Histogram>,
    api: Mutex<BTreeMap<(String, &'static str), Histogram>>,
    rejected: Mutex<BTreeMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// Sets the consensus round.
    pub fn set_round(&self, round: u32) {
        self.round.store(u64::from(round), Ordering::Relaxed);
    }

    /// A block committed `seconds` after its block time.
    pub fn observe_finality(&self, seconds: f64) {
        lock(&self.finality).observe(seconds);
    }

    /// An API request took `seconds` and answered `status`.
    pub fn observe_api(&self, method: &str, status: u16, seconds: f64) {
        let class = match status {
            200..=299 => "2xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "other",
        };
        lock(&self.api).entry((method.to_string(), class)).or_default().observe(seconds);
    }

    /// An input refused for `reason` (a stable error code).
    pub fn reject(&self, reason: &str) {
        *lock(&self.rejected).entry(reason.to_string()).or_default() += 1;
    }

    /// The exposition text, with the gauges read now.
    pub fn render(
        &self,
        height: u64,
        mempool: (usize, usize),
        peers: usize,
        audit_entries: u64,
        purges: usize,
        read_only: bool,
    ) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(&mut out, "credex_height", "Committed height.", height);
        gauge(
            &mut out,
            "credex_read_only",
            "1 while the disk is below the free-space floor: nothing is admitted, reads and proofs are served.",
            u64::from(read_only),
        );
        gauge(
            &mut out,
            "credex_round",
            "Consensus round of the height being decided.",
            self.round.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "credex_mempool_transactions",
            "Transactions waiting.",
            u64::try_from(mempool.0).unwrap_or(u64::MAX),
        );
        gauge(
            &mut out,
            "credex_mempool_bytes",
            "Bytes of the transactions waiting.",
            u64::try_from(mempool.1).unwrap_or(u64::MAX),
        );
        gauge(&mut out, "credex_peers", "Connected peers.", u64::try_from(peers).unwrap_or(u64::MAX));
        gauge(&mut out, "credex_audit_entries", "Entries in this node's audit log.", audit_entries);
        gauge(
            &mut out,
            "credex_erasure_purges_pending",
            "Erased records whose keys could not be destroyed yet (retried every minute).",
            u64::try_from(purges).unwrap_or(u64::MAX),
        );
        let _ = writeln!(
            out,
            "# HELP credex_finality_seconds Block time to local commit.\n# TYPE credex_finality_seconds histogram"
        );
        lock(&self.finality).render(&mut out, "credex_finality_seconds", "");
        let _ = writeln!(
            out,
            "# HELP credex_api_request_seconds API request latency.\n# TYPE credex_api_request_seconds histogram"
        );
        for ((method, class), h) in lock(&self.api).iter() {
            h.render(&mut out, "credex_api_request_seconds", &format!("method=\"{method}\",status=\"{class}\""));
        }
        let _ = writeln!(
            out,
            "# HELP credex_rejected_total Inputs refused, by reason.\n# TYPE credex_rejected_total counter"
        );
        for (reason, n) in lock(&self.rejected).iter() {
            let _ = writeln!(out, "credex_rejected_total{{reason=\"{reason}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP credex_build_info The running build (always 1).\n# TYPE credex_build_info gauge\n\
             credex_build_info{{version=\"{}\",spec=\"1.1\",proof_version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            credex_proof::PROOF_VERSION
        );
        process_metrics(&mut out);
        out
    }
}

/// The standard process metrics (Prometheus client conventions), read from
/// `/proc/self` on Linux; elsewhere none (absent, not zero).
fn process_metrics(out: &mut String) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return };
    // fields after the command name, which is in parentheses and may hold spaces
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // man 5 proc: utime 14, stime 15, starttime 22, rss 24 (1-based, counting pid and comm)
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let ticks = 100.0; // USER_HZ on Linux
    let page = 4096u64;
    if let (Some(u), Some(s)) = (field(14), field(15)) {
        #[allow(clippy::cast_precision_loss)] // CPU ticks far below 2^52
        let cpu = (u + s) as f64 / ticks;
        let _ = writeln!(
            out,
            "# HELP process_cpu_seconds_total User and system CPU time spent.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}"
        );
    }
    if let Some(rss) = field(24) {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
            rss.saturating_mul(page)
        );
    }
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<u64>().ok())));
    if let (Some(start), Some(boot)) = (field(22), boot) {
        #[allow(clippy::cast_precision_loss)]
        let started = boot as f64 + start as f64 / ticks;
        let _ = writeln!(
            out,
            "# HELP process_start_time_seconds Start time since the Unix epoch.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {started}"
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(
            out,
            "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds {}",
            fds.count()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.observe_finality(0.2);
        m.observe_finality(3.0);
        m.observe_api("GET", 200, 0.004);
        m.reject("bad-signature");
        m.reject("bad-signature");
        m.set_round(2);
        let t = m.render(7, (3, 900), 4, 9, 1, true);
        assert!(t.contains("credex_height 7\n"));
        assert!(t.contains("credex_read_only 1\n"));
        assert!(t.contains("credex_mempool_transactions 3\n"));
        assert!(t.contains("credex_mempool_bytes 900\n"));
        assert!(t.contains("credex_erasure_purges_pending 1\n"));
        assert!(t.contains("credex_round 2\n"));
        assert!(t.contains("credex_finality_seconds_bucket{le=\"0.25\"} 1\n"));
        assert!(t.contains("credex_finality_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(t.contains("credex_finality_seconds_count 2\n"));
        assert!(t.contains("credex_api_request_seconds_bucket{method=\"GET\",status=\"2xx\",le=\"0.005\"} 1\n"));
        assert!(t.contains("credex_rejected_total{reason=\"bad-signature\"} 2\n"));
        assert!(t.contains("credex_build_info{version=\"0.1.0\",spec=\"1.1\",proof_version=\"1\"} 1\n"), "{t}");
        // this test runs on Linux: the process metrics are real readings
        let rss: u64 = t
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{t}"));
        assert!(rss > 1 << 20, "a test process holds more than 1 MiB: {rss}");
        assert!(t.contains("\nprocess_open_fds ") && t.contains("\nprocess_start_time_seconds 1"), "{t}");
        assert!(t.contains("\nprocess_cpu_seconds_total "), "{t}");
    }
}
