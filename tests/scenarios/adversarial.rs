//! Hostile callers against a real `credex dev` node (real process, RocksDB,
//! HTTP): each test is one promise of the threat model (`docs/security.md`)
//! played by the party who would break it — path spellings and HEAD
//! requests that would dodge the role table or the trader's access log,
//! methods and routes outside the table, disclosure of field values by
//! callers without a basis, and erasure undone by resubmission.

use std::io::{Read, Write};
use std::process::Output;

use credex_api_types::types::{AccessEntry, AccessLog};
use serde_json::Value;

use super::dev_node::{DevNode, credex, free_port, get_as, get_with, json_out, sign};

const TRADER: &str = "91350100M000100Y43";

/// One HTTP/1.1 request written byte for byte (no client library that
/// might normalise the path); returns the status and the body.
fn raw_http(url: &str, method: &str, path: &str, headers: &[(&str, String)]) -> (u16, String) {
    let text = raw_exchange(url, method, path, headers);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.split(' ').next())
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer from {url} to {method} {path}: {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// The bytes a server answers to one HTTP/1.1 request written byte for byte.
fn raw_exchange(url: &str, method: &str, path: &str, headers: &[(&str, String)]) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).to_string()
}

/// `method path` signed with the key file `key` (the signature covers the path as sent).
fn signed(url: &str, method: &str, path: &str, key: &str) -> (u16, String) {
    raw_http(url, method, path, &sign(url, method, path, b"", key))
}

fn client_id(key: &str) -> String {
    credex_api_types::client::credentials(std::path::Path::new(key)).unwrap().0
}

/// An attestation of `agency` about the trader, anchored (through the library and the typed client).
fn attest(node: &DevNode, agency: &str, kind: &str, fields: &[&str]) -> String {
    credex_tests::harness::attest(&node.url, &node.key(agency), TRADER, kind, fields).0.to_string()
}

/// A subject key for the trader, bound by the market regulator.
fn bind_trader(node: &DevNode, dir: &std::path::Path) -> String {
    let key = dir.join("trader.json").to_str().unwrap().to_string();
    json_out(&credex(&["keygen", "--role", "subject", "--subject", TRADER, "--out", &key]));
    let amr = node.key("cn-sfh-amr");
    json_out(&credex(&["bind-key", "--node", &node.url, "--registrar-key", &amr, "--subject-key", &key, "--wait"]));
    key
}

/// The trader's access log, read through the typed client with its own key.
fn access_log(node: &DevNode, trader_key: &str) -> Vec<AccessEntry> {
    let log: AccessLog = node.client(Some(trader_key)).get_as(&format!("/v1/subjects/{TRADER}/access-log")).unwrap();
    log.entries
}

#[test]
fn path_spellings_and_head_cannot_dodge_the_role_table_or_the_access_log() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let official = node.key("official");
    let trader = bind_trader(&node, tmp.path());
    let id = attest(&node, "cn-sfh-amr", "abnormal-operation-listing", &["reason-code=annual-report"]);
    let id = id.as_str();

    // a percent-encoded subject is the same subject: served, and in the trader's access log
    let (code, body) = signed(&node.url, "GET", "/v1/subjects/%39%31350100M000100Y43", &official);
    assert_eq!(code, 200, "{body}");
    let me = client_id(&official);
    let log = access_log(&node, &trader);
    assert!(
        log.iter().any(|e| e.client == me && e.action == format!("GET /v1/subjects/{TRADER}")),
        "the encoded read is missing from the trader's access log: {log:?}"
    );

    // odd spellings are refused before any handler runs
    for path in [
        format!("/v1//subjects/{TRADER}"),
        format!("/v1/subjects/{TRADER}/"),
        format!("/v1/./subjects/{TRADER}"),
        format!("/v1/subjects/{TRADER}/../access-log"),
        "/v1/subjects/%2e%2e/audit".to_string(),
        "/v1/subjects/a%2Fb".to_string(),
        "/v1/subjects/%zz".to_string(),
    ] {
        let (code, body) = signed(&node.url, "GET", &path, &official);
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains("non-canonical-path"), "{path}: {body}");
    }

    // HEAD follows GET: no answer (not even a length) without credentials ...
    for path in [format!("/v1/subjects/{TRADER}"), "/v1/audit/log".into(), format!("/v1/attestations/{id}")] {
        let (code, _) = raw_http(&node.url, "HEAD", &path, &[]);
        assert_eq!(code, 401, "unauthenticated HEAD {path}");
    }
    // ... and with them it is audited like a GET
    let (code, _) = signed(&node.url, "HEAD", &format!("/v1/subjects/{TRADER}"), &official);
    assert_eq!(code, 200);
    let log = access_log(&node, &trader);
    assert!(
        log.iter().any(|e| e.action == format!("HEAD /v1/subjects/{TRADER}")),
        "HEAD is missing from the access log: {log:?}"
    );
}

