//! `credex dev` end to end, as a real process with a real RocksDB and HTTP:
//! attest, prove, verify offline, revoke, idempotent resubmission, hostile
//! input, `kill -9` and restart.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) use credex_tests::harness::*;

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
        "--auth",
        &amr,
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
    let (_, info) = get_as(&node.url, &format!("/v1/attestations/{id}"), &amr);
    assert_eq!(info["height"].as_u64(), Some(h1));

    // revoke: the listing's proof now says revoked, and the trader is off the list
    let r = json_out(&credex(&["revoke", "--node", &node.url, "--key", &amr, &id, "--wait"]));
    assert_eq!(r["status"], "anchored");
    let p4 = tmp.path().join("p4.txt");
    json_out(&credex(&[
        "--auth",
        &amr,
        "proof",
        "attestation",
        &id,
        "--node",
        &node.url,
        "--out",
        p4.to_str().unwrap(),
    ]));
    let (code, text) = verify(&p4, &g);
    assert_eq!(code, 1);
    assert!(text.starts_with("REVOKED"), "{text}");
    let (_, st) = get(&node.url, "/v1/lists/abnormal-operation/91350100M000100Y43");
    assert_eq!(st["listed"], false);
    let height_before = get(&node.url, "/v1/status").1["height"].as_u64().unwrap();
    let block_before = get(&node.url, &format!("/v1/blocks/{height_before}")).1["id"].clone();

    // kill -9 and restart on the same directory: same chain, nothing lost, proofs still served
    // (the node's own audit anchors may add blocks at any time)
    drop(node);
    let node = DevNode::start(&dir, free_port());
    let (_, status) = get(&node.url, "/v1/status");
    assert!(status["height"].as_u64().unwrap() >= height_before);
    assert_eq!(get(&node.url, &format!("/v1/blocks/{height_before}")).1["id"], block_before);
    let p5 = tmp.path().join("p5.txt");
    json_out(&credex(&[
        "--auth",
        &amr,
        "proof",
        "attestation",
        &id,
        "--node",
        &node.url,
        "--out",
        p5.to_str().unwrap(),
    ]));
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
    assert!(b["height"].as_u64().unwrap() > height_before);
    let (_, subject) = get_as(&node.url, "/v1/subjects/ru-inn:7707083893", &amr);
    assert_eq!(subject["attestations"].as_array().unwrap().len(), 1);
    let (code, block) = get(&node.url, &format!("/v1/blocks/{}", b["height"].as_u64().unwrap()));
    assert_eq!(code, 200);
    assert_eq!(block["certificate"]["signatures"].as_array().unwrap().len(), 1);
    // the public see the chain, not whom its transactions concern; a role sees them whole
    assert_eq!(block["redacted"], true);
    let anchor =
        |v: &Value| v["transactions"].as_array().unwrap().iter().find(|t| t["id"] == b["id"]).cloned().unwrap();
    let public = anchor(&block);
    assert!(public["tx"].is_null() && public["type"] == "anchor", "{public}");
    let whole = get_as(&node.url, &format!("/v1/blocks/{}", b["height"].as_u64().unwrap()), &amr).1;
    assert_eq!(anchor(&whole)["tx"]["header"]["subject"], "ru-inn:7707083893");
}

