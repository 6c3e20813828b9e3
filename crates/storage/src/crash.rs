//! Crash points (issue #14): named places at every durable step (block
//! commit, the signed-state record, the consensus log, erasure purges,
//! raw-record writes) where a test can make the process die as a power cut
//! would — `abort`, no destructors, no flush.
//!
//! Built with the `crash-points` feature, [`point`] aborts when the
//! environment variable `CREDEX_CRASH_AT` names it (`name`, or `name:n` for
//! its n-th hit). Without the feature (every release build) it is empty.
//! The scenario tests build the node with the feature and check that the
//! restarted node is consistent after a crash at each point
//! (`tests/scenarios/crash.rs`).

/// The crash points, in the order a block's life meets them.
pub const POINTS: &[&str] = &[
    "raw-after-write",
    "pool-before-block",
    "signed-before-sync",
    "signed-after-sync",
    "wal-before-sync",
    "wal-after-sync",
    "commit-before-write",
    "commit-after-write",
    "commit-after-store",
    "purge-before-zero",
];

/// Dies here if `CREDEX_CRASH_AT` names this point (feature `crash-points`).
#[inline]
pub fn point(name: &'static str) {
    #[cfg(feature = "crash-points")]
    armed::hit(name);
    #[cfg(not(feature = "crash-points"))]
    let _ = name;
}

#[cfg(feature = "crash-points")]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn hit(name: &'static str) {
        let target = TARGET.get_or_init(|| {
            let v = std::env::var("CREDEX_CRASH_AT").ok()?;
            let (n, count) = match v.split_once(':') {
                Some((n, c)) => (n.to_string(), c.parse().unwrap_or(1)),
                None => (v, 1),
            };
            Some((n, count.max(1)))
        });
        if let Some((n, count)) = target
            && n == name
            && HITS.fetch_add(1, Ordering::SeqCst) + 1 >= *count
        {
            eprintln!("credex: crash point {name} reached; aborting (CREDEX_CRASH_AT)");
            std::process::abort();
        }
    }
}