#[test]
fn routes_and_methods_outside_the_role_table_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let official = node.key("official");
    for (method, path, status, code) in [
        ("PUT", "/v1/status", 405, "method-not-allowed"),
        ("DELETE", "/v1/subjects/91350100M000100Y43", 405, "method-not-allowed"),
        ("POST", "/v1/audit/log", 405, "method-not-allowed"),
        ("GET", "/v1/secret", 404, "not-found"),
        ("GET", "/v1/subjects/91350100M000100Y43/records", 404, "not-found"),
    ] {
        for (who, (got, body)) in [
            ("public", raw_http(&node.url, method, path, &[])),
            ("official", signed(&node.url, method, path, &official)),
        ] {
            assert_eq!(got, status, "{who} {method} {path}: {body}");
            assert!(body.contains(code), "{who} {method} {path}: {body}");
        }
    }
}

/// The proof of `id` with `disclose` as the caller with key file `key`, via the CLI.
fn disclose(node: &DevNode, key: &str, id: &str, fields: &str, extra: &[&str], out: &std::path::Path) -> Output {
    let mut args = vec!["--auth", key, "proof", "attestation", id, "--node", &node.url, "--disclose", fields];
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    credex(&args)
}

#[test]
fn field_values_are_disclosed_only_to_the_subject_the_issuer_or_a_legal_basis() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let trader = bind_trader(&node, tmp.path());
    let id = attest(&node, "cn-sfh-amr", "administrative-penalty", &["amount=5000", "reason=late filing"]);
    let id = id.as_str();
    let g = node.genesis();
    let shows_amount = |out: &std::path::Path| {
        let o = credex(&["verify", out.to_str().unwrap(), "--genesis", &g]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
        // the disclosed-field line, not any "5000" in a hex id or hash
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim_start().starts_with("field") && l.contains("(amount): 5000"))
    };
    let out = tmp.path().join("p.txt");

    // an official without a basis, and another agency's issuer: the proof, every field hidden, and a warning
    for key in [node.key("official"), node.key("cn-sfh-customs")] {
        let o = disclose(&node, &key, id, "amount", &[], &out);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["withheld"], serde_json::json!(["amount"]), "{v}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("withheld"));
        assert!(!shows_amount(&out), "{key} saw the amount without a basis");
    }
    // a legal basis the role may not invoke is refused outright
    let o =
        disclose(&node, &node.key("cn-sfh-customs"), id, "amount", &["--legal-basis", "cn-court-enforcement"], &out);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("legal-basis-not-allowed"));
    // the platform may not read attestations at all
    let o = disclose(&node, &node.key("platform"), id, "amount", &[], &out);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("forbidden"));

    // the issuer itself, the subject, and an official on a legal basis see the amount
    for (key, extra) in [
        (node.key("cn-sfh-amr"), vec![]),
        (trader.clone(), vec![]),
        (node.key("official"), vec!["--legal-basis", "cn-admin-inspection"]),
    ] {
        let o = disclose(&node, &key, id, "amount", &extra, &out);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v.get("withheld").is_none(), "{v}");
        assert!(shows_amount(&out), "{key} should see the amount");
    }

    // every disclosure request is in the trader's access log (newest first), with its basis
    let mut log = access_log(&node, &trader);
    log.reverse();
    let disclosures: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.action.starts_with("disclose "))
        .map(|e| (e.result.as_str(), e.basis.as_deref().unwrap_or("-")))
        .collect();
    assert_eq!(
        disclosures,
        vec![
            ("withheld amount", "-"),
            ("withheld amount", "-"),
            ("disclosed amount", "own-attestation"),
            ("disclosed amount", "own-record"),
            ("disclosed amount", "legal-basis:cn-admin-inspection"),
        ],
        "{log:?}"
    );
}