#[test]
fn hostile_and_invalid_input_gets_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let u = &node.url;
    let amr = node.key("cn-sfh-amr");
    let post = |u: &str, path: &str, body: &[u8]| post_as(u, path, body, &amr);

    // unsigned, badly signed, replayed, skewed: refused before anything is parsed
    let (code, v) = crate::dev_node::post(u, "/v1/attestations", b"{}");
    assert_eq!((code, v["code"].as_str()), (401, Some("unauthenticated")));
    let headers = sign(u, "POST", "/v1/attestations", b"{not json", &amr);
    let send = |headers: &[(&'static str, String)]| {
        let mut req = agent().post(format!("{u}/v1/attestations")).content_type("application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let mut r = req.send(&b"{not json"[..]).unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_json::<Value>().unwrap_or(Value::Null)["code"].as_str().map(str::to_string),
        )
    };
    assert_eq!(send(&headers), (400, Some("malformed".into())));
    assert_eq!(send(&headers), (409, Some("replay".into())), "the same nonce again");
    let mut forged = headers.clone();
    forged[3].1 = sign(u, "POST", "/v1/attestations", b"{other", &amr)[3].1.clone();
    forged[2].1 = hex::encode([9u8; 16]);
    assert_eq!(send(&forged), (401, Some("bad-request-signature".into())));
    let mut other_time = sign(u, "POST", "/v1/attestations", b"{not json", &amr);
    other_time[1].1 = "1000".into();
    assert_eq!(send(&other_time), (401, Some("bad-request-signature".into())), "the time is signed");
    let stale = sign_at(u, "POST", "/v1/attestations", b"{not json", &amr, 1_000);
    assert_eq!(send(&stale), (401, Some("stale-request".into())), "signed, but 56 years ago");
    let mut unknown = headers.clone();
    unknown[0].1 = "nobody".into();
    assert_eq!(send(&unknown), (401, Some("unknown-client".into())));
    // a platform may not submit attestations
    let (code, v) = post_as(u, "/v1/attestations", b"{}", &node.dir.join("keys/platform.json").to_string_lossy());
    assert_eq!((code, v["code"].as_str()), (403, Some("forbidden")));

    let (code, v) = post(u, "/v1/attestations", b"{not json");
    assert_eq!((code, v["code"].as_str()), (400, Some("malformed")));
    let (code, v) = post(u, "/v1/attestations", &vec![b'a'; 70_000]);
    assert_eq!((code, v["code"].as_str()), (413, Some("too-large")));
    assert_eq!(get_as(u, "/v1/attestations/zz", &amr).0, 400);
    assert_eq!(get_as(u, &format!("/v1/attestations/{}", "0".repeat(64)), &amr).0, 404);
    assert_eq!(get(u, &format!("/v1/attestations/{}", "0".repeat(64))).0, 401, "reading attestations needs a role");
    assert_eq!(get(u, "/v1/lists/abnormal-operation/91350100M000100Y44").1["code"], "invalid-subject");
    assert_eq!(get(u, "/v1/lists/grey/91350100M000100Y43").1["code"], "invalid-list");
    assert_eq!(get(u, "/v1/blocks/1").0, 404);
    assert_eq!(get(u, "/v1/nowhere").0, 404);

    // typed field values, checked where they are: a negative amount, a
    // score with decimals, a date that does not exist; refused by name
    for (field, value) in [("amount", "-5"), ("score", "12.5"), ("decision-date", "2025-02-30")] {
        let o = credex(&[
            "attest",
            "--node",
            u,
            "--key",
            &amr,
            "--subject",
            "91350100M000100Y43",
            "--kind",
            "administrative-penalty",
            "--field",
            &format!("{field}={value}"),
        ]);
        refused(&o, "invalid-attestation");
        assert!(String::from_utf8_lossy(&o.stderr).contains(field), "{}", String::from_utf8_lossy(&o.stderr));
    }

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
    local.header.chain_id = get(u, "/v1/status").1["chain_id"].as_str().unwrap().parse().unwrap();
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
    // an issuer may submit only its own agency's attestations (an unknown
    // issuer cannot authenticate at all)
    let (code, v) = post(u, "/v1/attestations", serde_json::to_string(&stranger).unwrap().as_bytes());
    assert_eq!((code, v["code"].as_str()), (403, Some("not-your-agency")));
    // a caller over its rate gets 429 (public: 50/s, burst 100, per address); liveness is not limited
    let codes: Vec<u16> = (0..200).map(|_| get(u, "/v1/labels").0).collect();
    assert!(codes.contains(&429), "some requests are rate-limited");
    assert!(codes.iter().take(50).all(|c| *c == 200), "the burst is served");
    let (code, v) = get(u, "/v1/labels");
    if code == 429 {
        assert_eq!(v["code"], "rate-limited");
    }
    // the refusals are counted by reason, the API timed
    let metrics = agent().get(format!("{u}/metrics")).call().unwrap().body_mut().read_to_string().unwrap();
    let count = |reason: &str| {
        let prefix = format!("credex_rejected_total{{reason=\"{reason}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0)
    };
    assert_eq!(count("unauthenticated"), 2, "{metrics}");
    assert_eq!(count("replay"), 1);
    assert!(count("rate-limited") >= 1);
    assert!(metrics.contains("credex_api_request_seconds_count{method=\"POST\",status=\"4xx\"}"), "{metrics}");
    assert_eq!(get(u, "/readyz").0, 200, "a dev node is ready once open");
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
    let first = Command::new(binary()).args(args(false)).output().unwrap();
    assert!(first.status.success());
    let second = Command::new(binary()).args(args(true)).output().unwrap();
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
    let (_, sk) = credex_api_types::KeyFile::read(std::path::Path::new(&node.key("cn-sfh-ftz"))).unwrap();
    let header = credex_types::AttestationHeader {
        version: 1,
        chain_id: get(&node.url, "/v1/status").1["chain_id"].as_str().unwrap().parse().unwrap(),
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
    let ftz = node.key("cn-sfh-ftz");
    let (c1, v1) = post_as(&node.url, "/v1/attestations", &body, &ftz);
    assert!(c1 == 202 || c1 == 200, "{c1} {v1}");
    let start = Instant::now();
    let anchored_at = loop {
        let (_, v) = get_as(&node.url, &format!("/v1/attestations/{}", att.id()), &ftz);
        if v["status"] == "anchored" {
            break v["height"].clone();
        }
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(50));
    };
    let (c2, v2) = post_as(&node.url, "/v1/attestations", &body, &ftz);
    assert_eq!(c2, 200);
    assert_eq!(v2["id"], v1["id"]);
    assert_eq!(v2["status"], "anchored");
    assert_eq!(v2["height"], anchored_at, "no second anchor");
}

#[test]
fn a_trickling_client_is_cut_off_and_does_not_stall_the_node() {
    use std::io::{Read as _, Write as _};
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let addr = node.url.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    // credentials make the node read the body before it checks them
    slow.write_all(b"POST /v1/attestations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Credex-Client: cn-sfh-amr\r\nX-Credex-Time: 1\r\nX-Credex-Nonce: 00\r\nX-Credex-Signature: 00\r\nContent-Length: 1000\r\n\r\n{\"hea")
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
fn a_node_refuses_to_start_on_a_nearly_full_disk_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = tmp.path().join("dev");
    let out = Command::new(binary())
        .args(["dev", "--data", data.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")])
        // a floor no machine has: the check must refuse, naming the numbers and the way out
        .args(["--min-free-disk-mb", "4000000000"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the node started although the disk is below the floor");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MiB free") && err.contains("4000000000 MiB needed"), "{err}");
    assert!(err.contains("--min-free-disk-mb"), "{err}");
    assert!(!data.join("db").exists(), "nothing is written before the check");
    // the same for `credex node`, from the environment
    let out = Command::new(binary())
        .args(["node", "--genesis", "nonexistent.toml", "--data", data.to_str().unwrap()])
        .env("CREDEX_MIN_FREE_DISK_MB", "4000000000")
        .args(["--p2p-key", "k.json", "--listen", "/ip4/127.0.0.1/tcp/1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("4000000000 MiB needed"));
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
    let (_, v) = get_as(&node.url, &format!("/v1/attestations/{}", a["id"].as_str().unwrap()), &key);
    assert_eq!(v["status"], "anchored");
    assert_eq!(v["fields_held"], true);
}

#[test]
fn csv_import_is_idempotent_and_export_and_report_follow() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let csv = tmp.path().join("abnormal.csv");
    std::fs::write(
        &csv,
        "subject,effective_at,reason-code,decision-no\n\
         91350100M000100Y43,2026-03-01T00:00:00Z,annual-report,A-1\n\
         91350100M000100Y43,2026-03-01T00:00:00Z,annual-report,A-1\n\
         ru-inn:7707083893,2026-03-02T00:00:00Z,unreachable-address,B-2\n\
         ru-inn:7707083894,2026-03-02T00:00:00Z,annual-report,C-3\n\
         jp-cn:7000012050002,2026-03-04T00:00:00Z,annual-report,D-4\n",
    )
    .unwrap();
    let import = || {
        credex(&[
            "import",
            csv.to_str().unwrap(),
            "--node",
            &node.url,
            "--key",
            &amr,
            "--kind",
            "abnormal-operation-listing",
        ])
    };
    let first = import();
    assert_eq!(first.status.code(), Some(1), "a row was rejected");
    let r: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!((r["rows"].as_u64(), r["records"].as_u64(), r["merged_rows"].as_u64()), (Some(5), Some(3), Some(1)));
    assert_eq!(r["submitted"], 3);
    assert_eq!(r["rejected"][0]["line"], 5);
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("check digit"));
    assert!(String::from_utf8_lossy(&first.stderr).contains("3/3 submitted"), "progress bar");
    // wait until they are on chain, then import again: nothing new
    let start = Instant::now();
    while get(&node.url, "/v1/lists/abnormal-operation").1["total"] != 3 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(100));
    }
    let again: Value = serde_json::from_slice(&import().stdout).unwrap();
    assert_eq!((again["submitted"].as_u64(), again["already_on_chain"].as_u64()), (Some(0), Some(3)));
    assert_eq!(get(&node.url, "/v1/lists/abnormal-operation").1["total"], 3);
    // export as CSV
    let out = tmp.path().join("export.csv");
    let e = credex(&["export", "--node", &node.url, "--list", "abnormal-operation", "--out", out.to_str().unwrap()]);
    assert!(e.status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().next(), Some("subject,name,list,since,issuer,attestation,escalated_from"));
    assert_eq!(text.lines().count(), 4);
    assert!(text.contains("ru-inn:7707083893,,abnormal-operation,2026-03-02T00:00:00Z,cn-sfh-amr,"));
    // the printable report, in Russian
    let report = tmp.path().join("report.html");
    json_out(&credex(&[
        "report",
        "ru-inn:7707083893",
        "--node",
        &node.url,
        "--lang",
        "ru",
        "--out",
        report.to_str().unwrap(),
    ]));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("Кредитный отчёт о компании") && html.contains("в списке с 2026-03-02") && html.contains("<svg")
    );
}

/// A Chinese regulator imports its publicity-system export as it is —
/// Chinese headers, official reason texts, local dates, saved by Excel as
/// GB18030 — with a dry run first (what would be submitted, what is
/// rejected and why), then for real; the same list in UTF-8 afterwards is
/// the same attestations (nothing new). The file is the documented example
/// (`docs/examples/cn-abnormal-operation.csv`, `docs/import.md`).
#[test]
fn a_publicity_system_export_imports_as_it_is_in_gb18030_or_utf8_with_a_dry_run_first() {
    let tmp = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/cn-abnormal-operation.csv");
    let text = std::fs::read_to_string(&example).unwrap();
    let gb = tmp.path().join("经营异常名录.csv");
    std::fs::write(&gb, encoding_rs::GB18030.encode(&text).0).unwrap();
    assert!(std::str::from_utf8(&std::fs::read(&gb).unwrap()).is_err(), "the file is not UTF-8");
    // the dry run: no node
    let dry = credex(&["import", gb.to_str().unwrap(), "--profile", "cn-abnormal-operation", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "one row is rejected");
    let d: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!((d["dry_run"].as_bool(), d["read"]["encoding"].as_str()), (Some(true), Some("GB18030")), "{d}");
    assert_eq!((d["rows"].as_u64(), d["would_submit"].as_u64()), (Some(5), Some(4)), "{d}");
    assert_eq!(d["rejected"][0]["line"], 5, "{d}");
    assert!(d["rejected"][0]["reason"].as_str().unwrap().contains("check digit"), "{d}");
    let first = &d["records"][0];
    assert_eq!(first["subject"], "cn-uscc:91231081MA1B2C3D4T");
    assert_eq!(first["effective_at"], "2025-06-17T16:00:00Z", "2025-06-18 is that day in Beijing");
    assert_eq!(first["fields"]["reason-code"], "annual-report", "the official text mapped to its code");
    assert_eq!(first["fields"]["subject-name"], "绥芬河市远东木业有限公司");
    assert_eq!(d["records"][1]["effective_at"], "2025-07-01T16:00:00Z", "2025年7月2日");
    assert_eq!(d["records"][2]["fields"]["reason-code"], "annual-report", "a short form of the reason");

    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let import = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "import",
            file.to_str().unwrap(),
            "--profile",
            "cn-abnormal-operation",
            "--node",
            &node.url,
            "--key",
            &amr,
        ];
        args.extend_from_slice(extra);
        let o = credex(&args);
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let r = import(&gb, &[]);
    assert_eq!((r["submitted"].as_u64(), r["rejected"][0]["line"].as_u64()), (Some(4), Some(5)), "{r}");
    let start = Instant::now();
    while get(&node.url, "/v1/lists/abnormal-operation").1["total"] != 4 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(100));
    }
    // the same list as UTF-8 with a BOM, as Excel's "CSV UTF-8" saves it: the same attestations
    let utf8 = tmp.path().join("utf8.csv");
    std::fs::write(&utf8, [&b"\xef\xbb\xbf"[..], text.as_bytes()].concat()).unwrap();
    // … imported again by the registrar with its companies' names published
    let again = import(&utf8, &["--publish-names"]);
    assert_eq!((again["submitted"].as_u64(), again["already_on_chain"].as_u64()), (Some(0), Some(4)), "{again}");
    assert_eq!(again["read"]["encoding"], "UTF-8 (with BOM)");
    assert_eq!(again["names"]["published"], 4, "{again}");
    let (_, st) = get(&node.url, "/v1/lists/abnormal-operation/91231081MA1B2C3D4T");
    assert_eq!(st["listing"]["since"], "2025-06-17T16:00:00Z", "{st}");
    // the names reach the chain: the list is searched by a part of one
    let start = Instant::now();
    let q = "/v1/lists/abnormal-operation?q=%E8%BF%9C%E4%B8%9C%E6%9C%A8%E4%B8%9A"; // 远东木业
    while get(&node.url, q).1["total"] != 1 {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", get(&node.url, q).1);
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, found) = get(&node.url, q);
    assert_eq!(found["entries"][0]["subject"], "cn-uscc:91231081MA1B2C3D4T", "{found}");
    assert_eq!(found["entries"][0]["name"]["name"], "绥芬河市远东木业有限公司", "{found}");
    assert_eq!(found["entries"][0]["name"]["registrar"], "cn-sfh-amr", "{found}");
    // a third import publishes nothing new
    let third = import(&utf8, &["--publish-names"]);
    assert_eq!(
        (third["names"]["published"].as_u64(), third["names"]["unchanged"].as_u64()),
        (Some(0), Some(4)),
        "{third}"
    );
    // the export carries the names
    let o = credex(&["export", "--node", &node.url, "--list", "abnormal-operation"]);
    let csv = String::from_utf8(o.stdout).unwrap();
    assert!(csv.starts_with("subject,name,list,") && csv.contains("绥芬河市远东木业有限公司"), "{csv}");
}

