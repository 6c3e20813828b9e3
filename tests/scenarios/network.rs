//! Networks of `credex node` processes on loopback: one validator and
//! observers that follow it over libp2p, submissions through any node,
//! proofs from any node, late join, restart, and refused peers.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::dev_node::{credex, free_port, get, json_out, refused, spawn_credex, verify};

struct Proc {
    child: Child,
    url: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no graceful shutdown
        let _ = self.child.wait();
    }
}

struct Net {
    dir: PathBuf,
    genesis: PathBuf,
    validator_p2p: String,
}

fn keygen(dir: &Path, agency: &str, role: &str, name: &str) -> String {
    let out = dir.join(name);
    let v = json_out(&credex(&["keygen", "--agency", agency, "--role", role, "--out", out.to_str().unwrap()]));
    v["peer_id"].as_str().unwrap().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

impl Net {
    /// Keys and a genesis with one validator, observers `obs-a`, `obs-b`, and the market regulator.
    fn new(dir: &Path, chain_id: &str) -> Net {
        Self::with_keys(dir, chain_id, None)
    }

    /// As [`Net::new`]; with `keys_from`, the same key files as another net.
    fn with_keys(dir: &Path, chain_id: &str, keys_from: Option<&Path>) -> Net {
        std::fs::create_dir_all(dir).unwrap();
        let keys = [
            ("cn-sfh-ftz", "validator", "v.json"),
            ("cn-sfh-ftz", "p2p", "v-p2p.json"),
            ("ru-primorye-cci", "p2p", "obs-a.json"),
            ("kr-busan-cci", "p2p", "obs-b.json"),
            ("cn-sfh-amr", "issuer", "amr.json"),
        ];
        for (agency, role, file) in keys {
            match keys_from {
                Some(from) => {
                    std::fs::copy(from.join(file), dir.join(file)).unwrap();
                }
                None => {
                    keygen(dir, agency, role, file);
                }
            }
        }
        let g = dir.join("genesis.toml");
        let ok = |o: std::process::Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        ok(credex(&["genesis", "new", "--chain-id", chain_id, "--out", s(&g)]));
        ok(credex(&[
            "genesis",
            "add-validator",
            s(&g),
            "--key",
            s(&dir.join("v.json")),
            "--p2p-key",
            s(&dir.join("v-p2p.json")),
            "--names",
            "绥芬河自贸片区管委会|Администрация ЗСТ Суйфэньхэ|Suifenhe FTZ Administration",
            "--jurisdiction",
            "CN",
        ]));
        for (f, names, j) in [
            ("obs-a.json", "滨海边疆区工商会|ТПП Приморского края|Primorye CCI", "RU"),
            ("obs-b.json", "釜山商工会议所|ТПП Пусана|Busan CCI", "KR"),
        ] {
            ok(credex(&[
                "genesis",
                "add-observer",
                s(&g),
                "--p2p-key",
                s(&dir.join(f)),
                "--names",
                names,
                "--jurisdiction",
                j,
            ]));
        }
        ok(credex(&[
            "genesis",
            "add-issuer",
            s(&g),
            "--key",
            s(&dir.join("amr.json")),
            "--names",
            "市场监管局|Управление по надзору за рынком|AMR",
            "--jurisdiction",
            "CN",
            "--kinds",
            "abnormal-operation-listing,abnormal-operation-removal,administrative-licence,administrative-penalty,revocation,erasure-tombstone,subject-key-binding",
        ]));
        assert_eq!(credex(&["genesis", "hash", s(&g)]).status.code(), Some(0));
        Net { dir: dir.to_path_buf(), genesis: g, validator_p2p: String::new() }
    }

    fn start(&self, name: &str, p2p_key: &str, validator: bool, peers: &[String], p2p_port: u16) -> Proc {
        self.start_with(&self.genesis, name, p2p_key, validator, peers, p2p_port)
    }

    fn start_with(
        &self,
        genesis: &Path,
        name: &str,
        p2p_key: &str,
        validator: bool,
        peers: &[String],
        p2p_port: u16,
    ) -> Proc {
        let http = free_port();
        let mut args = if validator {
            // the validator is configured by a file (flags and CREDEX_* would override it)
            let config = self.dir.join(format!("{name}.toml"));
            std::fs::write(
                &config,
                format!(
                    "genesis = {:?}\ndata = {:?}\nhttp = \"127.0.0.1:{http}\"\np2p_key = {:?}\nlisten = \"/ip4/127.0.0.1/tcp/{p2p_port}\"\nvalidator_key = {:?}\n",
                    s(genesis),
                    s(&self.dir.join(name)),
                    s(&self.dir.join(p2p_key)),
                    s(&self.dir.join("v.json")),
                ),
            )
            .unwrap();
            vec!["node".to_string(), "--config".into(), s(&config).into()]
        } else {
            vec![
                "node".to_string(),
                "--genesis".into(),
                s(genesis).into(),
                "--data".into(),
                s(&self.dir.join(name)).into(),
                "--http".into(),
                format!("127.0.0.1:{http}"),
                "--p2p-key".into(),
                s(&self.dir.join(p2p_key)).into(),
                "--listen".into(),
                format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
            ]
        };
        let clients = self.dir.join(format!("clients-{name}.toml"));
        if clients.exists() {
            args.extend(["--clients".into(), s(&clients).into()]);
        }
        for p in peers {
            args.extend(["--peer".into(), p.clone()]);
        }
        let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let (child, url) = spawn_credex(&args, http, Stdio::from(log));
        Proc { child, url }
    }
}

fn height(p: &Proc) -> u64 {
    let (code, s) = get(&p.url, "/v1/status");
    s["height"].as_u64().unwrap_or_else(|| panic!("{}: status {code} without a height: {s}", p.url))
}

fn wait_height(p: &Proc, h: u64) {
    let start = Instant::now();
    while height(p) < h {
        assert!(start.elapsed() < Duration::from_secs(30), "{} stuck at {} < {h}", p.url, height(p));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn block_id(p: &Proc, h: u64) -> String {
    get(&p.url, &format!("/v1/blocks/{h}")).1["id"].as_str().unwrap().to_string()
}

/// An attestation anchored through `node` (the library and the typed client): its id and height.
fn attest(node: &Proc, key: &Path, subject: &str, kind: &str) -> (credex_types::AttestationId, u64) {
    credex_tests::harness::attest(&node.url, s(key), subject, kind, &[])
}

/// The validator's dial address on `vport`; sets it on `net`.
fn validator_address(net: &mut Net, vport: u16) -> Vec<String> {
    let v_peer = credex_p2p::keypair_from_seed(seed_of(&net.dir.join("v-p2p.json"))).public().to_peer_id();
    net.validator_p2p = format!("/ip4/127.0.0.1/tcp/{vport}/p2p/{v_peer}");
    vec![net.validator_p2p.clone()]
}

#[test]
fn n1_validator_observers_follow_and_serve_proofs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = Net::new(tmp.path(), "credex-net-1");
    let vport = free_port();
    let peers = validator_address(&mut net, vport);
    let v = net.start("validator", "v-p2p.json", true, &[], vport);
    let a = net.start("obs-a", "obs-a.json", false, &peers, free_port());
    let amr = net.dir.join("amr.json");

    // submitted to the observer, gossiped to the validator, final on the observer
    let (id, _) = attest(&a, &amr, "91350100M000100Y43", "abnormal-operation-listing");
    let id = id.to_string();
    // and submitted to the validator, visible on the observer
    attest(&v, &amr, "ru-inn:7707083893", "administrative-licence");
    let h = height(&v);
    wait_height(&a, h);

    let (_, st) = get(&a.url, "/v1/status");
    assert_eq!((st["role"].as_str(), st["peers"].as_u64()), (Some("observer"), Some(1)));
    assert_eq!(get(&a.url, "/readyz").0, 200, "an observer with a peer is ready");
    let metrics =
        crate::dev_node::agent().get(format!("{}/metrics", v.url)).call().unwrap().body_mut().read_to_string().unwrap();
    let metric =
        |name: &str| metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok());
    assert!(metric("credex_height").is_some_and(|x| x >= h), "{metrics}");
    assert!(metrics.contains("credex_peers 1\n") || metrics.contains("credex_peers 2\n"), "{metrics}");
    assert!(metrics.contains("credex_finality_seconds_count"), "{metrics}");
    assert_eq!(get(&v.url, "/v1/status").1["role"], "validator");

    // proofs from the observer verify offline with the genesis alone
    let p = net.dir.join("obs.proof");
    json_out(&credex(&["--auth", s(&amr), "proof", "attestation", &id, "--node", &a.url, "--out", s(&p)]));
    let (code, text) = verify(&p, s(&net.genesis));
    assert_eq!(code, 0, "{text}");
    let sp = net.dir.join("status.proof");
    json_out(&credex(&[
        "proof",
        "status",
        "--node",
        &a.url,
        "--subject",
        "91350100M000100Y43",
        "--list",
        "abnormal-operation",
        "--out",
        s(&sp),
    ]));
    assert_eq!(verify(&sp, s(&net.genesis)).0, 1, "listed");

    // a late observer syncs from genesis; every node has the same block at every height
    let b = net.start("obs-b", "obs-b.json", false, &peers, free_port());
    wait_height(&b, h);
    for i in 1..=h {
        let vid = block_id(&v, i);
        assert_eq!(block_id(&a, i), vid, "height {i}");
        assert_eq!(block_id(&b, i), vid, "height {i}");
    }

    // kill -9 an observer, keep going, restart it: it catches up
    drop(a);
    attest(&v, &amr, "jp-cn:7000012050002", "administrative-licence");
    let h2 = height(&v);
    let a = net.start("obs-a", "obs-a.json", false, &peers, free_port());
    wait_height(&a, h2);
    assert_eq!(block_id(&a, h2), block_id(&v, h2));

    // kill -9 the validator and restart it on its data: same chain, and
    // submissions through the observer flow again once it has redialed
    // (audit anchors of the nodes' own logs may add blocks at any time)
    let at_h2 = block_id(&v, h2);
    drop(v);
    let v = net.start("validator", "v-p2p.json", true, &[], vport);
    assert!(height(&v) >= h2);
    assert_eq!(block_id(&v, h2), at_h2);
    let (_, h3) = attest(&a, &amr, "mn-reg:2081237", "administrative-licence");
    assert!(h3 > h2);
    wait_height(&b, h3);
    assert_eq!(block_id(&b, h3), block_id(&v, h3));

    // a peer not in the genesis, and a peer with another genesis, get nothing
    keygen(&net.dir, "xx-intruder", "p2p", "intruder.json");
    let intruder = net.start("intruder", "intruder.json", false, &peers, free_port());
    // same keys (so each side allows the other's peer id), another chain and genesis
    let other = Net::with_keys(&net.dir.join("other"), "credex-other-1", Some(&net.dir));
    let stranger = other.start_with(&other.genesis, "stranger", "obs-b.json", false, &peers, free_port());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(height(&intruder), 0);
    assert_eq!(height(&stranger), 0);
    let vlog = std::fs::read_to_string(net.dir.join("validator.log")).unwrap();
    assert!(vlog.contains("incoming connection refused"), "validator log shows the refusal");
    assert!(vlog.contains("another genesis"), "validator log shows the genesis mismatch");
}

#[test]
fn genesis_refuses_a_duplicate_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Net::new(tmp.path(), "credex-net-2");
    keygen(&net.dir, "cn-sfh-customs", "validator", "v2.json");
    keygen(&net.dir, "cn-sfh-customs", "p2p", "v2-p2p.json");
    let g = s(&net.genesis);
    let add_customs = || {
        credex(&[
            "genesis",
            "add-validator",
            g,
            "--key",
            s(&net.dir.join("v2.json")),
            "--p2p-key",
            s(&net.dir.join("v2-p2p.json")),
            "--names",
            "绥芬河海关|Таможня Суйфэньхэ|Suifenhe Customs",
            "--jurisdiction",
            "CN",
        ])
    };
    assert!(add_customs().status.success());
    // adding the same validator key twice is refused
    assert!(!add_customs().status.success());
}