#[test]
fn an_erased_record_stays_erased_when_it_is_imported_again() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let csv = tmp.path().join("penalties.csv");
    std::fs::write(&csv, format!("subject,effective_at,amount\n{TRADER},2026-03-01T00:00:00Z,5000\n")).unwrap();
    let import = || {
        credex(&[
            "import",
            csv.to_str().unwrap(),
            "--node",
            &node.url,
            "--key",
            &amr,
            "--kind",
            "administrative-penalty",
        ])
    };
    let first = json_out(&import());
    assert_eq!(first["submitted"], 1, "{first}");
    let id = first["ids"][0]["id"].as_str().unwrap().to_string();
    let start = std::time::Instant::now();
    let info = loop {
        let (_, info) = get_as(&node.url, &format!("/v1/attestations/{id}"), &amr);
        if info["status"] == "anchored" {
            break info;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "never anchored: {info}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(info["fields_held"], true, "{info}");

    json_out(&credex(&[
        "attest",
        "--node",
        &node.url,
        "--key",
        &amr,
        "--subject",
        TRADER,
        "--kind",
        "erasure-tombstone",
        "--supersedes",
        &id,
        "--wait",
    ]));
    // the same CSV again (deterministic salts and nonces: the very same attestation)
    let again = import();
    assert_eq!(again.status.code(), Some(1), "the erased row must be rejected");
    let r: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("erased"), "{r}");
    let (_, info) = get_as(&node.url, &format!("/v1/attestations/{id}"), &amr);
    assert_eq!((info["state"].as_str(), info["fields_held"].as_bool()), (Some("erased"), Some(false)), "{info}");
    let (code, e) = get_as(&node.url, &format!("/v1/attestations/{id}/proof?disclose=amount"), &amr);
    assert_eq!((code, e["code"].as_str()), (404, Some("fields-not-held")), "{e}");
}

/// This process's soft limit on open files (from /proc/self/limits).
fn open_files_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    match line.split_whitespace().nth(3) {
        Some("unlimited") => usize::MAX,
        Some(v) => v.parse().unwrap(),
        None => panic!("unreadable limits line: {line}"),
    }
}