/// The load generator finalizes everything it submits and is never held to
/// the public rate (it polls the node as the issuer it signs for).
#[test]
fn the_load_generator_finalizes_what_it_submits() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let key = node.key("cn-sfh-amr");
    let r = json_out(&credex(&["load", "--node", &node.url, "--key", &key, "--count", "3000", "--concurrency", "2"]));
    assert_eq!(r["finalized"], 3000, "{r}");
    assert_eq!(r["refused"], 0, "{r}");
}

/// A validator whose block store lost its tail (the newest RocksDB
/// write-ahead log cut in half, as a disk or filesystem fault leaves it)
/// starts at a lower height, but must not certify new blocks for heights it
/// already signed: that would be a second certificate for the same height,
/// and every proof issued for the first would contradict the chain. It keeps
/// serving reads and refuses to produce, saying why (issue #14).
#[test]
fn a_validator_that_lost_blocks_it_signed_refuses_to_sign_those_heights_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let port = free_port();
    let node = DevNode::start(&dir, port);
    let key = node.key("cn-sfh-ftz");
    for _ in 0..8 {
        credex_tests::harness::attest(&node.url, &key, "ru-inn:7707083893", "administrative-licence", &[]);
    }
    let signed = get(&node.url, "/v1/status").1["height"].as_u64().unwrap();
    drop(node); // kill -9
    // cut the newest write-ahead log in half
    let mut logs: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("db"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let wal = logs.last().expect("a write-ahead log").clone();
    let len = std::fs::metadata(&wal).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&wal).unwrap().set_len(len / 2).unwrap();
    // restart: it comes up at a lower height and serves reads
    let log = tmp.path().join("node.log");
    let args: Vec<String> =
        ["dev", "--data", dir.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")].map(String::from).to_vec();
    let (mut child, url) = spawn_credex(&args, port, std::process::Stdio::from(std::fs::File::create(&log).unwrap()));
    let restarted = get(&url, "/v1/status").1["height"].as_u64().unwrap();
    assert!(restarted < signed, "the cut log must lose blocks for this scenario: {restarted} vs {signed}");
    // a new submission would make the next block; the node must refuse to certify it
    let before: Vec<String> =
        (restarted + 1..=signed).map(|h| get(&url, &format!("/v1/blocks/{h}")).0.to_string()).collect();
    assert!(before.iter().all(|s| s == "404"), "{before:?}");
    let c = credex_tests::harness::Client::with_key(&url, std::path::Path::new(&key)).unwrap();
    let (_, sk) = credex_api_types::KeyFile::read(std::path::Path::new(&key)).unwrap();
    let nonce = [7u8; 16];
    let header = credex_types::AttestationHeader::new(
        c.chain_id().unwrap(),
        "cn-sfh-ftz".parse().unwrap(),
        "jp-cn:7000012050002".parse().unwrap(),
        credex_types::AttestationKind::AdministrativeLicence,
        credex_types::Timestamp::system_now(),
        nonce,
    )
    .unwrap();
    let att = credex_types::Attestation::sign(header, vec![], &sk).unwrap();
    let _: credex_api_types::types::Submitted = c.post_as("/v1/attestations", &att).unwrap();
    let start = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains("block production stopped") {
            break text;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "no refusal logged: {text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    // nothing new was certified, and the node still answers
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(get(&url, "/v1/status").1["height"].as_u64(), Some(restarted), "{text}");
    assert!(child.try_wait().unwrap().is_none(), "the node keeps serving reads");
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains(&format!("already signed height {signed}")), "{text}");
}

