//! Crash points (issue #14): `credex dev` is made to die — `abort`, as a
//! power cut would leave it — at each durable step of a block's life
//! (`credex_storage::crash::POINTS`, armed by `CREDEX_CRASH_AT`; the test
//! build has the `crash-points` feature). After each crash the node starts
//! again from its data directory alone and must be consistent: it opens
//! (the state root is re-derived from the stored state and checked against
//! the head), every block it had reported is still there with the same id,
//! the attestation it had answered "admitted" before the crash is anchored
//! without being sent again, an erasure is completed, and it goes on
//! signing new blocks (no signature refused against its own record).
//!
//! The consensus-log points (`wal-*`) are reached only by the BFT engine:
//! `bft::n4_a_validator_crashed_at_its_consensus_log_steps_restarts_without_equivocating`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::dev_node::{DevNode, credex, free_port, get, get_as, json_out};

const TRADER: &str = "91350100M000100Y43";

fn height(url: &str) -> u64 {
    let (code, s) = get(url, "/v1/status");
    s["height"].as_u64().unwrap_or_else(|| panic!("{url}: status {code} without a height: {s}"))
}

fn block_ids(url: &str, upto: u64) -> Vec<String> {
    (1..=upto)
        .map(|h| {
            let (code, b) = get(url, &format!("/v1/blocks/{h}"));
            b["id"].as_str().unwrap_or_else(|| panic!("{url}: block {h}: {code} {b}")).to_string()
        })
        .collect()
}

/// `credex dev` on `dir` with `CREDEX_CRASH_AT=point`; waits until it
/// serves (`true`) or has died already (`false`: the node's own work at
/// start — anchoring its audit-log head — reached the point first).
fn start_armed(dir: &Path, port: u16, point: &str) -> (std::process::Child, bool) {
    let mut child = Command::new(credex_tests::harness::binary())
        .args(["dev", "--data", dir.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")])
        .env("CREDEX_CRASH_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while !matches!(credex_tests::harness::try_get(&url, "/healthz"), Ok((200, _))) {
        if child.try_wait().unwrap().is_some() {
            return (child, false);
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{point}: the armed node did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, true)
}

fn wait_dead(child: &mut std::process::Child, point: &str) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "{point}: the node exited cleanly instead of crashing");
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{point}: the crash point was never reached");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn attest_args<'a>(url: &'a str, key: &'a str, kind: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["attest", "--node", url, "--key", key, "--subject", TRADER, "--kind", kind];
    a.extend_from_slice(extra);
    a
}

fn status_of(url: &str, key: &str, id: &str) -> serde_json::Value {
    get_as(url, &format!("/v1/attestations/{id}"), key).1
}

#[test]
fn after_a_crash_at_each_durable_step_the_node_restarts_consistent() {
    for point in credex_storage::crash::POINTS.iter().filter(|p| !p.starts_with("wal-")) {
        eprintln!("crash point {point}");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dev");
        let port = free_port();
        // a chain with one block and a record whose fields this node holds
        let node = DevNode::start(&dir, port);
        let amr = node.key("cn-sfh-amr");
        let first = json_out(&credex(&attest_args(
            &node.url,
            &amr,
            "administrative-penalty",
            &["--field", "decision-no=SFH-2026-001", "--field", "amount=5000", "--wait"],
        )));
        let penalty = first["id"].as_str().unwrap().to_string();
        // the node anchors its audit-log head every 5 s: let that block come
        // now (only public requests from here), so the armed run's first
        // block is the one this test submits
        let anchored = height(&node.url);
        let start = Instant::now();
        while height(&node.url) == anchored && start.elapsed() < Duration::from_secs(12) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let before = height(&node.url);
        let ids = block_ids(&node.url, before);
        drop(node);

        // armed: the next block's life reaches the point and dies there
        let (mut child, serving) = start_armed(&dir, port, point);
        let url = format!("http://127.0.0.1:{port}");
        let mut admitted: Option<String> = None;
        assert!(serving || !point.starts_with("commit"), "{point}: the armed node died at start (its audit anchor?)");
        if serving {
            let submitted = if *point == "purge-before-zero" {
                // an erasure: the commit destroys the record's key, the crash comes first
                credex(&attest_args(&url, &amr, "erasure-tombstone", &["--supersedes", &penalty]))
            } else {
                credex(&attest_args(
                    &url,
                    &amr,
                    "abnormal-operation-listing",
                    &["--field", "reason-code=annual-report"],
                ))
            };
            // what the node answered before it died (nothing, when it died first)
            admitted = serde_json::from_slice::<serde_json::Value>(&submitted.stdout)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string));
        }
        wait_dead(&mut child, point);

        // restarted from the data directory alone
        let node = DevNode::start(&dir, port);
        eprintln!("  restarted; admitted before the crash: {admitted:?}");
        assert!(height(&node.url) >= before, "{point}: blocks lost");
        assert_eq!(block_ids(&node.url, before), ids, "{point}: a reported block changed");
        if let Some(id) = &admitted {
            let start = Instant::now();
            loop {
                let s = status_of(&node.url, &amr, id);
                if s["status"] == "anchored" {
                    break;
                }
                assert!(start.elapsed() < Duration::from_secs(20), "{point}: admitted {id} never anchored: {s}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if *point == "purge-before-zero" && admitted.is_some() {
            let s = status_of(&node.url, &amr, &penalty);
            assert_eq!(
                (s["state"].as_str(), s["fields_held"].as_bool()),
                (Some("erased"), Some(false)),
                "{point}: {s}"
            );
            let metrics = super::dev_node::agent()
                .get(format!("{}/metrics", node.url))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap();
            assert!(
                metrics.contains("credex_erasure_purges_pending 0"),
                "{point}: purge not completed at start\n{metrics}"
            );
        }
        // and it signs on: a new attestation is anchored in a new block
        let h = height(&node.url);
        json_out(&credex(&attest_args(&node.url, &amr, "administrative-licence", &["--wait"])));
        assert!(height(&node.url) > h, "{point}: no new block after the restart");
    }
}