#[test]
fn slow_clients_cannot_hold_the_api() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let addr: std::net::SocketAddr = node.url.trim_start_matches("http://").parse().unwrap();

    // one request head that never ends is cut off by the header deadline
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
    let start = Instant::now();
    let mut sink = Vec::new();
    let _ = slow.read_to_end(&mut sink);
    assert!(start.elapsed() < Duration::from_secs(30), "a half-sent head held its connection {:?}", start.elapsed());

    // 10,000 connections from another address, each with half a request head, held open
    // (as many as this process may open, if fewer)
    let count = 10_000.min(open_files_limit().saturating_sub(300));
    assert!(count >= 700, "too few file descriptors to hold more connections than the node's 512 slots");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let held = rt.block_on(async {
        let mut held = Vec::with_capacity(count);
        for _ in 0..count {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            s.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            let Ok(Ok(c)) = tokio::time::timeout(Duration::from_secs(5), s.connect(addr)).await else { continue };
            if c.writable().await.is_ok() {
                let _ = c.try_write(b"GET /healthz HTTP/1.1\r\nHo");
            }
            held.push(c);
        }
        held
    });
    assert!(held.len() >= count / 2, "only {} of {count} connections opened", held.len());
    // meanwhile every other client is served at once
    for _ in 0..20 {
        let t = Instant::now();
        let (code, _) = raw_http(&node.url, "GET", "/healthz", &[]);
        assert_eq!(code, 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "/healthz took {:?} under {} slow connections",
            t.elapsed(),
            held.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(held);
}

#[test]
fn a_captured_request_does_not_replay_after_a_restart_nor_on_another_dev_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let port = free_port();
    let node = DevNode::start(&dir, port);
    let official = node.key("official");
    let path = format!("/v1/subjects/{TRADER}");
    let captured = sign(&node.url, "GET", &path, b"", &official);
    assert_eq!(get_with(&node.url, &path, &captured).0, 200);
    assert_eq!(get_with(&node.url, &path, &captured).1["code"], "replay");
    // restarted, the node has forgotten the nonce, but refuses anything signed before it started
    drop(node);
    let node = DevNode::start(&dir, port);
    let (code, e) = get_with(&node.url, &path, &captured);
    assert_eq!((code, e["code"].as_str()), (401, Some("stale-request")), "{e}");
    assert_eq!(get_as(&node.url, &path, &official).0, 200, "a fresh request is fine");

    // another dev chain, with the same official key registered: a chain id of its own, and the request is void there
    let other_dir = tmp.path().join("other");
    std::fs::create_dir_all(other_dir.join("keys")).unwrap();
    let other = DevNode::start(&other_dir, free_port());
    drop(other);
    std::fs::copy(dir.join("clients.toml"), other_dir.join("clients.toml")).unwrap();
    let other = DevNode::start(&other_dir, free_port());
    let status = |url: &str| super::dev_node::get(url, "/v1/status").1;
    assert_ne!(status(&node.url)["chain_id"], status(&other.url)["chain_id"], "every dev chain has an id of its own");
    let for_first = sign(&node.url, "GET", &path, b"", &official);
    let (code, e) = get_with(&other.url, &path, &for_first);
    assert_eq!((code, e["code"].as_str()), (401, Some("bad-request-signature")), "{e}");
}

