//! `credex dev` end to end, as a real process with a real RocksDB and HTTP:
//! attest, prove, verify offline, revoke, idempotent resubmission, hostile
//! input, `kill -9` and restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_credex");

pub(crate) struct DevNode {
    child: Child,
    pub(crate) url: String,
    dir: PathBuf,
}

/// Starts `credex ARGS` with stderr to `log` and waits until its API on
/// `http_port` answers; returns the process and the API's base URL.
pub(crate) fn spawn_credex(args: &[String], http_port: u16, log: Stdio) -> (Child, String) {
    let child = Command::new(BIN).args(args).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    let url = format!("http://127.0.0.1:{http_port}");
    let start = Instant::now();
    while get(&url, "/healthz").0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(30), "credex {args:?} did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, url)
}

impl DevNode {
    pub(crate) fn start(dir: &Path, port: u16) -> DevNode {
        let args = ["dev", "--data", dir.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")].map(String::from);
        let (child, url) = spawn_credex(&args, port, Stdio::null());
        DevNode { child, url, dir: dir.to_path_buf() }
    }

    pub(crate) fn key(&self, agency: &str) -> String {
        self.dir.join("keys").join(format!("{agency}.json")).to_str().unwrap().to_string()
    }

    pub(crate) fn genesis(&self) -> String {
        self.dir.join("genesis.toml").to_str().unwrap().to_string()
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

pub(crate) fn get(url: &str, path: &str) -> (u16, Value) {
    match agent().get(format!("{url}{path}")).call() {
        Ok(mut r) => (r.status().as_u16(), r.body_mut().read_json().unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    }
}

pub(crate) fn post(url: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut r = agent().post(format!("{url}{path}")).content_type("application/json").send(body).unwrap();
    (r.status().as_u16(), r.body_mut().read_json().unwrap_or(Value::Null))
}

pub(crate) fn credex(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

pub(crate) fn json_out(o: &Output) -> Value {
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

pub(crate) fn verify(file: &Path, genesis: &str) -> (i32, String) {
    let o = credex(&["verify", file.to_str().unwrap(), "--genesis", genesis]);
    (o.status.code().unwrap(), String::from_utf8(o.stdout).unwrap())
}

#[test]
fn dev_chain_end_to_end_with_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let port = free_port();
    let node = DevNode::start(&dir, port);
    let amr = node.key("cn-sfh-amr");
    let g = node.genesis();

    // list a trader
    let a = json_out(&credex(&[
        "attest",
        "--node",
        &node.url,
        "--key",
        &amr,
        "--subject",
        "91350100M000100Y43",
        "--kind",
        "abnormal-operation-listing",
        "--field",
        "reason-code=annual-report",
        "--field",
        "decision-no=17",
        "--wait",
    ]));
    assert_eq!(a["status"], "anchored");
    let id = a["id"].as_str().unwrap().to_string();
    let h1 = a["height"].as_u64().unwrap();

    // attestation proof, one field disclosed, verifies offline
    let p1 = tmp.path().join("p1.txt");
    json_out(&credex(&[
        "proof",
        "attestation",
        &id,
        "--node",
        &node.url,
        "--disclose",
        "reason-code",
        "--out",
        p1.to_str().unwrap(),
    ]));
    let (code, text) = verify(&p1, &g);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("annual-report") && !text.contains("decision-no"), "{text}");

    // list status: listed (exit 1), and a clean trader (non-membership, exit 0)
    let p2 = tmp.path().join("p2.txt");
    let s = json_out(&credex(&[
        "proof",
        "status",
        "--node",
        &node.url,
        "--subject",
        "91350100M000100Y43",
        "--list",
        "abnormal-operation",
        "--out",
        p2.to_str().unwrap(),
    ]));
    assert_eq!(s["listed"], true);
    assert_eq!(verify(&p2, &g).0, 1);
    let p3 = tmp.path().join("p3.txt");
    json_out(&credex(&[
        "proof",
        "status",
        "--node",
        &node.url,
        "--subject",
        "ru-inn:7707083893",
        "--list",
        "abnormal-operation",
        "--out",
        p3.to_str().unwrap(),
    ]));
    assert_eq!(verify(&p3, &g).0, 0);

    // a certificate with its only signature removed is rejected offline
    let proof = std::fs::read_to_string(&p1).unwrap();
    let mut parsed = credex_proof::CreditProof::from_text(&proof).unwrap();
    parsed.anchor.certificate.signatures.clear();
    let stripped = tmp.path().join("stripped.txt");
    std::fs::write(&stripped, parsed.to_text()).unwrap();
    let (code, text) = verify(&stripped, &g);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("insufficient-signatures"), "{text}");

    // the listing keeps its anchor height
    let (_, info) = get(&node.url, &format!("/v1/attestations/{id}"));
    assert_eq!(info["height"].as_u64(), Some(h1));

    // revoke: the listing's proof now says revoked, and the trader is off the list
    let r = json_out(&credex(&["revoke", "--node", &node.url, "--key", &amr, &id, "--wait"]));
    assert_eq!(r["status"], "anchored");
    let p4 = tmp.path().join("p4.txt");
    json_out(&credex(&["proof", "attestation", &id, "--node", &node.url, "--out", p4.to_str().unwrap()]));
    let (code, text) = verify(&p4, &g);
    assert_eq!(code, 1);
    assert!(text.starts_with("REVOKED"), "{text}");
    let (_, st) = get(&node.url, "/v1/lists/abnormal-operation/91350100M000100Y43");
    assert_eq!(st["listed"], false);
    let height_before = get(&node.url, "/v1/status").1["height"].as_u64().unwrap();

    // kill -9 and restart on the same directory: same chain, same height, proofs still served
    drop(node);
    let node = DevNode::start(&dir, free_port());
    let (_, status) = get(&node.url, "/v1/status");
    assert_eq!(status["height"].as_u64(), Some(height_before));
    let p5 = tmp.path().join("p5.txt");
    json_out(&credex(&["proof", "attestation", &id, "--node", &node.url, "--out", p5.to_str().unwrap()]));
    assert_eq!(verify(&p5, &g).0, 1);
    // and the chain continues
    let b = json_out(&credex(&[
        "attest",
        "--node",
        &node.url,
        "--key",
        &node.key("cn-sfh-customs"),
        "--subject",
        "ru-inn:7707083893",
        "--kind",
        "administrative-penalty",
        "--field",
        "amount=20000",
        "--wait",
    ]));
    assert_eq!(b["height"].as_u64(), Some(height_before + 1));
    let (_, subject) = get(&node.url, "/v1/subjects/ru-inn:7707083893");
    assert_eq!(subject["attestations"].as_array().unwrap().len(), 1);
    let (code, block) = get(&node.url, &format!("/v1/blocks/{}", height_before + 1));
    assert_eq!(code, 200);
    assert_eq!(block["certificate"]["signatures"].as_array().unwrap().len(), 1);
}

#[test]
fn hostile_and_invalid_input_gets_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let u = &node.url;

    let (code, v) = post(u, "/v1/attestations", b"{not json");
    assert_eq!((code, v["code"].as_str()), (400, Some("malformed")));
    let (code, v) = post(u, "/v1/attestations", &vec![b'a'; 70_000]);
    assert_eq!((code, v["code"].as_str()), (413, Some("too-large")));
    assert_eq!(get(u, "/v1/attestations/zz").0, 400);
    assert_eq!(get(u, &format!("/v1/attestations/{}", "0".repeat(64))).0, 404);
    assert_eq!(get(u, "/v1/lists/abnormal-operation/91350100M000100Y44").1["code"], "invalid-subject");
    assert_eq!(get(u, "/v1/lists/grey/91350100M000100Y43").1["code"], "invalid-list");
    assert_eq!(get(u, "/v1/blocks/1").0, 404);
    assert_eq!(get(u, "/v1/nowhere").0, 404);

    // a well-formed attestation for another chain, by an unknown issuer, or forged
    let mut fx = credex_tests::Fixture::new("hostile");
    let foreign = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        credex_types::AttestationKind::AdministrativeLicence,
        &[("note", "x")],
        None,
    );
    let (code, v) = post(u, "/v1/attestations", serde_json::to_string(&foreign).unwrap().as_bytes());
    assert_eq!((code, v["code"].as_str()), (400, Some("wrong-chain")));
    let mut local = foreign.clone();
    local.header.chain_id = "credex-dev".parse().unwrap();
    let forged = credex_types::Attestation::sign(
        local.header.clone(),
        local.claims.clone(),
        &credex_crypto::SecretKey::from_seed([3; 32]),
    )
    .unwrap();
    let (code, v) = post(u, "/v1/attestations", serde_json::to_string(&forged).unwrap().as_bytes());
    assert_eq!((code, v["code"].as_str()), (400, Some("bad-signature")));
    let mut stranger = local.clone();
    stranger.header.issuer = "cn-sfh-tax".parse().unwrap();
    let stranger = credex_types::Attestation::sign(
        stranger.header,
        stranger.claims,
        &credex_crypto::SecretKey::from_seed([3; 32]),
    )
    .unwrap();
    let (code, v) = post(u, "/v1/attestations", serde_json::to_string(&stranger).unwrap().as_bytes());
    assert_eq!((code, v["code"].as_str()), (400, Some("unknown-issuer")));
    // the node is still serving
    assert_eq!(get(u, "/healthz").0, 200);
}

#[test]
fn conflicting_listings_second_is_refused_whenever_it_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let args = |wait: bool| {
        let mut a = vec![
            "attest",
            "--node",
            &node.url,
            "--key",
            &amr,
            "--subject",
            "ru-ogrn:1027700132195",
            "--kind",
            "serious-violation-listing",
        ];
        if wait {
            a.push("--wait");
        }
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    // Both may be admitted before a block is built (then the second is
    // dropped at block time) or the first may be final already (then the
    // second is refused at admission): either way the answer is already-listed.
    let first = Command::new(BIN).args(args(false)).output().unwrap();
    assert!(first.status.success());
    let second = Command::new(BIN).args(args(true)).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8(second.stderr).unwrap();
    assert!(err.contains("already-listed"), "{err}");
    let (_, st) = get(&node.url, "/v1/lists/serious-violation/ru-ogrn:1027700132195");
    assert_eq!(st["listed"], true);
    assert_eq!(st["record"]["times_listed"], 1);
}

#[test]
fn resubmission_returns_the_same_id_and_anchor() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    // sign once with the dev issuer key, post the same bytes twice
    let key: Value = serde_json::from_str(&std::fs::read_to_string(node.key("cn-sfh-ftz")).unwrap()).unwrap();
    let mut seed = [0u8; 32];
    hex::decode_to_slice(key["secret_seed"].as_str().unwrap(), &mut seed).unwrap();
    let sk = credex_crypto::SecretKey::from_seed(seed);
    let header = credex_types::AttestationHeader {
        version: 1,
        chain_id: "credex-dev".parse().unwrap(),
        issuer: "cn-sfh-ftz".parse().unwrap(),
        subject: "jp-cn:7000012050002".parse().unwrap(),
        kind: credex_types::AttestationKind::AdministrativeLicence,
        effective_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        expires_at: None,
        legal_basis: "cn-admin-licensing-law".parse().unwrap(),
        supersedes: None,
        case: None,
        nonce: [4; 16],
    };
    let att = credex_types::Attestation::sign(header, vec![], &sk).unwrap();
    let body = serde_json::to_vec(&att).unwrap();
    let (c1, v1) = post(&node.url, "/v1/attestations", &body);
    assert!(c1 == 202 || c1 == 200, "{c1} {v1}");
    let start = Instant::now();
    loop {
        let (_, v) = get(&node.url, &format!("/v1/attestations/{}", att.id()));
        if v["status"] == "anchored" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(50));
    }
    let (c2, v2) = post(&node.url, "/v1/attestations", &body);
    assert_eq!(c2, 200);
    assert_eq!(v2["id"], v1["id"]);
    assert_eq!(v2["status"], "anchored");
    assert_eq!(get(&node.url, "/v1/status").1["height"], 1, "no second anchor");
}

#[test]
fn a_trickling_client_is_cut_off_and_does_not_stall_the_node() {
    use std::io::{Read as _, Write as _};
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let addr = node.url.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(b"POST /v1/attestations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"hea")
        .unwrap();
    // the node keeps serving others meanwhile
    assert_eq!(get(&node.url, "/v1/status").0, 200);
    slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let start = Instant::now();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(25));
}

#[test]
fn sigterm_stops_the_node_cleanly_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut node = DevNode::start(&dir, free_port());
    let key = node.key("cn-sfh-amr");
    let a = json_out(&credex(&[
        "attest",
        "--node",
        &node.url,
        "--key",
        &key,
        "--subject",
        "7707083893",
        "--kind",
        "administrative-licence",
        "--wait",
    ]));
    let term = Command::new("kill").args(["-TERM", &node.child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = node.child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status:?}");
    drop(node);
    let node = DevNode::start(&dir, free_port());
    let (_, v) = get(&node.url, &format!("/v1/attestations/{}", a["id"].as_str().unwrap()));
    assert_eq!(v["status"], "anchored");
    assert_eq!(v["fields_held"], true);
}
