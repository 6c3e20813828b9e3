//! The chain at scale (issue #17): builds a dev chain holding
//! `CREDEX_BENCH_ATTESTATIONS` attestations (default 1,000,000) directly
//! through the node's state transition — admission, block building,
//! execution and the durable commit of the real node library over RocksDB,
//! blocks of 5,000, no HTTP — then measures what a chain that size costs:
//!
//! * start-up of a real `credex dev` on that data directory until
//!   `/healthz` answers, and its resident memory then;
//! * the data directory's size on disk;
//! * an attestation proof's size and its offline verification time;
//! * a state sync of that state into a fresh store (spec §10.6, in
//!   process: everything checked, no network) against a replay of every
//!   block from genesis (up to 2·10⁶ attestations).
//!
//! `cargo bench -p credex --bench state_scale` (release);
//! `CREDEX_BENCH_ATTESTATIONS=10000000` for 10⁷ (about 30 min on 2 cores, 9 GB of disk).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)] // figures

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use credex_node::service::{Node, SystemClock, Wiring, solo_certificate};
use credex_node::statesync::NodeSource;
use credex_tests::harness::{binary, free_port, try_get};
use credex_types::attestation::{Attestation, AttestationHeader};
use credex_types::{AttestationKind, Timestamp};

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// `VmRSS` of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

fn main() {
    let total: usize =
        std::env::var("CREDEX_BENCH_ATTESTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dev");
    let (genesis, validator) = credex_node::dev::init_or_load(&data, Timestamp::system_now()).unwrap();
    let (file, issuer) = credex_api_types::KeyFile::read(&data.join("keys/cn-sfh-amr.json")).unwrap();
    let store = credex_storage::Store::open(&data.join("db"), genesis.hash()).unwrap();
    let node = Arc::new(
        Node::open(
            genesis.clone(),
            store,
            Box::new(SystemClock),
            Wiring { snapshot_dir: Some(data.join("snapshot")), ..Wiring::solo() },
        )
        .unwrap(),
    );
    let effective = Timestamp(Timestamp::system_now().0 - 60_000);
    println!("state scale: {total} attestations through the node's state transition, blocks of 5,000");
    let started = Instant::now();
    let mut last = Instant::now();
    let mut first_id = None;
    for block in 0..total.div_ceil(5_000) {
        let n = (total - block * 5_000).min(5_000);
        let atts: Vec<Attestation> = (0..n)
            .map(|i| {
                let k = (block * 5_000 + i) as u64;
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&k.to_le_bytes());
                let header = AttestationHeader::new(
                    genesis.chain_id.clone(),
                    file.agency.clone(),
                    format!("zz-scale:N{k}").parse().unwrap(),
                    AttestationKind::AdministrativeLicence,
                    effective,
                    nonce,
                )
                .unwrap();
                Attestation::sign(header, vec![], &issuer).unwrap()
            })
            .collect();
        first_id.get_or_insert(atts[0].id());
        for r in node.submit_many(&atts) {
            r.unwrap();
        }
        let p = node.propose(0).expect("a block");
        let cert = solo_certificate(&validator, 0, p.header());
        node.commit(p, cert).unwrap();
        if last.elapsed() > Duration::from_secs(30) {
            let done = block * 5_000 + n;
            println!(
                "  {done} attestations, {:.0}/s, height {}",
                done as f64 / started.elapsed().as_secs_f64(),
                node.height()
            );
            last = Instant::now();
        }
    }
    let build = started.elapsed().as_secs_f64();
    println!("  built in {build:.1} s ({:.0} attestations/s), height {}", total as f64 / build, node.height());
    // proof size and offline verification at this state
    let id = first_id.unwrap();
    let proof = node.attestation_proof(&id, &[]).unwrap();
    let bytes = proof.to_bytes().len();
    let verifier = credex_proof::Verifier::new(genesis.clone(), credex_proof::Policy::default()).unwrap();
    let now = Timestamp::system_now();
    let t = Instant::now();
    let rounds = 1_000;
    for _ in 0..rounds {
        verifier.verify(&proof, now).unwrap();
    }
    let verify_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!("  attestation proof: {bytes} bytes, verify {verify_us:.1} µs");
    // state sync (spec §10.6): a fresh store takes this state's snapshot,
    // checked in full (root, records, issuer signatures), in process
    let synced_dir = tmp.path().join("synced");
    let synced_store = credex_storage::Store::open(&synced_dir, genesis.hash()).unwrap();
    let t = Instant::now();
    let s = credex_node::statesync::import(&synced_store, &genesis, &mut NodeSource(&node), &mut || Ok(())).unwrap();
    let sync_s = t.elapsed().as_secs_f64();
    let sync_rate = s.attestations as f64 / sync_s;
    println!(
        "  state sync: {} values and {} attestations ({:.0} MiB) checked and stored in {sync_s:.1} s = {sync_rate:.0} attestations/s, {:.1}× the build rate",
        s.values,
        s.attestations,
        s.bytes as f64 / (1 << 20) as f64,
        sync_rate / (total as f64 / build)
    );
    drop(synced_store);
    std::fs::remove_dir_all(&synced_dir).unwrap();
    // replay from genesis, block by block as a follower does (not at 10⁷: hours)
    if total <= 2_000_000 {
        let replay_dir = tmp.path().join("replay");
        let store = credex_storage::Store::open(&replay_dir, genesis.hash()).unwrap();
        let replay = Node::open(genesis.clone(), store, Box::new(SystemClock), Wiring::solo()).unwrap();
        let t = Instant::now();
        for h in 1..=node.height() {
            let (b, c) = node.block_with_certificate(h).unwrap().unwrap();
            replay.apply_certified(b, c).unwrap();
        }
        let replay_s = t.elapsed().as_secs_f64();
        println!(
            "  replay from genesis: {} blocks in {replay_s:.1} s = {:.0} attestations/s; state sync is {:.1}× faster",
            node.height(),
            total as f64 / replay_s,
            replay_s / sync_s
        );
        drop(replay);
        std::fs::remove_dir_all(&replay_dir).unwrap();
    }
    drop(node);
    println!("  data directory: {:.0} MiB", dir_size(&data) as f64 / (1 << 20) as f64);

    // start-up of the real node on it
    for run in 1..=2 {
        let port = free_port();
        let t = Instant::now();
        let mut child = std::process::Command::new(binary())
            .args(["dev", "--data", data.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(tmp.path().join("node.log")).unwrap())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        while !matches!(try_get(&url, "/healthz"), Ok((200, _))) {
            assert!(child.try_wait().unwrap().is_none(), "credex dev exited");
            assert!(t.elapsed() < Duration::from_secs(1_800), "no /healthz after 30 min");
            std::thread::sleep(Duration::from_millis(20));
        }
        let up = t.elapsed().as_secs_f64();
        let rss = rss_mib(child.id());
        println!("  start-up {run}: /healthz after {up:.2} s, resident memory {rss:.0} MiB");
        // what start-up did with the state: it opens it on disk (nothing loaded)
        let log = std::fs::read_to_string(tmp.path().join("node.log")).unwrap();
        let line = log.lines().find(|l| l.contains("state opened")).expect("the node logs opening its state");
        let ms = line.split_whitespace().find_map(|w| w.strip_prefix("ms=")).expect("ms= in the log line");
        println!("    state opened in {ms} ms (root checked against the head; nothing loaded)");
        let _ = child.kill();
        let _ = child.wait();
    }
}