#[test]
fn webhooks_cannot_target_the_node_or_its_neighbours_and_belong_to_their_creator() {
    let tmp = tempfile::tempdir().unwrap();
    // one loopback target is allowed explicitly (tests send nothing off this machine)
    let node = DevNode::start_with(&tmp.path().join("dev"), free_port(), &["--webhook-allow", "127.0.0.1:9"]);
    let (official, platform) = (node.key("official"), node.key("platform"));
    let subscribe = |key: &str, url: &str| {
        super::dev_node::post_as(
            &node.url,
            "/v1/warnings/subscriptions",
            format!("{{\"url\":\"{url}\"}}").as_bytes(),
            key,
        )
    };
    let own_audit = format!("{}/v1/audit/log", node.url);
    for (url, code) in [
        ("http://127.0.0.1:22/", "webhook-target-not-allowed"),
        ("http://localhost:8080/x", "webhook-target-not-allowed"),
        (own_audit.as_str(), "webhook-target-not-allowed"),
        ("http://169.254.169.254/latest/meta-data/", "webhook-target-not-allowed"),
        ("http://[::1]:80/", "webhook-target-not-allowed"),
        ("http://10.0.0.1/", "webhook-target-not-allowed"),
        ("http://198.51.100.7/hook", "webhook-target-not-allowed"),
        ("http://127.0.0.1:10/", "webhook-target-not-allowed"),
        ("https://127.0.0.1:8443/hook", "webhook-target-not-allowed"),
    ] {
        let (status, v) = subscribe(&official, url);
        assert_eq!((status, v["code"].as_str()), (400, Some(code)), "{url}: {v}");
    }
    // the allowed exception is accepted (public targets are checked by the unit tests,
    // without any traffic)
    let (status, sub) = subscribe(&official, "http://127.0.0.1:9/hook");
    assert_eq!(status, 201, "{sub}");
    let id = sub["id"].as_str().unwrap().to_string();
    // another subscriber neither sees nor removes it
    let (_, theirs) = get_as(&node.url, "/v1/warnings/subscriptions", &platform);
    assert_eq!(theirs["subscriptions"], serde_json::json!([]), "{theirs}");
    let del = |key: &str| {
        let path = format!("/v1/warnings/subscriptions/{id}");
        let mut req = super::dev_node::agent().delete(format!("{}{path}", node.url));
        for (k, v) in sign(&node.url, "DELETE", &path, b"", key) {
            req = req.header(k, v);
        }
        let mut r = req.call().unwrap();
        (r.status().as_u16(), r.body_mut().read_json::<Value>().unwrap_or(Value::Null))
    };
    assert_eq!(del(&platform).0, 404);
    let (_, mine) = get_as(&node.url, "/v1/warnings/subscriptions", &official);
    assert_eq!(mine["subscriptions"].as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(del(&official).0, 200);
}

#[test]
fn a_registrar_cannot_rebind_a_traders_key_without_consent_or_a_recorded_recovery() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let old = bind_trader(&node, tmp.path());
    let keygen = |name: &str| {
        let key = tmp.path().join(name).to_str().unwrap().to_string();
        json_out(&credex(&["keygen", "--role", "subject", "--subject", TRADER, "--out", &key]));
        key
    };
    let (mine, thief) = (keygen("new.json"), keygen("thief.json"));
    // the FTZ administration, also a registrar, tries to take the trader's identity over
    let ftz = node.key("cn-sfh-ftz");
    let bind = |registrar: &str, key: &str, extra: &[&str]| {
        let mut args =
            vec!["bind-key", "--node", &node.url, "--registrar-key", registrar, "--subject-key", key, "--wait"];
        args.extend(extra);
        credex(&args)
    };
    super::dev_node::refused(&bind(&ftz, &thief, &[]), "rebind-needs-consent");
    assert_eq!(
        get_as(&node.url, &format!("/v1/subjects/{TRADER}"), &thief).0,
        401,
        "the thief's key signs in as nobody"
    );
    // the trader replaces its own key (its old key consents)
    json_out(&bind(&ftz, &mine, &["--old-key", &old]));
    assert_eq!(get_as(&node.url, &format!("/v1/subjects/{TRADER}"), &old).0, 401, "the old key is retired");
    // a lost key: the market regulator's recorded recovery, which the trader sees in its profile
    let lost = keygen("recovered.json");
    json_out(&bind(&node.key("cn-sfh-amr"), &lost, &["--recovery", "cn-identity-verified-in-person"]));
    let (code, profile) = get_as(&node.url, &format!("/v1/subjects/{TRADER}"), &lost);
    assert_eq!(code, 200, "{profile}");
    assert_eq!(profile["key"]["recovery"], "cn-identity-verified-in-person", "{profile}");
    assert_eq!(profile["key"]["registrar"], "cn-sfh-amr");
    assert_eq!(profile["key"]["previous_keys"].as_array().map(Vec::len), Some(2), "{profile}");
}

/// A private CA and a certificate it issued for `localhost` and 127.0.0.1, as PEM files in `dir`.
fn test_pki(dir: &std::path::Path) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "credex test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    (write("ca.pem", ca.pem()), write("node.pem", leaf.pem()), write("node.key", key.serialize_pem()))
}