#[test]
fn a_node_below_its_disk_floor_serves_reads_admits_nothing_and_resumes_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dev");
    let port = free_port();
    let node = DevNode::start(&data, port);
    let amr = node.key("cn-sfh-amr");
    // `--patience 0`: a refusal for now (read-only) is given back at once,
    // not resent for the default two minutes
    let attest = |url: &str, kind: &str, fields: &[&str]| {
        let mut args = vec!["--patience", "0", "attest", "--node", url, "--key", &amr];
        args.extend(["--subject", "91350100M000100Y43", "--kind", kind]);
        for f in fields {
            args.extend(["--field", f]);
        }
        args.push("--wait");
        credex(&args)
    };
    let read_only_gauge = |url: &str| {
        let m = agent().get(format!("{url}/metrics")).call().unwrap().body_mut().read_to_string().unwrap();
        m.lines().find_map(|l| l.strip_prefix("credex_read_only ").map(str::to_string)).unwrap_or_else(|| panic!("{m}"))
    };
    json_out(&attest(&node.url, "abnormal-operation-listing", &["reason-code=annual-report"]));
    drop(node);
    // the floor well below the free space now; the filler crosses it
    let disk = credex_tests::harness::DiskSqueeze::take(tmp.path());
    disk.fill();
    let floor = disk.floor_mb.to_string();
    let node = DevNode::start_with(&data, port, &["--min-free-disk-mb", &floor]);
    // read-only: reads and proofs served, nothing admitted, and it says so
    let (code, ready) = get(&node.url, "/readyz");
    assert_eq!((code, ready["read_only"].as_bool()), (503, Some(true)), "{ready}");
    assert_eq!(read_only_gauge(&node.url), "1");
    let (code, status) = get(&node.url, "/v1/lists/abnormal-operation/91350100M000100Y43");
    assert_eq!(code, 200, "a status proof is served: {status}");
    let asked = Instant::now();
    let refused = attest(&node.url, "administrative-licence", &[]);
    assert!(!refused.status.success());
    // a resend would come after the node's Retry-After of 30 s at the earliest
    assert!(asked.elapsed() < Duration::from_secs(25), "--patience 0 resent the read-only refusal");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("read-only"), "{err}");
    // space returns: within the watcher's period it writes again
    disk.release();
    let start = Instant::now();
    while get(&node.url, "/readyz").0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(20), "still read-only after space returned");
        std::thread::sleep(Duration::from_millis(200));
    }
    json_out(&attest(&node.url, "administrative-licence", &[]));
    assert_eq!(read_only_gauge(&node.url), "0");
}

