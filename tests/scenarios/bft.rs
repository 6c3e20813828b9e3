//! Four validators running the BFT engine as real processes on loopback:
//! steady progress (n4f0), one validator killed with SIGKILL and restarted
//! (n4f1), two of four down (no block finalizes, none forks) and back,
//! identical blocks everywhere, a late observer syncing from genesis and
//! one starting from a state snapshot, proofs with ≥ 2f+1 signatures from
//! validators and observers.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::dev_node::{credex, free_port, get, json_out, spawn_credex, verify};

struct Node {
    child: Child,
    url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Net {
    dir: PathBuf,
    genesis: PathBuf,
    p2p: Vec<String>,
    http: Vec<u16>,
}

/// A failed test prints the end of every validator's log (the temporary
/// directory, and the logs with it, is gone afterwards).
impl Drop for Net {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for i in 0..self.p2p.len() {
            let Ok(log) = std::fs::read_to_string(self.dir.join(format!("n{i}.log"))) else { continue };
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("---- validator {i}: the last lines of its log ----");
            for l in &lines[lines.len().saturating_sub(60)..] {
                eprintln!("{l}");
            }
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

impl Net {
    fn new(dir: &Path, n: usize) -> Net {
        let g = dir.join("genesis.toml");
        let ok = |o: std::process::Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        ok(credex(&["genesis", "new", "--chain-id", "credex-bft-test", "--out", s(&g)]));
        let mut p2p = Vec::new();
        for i in 0..n {
            let v = dir.join(format!("v{i}.json"));
            let p = dir.join(format!("p{i}.json"));
            json_out(&credex(&["keygen", "--agency", &format!("agency-{i}"), "--role", "validator", "--out", s(&v)]));
            let k = json_out(&credex(&["keygen", "--agency", &format!("agency-{i}"), "--role", "p2p", "--out", s(&p)]));
            let port = free_port();
            p2p.push(format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", k["peer_id"].as_str().unwrap()));
            let j = if i == n - 1 { "RU" } else { "CN" };
            ok(credex(&[
                "genesis",
                "add-validator",
                s(&g),
                "--key",
                s(&v),
                "--p2p-key",
                s(&p),
                "--names",
                "机构|Агентство|Agency",
                "--jurisdiction",
                j,
            ]));
        }
        let obs = dir.join("observer.json");
        json_out(&credex(&["keygen", "--agency", "ru-vladivostok-customs", "--role", "p2p", "--out", s(&obs)]));
        ok(credex(&[
            "genesis",
            "add-observer",
            s(&g),
            "--p2p-key",
            s(&obs),
            "--names",
            "海关|Таможня|Customs",
            "--jurisdiction",
            "RU",
        ]));
        let amr = dir.join("amr.json");
        json_out(&credex(&["keygen", "--agency", "cn-sfh-amr", "--role", "issuer", "--out", s(&amr)]));
        ok(credex(&[
            "genesis",
            "add-issuer",
            s(&g),
            "--key",
            s(&amr),
            "--names",
            "市场监管局|Управление|AMR",
            "--jurisdiction",
            "CN",
            "--kinds",
            "abnormal-operation-listing,abnormal-operation-removal,administrative-licence,subject-key-binding",
        ]));
        Net { dir: dir.to_path_buf(), genesis: g, p2p, http: (0..n).map(|_| free_port()).collect() }
    }

    /// A late-joining observer following the validators.
    fn start_observer(&self) -> Node {
        self.start_observer_with("observer", &[], Stdio::null())
    }

    /// The observer on the data directory `data`, with `extra` options.
    fn start_observer_with(&self, data: &str, extra: &[&str], log: Stdio) -> Node {
        let http = free_port();
        let mut args = vec![
            "node".to_string(),
            "--genesis".into(),
            s(&self.genesis).into(),
            "--data".into(),
            s(&self.dir.join(data)).into(),
            "--http".into(),
            format!("127.0.0.1:{http}"),
            "--p2p-key".into(),
            s(&self.dir.join("observer.json")).into(),
            "--listen".into(),
            format!("/ip4/127.0.0.1/tcp/{}", free_port()),
        ];
        for p in &self.p2p {
            args.extend(["--peer".into(), p.clone()]);
        }
        args.extend(extra.iter().map(|e| (*e).to_string()));
        let (child, url) = spawn_credex(&args, http, log);
        Node { child, url }
    }

    fn start(&self, i: usize) -> Node {
        self.start_with(i, &[])
    }

    /// Validator `i` connected to all the others, with `extra` options.
    fn start_with(&self, i: usize, extra: &[&str]) -> Node {
        let peers: Vec<String> = (0..self.p2p.len()).filter(|j| *j != i).map(|j| self.p2p[j].clone()).collect();
        self.start_with_peers(i, &peers, extra)
    }

    /// Validator `i` with `CREDEX_CRASH_AT=point` (the test build has crash
    /// points); returns the process without waiting for its API.
    fn start_armed(&self, i: usize, point: &str) -> Child {
        let listen = self.p2p[i].split("/p2p/").next().unwrap().to_string();
        let mut cmd = std::process::Command::new(credex_tests::harness::binary());
        cmd.args(["node", "--genesis", s(&self.genesis), "--data", s(&self.dir.join(format!("d{i}")))])
            .args(["--http", &format!("127.0.0.1:{}", self.http[i])])
            .args(["--p2p-key", s(&self.dir.join(format!("p{i}.json"))), "--listen", &listen])
            .args(["--validator-key", s(&self.dir.join(format!("v{i}.json")))])
            .env("CREDEX_CRASH_AT", point)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for j in (0..self.p2p.len()).filter(|j| *j != i) {
            cmd.args(["--peer", &self.p2p[j]]);
        }
        cmd.spawn().unwrap()
    }

    fn start_with_peers(&self, i: usize, peers: &[String], extra: &[&str]) -> Node {
        let listen = self.p2p[i].split("/p2p/").next().unwrap().to_string();
        let mut args = vec![
            "node".to_string(),
            "--genesis".into(),
            s(&self.genesis).into(),
            "--data".into(),
            s(&self.dir.join(format!("d{i}"))).into(),
            "--http".into(),
            format!("127.0.0.1:{}", self.http[i]),
            "--p2p-key".into(),
            s(&self.dir.join(format!("p{i}.json"))).into(),
            "--listen".into(),
            listen,
            "--validator-key".into(),
            s(&self.dir.join(format!("v{i}.json"))).into(),
        ];
        for p in peers {
            args.extend(["--peer".into(), p.clone()]);
        }
        args.extend(extra.iter().map(|a| (*a).to_string()));
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("n{i}.log"))).unwrap();
        let (child, url) = spawn_credex(&args, self.http[i], Stdio::from(log));
        Node { child, url }
    }
}

/// Writes the trader's abnormal-operation status proof from the node at `url` to `out`.
fn status_proof(url: &str, out: &Path) {
    json_out(&credex(&[
        "proof",
        "status",
        "--node",
        url,
        "--subject",
        "91350100M000100Y43",
        "--list",
        "abnormal-operation",
        "--out",
        s(out),
    ]));
}

fn height(n: &Node) -> u64 {
    let (code, s) = get(&n.url, "/v1/status");
    s["height"].as_u64().unwrap_or_else(|| panic!("{}: status {code} without a height: {s}", n.url))
}

fn wait_height(n: &Node, h: u64, within: Duration) {
    let start = Instant::now();
    while height(n) < h {
        assert!(start.elapsed() < within, "{} stuck at {} < {h}", n.url, height(n));
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn node(nodes: &[Option<Node>], i: usize) -> &Node {
    nodes[i].as_ref().unwrap()
}

fn block_id(n: &Node, h: u64) -> String {
    let (code, b) = get(&n.url, &format!("/v1/blocks/{h}"));
    b["id"].as_str().unwrap_or_else(|| panic!("{}: block {h}: {code} {b}", n.url)).to_string()
}

#[test]
fn n4_progress_kill_restart_and_two_down() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path(), 4);
    let mut nodes: Vec<Option<Node>> = (0..4).map(|i| Some(net.start(i))).collect();

    // n4f0: steady progress; an attestation submitted to one validator is final everywhere
    wait_height(node(&nodes, 0), 3, Duration::from_secs(30));
    let (_, anchored) = credex_tests::harness::attest(
        &node(&nodes, 2).url,
        s(&net.dir.join("amr.json")),
        "91350100M000100Y43",
        "abnormal-operation-listing",
        &["reason-code=annual-report"],
    );
    // a proof from a different validator verifies offline and carries ≥ 2f+1 = 3 signatures
    wait_height(node(&nodes, 1), anchored, Duration::from_secs(20));
    let proof = net.dir.join("s.proof");
    status_proof(&node(&nodes, 1).url, &proof);
    let out = credex(&["verify", s(&proof), "--genesis", s(&net.genesis), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["outcome"], "listed");
    assert!(v["verdict"]["facts"]["signers"].as_array().unwrap().len() >= 3);
    // and a certificate stripped below 2f+1 is rejected
    let mut p = credex_proof::CreditProof::from_text(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    p.anchor.certificate.signatures.truncate(2);
    std::fs::write(&proof, p.to_text()).unwrap();
    let (code, text) = verify(&proof, s(&net.genesis));
    assert_eq!(code, 2, "{text}");

    // the lifecycle runs unchanged on the BFT network: a subject key bound
    // through one validator, a repair application through another, decided
    // through a third, and the case proven from the fourth
    let trader = net.dir.join("trader.json");
    let other = "ru-inn:7707083893";
    json_out(&credex(&["keygen", "--role", "subject", "--subject", other, "--out", s(&trader)]));
    let amr = net.dir.join("amr.json");
    credex_tests::harness::attest(&node(&nodes, 0).url, s(&amr), other, "abnormal-operation-listing", &[]);
    json_out(&credex(&[
        "bind-key",
        "--node",
        &node(&nodes, 0).url,
        "--registrar-key",
        s(&amr),
        "--subject-key",
        s(&trader),
        "--wait",
    ]));
    let doc = net.dir.join("doc.txt");
    std::fs::write(&doc, "annual report filed").unwrap();
    let r = json_out(&credex(&[
        "repair",
        "--node",
        &node(&nodes, 3).url,
        "--key",
        s(&trader),
        "--list",
        "abnormal-operation",
        "--statement",
        s(&doc),
        "--wait",
    ]));
    let case = r["case"].as_str().unwrap().to_string();
    let d = json_out(&credex(&[
        "decide",
        "--node",
        &node(&nodes, 1).url,
        "--key",
        s(&amr),
        "--case",
        &case,
        "--kind",
        "abnormal-operation-removal",
        "--wait",
    ]));
    wait_height(node(&nodes, 2), d["height"].as_u64().unwrap(), Duration::from_secs(20));
    let cp = net.dir.join("case.proof");
    json_out(&credex(&["--auth", s(&trader), "case", &case, "--node", &node(&nodes, 2).url, "--proof", s(&cp)]));
    let out = credex(&["verify", s(&cp), "--genesis", s(&net.genesis), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["facts"]["case"]["status"], "approved", "{v}");
    assert!(v["verdict"]["facts"]["signers"].as_array().unwrap().len() >= 3);

    // governance needs more than 2/3 of the validators: 2 of 4 approvals are refused, 3 pass
    let tax = net.dir.join("tax.json");
    json_out(&credex(&["keygen", "--agency", "cn-sfh-tax", "--out", s(&tax)]));
    let prop = net.dir.join("add-tax.json");
    json_out(&credex(&[
        "gov",
        "propose",
        "--node",
        &node(&nodes, 0).url,
        "--out",
        s(&prop),
        "add-issuer",
        "--key",
        s(&tax),
        "--names",
        "税务局|Налоговая|Tax",
        "--jurisdiction",
        "CN",
        "--kinds",
        "administrative-licence",
    ]));
    for i in [0, 3] {
        json_out(&credex(&[
            "gov",
            "approve",
            s(&prop),
            "--key",
            s(&net.dir.join(format!("v{i}.json"))),
            "--genesis",
            s(&net.genesis),
        ]));
    }
    let o = credex(&["--auth", s(&amr), "gov", "submit", s(&prop), "--node", &node(&nodes, 1).url, "--wait"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("insufficient-approvals"));
    json_out(&credex(&[
        "gov",
        "approve",
        s(&prop),
        "--key",
        s(&net.dir.join("v1.json")),
        "--genesis",
        s(&net.genesis),
    ]));
    json_out(&credex(&["--auth", s(&amr), "gov", "submit", s(&prop), "--node", &node(&nodes, 1).url, "--wait"]));
    // the new issuer's attestation is anchored (the helper waits for it)
    credex_tests::harness::attest(&node(&nodes, 3).url, s(&tax), "91350100M000100Y43", "administrative-licence", &[]);

    // n4f1: kill -9 the proposer of the next height (twice, two different
    // validators); the rest keep going, the restarted one catches up
    let mut killed = Vec::new();
    for _ in 0..2 {
        let next = height(node(&nodes, 1)) + 1;
        let mut victim = usize::try_from(next % 4).unwrap();
        if killed.contains(&victim) {
            victim = (victim + 1) % 4;
        }
        killed.push(victim);
        nodes[victim] = None;
        let alive = (victim + 1) % 4;
        let h = height(node(&nodes, alive));
        wait_height(node(&nodes, alive), h + 3, Duration::from_secs(45));
        nodes[victim] = Some(net.start(victim));
        let target = height(node(&nodes, alive));
        wait_height(node(&nodes, victim), target, Duration::from_secs(45));
    }

    // two of four down: nothing finalizes; one comes back: progress resumes
    nodes[2] = None;
    nodes[3] = None;
    std::thread::sleep(Duration::from_secs(3));
    let stalled = height(node(&nodes, 0));
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(height(node(&nodes, 0)), stalled, "no block finalizes with 2 of 4");
    assert_eq!(height(node(&nodes, 1)), stalled);
    nodes[2] = Some(net.start(2));
    wait_height(node(&nodes, 0), stalled + 2, Duration::from_secs(60));
    nodes[3] = Some(net.start(3));
    let top = height(node(&nodes, 0));
    for i in 0..4 {
        wait_height(node(&nodes, i), top, Duration::from_secs(45));
    }

    // a late-joining observer syncs from genesis and serves a proof that verifies
    let observer = net.start_observer();
    wait_height(&observer, top, Duration::from_secs(45));
    let op = net.dir.join("o.proof");
    status_proof(&observer.url, &op);
    assert_eq!(verify(&op, s(&net.genesis)).0, 1, "listed, verified offline");
    assert_eq!(block_id(&observer, top), block_id(node(&nodes, 0), top));
    drop(observer);

    // the same observer on a new disk starts from a snapshot (spec §10.6):
    // at a certified height without the blocks below it, the same proofs,
    // then following the blocks after it
    let log = net.dir.join("synced-observer.log");
    let synced = net.start_observer_with(
        "synced-observer",
        &["--state-sync"],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("state sync done"), "{text}");
    let base = height(&synced);
    assert!(base >= top, "synced to {base}, the validators were at {top}");
    let (code, _) = get(&synced.url, "/v1/blocks/1");
    assert_eq!(code, 404, "blocks below the snapshot are not held");
    assert_eq!(block_id(&synced, base), block_id(node(&nodes, 0), base));
    let sp = net.dir.join("s.proof");
    status_proof(&synced.url, &sp);
    assert_eq!(verify(&sp, s(&net.genesis)).0, 1, "listed, verified offline from the synced observer");
    wait_height(&synced, base + 2, Duration::from_secs(45));
    assert_eq!(block_id(&synced, base + 2), block_id(node(&nodes, 0), base + 2));

    // no fork: every node has the identical block at every height
    for h in 1..=top {
        let id = block_id(node(&nodes, 0), h);
        assert!(!id.is_empty());
        for i in 1..4 {
            assert_eq!(block_id(node(&nodes, i), h), id, "height {h} differs on validator {i}");
        }
    }
}

/// A TCP relay from a local port to a node's p2p port that the test can cut
/// (closing live connections and refusing new ones) and restore.
struct Link {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    live: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Link {
    fn new(target_port: u16) -> Link {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let live = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, l) = (cut.clone(), live.clone());
        std::thread::spawn(move || {
            for inbound in listener.incoming() {
                let Ok(inbound) = inbound else { continue };
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let Ok(outbound) = std::net::TcpStream::connect(("127.0.0.1", target_port)) else { continue };
                let mut streams = l.lock().unwrap();
                streams.push(inbound.try_clone().unwrap());
                streams.push(outbound.try_clone().unwrap());
                for (mut from, mut to) in
                    [(inbound.try_clone().unwrap(), outbound.try_clone().unwrap()), (outbound, inbound)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Link { port, cut, live }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::SeqCst);
        if cut {
            for s in self.live.lock().unwrap().drain(..) {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// Proposes a validator-set change on `url`, approves it with the keys of
/// validators `approvers` (indices in the set in force, read from `url`)
/// and submits it, waiting until it is on chain.
fn change_validators(net: &Net, url: &str, name: &str, action: &[&str], approvers: &[&str]) {
    let prop = net.dir.join(format!("{name}.json"));
    let mut args = vec!["gov", "propose", "--node", url, "--out", s(&prop)];
    args.extend_from_slice(action);
    json_out(&credex(&args));
    for key in approvers {
        json_out(&credex(&["gov", "approve", s(&prop), "--key", key, "--genesis", s(&net.genesis), "--node", url]));
    }
    json_out(&credex(&["--auth", s(&net.dir.join("amr.json")), "gov", "submit", s(&prop), "--node", url, "--wait"]));
}

fn validators(url: &str) -> Vec<String> {
    let (code, v) = get(url, "/v1/validators");
    let set = v["set"]["validators"].as_array().unwrap_or_else(|| panic!("{url}: /v1/validators {code}: {v}"));
    set.iter().map(|v| v["agency"].as_str().unwrap().to_string()).collect()
}

#[test]
fn n4_a_validator_is_removed_another_rotates_its_key_and_proofs_verify_from_genesis() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path(), 4);
    let mut nodes: Vec<Option<Node>> = (0..4).map(|i| Some(net.start(i))).collect();
    wait_height(node(&nodes, 0), 2, Duration::from_secs(30));
    let key = |i: usize| net.dir.join(format!("v{i}.json")).to_str().unwrap().to_string();
    let (k0, k1, k2) = (key(0), key(1), key(2));

    // 2 of 4 approvals do not remove a validator; 3 of 4 do
    let prop = net.dir.join("weak.json");
    let url0 = node(&nodes, 0).url.clone();
    json_out(&credex(&[
        "gov",
        "propose",
        "--node",
        &url0,
        "--out",
        s(&prop),
        "remove-validator",
        "--agency",
        "agency-3",
    ]));
    for k in [&k0, &k1] {
        json_out(&credex(&["gov", "approve", s(&prop), "--key", k, "--genesis", s(&net.genesis), "--node", &url0]));
    }
    let o = credex(&["--auth", s(&net.dir.join("amr.json")), "gov", "submit", s(&prop), "--node", &url0, "--wait"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("insufficient-approvals"));
    change_validators(&net, &url0, "remove-3", &["remove-validator", "--agency", "agency-3"], &[&k0, &k1, &k2]);
    for i in 0..4 {
        let want = vec!["agency-0", "agency-1", "agency-2"];
        let start = Instant::now();
        while validators(&node(&nodes, i).url) != want {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "validator {i} still has {:?}",
                validators(&node(&nodes, i).url)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // the removed validator follows without voting; without it the three go on
    let h = height(node(&nodes, 0));
    wait_height(node(&nodes, 3), h + 2, Duration::from_secs(30));
    nodes[3] = None;
    wait_height(node(&nodes, 0), h + 4, Duration::from_secs(45));

    // validator 2 rotates its consensus key (approved by the three in force) and restarts with it
    let new2 = net.dir.join("v2-new.json");
    json_out(&credex(&["keygen", "--agency", "agency-2", "--role", "validator", "--out", s(&new2)]));
    change_validators(&net, &url0, "rotate-2", &["rotate-validator-key", "--key", s(&new2)], &[&k0, &k1, &k2]);
    std::fs::copy(&new2, &k2).unwrap();
    nodes[2] = None;
    nodes[2] = Some(net.start(2));
    let h = height(node(&nodes, 0));
    wait_height(node(&nodes, 2), h + 3, Duration::from_secs(60));

    // a proof made now verifies offline from the genesis file alone,
    // following the two set changes and signed by the new key
    let (_, anchored) = credex_tests::harness::attest(
        &node(&nodes, 1).url,
        s(&net.dir.join("amr.json")),
        "91350100M000100Y43",
        "abnormal-operation-listing",
        &["reason-code=annual-report"],
    );
    wait_height(node(&nodes, 2), anchored, Duration::from_secs(30));
    let proof = net.dir.join("after.proof");
    status_proof(&node(&nodes, 2).url, &proof);
    let out = credex(&["verify", s(&proof), "--genesis", s(&net.genesis), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "listed, verified: {v}");
    assert_eq!(v["verdict"]["facts"]["set_changes"], 2, "{v}");
    let signers = v["verdict"]["facts"]["signers"].as_array().unwrap();
    assert_eq!(signers.len(), 3, "all three validators in force sign: {v}");
    // a proof whose set-change chain is cut no longer verifies
    let text = std::fs::read_to_string(&proof).unwrap();
    let mut p = credex_proof::CreditProof::from_text(text.trim()).unwrap();
    p.anchor.set_changes.remove(0);
    let cut = net.dir.join("cut.proof");
    std::fs::write(&cut, p.to_text()).unwrap();
    let (code, _) = verify(&cut, s(&net.genesis));
    assert_ne!(code, 0);
    assert_ne!(code, 1);

    // a partner takes a checkpoint after the rotation (checked against the
    // genesis), blocks after that proof: a newer proof verifies from it, the
    // older one is refused
    let proof_height = credex_proof::CreditProof::from_text(text.trim()).unwrap().anchor.header.height;
    wait_height(node(&nodes, 0), proof_height + 2, Duration::from_secs(30));
    let cp = net.dir.join("after.checkpoint");
    let c = json_out(&credex(&[
        "checkpoint",
        "--node",
        &node(&nodes, 0).url,
        "--out",
        s(&cp),
        "--genesis",
        s(&net.genesis),
    ]));
    assert_eq!(c["validators"], 3, "{c}");
    let checkpoint_height = c["height"].as_u64().unwrap();
    wait_height(node(&nodes, 2), checkpoint_height + 1, Duration::from_secs(30));
    let newer = net.dir.join("newer.proof");
    status_proof(&node(&nodes, 2).url, &newer);
    let out = credex(&["verify", s(&newer), "--genesis", s(&net.genesis), "--checkpoint", s(&cp), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "listed, verified from the checkpoint: {v}");
    assert_eq!(v["verdict"]["facts"]["checkpoint"], checkpoint_height, "{v}");
    assert_eq!(v["verdict"]["facts"]["set_changes"], 0, "no change since the checkpoint: {v}");
    let out = credex(&["verify", s(&proof), "--genesis", s(&net.genesis), "--checkpoint", s(&cp), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((out.status.code(), &v["error"]["code"]), (Some(2), &serde_json::json!("before-checkpoint")), "{v}");
}

#[test]
fn n4_a_validator_crashed_at_its_consensus_log_steps_restarts_without_equivocating() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path(), 4);
    let mut nodes: Vec<Option<Node>> = (0..3).map(|i| Some(net.start(i))).chain([None]).collect();
    wait_height(node(&nodes, 0), 2, Duration::from_secs(45));
    for point in ["wal-before-sync:7", "wal-after-sync:7"] {
        // validator 3 dies at its seventh consensus-log sync (mid-height, votes cast)
        let mut armed = net.start_armed(3, point);
        let start = Instant::now();
        while armed.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(60), "{point}: never reached");
            std::thread::sleep(Duration::from_millis(100));
        }
        // restarted from its data directory: it replays its log and votes on
        nodes[3] = Some(net.start(3));
        let h = height(node(&nodes, 0));
        wait_height(node(&nodes, 3), h + 2, Duration::from_secs(60));
        nodes[3] = None;
    }
    // nobody saw validator 3 sign two different things: no evidence on chain
    let top = height(node(&nodes, 0));
    for h in 1..=top {
        let (_, b) = get(&node(&nodes, 0).url, &format!("/v1/blocks/{h}"));
        let txs = b["transactions"].as_array().unwrap_or_else(|| panic!("block {h}: {b}"));
        assert!(txs.iter().all(|t| t["type"] != "evidence"), "evidence of equivocation at height {h}: {b}");
    }
}

/// A validator whose disk falls below its floor while the network runs is
/// suspended — it commits, logs and votes nothing — yet serves reads and
/// proofs; when space returns it recovers from its consensus log, catches
/// up and votes again: with another validator down, progress needs it.
#[test]
fn n4_a_validator_below_its_disk_floor_is_suspended_and_rejoins_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path(), 4);
    // the floor well below the free space now; the filler crosses it
    let disk = credex_tests::harness::DiskSqueeze::take(tmp.path());
    let floor = disk.floor_mb.to_string();
    let mut nodes: Vec<Option<Node>> = (0..3).map(|i| Some(net.start(i))).collect();
    nodes.push(Some(net.start_with(3, &["--min-free-disk-mb", &floor])));
    wait_height(node(&nodes, 3), 2, Duration::from_secs(60));
    disk.fill();
    let low = node(&nodes, 3);
    let start = Instant::now();
    while get(&low.url, "/readyz").0 != 503 {
        assert!(start.elapsed() < Duration::from_secs(20), "validator 3 never went read-only");
        std::thread::sleep(Duration::from_millis(200));
    }
    // a block already being committed may still land; then nothing more
    std::thread::sleep(Duration::from_secs(3));
    let stuck = height(low);
    wait_height(node(&nodes, 0), stuck + 3, Duration::from_secs(60));
    assert_eq!(height(low), stuck, "a read-only validator went on committing blocks");
    let (_, ready) = get(&low.url, "/readyz");
    assert_eq!(ready["read_only"].as_bool(), Some(true), "{ready}");
    status_proof(&low.url, &tmp.path().join("read-only.proof"));
    // space returns; validator 0 goes down: 1, 2 and 3 must agree to progress
    disk.release();
    nodes[0] = None;
    let h = height(node(&nodes, 1));
    wait_height(node(&nodes, 3), h + 3, Duration::from_secs(90));
    wait_height(node(&nodes, 1), h + 3, Duration::from_secs(30));
    assert_eq!(block_id(node(&nodes, 1), h + 3), block_id(node(&nodes, 3), h + 3));
}

#[test]
fn n4_partition_two_two_then_heal() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path(), 4);
    // every connection i -> j goes through a relay the test controls
    let ports: Vec<u16> =
        net.p2p.iter().map(|a| a.split("/tcp/").nth(1).unwrap().split('/').next().unwrap().parse().unwrap()).collect();
    let ids: Vec<String> = net.p2p.iter().map(|a| a.split("/p2p/").nth(1).unwrap().to_string()).collect();
    let mut links = std::collections::HashMap::new();
    let mut nodes = Vec::new();
    for i in 0..4 {
        let mut peers = Vec::new();
        for j in (0..4).filter(|j| *j != i) {
            let link = Link::new(ports[j]);
            peers.push(format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", link.port, ids[j]));
            links.insert((i, j), link);
        }
        nodes.push(net.start_with_peers(i, &peers, &[]));
    }
    wait_height(&nodes[0], 3, Duration::from_secs(30));

    // partition {0,1} | {2,3}
    let side = |i: usize| i < 2;
    for ((i, j), link) in &links {
        if side(*i) != side(*j) {
            link.set_cut(true);
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let before: Vec<u64> = nodes.iter().map(height).collect();
    std::thread::sleep(Duration::from_secs(6));
    let after: Vec<u64> = nodes.iter().map(height).collect();
    assert_eq!(before, after, "no block finalizes in a 2|2 partition");
    // no fork: wherever two nodes have a block at the same height it is the same block
    let low = *after.iter().min().unwrap();
    for h in 1..=low {
        let id = block_id(&nodes[0], h);
        for n in &nodes[1..] {
            assert_eq!(block_id(n, h), id, "fork at height {h}");
        }
    }

    // heal: progress resumes and all agree
    for link in links.values() {
        link.set_cut(false);
    }
    let stalled = *after.iter().max().unwrap();
    for n in &nodes {
        wait_height(n, stalled + 2, Duration::from_secs(90));
    }
    let top = nodes.iter().map(height).min().unwrap();
    for h in 1..=top {
        let id = block_id(&nodes[0], h);
        for n in &nodes[1..] {
            assert_eq!(block_id(n, h), id, "fork at height {h} after healing");
        }
    }
}