#[test]
fn an_official_reads_a_record_held_by_another_agencys_node_and_the_access_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let mut net = Net::new(tmp.path(), "credex-net-2");
    let vport = free_port();
    let peers = validator_address(&mut net, vport);
    let d = |f: &str| net.dir.join(f).to_string_lossy().to_string();
    // an official of the Primorye chamber, registered at its own node (observer obs-a)
    json_out(&credex(&[
        "keygen",
        "--role",
        "official",
        "--agency",
        "ru-primorye-cci",
        "--client",
        "pcci-officer",
        "--out",
        &d("official.json"),
    ]));
    json_out(&credex(&["clients-add", &d("clients-obs-a.toml"), "--key", &d("official.json")]));
    // the same official key is registered at the validator's node too (to show that a
    // request signed for one node does not replay at another)
    json_out(&credex(&["clients-add", &d("clients-validator.toml"), "--key", &d("official.json")]));
    let v = net.start("validator", "v-p2p.json", true, &[], vport);
    let a = net.start("obs-a", "obs-a.json", false, &peers, free_port());
    let (amr, official) = (d("amr.json"), d("official.json"));
    let trader = "91350100M000100Y43";

    // the market regulator's record is held by the validator's node only
    json_out(&credex(&["keygen", "--role", "subject", "--subject", trader, "--out", &d("trader.json")]));
    json_out(&credex(&[
        "bind-key",
        "--node",
        &v.url,
        "--registrar-key",
        &amr,
        "--subject-key",
        &d("trader.json"),
        "--wait",
    ]));
    let p = json_out(&credex(&[
        "attest",
        "--node",
        &v.url,
        "--key",
        &amr,
        "--subject",
        trader,
        "--kind",
        "administrative-penalty",
        "--field",
        "amount=5000",
        "--field",
        "reason=late customs declaration",
        "--wait",
    ]));
    let id = p["id"].as_str().unwrap().to_string();
    wait_height(&a, p["height"].as_u64().unwrap());

    // without an authorization, with one for another agency, or an expired one: refused
    refused(&credex(&["--auth", &official, "record", &id, "--node", &a.url]), "no-authorization");
    let authorize = |grantee: &str, expires: &str, out: &str| {
        json_out(&credex(&[
            "authorize",
            "--node",
            &v.url,
            "--key",
            &d("trader.json"),
            "--grantee",
            grantee,
            "--kinds",
            "administrative-penalty",
            "--expires",
            expires,
            "--out",
            &d(out),
        ]));
    };
    authorize("kr-busan-cci", "2099-01-01T00:00:00Z", "busan.json");
    refused(
        &credex(&["--auth", &official, "record", &id, "--node", &a.url, "--authorization", &d("busan.json")]),
        "wrong-grantee",
    );
    // an expiry may be given as a duration from now
    authorize("kr-busan-cci", "30d", "busan-30d.json");
    let a30: credex_types::access::SignedAuthorization =
        serde_json::from_str(&std::fs::read_to_string(d("busan-30d.json")).unwrap()).unwrap();
    let in_days = a30.authorization.expires.since(credex_types::Timestamp::system_now()) / 86_400_000;
    assert!((29..=30).contains(&in_days), "expires in {in_days} days");
    // the command line refuses to sign an expiry in the past ...
    let o = credex(&[
        "authorize",
        "--node",
        &v.url,
        "--key",
        &d("trader.json"),
        "--grantee",
        "ru-primorye-cci",
        "--expires",
        "2020-01-01T00:00:00Z",
        "--out",
        &d("old.json"),
    ]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("not in the future"), "{o:?}");
    // ... and a client that signs one anyway is refused by the holder
    {
        let (sf, sk) = credex_api_types::keyfile::SubjectKeyFile::read(Path::new(&d("trader.json"))).unwrap();
        let chain = get(&v.url, "/v1/status").1["chain_id"].as_str().unwrap().parse().unwrap();
        let signed = credex_types::access::Authorization {
            chain_id: chain,
            subject: sf.subject,
            grantee: "ru-primorye-cci".parse().unwrap(),
            scope: credex_types::access::Scope::Kinds(vec![credex_types::AttestationKind::AdministrativePenalty]),
            expires: "2020-01-01T00:00:00Z".parse().unwrap(),
            nonce: [7; 16],
        }
        .sign(&sk);
        std::fs::write(d("old.json"), serde_json::to_string_pretty(&signed).unwrap()).unwrap();
    }
    refused(
        &credex(&["--auth", &official, "record", &id, "--node", &a.url, "--authorization", &d("old.json")]),
        "authorization-expired",
    );
    // a legal basis officials may not invoke across borders without consent is refused
    refused(
        &credex(&["--auth", &official, "record", &id, "--node", &a.url, "--legal-basis", "cn-court-enforcement-x"]),
        "legal-basis-not-allowed",
    );

    // with the trader's authorization the official reads it through its own node,
    // which fetched it from the holder and checked it against the chain
    authorize("ru-primorye-cci", "2099-01-01T00:00:00Z", "auth.json");
    let r =
        json_out(&credex(&["--auth", &official, "record", &id, "--node", &a.url, "--authorization", &d("auth.json")]));
    assert_eq!((r["source"].as_str(), r["matches_anchor"].as_bool()), (Some("cn-sfh-ftz"), Some(true)), "{r}");
    let fields: Vec<&str> =
        r["attestation"]["claims"].as_array().unwrap().iter().map(|c| c["value"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["5000", "late customs declaration"]);
    let att: credex_types::Attestation = serde_json::from_value(r["attestation"].clone()).unwrap();
    assert_eq!(att.id().to_string(), id, "the record is the anchored attestation");

    // the trader sees who read it: at the holder (the requesting agency and its official) and at the requesting node
    let log = json_out(&credex(&["--auth", &d("trader.json"), "access-log", trader, "--node", &v.url]));
    let served: Vec<&serde_json::Value> =
        log["entries"].as_array().unwrap().iter().filter(|e| e["result"] == "served").collect();
    assert_eq!(served.len(), 1, "{log}");
    assert_eq!(served[0]["client"], "ru-primorye-cci/pcci-officer");
    assert!(served[0]["basis"].as_str().unwrap().starts_with("authorization:"));
    let refusals = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["result"].as_str().unwrap().starts_with("refused:"))
        .count();
    assert_eq!(refusals, 3, "no-authorization is refused at the requesting node before any peer is asked: {log}");
    let local = json_out(&credex(&["--auth", &d("trader.json"), "access-log", trader, "--node", &a.url]));
    assert!(
        local["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["client"] == "pcci-officer" && e["result"] == "served from cn-sfh-ftz"),
        "{local}"
    );

    // the trader withdraws its authorization: on chain, so the holder refuses it from then on
    let granted: credex_types::access::SignedAuthorization =
        serde_json::from_str(&std::fs::read_to_string(d("auth.json")).unwrap()).unwrap();
    let w = json_out(&credex(&[
        "unauthorize",
        "--node",
        &v.url,
        "--key",
        &d("trader.json"),
        "--authorization",
        &d("auth.json"),
        "--wait",
    ]));
    assert_eq!(w["revoked"].as_str(), Some(granted.authorization.hash().to_string().as_str()), "{w}");
    wait_height(&a, w["height"].as_u64().unwrap());
    refused(
        &credex(&["--auth", &official, "record", &id, "--node", &a.url, "--authorization", &d("auth.json")]),
        "authorization-revoked",
    );
    // only its own subject can withdraw it: the registrar's key is not the trader's
    let o = credex(&["unauthorize", "--node", &v.url, "--key", &amr, "--authorization", &d("auth.json")]);
    assert!(!o.status.success(), "{o:?}");

    // a request signed for the observer is void at the validator's node, where the same key is registered
    let path = format!("/v1/subjects/{trader}");
    let for_a = crate::dev_node::sign(&a.url, "GET", &path, b"", &official);
    assert_eq!(crate::dev_node::get_with(&a.url, &path, &for_a).0, 200);
    let (code, e) = crate::dev_node::get_with(&v.url, &path, &for_a);
    assert_eq!((code, e["code"].as_str()), (401, Some("bad-request-signature")), "{e}");
    assert_eq!(
        crate::dev_node::get_as(&v.url, &path, &official).0,
        200,
        "signed for it, the same key is accepted there"
    );

    // the requesting node's audit log is anchored on chain; verify passes untouched, fails edited
    let start = std::time::Instant::now();
    loop {
        let (_, x) = crate::dev_node::get_as(&a.url, "/v1/audit/anchors", &official);
        if x["anchors"].as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no audit anchor of the observer: {x}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let export = d("audit.jsonl");
    json_out(&credex(&["--auth", &official, "audit", "export", "--node", &a.url, "--out", &export]));
    // the anchors must come from another node than the audited one
    refused(
        &credex(&["--auth", &official, "audit", "verify", &export, "--node", &a.url, "--of", "ru-primorye-cci"]),
        "own node",
    );
    // (anchors read at the validator's node, signed in as the market regulator)
    let verify_at_v =
        |file: &str| credex(&["--auth", &amr, "audit", "verify", file, "--node", &v.url, "--of", "ru-primorye-cci"]);
    let ok = json_out(&verify_at_v(&export));
    assert_eq!((ok["intact"].as_bool(), ok["anchors_from"].as_str()), (Some(true), Some("cn-sfh-ftz")), "{ok}");
    assert!(ok["anchors_checked"].as_u64().unwrap() >= 1);
    // a cut export is not intact: the entries up to the last anchored head are missing
    let all: Vec<String> = std::fs::read_to_string(&export).unwrap().lines().map(str::to_string).collect();
    let (_, x) = crate::dev_node::get_as(&v.url, "/v1/audit/anchors?node=ru-primorye-cci", &amr);
    let newest = x["anchors"].as_array().unwrap().iter().filter_map(|a| a["seq"].as_u64()).max().unwrap();
    let keep = usize::try_from(newest).unwrap() - 1;
    let cut = d("audit-cut.jsonl");
    std::fs::write(&cut, all[..keep].join("\n") + "\n").unwrap();
    let o = verify_at_v(&cut);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("missing"));
    let mut lines: Vec<String> = std::fs::read_to_string(&export).unwrap().lines().map(str::to_string).collect();
    let mut e: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    e["client"] = "nobody".into();
    lines[1] = e.to_string();
    std::fs::write(&export, lines.join("\n") + "\n").unwrap();
    let o = verify_at_v(&export);
    assert_eq!(o.status.code(), Some(1));
    let v2: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v2["first_altered_entry"], 2, "{v2}");

    // once erased, nobody can serve the record
    let t = json_out(&credex(&[
        "attest",
        "--node",
        &v.url,
        "--key",
        &amr,
        "--subject",
        trader,
        "--kind",
        "erasure-tombstone",
        "--supersedes",
        &id,
        "--wait",
    ]));
    wait_height(&a, t["height"].as_u64().unwrap());
    refused(
        &credex(&["--auth", &official, "record", &id, "--node", &a.url, "--authorization", &d("auth.json")]),
        "erased",
    );
}