/// Governance rotates the only validator's key: the single-validator
/// engine (still holding the old key) stops making blocks and says why —
/// the node keeps serving reads and admitting nothing new into blocks —
/// instead of failing its next commit and taking the API down with it.
#[test]
fn a_single_validator_whose_key_governance_rotated_stops_producing_and_keeps_serving_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dev");
    let node = DevNode::start(&data, free_port());
    let vkey = data.join("keys").join("validator.json");
    let agency = serde_json::from_str::<Value>(&std::fs::read_to_string(&vkey).unwrap()).unwrap()["agency"]
        .as_str()
        .unwrap()
        .to_string();
    let new = tmp.path().join("new-validator.json");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    json_out(&credex(&["keygen", "--agency", &agency, "--role", "validator", "--out", &s(&new)]));
    let prop = tmp.path().join("rotate.json");
    json_out(&credex(&[
        "gov",
        "propose",
        "--node",
        &node.url,
        "--out",
        &s(&prop),
        "rotate-validator-key",
        "--key",
        &s(&new),
    ]));
    json_out(&credex(&[
        "gov",
        "approve",
        &s(&prop),
        "--key",
        &s(&vkey),
        "--genesis",
        &node.genesis(),
        "--node",
        &node.url,
    ]));
    let amr = node.key("cn-sfh-amr");
    json_out(&credex(&["--auth", &amr, "gov", "submit", &s(&prop), "--node", &node.url, "--wait"]));
    let (_, set) = get(&node.url, "/v1/validators");
    let new_key = serde_json::from_str::<Value>(&std::fs::read_to_string(&new).unwrap()).unwrap()["public_key"].clone();
    assert_eq!(set["set"]["validators"][0]["key"], new_key, "{set}");
    let (_, status) = get(&node.url, "/v1/status");
    let h = status["height"].as_u64().unwrap();
    // a submission is admitted, but no block (signed by the retired key) follows
    json_out(&credex(&[
        "attest",
        "--node",
        &node.url,
        "--key",
        &amr,
        "--subject",
        "91350100M000100Y43",
        "--kind",
        "administrative-licence",
    ]));
    std::thread::sleep(Duration::from_secs(3));
    let (code, status) = get(&node.url, "/v1/status");
    assert_eq!((code, status["height"].as_u64()), (200, Some(h)), "{status}");
    let (code, _) = get(&node.url, "/v1/lists/abnormal-operation/91350100M000100Y43");
    assert_eq!(code, 200, "proofs are still served");
}