/// An HTTPS webhook receiver on loopback with the certificate `cert`/`key`:
/// answers 200 and keeps each request's body.
fn https_receiver(cert: &str, key: &str) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject as _;
    let certs: Vec<_> =
        rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<_, _>>().unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            tcp.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok();
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else { continue };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = tls.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        g.lock().unwrap().push(body.to_string());
                        let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        let _ = tls.flush();
                        break;
                    }
                }
            }
        }
    });
    (port, got)
}

#[test]
fn the_api_and_webhooks_speak_tls_and_the_cli_trusts_exactly_the_ca_it_is_given() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki(tmp.path());
    let port = free_port();
    let data = tmp.path().join("dev");
    // a regulator's HTTPS webhook receiver, certified by the same private CA
    let (hook_port, hooks) = https_receiver(&cert, &key);
    let mut child = std::process::Command::new(super::dev_node::binary())
        .args(["dev", "--data", data.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")])
        .args(["--tls-cert", &cert, "--tls-key", &key, "--webhook-ca", &ca])
        .args(["--webhook-allow", &format!("localhost:{hook_port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(tmp.path().join("node.log")).unwrap())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let url = format!("https://localhost:{port}");
    let pem = std::fs::read(&ca).unwrap();
    let roots: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|i| match i.unwrap() {
            ureq::tls::PemItem::Certificate(c) => Some(c.to_owned()),
            _ => None,
        })
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(roots)))
                .build(),
        )
        .build()
        .into();
    let start = Instant::now();
    loop {
        if agent.get(format!("{url}/healthz")).call().is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the TLS node exited");
        assert!(start.elapsed() < Duration::from_secs(30), "the TLS node did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let child = Kill(child);
    // plain HTTP to the TLS port gets no answer
    let plain = raw_exchange(&format!("http://127.0.0.1:{port}"), "GET", "/healthz", &[]);
    assert!(!plain.starts_with("HTTP/"), "plain HTTP answered on the TLS port: {plain:?}");
    // an HTTPS webhook, subscribed over HTTPS
    let official = data.join("keys/official.json");
    let body = format!("{{\"url\":\"https://localhost:{hook_port}/hook\"}}");
    let status: Value = agent.get(format!("{url}/v1/status")).call().unwrap().body_mut().read_json().unwrap();
    let now = credex_types::Timestamp::system_now().0;
    let path = "/v1/warnings/subscriptions";
    let mut req = agent.post(format!("{url}{path}")).content_type("application/json");
    for (k, v) in super::dev_node::sign_for(&status, "POST", path, body.as_bytes(), official.to_str().unwrap(), now) {
        req = req.header(k, v);
    }
    assert_eq!(req.send(body.as_bytes()).unwrap().status(), 201);
    // the CLI over https, trusting the partner's CA: a signed write and a read
    let amr = data.join("keys/cn-sfh-amr.json");
    let ok = credex(&[
        "--ca",
        &ca,
        "attest",
        "--node",
        &url,
        "--key",
        amr.to_str().unwrap(),
        "--subject",
        TRADER,
        "--kind",
        "serious-violation-listing",
        "--wait",
    ]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let issuers = json_out(&credex(&["--ca", &ca, "issuers", "--node", &url]));
    assert!(issuers["issuers"].as_array().is_some_and(|l| !l.is_empty()), "{issuers}");
    // the listing's early-warning event (serious-listing) reaches the HTTPS webhook
    let start = Instant::now();
    while hooks.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no webhook delivered over HTTPS; node log:\n{}",
            std::fs::read_to_string(tmp.path().join("node.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(hooks.lock().unwrap()[0].contains(TRADER), "{:?}", hooks.lock().unwrap());
    // without that CA the node's certificate is not trusted
    let no = credex(&["issuers", "--node", &url]);
    assert!(!no.status.success());
    let err = String::from_utf8_lossy(&no.stderr).to_lowercase();
    assert!(err.contains("certificate") || err.contains("issuer"), "{err}");
    drop(child);
}