/// The seed of a key file.
fn seed_of(file: &Path) -> [u8; 32] {
    credex_api_types::KeyFile::read(file).unwrap().1.seed()
}

/// A hostile but allow-listed peer: the Busan chamber's observer key, run
/// from this test with hand-made requests instead of a `credex node`.
struct HostilePeer {
    rt: tokio::runtime::Runtime,
    handle: credex_p2p::Handle,
    target: credex_p2p::PeerId,
}

impl HostilePeer {
    fn connect(net: &Net, key: &str) -> HostilePeer {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let genesis: credex_crypto::Hash32 =
            String::from_utf8(credex(&["genesis", "hash", s(&net.genesis)]).stdout).unwrap().trim().parse().unwrap();
        let target = credex_p2p::keypair_from_seed(seed_of(&net.dir.join("v-p2p.json"))).public().to_peer_id();
        let config = credex_p2p::Config {
            keypair: credex_p2p::keypair_from_seed(seed_of(&net.dir.join(key))),
            listen: vec![format!("/ip4/127.0.0.1/tcp/{}", free_port()).parse().unwrap()],
            bootstrap: vec![net.validator_p2p.parse().unwrap()],
            allowed: vec![target],
            genesis,
            max_message: 8 << 20,
        };
        let handle = rt.block_on(async {
            let (handle, mut events) = credex_p2p::spawn(config).unwrap();
            tokio::spawn(async move { while events.recv().await.is_some() {} });
            let start = Instant::now();
            while !handle.peers().await.unwrap().contains(&target) {
                assert!(start.elapsed() < Duration::from_secs(20), "the hostile peer never connected");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            handle
        });
        HostilePeer { rt, handle, target }
    }

    fn ask(&self, req: &credex_wire::SyncRequest) -> credex_wire::SyncResponse {
        let bytes = self.rt.block_on(self.handle.request(self.target, credex_codec::encode(req))).unwrap();
        credex_codec::decode(&bytes, 8 << 20).unwrap()
    }
}

#[test]
fn an_allow_listed_peer_cannot_claim_to_be_the_subject_or_an_issuer_to_get_a_raw_record() {
    use credex_wire::{ForwardedRequest, RawAnswer, RawRequest, SyncRequest, SyncResponse};
    let tmp = tempfile::tempdir().unwrap();
    let mut net = Net::new(tmp.path(), "credex-net-spoof");
    let vport = free_port();
    validator_address(&mut net, vport);
    let v = net.start("validator", "v-p2p.json", true, &[], vport);
    let trader = "91350100M000100Y43";
    let amr = net.dir.join("amr.json");
    let trader_key = net.dir.join("trader.json");
    json_out(&credex(&["keygen", "--role", "subject", "--subject", trader, "--out", s(&trader_key)]));
    json_out(&credex(&[
        "bind-key",
        "--node",
        &v.url,
        "--registrar-key",
        s(&amr),
        "--subject-key",
        s(&trader_key),
        "--wait",
    ]));
    let p = json_out(&credex(&[
        "attest",
        "--node",
        &v.url,
        "--key",
        s(&amr),
        "--subject",
        trader,
        "--kind",
        "administrative-penalty",
        "--field",
        "amount=5000",
        "--wait",
    ]));
    let id: credex_types::AttestationId = p["id"].as_str().unwrap().parse().unwrap();

    let hostile = HostilePeer::connect(&net, "obs-b.json");
    let hostile_genesis: credex_crypto::Hash32 =
        String::from_utf8(credex(&["genesis", "hash", s(&net.genesis)]).stdout).unwrap().trim().parse().unwrap();
    // the hostile node signs with the only keys it has: its own
    let own = credex_crypto::SecretKey::from_seed(seed_of(&net.dir.join("obs-b.json")));
    let forged = |client: &str, body: &str| {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).unwrap();
        let audience = credex_types::access::Audience {
            chain_id: "credex-net-spoof".parse().unwrap(),
            genesis: hostile_genesis,
            node: "kr-busan-cci".into(),
        };
        let path = format!("/v1/attestations/{id}/record");
        let now = credex_types::Timestamp::system_now();
        let req = credex_api_types::sign::signed_request(audience, client, "POST", &path, body.as_bytes(), now, nonce);
        ForwardedRequest { client: client.into(), time: req.time, nonce, signature: req.sign(&own), body: body.into() }
    };
    let official = Some((credex_types::access::Role::Official, own.public()));
    let spoofs = [
        // "I relay the trader, reading its own record"
        (RawRequest { id, request: forged(trader, "{}"), vouched: None }, "bad-forwarded-signature"),
        // the same, vouching for the "trader" as one of its own officials
        (RawRequest { id, request: forged(trader, "{}"), vouched: official }, "bad-forwarded-signature"),
        // "I relay the market regulator, on an administrative inspection"
        (
            RawRequest { id, request: forged("cn-sfh-amr", r#"{"legal_basis":"cn-admin-inspection"}"#), vouched: None },
            "bad-forwarded-signature",
        ),
        // its own official, invoking a Chinese legal basis a Korean chamber does not have
        (
            RawRequest {
                id,
                request: forged("busan-officer", r#"{"legal_basis":"cn-admin-inspection"}"#),
                vouched: official,
            },
            "legal-basis-not-allowed",
        ),
        // a client it does not vouch for
        (RawRequest { id, request: forged("busan-officer", "{}"), vouched: None }, "unverified-caller"),
    ];
    for (spoof, want) in &spoofs {
        match hostile.ask(&SyncRequest::RawRecord(Box::new(spoof.clone()))) {
            SyncResponse::RawRecord(a) => match *a {
                RawAnswer::Refused { code, .. } => assert_eq!(&code, want, "{spoof:?}"),
                RawAnswer::Served(_) => panic!("the holder served the raw record to a spoofed {spoof:?}"),
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }
    // the refusals are in the holder's audit log, under the asking agency
    let log = json_out(&credex(&["--auth", s(&trader_key), "access-log", trader, "--node", &v.url]));
    let refused: Vec<&serde_json::Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["result"].as_str().is_some_and(|r| r.starts_with("refused:")))
        .collect();
    assert_eq!(refused.len(), spoofs.len(), "{log}");
    assert!(refused.iter().all(|e| e["client"].as_str().unwrap().starts_with("kr-busan-cci/")), "{log}");
}