/// One proof for every list: the trader listed on one list shows LISTED
/// with that list named and "not listed" on the others; a subject on no
/// list shows VALID: ON NO LIST; the proof fits one QR code (svg served).
#[test]
fn one_proof_shows_a_subject_on_every_list_and_fits_one_qr_code() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dev");
    let node = DevNode::start(&data, free_port());
    let amr = node.key("cn-sfh-amr");
    credex_tests::harness::attest(
        &node.url,
        &amr,
        "91350100M000100Y43",
        "abnormal-operation-listing",
        &["reason-code=annual-report"],
    );
    let all = tmp.path().join("all.proof");
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let out = json_out(&credex(&[
        "proof",
        "status",
        "--all",
        "--node",
        &node.url,
        "--subject",
        "91350100M000100Y43",
        "--out",
        &s(&all),
    ]));
    assert_eq!(out["listed_on"], serde_json::json!(["abnormal-operation"]), "{out}");
    // the size printed is the file's; the canonical bytes are reported apart
    assert_eq!(out["file_bytes"].as_u64(), Some(std::fs::metadata(&all).unwrap().len()), "{out}");
    assert!(out["proof_bytes"].as_u64().unwrap() < out["file_bytes"].as_u64().unwrap(), "{out}");
    let (code, text) = verify(&all, &node.genesis());
    assert_eq!(code, 1, "{text}");
    assert!(text.starts_with("LISTED since "), "{text}");
    assert!(text.contains("(abnormal-operation): LISTED since"), "{text}");
    // the listing agency by its name from the genesis, with its code
    assert!(text.contains(" (cn-sfh-amr)") && !text.contains(" by cn-sfh-amr"), "{text}");
    assert!(text.contains("(serious-violation): not listed"), "{text}");
    let clean = tmp.path().join("clean.proof");
    json_out(&credex(&[
        "proof",
        "status",
        "--all",
        "--node",
        &node.url,
        "--subject",
        "ru-inn:7707083893",
        "--out",
        &s(&clean),
    ]));
    let (code, text) = verify(&clean, &node.genesis());
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("VALID: ON NO LIST\n"), "{text}");
    // one QR code
    let mut r = agent().get(format!("{}/v1/standing/91350100M000100Y43/qr.svg", node.url)).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.body_mut().read_to_string().unwrap().contains("<svg"));
    // --list and --all do not go together, and one of them is needed
    let o = credex(&["proof", "status", "--node", &node.url, "--subject", "ru-inn:7707083893", "--out", &s(&clean)]);
    assert!(!o.status.success());
}

