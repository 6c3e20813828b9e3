//! Throughput and backpressure of a single node (issue #17): `credex load`
//! against a fresh `credex dev` (release), printing each run's figures
//! with the bare Ed25519 verifications per second measured in the same run:
//!
//! 1. closed loop, one attestation per request, concurrency 8 and 32: the
//!    sustainable rate R;
//! 2. bulk submission (`POST /v1/bulk/attestations`, 500 per request, 4
//!    concurrent);
//! 3. open loop at 2 × R for about 10 s, with the default mempool bound
//!    (20,000) and with one block's worth (5,000): what is accepted and its
//!    p99, and how much was refused for now (503 busy, Retry-After).
//!
//! `cargo bench -p credex --bench overload` (`CREDEX_BENCH_COUNT` for the
//! closed-loop runs' size, default 20,000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)] // figures

use std::process::Command;

use credex_tests::harness::{DevNode, binary, free_port};
use serde_json::Value;

fn load(node: &DevNode, args: &[String]) -> Value {
    let key = node.key("cn-sfh-amr");
    let mut all = vec!["load".to_string(), "--node".into(), node.url.clone(), "--key".into(), key];
    all.extend(args.iter().cloned());
    let o = Command::new(binary()).args(&all).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn show(label: &str, r: &Value) {
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "{label:<44} {:>7.0}/s  p50 {:>7.0} ms  p99 {:>7.0} ms  accepted {:>6}  refused for now {:>6}  (Ed25519 {:.0}/s, ratio {:.3})",
        f("attestations_per_second"),
        f("latency_p50_ms"),
        f("latency_p99_ms"),
        r["accepted"],
        r["refused_for_now"],
        f("ed25519_verifies_per_second"),
        f("ratio_to_ed25519"),
    );
}

fn main() {
    let count: u64 = std::env::var("CREDEX_BENCH_COUNT").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let n = count.to_string();
    let mut sustained: f64 = 0.0;
    for c in ["8", "32"] {
        let tmp = tempfile::tempdir().unwrap();
        let node = DevNode::start(&tmp.path().join("dev"), free_port());
        let r = load(&node, &s(&["--count", &n, "--concurrency", c]));
        show(&format!("closed loop, c = {c}"), &r);
        sustained = sustained.max(r["attestations_per_second"].as_f64().unwrap());
    }
    {
        let tmp = tempfile::tempdir().unwrap();
        let node = DevNode::start(&tmp.path().join("dev"), free_port());
        let bulk = (count * 5).to_string();
        let r = load(&node, &s(&["--count", &bulk, "--concurrency", "4", "--bulk", "500"]));
        show("bulk, 500 per request, c = 4", &r);
    }
    let rate = 2.0 * sustained;
    let offered = ((rate * 10.0) as u64).to_string();
    let rate_s = format!("{rate:.0}");
    for pool in ["20000", "5000"] {
        let tmp = tempfile::tempdir().unwrap();
        let node = DevNode::start_with(&tmp.path().join("dev"), free_port(), &["--mempool-max-txs", pool]);
        let r = load(&node, &s(&["--count", &offered, "--concurrency", "120", "--rate", &rate_s]));
        show(&format!("open loop at 2 × {sustained:.0}/s, pool {pool}"), &r);
        println!(
            "{:<44} offered {:.0}/s; of the refused for now {} by the issuer's rate (429), the rest busy (503); refused {} unreachable {}",
            "",
            r["offered_per_second"].as_f64().unwrap_or(f64::NAN),
            r["rate_limited"],
            r["refused"],
            r["unreachable"]
        );
    }
}