/// Vectors from a real chain (spec §13): proofs a running `credex dev`
/// made — real blocks, state transition, certificate, revocation — with the
/// genesis they verify against, committed as `tests/vectors/chain_run.json`
/// and `tests/vectors/chain-run-genesis.toml`. Every run makes them afresh
/// and checks that a fresh chain gives the committed outcomes, case by case;
/// with `CREDEX_WRITE_CHAIN_VECTORS=1` it also rewrites the committed files
/// (new keys, times and bytes; same cases). The committed cases are checked
/// offline with every other vector (`tests/tests/vectors.rs`, the
/// `credex-verify` and WebAssembly tests).
#[test]
fn a_real_chain_gives_the_committed_chain_run_vectors() {
    use credex_tests::vectors::{CasePolicy, ProofCase};
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let (listed_id, _) = credex_tests::harness::attest(
        &node.url,
        &amr,
        "91350100M000100Y43",
        "abnormal-operation-listing",
        &["decision-no=17", "reason-code=annual-report"],
    );
    let (revoked_id, _) = credex_tests::harness::attest(
        &node.url,
        &amr,
        "91230100MA1BXKH342",
        "abnormal-operation-listing",
        &["reason-code=unreachable-address"],
    );
    json_out(&credex(&["revoke", "--node", &node.url, "--key", &amr, &revoked_id.to_string(), "--wait"]));
    let attestation_proof = |id: &credex_types::AttestationId, name: &str| {
        credex_tests::harness::attestation_proof_text(&node.url, &amr, id, &tmp.path().join(name))
    };
    let text_of = |path: &str| {
        let (status, v) = get(&node.url, path);
        assert_eq!(status, 200, "{path}: {v}");
        v["proof_text"].as_str().or_else(|| v["proof"]["proof_text"].as_str()).unwrap().to_string()
    };
    let fresh = [
        (
            "run-attestation-active",
            "A listing attestation, reason-code disclosed, as credex dev anchored it",
            attestation_proof(&listed_id, "a.txt"),
        ),
        (
            "run-attestation-revoked",
            "A listing attestation its issuer revoked (a status proof of the revocation)",
            attestation_proof(&revoked_id, "r.txt"),
        ),
        (
            "run-list-never-listed",
            "A subject never on the serious-violation list",
            text_of("/v1/lists/serious-violation/ru-inn:7707083893"),
        ),
        (
            "run-list-removed",
            "The revoked listing's subject, off the abnormal-operation list again",
            text_of("/v1/lists/abnormal-operation/91230100MA1BXKH342"),
        ),
        ("run-standing-listed", "Every list for the listed trader: on one", text_of("/v1/standing/91350100M000100Y43")),
        ("run-standing-clean", "Every list for a subject on none", text_of("/v1/standing/ru-inn:7707083893")),
    ];
    let genesis_text = {
        let mut r = agent().get(format!("{}/v1/genesis", node.url)).call().unwrap();
        r.body_mut().read_to_string().unwrap()
    };
    let genesis = credex_types::Genesis::from_toml(&genesis_text).unwrap();
    let now = credex_types::Timestamp::system_now().plus_ms(60_000);
    let policy = CasePolicy::default(); // no max age: the vectors stay valid
    let verifier = credex_proof::Verifier::new(genesis.clone(), policy.to_policy()).unwrap();
    let cases: Vec<ProofCase> = fresh
        .iter()
        .map(|(name, description, text)| {
            let proof = credex_proof::CreditProof::from_any(text.as_bytes()).unwrap();
            let expected = match verifier.verify(&proof, now) {
                Ok(v) => format!("outcome:{}", v.outcome.name()),
                Err(e) => format!("error:{}", e.code()),
            };
            ProofCase {
                name: name.to_string(),
                description: description.to_string(),
                genesis: "chain-run-genesis.toml".into(),
                now,
                policy: policy.clone(),
                proof_text: text.clone(),
                proof_hex: hex::encode(proof.to_bytes()),
                size: proof.to_bytes().len(),
                expected,
            }
        })
        .collect();
    let outcomes = |cases: &[ProofCase]| cases.iter().map(|c| (c.name.clone(), c.expected.clone())).collect::<Vec<_>>();
    let want = [
        ("run-attestation-active", "outcome:valid"),
        ("run-attestation-revoked", "outcome:revoked"),
        ("run-list-never-listed", "outcome:valid"),
        ("run-list-removed", "outcome:valid"),
        ("run-standing-listed", "outcome:listed"),
        ("run-standing-clean", "outcome:valid"),
    ]
    .map(|(n, o)| (n.to_string(), o.to_string()));
    assert_eq!(outcomes(&cases), want);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    if std::env::var_os("CREDEX_WRITE_CHAIN_VECTORS").is_some() {
        let doc = serde_json::json!({
            "note": "Proofs made by a running credex dev node (real blocks, certificate and revocation), \
                     verified against chain-run-genesis.toml. Regenerate: CREDEX_WRITE_CHAIN_VECTORS=1 \
                     cargo nextest run -p credex --test scenarios -E 'test(chain_run)'",
            "cases": cases,
        });
        std::fs::write(dir.join("chain_run.json"), serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        std::fs::write(dir.join("chain-run-genesis.toml"), &genesis_text).unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("chain_run.json")).unwrap()).unwrap();
    let committed: Vec<ProofCase> = serde_json::from_value(committed["cases"].clone()).unwrap();
    assert_eq!(outcomes(&committed), want, "the committed chain-run vectors are the cases a fresh chain gives");
}

/// A signed `administrative-licence` of `subject` by the issuer key file `key`.
fn licence(chain: &credex_types::ChainId, key: &str, subject: &str) -> credex_types::Attestation {
    let (file, secret) = credex_api_types::KeyFile::read(std::path::Path::new(key)).unwrap();
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap();
    let header = credex_types::attestation::AttestationHeader::new(
        chain.clone(),
        file.agency,
        subject.parse().unwrap(),
        credex_types::AttestationKind::AdministrativeLicence,
        credex_types::Timestamp::system_now(),
        nonce,
    )
    .unwrap();
    credex_types::Attestation::sign(header, vec![], &secret).unwrap()
}

/// Backpressure (issue #17): a node whose pool is full refuses with 503
/// `busy` and `Retry-After` and keeps nothing of what it refused; the
/// typed client's bulk submission answers each attestation on its own,
/// resends what was refused for now after the node's `Retry-After`, and
/// everything it was given ends on chain.
#[test]
fn a_full_node_refuses_with_retry_after_and_a_backing_off_bulk_client_gets_everything_anchored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    // ten waiting at most; a block every 2 s at the earliest
    let node = DevNode::start_with(&dir, free_port(), &["--mempool-max-txs", "10", "--block-gather-ms", "2000"]);
    let amr = node.key("cn-sfh-amr");
    let chain = node.client(None).chain_id().unwrap();
    let atts: Vec<credex_types::Attestation> =
        (0..25).map(|i| licence(&chain, &amr, &format!("zz-busy:N{i}"))).collect();

    // one by one, quickly: ten go in, the rest are refused for now
    let agent = agent();
    let (mut admitted, mut busy) = (0, Vec::new());
    for a in &atts {
        let body = serde_json::to_vec(a).unwrap();
        let mut req = agent.post(format!("{}/v1/attestations", node.url)).content_type("application/json");
        for (k, v) in sign(&node.url, "POST", "/v1/attestations", &body, &amr) {
            req = req.header(k, v);
        }
        let mut resp = req.send(&body[..]).unwrap();
        let status = resp.status().as_u16();
        let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let answer: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        match status {
            202 => admitted += 1,
            503 => {
                assert_eq!(answer["code"], "busy", "{answer}");
                let m = answer["message"].as_str().unwrap();
                assert!(m.contains("busy: 10 transactions") && m.contains("the most it holds is 10 "), "{m}");
                assert!(m.contains("retry later"), "{m}");
                let secs: u64 = retry.expect("a busy answer says when to retry").parse().unwrap();
                assert!((1..=30).contains(&secs), "Retry-After {secs}");
                busy.push(a.id());
            }
            s => panic!("unexpected {s}: {answer}"),
        }
    }
    // a block may have made room during the burst (blocks come at most every 2 s)
    assert!(
        admitted >= 10 && busy.len() >= 5 && admitted + busy.len() == 25,
        "{admitted} admitted, {} busy",
        busy.len()
    );
    let metrics = node.client(None).get_text("/metrics").unwrap();
    let waiting: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("credex_mempool_transactions "))
        .map(|v| v.parse().unwrap())
        .expect("the pool's gauge");
    assert!(waiting <= 10, "{waiting} waiting");
    // nothing of a refused one is kept: the node does not know it
    let (s, v) = get(&node.url, &format!("/v1/transactions/{}", busy[0]));
    assert_eq!((s, v["code"].as_str()), (404, Some("unknown-transaction")), "{v}");

    // now all of them in bulk, with another agency's and a forged one
    let mut forged = licence(&chain, &amr, "zz-busy:forged");
    forged.header.nonce[0] ^= 1; // the signature no longer covers the header
    let foreign = licence(&chain, &node.key("cn-sfh-customs"), "zz-busy:foreign");
    let mut all = atts.clone();
    all.push(forged);
    all.push(foreign);
    let client = node.client(Some(&amr));
    let answer = client.submit_bulk(&all, |_| {}).unwrap();
    assert_eq!(answer.results.len(), 27);
    assert_eq!(answer.retry, 0, "everything refused for now was resent until taken: {answer:?}");
    assert_eq!(answer.admitted + answer.already_on_chain, 25, "{answer:?}");
    assert_eq!(answer.refused, 2);
    assert_eq!(answer.results[25].status, 400, "{:?}", answer.results[25]);
    assert_eq!(answer.results[26].status, 403, "{:?}", answer.results[26]);
    assert_eq!(answer.results[26].error.as_ref().unwrap().code, "not-your-agency");
    assert!(answer.results.iter().enumerate().all(|(i, r)| r.index == i && r.id == all[i].id()));
    assert!(client.retries() > 0, "the pool held ten: the client had to wait");
    for a in &atts {
        match client.wait(&a.id(), Duration::from_secs(60)).unwrap() {
            credex_api_types::types::Standing::Anchored { .. } => {}
            other => panic!("{} not anchored: {other:?}", a.id()),
        }
    }
}
