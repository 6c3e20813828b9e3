//! The credit lifecycle (spec §11) driven through the CLI against a real
//! `credex dev` process: subject keys, commitments, repair, objections and
//! erasure, escalation, publication windows, grades, early warning with
//! long-poll and a webhook that first fails, and issuer governance with key
//! rotation; every state proven offline.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dev_node::{DevNode, credex, free_port, get, get_as, json_out, post, post_as, refused, verify};

const TRADER: &str = "91350100M000100Y43";

/// `credex attest --node URL --key KEY --subject SUBJECT --kind KIND EXTRA… --wait`.
fn attest(url: &str, key: &str, subject: &str, kind: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["attest", "--node", url, "--key", key, "--subject", subject, "--kind", kind];
    args.extend_from_slice(extra);
    args.push("--wait");
    credex(&args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn case_status(url: &str, case: &str, official: &str) -> String {
    let (code, c) = get_as(url, &format!("/v1/cases/{case}"), official);
    c["status"].as_str().unwrap_or_else(|| panic!("case {case}: {code} {c}")).to_string()
}

/// A one-shot HTTP server for webhooks: answers 500 to the first request,
/// 200 to the rest, and keeps every body with its request head.
/// What the webhook server received: (head, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn webhook() -> (String, Received, Arc<Mutex<u32>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(Mutex::new(0u32));
    let (b, h) = (bodies.clone(), hits.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // read headers and the body announced by Content-Length
            let body = loop {
                let n = stream.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some((text[..end].to_string(), buf[end + 4..end + 4 + len].to_vec()));
                    }
                }
            };
            let mut n = h.lock().unwrap();
            *n += 1;
            let status = if *n == 1 { "500 Internal Server Error" } else { "200 OK" };
            if let (true, Some(got)) = (*n > 1, body) {
                b.lock().unwrap().push(got);
            }
            let _ = stream
                .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes());
        }
    });
    (url, bodies, hits)
}

#[test]
fn credit_lifecycle_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    // the webhook receiver is on loopback, which a node refuses unless allowed
    let (hook, bodies, hits) = webhook();
    let hook_addr = hook.trim_start_matches("http://").trim_end_matches("/hook").to_string();
    let node = DevNode::start_with(&dir, free_port(), &["--webhook-allow", &hook_addr]);
    let url = node.url.clone();
    let g = node.genesis();
    let (amr, ftz, customs) = (node.key("cn-sfh-amr"), node.key("cn-sfh-ftz"), node.key("cn-sfh-customs"));
    let official = dir.join("keys/official.json").to_string_lossy().to_string();
    let doc = tmp.path().join("doc.txt");
    std::fs::write(&doc, "I undertake to file the 2025 annual report by March.").unwrap();

    // webhook first, so it sees every event; its signing secret is shown once
    let sub = json_out(&credex(&["--auth", &official, "webhook", "add", &hook, "--node", &url]));
    let secret = hex::decode(sub["secret"].as_str().expect("the secret, once")).unwrap();
    let listed = json_out(&credex(&["--auth", &official, "webhook", "list", "--node", &url]));
    assert_eq!(listed["subscriptions"][0]["id"], sub["id"], "{listed}");
    assert!(listed["subscriptions"][0].get("secret").is_none(), "never listed again: {listed}");
    let bad = post_as(&url, "/v1/warnings/subscriptions", b"{\"url\":\"ftp://x\"}", &official);
    assert_eq!((bad.0, bad.1["code"].as_str()), (400, Some("invalid-url")));

    // -- subject key: acts need it; only a registrar with the permission binds it
    let skey = tmp.path().join("trader.json");
    json_out(&credex(&["keygen", "--role", "subject", "--subject", TRADER, "--out", s(&skey), "--dev-warning"]));
    refused(
        &credex(&["commit", "--node", &url, "--key", s(&skey), "--agency", "cn-sfh-ftz", "--text", s(&doc), "--wait"]),
        // a subject without a bound key cannot even sign in (the chain's own refusal is no-subject-key)
        "unknown-client",
    );
    refused(
        &credex(&["bind-key", "--node", &url, "--registrar-key", &customs, "--subject-key", s(&skey), "--wait"]),
        "kind-not-allowed",
    );
    json_out(&credex(&["bind-key", "--node", &url, "--registrar-key", &amr, "--subject-key", s(&skey), "--wait"]));

    // -- credit commitment: accept, then breach; forbidden transitions refused
    let c = json_out(&credex(&[
        "commit",
        "--node",
        &url,
        "--key",
        s(&skey),
        "--agency",
        "cn-sfh-ftz",
        "--text",
        s(&doc),
        "--wait",
    ]));
    let commitment = c["case"].as_str().unwrap().to_string();
    assert_eq!(case_status(&url, &commitment, &official), "pending");
    refused(
        &credex(&[
            "decide",
            "--node",
            &url,
            "--key",
            &ftz,
            "--case",
            &commitment,
            "--kind",
            "credit-commitment-fulfilled",
            "--wait",
        ]),
        "case-transition",
    );
    refused(
        &credex(&[
            "decide",
            "--node",
            &url,
            "--key",
            &amr,
            "--case",
            &commitment,
            "--kind",
            "credit-commitment",
            "--wait",
        ]),
        "not-case-agency",
    );
    json_out(&credex(&[
        "decide",
        "--node",
        &url,
        "--key",
        &ftz,
        "--case",
        &commitment,
        "--kind",
        "credit-commitment",
        "--wait",
    ]));
    json_out(&credex(&[
        "decide",
        "--node",
        &url,
        "--key",
        &ftz,
        "--case",
        &commitment,
        "--kind",
        "credit-commitment-breached",
        "--field",
        "reason=report not filed",
        "--wait",
    ]));
    assert_eq!(case_status(&url, &commitment, &official), "breached");

    // -- listing + breach puts the trader on the risk list; long-poll sees it
    let l =
        json_out(&attest(&url, &amr, TRADER, "abnormal-operation-listing", &["--field", "reason-code=annual-report"]));
    let listing = l["id"].as_str().unwrap().to_string();
    let start = Instant::now();
    let ev = loop {
        let (_, v) = get_as(&url, "/v1/warnings/events?after=0&wait=5", &official);
        if v["events"].as_array().is_some_and(|e| !e.is_empty()) {
            break v;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no warning event");
    };
    assert_eq!(ev["events"][0]["change"], "entered");
    assert_eq!(ev["events"][0]["rules"][0], "listing-and-breach");
    let risk = get_as(&url, "/v1/warnings?lang=zh", &official).1;
    assert_eq!(risk["subjects"][0]["subject"], format!("cn-uscc:{TRADER}"));
    assert!(risk["subjects"][0]["labels"][0].as_str().unwrap().contains("承诺"));

    // -- credit repair: only the listing agency decides; approval removes the listing
    let r = json_out(&credex(&[
        "repair",
        "--node",
        &url,
        "--key",
        s(&skey),
        "--list",
        "abnormal-operation",
        "--statement",
        s(&doc),
        "--wait",
    ]));
    let repair = r["case"].as_str().unwrap().to_string();
    let shown = get_as(&url, &format!("/v1/cases/{repair}?lang=ru"), &official).1;
    assert_eq!((shown["agency"].as_str(), shown["target"].as_str()), (Some("cn-sfh-amr"), Some(listing.as_str())));
    assert!(shown["repair_conditions"].as_str().unwrap().contains("отчёт"), "{shown}");
    refused(
        &credex(&[
            "decide",
            "--node",
            &url,
            "--key",
            &customs,
            "--case",
            &repair,
            "--kind",
            "credit-repair-rejection",
            "--wait",
        ]),
        "not-case-agency",
    );
    json_out(&credex(&[
        "decide",
        "--node",
        &url,
        "--key",
        &amr,
        "--case",
        &repair,
        "--kind",
        "abnormal-operation-removal",
        "--field",
        "repair-basis=report filed",
        "--wait",
    ]));
    let cp = tmp.path().join("case.txt");
    json_out(&credex(&["--auth", &official, "case", &repair, "--node", &url, "--proof", s(&cp)]));
    let (code, text) = verify(&cp, &g);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("approved"), "{text}");
    // the time-window proof: not listed now, but listed within three years
    let st = tmp.path().join("status.txt");
    json_out(&credex(&[
        "proof",
        "status",
        "--node",
        &url,
        "--subject",
        TRADER,
        "--list",
        "abnormal-operation",
        "--out",
        s(&st),
    ]));
    assert_eq!(verify(&st, &g).0, 0, "not listed now");
    let o = credex(&["verify", s(&st), "--genesis", &g, "--clear-for", "3y", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap()["verdict"]["outcome"], "recently-listed");
    // never on the serious-violation list: clear for three years (non-membership)
    let sv = tmp.path().join("sv.txt");
    json_out(&credex(&[
        "proof",
        "status",
        "--node",
        &url,
        "--subject",
        TRADER,
        "--list",
        "serious-violation",
        "--out",
        s(&sv),
    ]));
    assert_eq!(credex(&["verify", s(&sv), "--genesis", &g, "--clear-for", "3y"]).status.code(), Some(0));

    // -- objection: corrected, then erased (content gone, proofs say erased)
    let p = json_out(&attest(&url, &amr, TRADER, "administrative-penalty", &["--field", "amount=5000"]));
    let penalty = p["id"].as_str().unwrap().to_string();
    let old = tmp.path().join("old.txt");
    json_out(&credex(&[
        "--auth",
        &official,
        "proof",
        "attestation",
        &penalty,
        "--node",
        &url,
        "--disclose",
        "amount",
        // an official discloses only on a legal basis of its role (spec §12.3)
        "--legal-basis",
        "cn-admin-inspection",
        "--out",
        s(&old),
    ]));
    let o = json_out(&credex(&[
        "object",
        "--node",
        &url,
        "--key",
        s(&skey),
        "--target",
        &penalty,
        "--grounds",
        s(&doc),
        "--wait",
    ]));
    let objection = o["case"].as_str().unwrap().to_string();
    refused(
        &credex(&[
            "decide",
            "--node",
            &url,
            "--key",
            &amr,
            "--case",
            &objection,
            "--kind",
            "administrative-licence",
            "--wait",
        ]),
        "case-transition",
    );
    let fixed = json_out(&credex(&[
        "decide",
        "--node",
        &url,
        "--key",
        &amr,
        "--case",
        &objection,
        "--kind",
        "administrative-penalty",
        "--field",
        "amount=500",
        "--wait",
    ]));
    assert_eq!(case_status(&url, &objection, &official), "corrected");
    let now_old = tmp.path().join("old-now.txt");
    json_out(&credex(&["--auth", &official, "proof", "attestation", &penalty, "--node", &url, "--out", s(&now_old)]));
    let (code, text) = verify(&now_old, &g);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("SUPERSEDED"), "{text}");
    let fixed_id = fixed["id"].as_str().unwrap().to_string();
    let o2 = json_out(&credex(&[
        "object",
        "--node",
        &url,
        "--key",
        s(&skey),
        "--target",
        &fixed_id,
        "--grounds",
        s(&doc),
        "--wait",
    ]));
    let objection2 = o2["case"].as_str().unwrap().to_string();
    json_out(&credex(&[
        "decide",
        "--node",
        &url,
        "--key",
        &amr,
        "--case",
        &objection2,
        "--kind",
        "erasure-tombstone",
        "--wait",
    ]));
    assert_eq!(case_status(&url, &objection2, &official), "erased");
    let info = get_as(&url, &format!("/v1/attestations/{fixed_id}"), &official).1;
    assert_eq!((info["state"].as_str(), info["fields_held"].as_bool()), (Some("erased"), Some(false)), "{info}");
    // disclosing is impossible now, even on a legal basis; a status proof says erased without content
    let (code, e) = get_as(
        &url,
        &format!("/v1/attestations/{fixed_id}/proof?disclose=amount&legal_basis=cn-admin-inspection"),
        &official,
    );
    assert_eq!((code, e["code"].as_str()), (404, Some("fields-not-held")));
    let er = tmp.path().join("erased.txt");
    json_out(&credex(&["--auth", &official, "proof", "attestation", &fixed_id, "--node", &url, "--out", s(&er)]));
    let (code, text) = verify(&er, &g);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("ERASED") && !text.contains("  field "), "no field is shown: {text}");

    // -- publication window: an ordinary penalty whose window ended is withheld from the profile
    json_out(&attest(
        &url,
        &customs,
        TRADER,
        "administrative-penalty",
        &["--effective", "2025-01-01T00:00:00Z", "--expires", "2025-06-01T00:00:00Z"],
    ));
    refused(
        &attest(
            &url,
            &customs,
            TRADER,
            "administrative-penalty",
            &["--effective", "2025-01-01T00:00:00Z", "--expires", "2027-06-01T00:00:00Z"],
        ),
        "publication-window",
    );

    // -- escalation: an abnormal-operation listing in force for three years moves to serious violation
    let old_trader = "ru-inn:7707083893";
    json_out(&attest(
        &url,
        &amr,
        old_trader,
        "abnormal-operation-listing",
        &["--effective", "2022-01-01T00:00:00Z", "--field", "reason-code=unreachable-address"],
    ));
    let start = Instant::now();
    loop {
        let v = get(&url, &format!("/v1/lists/serious-violation/{old_trader}")).1;
        if v["listed"] == true {
            assert_eq!(v["listing"]["escalated_from"], "abnormal-operation");
            assert_eq!(v["listing"]["issuer"], "cn-sfh-amr");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no escalation: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(&url, &format!("/v1/lists/abnormal-operation/{old_trader}")).1["listed"], false);
    // Accept-Language picks the label language of every route
    let mut r = crate::dev_node::agent()
        .get(format!("{url}/v1/lists/serious-violation/{old_trader}"))
        .header("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8")
        .call()
        .unwrap();
    let v: Value = r.body_mut().read_json().unwrap();
    assert_eq!(v["list_label"], "Список серьёзных нарушителей");
    let v = get_as(&url, &format!("/v1/attestations/{penalty}?lang=zh"), &official).1;
    assert_eq!(v["kind_label"], "行政处罚");
    assert_eq!(get(&url, "/v1/labels").1["hash"].as_str().map(str::len), Some(64));

    // -- profile and grade, in Russian and Chinese
    let prof: Value = serde_json::from_slice(&json_out_raw(&[
        "--auth", &official, "subject", TRADER, "--node", &url, "--lang", "ru", "--json",
    ]))
    .unwrap();
    assert_eq!(prof["withheld_penalties"], 1);
    assert_eq!(prof["lang"], "ru");
    assert!(prof["cases"].as_array().unwrap().len() >= 4);
    let commit_case = prof["cases"].as_array().unwrap().iter().find(|c| c["id"] == commitment.as_str()).unwrap();
    assert_eq!(commit_case["status_label"], "Нарушено");
    assert_eq!(commit_case["history"].as_array().unwrap().len(), 3);
    let text =
        String::from_utf8(json_out_raw(&["--auth", &official, "subject", TRADER, "--node", &url, "--lang", "zh"]))
            .unwrap();
    assert!(text.contains("信用承诺"), "{text}");
    let grade = get_as(&url, &format!("/v1/subjects/{TRADER}/grade?sector=customs"), &official).1;
    let rules: Vec<&str> = grade["lines"].as_array().unwrap().iter().map(|l| l["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"commitment-breached") && rules.contains(&"listing-history"), "{grade}");
    let issued =
        json_out(&credex(&["grade", TRADER, "--node", &url, "--sector", "customs", "--key", &customs, "--wait"]));
    let again =
        json_out(&credex(&["grade", TRADER, "--node", &url, "--sector", "customs", "--key", &customs, "--wait"]));
    let first = get_as(&url, &format!("/v1/attestations/{}", issued["id"].as_str().unwrap()), &official).1;
    assert_eq!(first["state"], "superseded", "a new grade supersedes the issuer's previous one");
    // a hand-made grade that contradicts the published model is refused,
    // saying what the model gives; marked manual with a reason it is taken
    let model = (grade["grade"].as_str().unwrap().to_string(), grade["score"].as_i64().unwrap());
    let hand = |extra: &[&str]| {
        let mut args = vec![
            "attest",
            "--node",
            &url,
            "--key",
            &customs,
            "--subject",
            TRADER,
            "--kind",
            "credit-grade",
            "--field",
            "grade=A",
            "--field",
            "score=100",
            "--field",
            "sector=customs",
        ];
        args.extend_from_slice(extra);
        credex(&args)
    };
    assert_ne!(model, ("A".to_string(), 100), "the trader's record is not spotless: {grade}");
    let o = hand(&[]);
    refused(&o, "grade-not-model");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("({} / {})", model.0, model.1)), "the refusal names the model's grade: {err}");
    json_out(&hand(&["--field", "reason=on-site inspection 2026-03 found the breach remedied", "--wait"]));
    // a subject the chain knows nothing of is not rated, and cannot be graded by the model
    let stranger = "91350100MA2YKQ3N69";
    let unrated = get_as(&url, &format!("/v1/subjects/{stranger}/grade"), &official).1;
    assert_eq!(unrated["no_record"], true, "{unrated}");
    refused(
        &credex(&["grade", stranger, "--node", &url, "--sector", "customs", "--key", &customs, "--wait"]),
        "no-record",
    );
    let gp = tmp.path().join("grade.txt");
    json_out(&credex(&[
        "--auth",
        &official,
        "proof",
        "attestation",
        again["id"].as_str().unwrap(),
        "--node",
        &url,
        "--disclose",
        "grade,scoring-inputs",
        // an official discloses only on a legal basis of its role (spec §12.3)
        "--legal-basis",
        "cn-admin-inspection",
        "--out",
        s(&gp),
    ]));
    let (code, text) = verify(&gp, &g);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("credex-grade-v1;customs;"), "{text}");

    // -- issuer governance (the dev chain's single validator is 2f+1 of 1)
    let tax = tmp.path().join("tax.json");
    let tax2 = tmp.path().join("tax2.json");
    json_out(&credex(&["keygen", "--agency", "cn-sfh-tax", "--out", s(&tax)]));
    json_out(&credex(&["keygen", "--agency", "cn-sfh-tax", "--out", s(&tax2)]));
    refused(
        &attest(&url, s(&tax), TRADER, "administrative-licence", &[]),
        // not registered yet: it cannot even sign in (the chain's refusal is unknown-issuer)
        "unknown-client",
    );
    let prop = tmp.path().join("add.json");
    json_out(&credex(&[
        "gov",
        "propose",
        "--node",
        &url,
        "--out",
        s(&prop),
        "add-issuer",
        "--key",
        s(&tax),
        "--names",
        "税务局|Налоговая служба|Tax Bureau",
        "--jurisdiction",
        "CN",
        "--kinds",
        "administrative-licence,administrative-penalty",
    ]));
    refused(
        &credex(&["--auth", &official, "gov", "submit", s(&prop), "--node", &url, "--wait"]),
        "insufficient-approvals",
    );
    let ap = json_out(&credex(&[
        "gov",
        "approve",
        s(&prop),
        "--key",
        &dir.join("keys/validator.json").to_string_lossy(),
        "--genesis",
        &g,
    ]));
    assert_eq!(ap["enough"], true);
    json_out(&credex(&["--auth", &official, "gov", "submit", s(&prop), "--node", &url, "--wait"]));
    let lic = json_out(&attest(&url, s(&tax), TRADER, "administrative-licence", &["--field", "licence-no=T-1"]));
    let rot = tmp.path().join("rot.json");
    json_out(&credex(&["gov", "propose", "--node", &url, "--out", s(&rot), "rotate-key", "--key", s(&tax2)]));
    json_out(&credex(&[
        "gov",
        "approve",
        s(&rot),
        "--key",
        &dir.join("keys/validator.json").to_string_lossy(),
        "--genesis",
        &g,
    ]));
    json_out(&credex(&["--auth", &official, "gov", "submit", s(&rot), "--node", &url, "--wait"]));
    refused(
        &attest(&url, s(&tax), TRADER, "administrative-licence", &[]),
        // the old key no longer signs in as the issuer (nor would the chain accept its attestation)
        "bad-request-signature",
    );
    json_out(&attest(&url, s(&tax2), TRADER, "administrative-licence", &[]));
    // the licence signed with the rotated-out key still proves valid
    let lp = tmp.path().join("lic.txt");
    json_out(&credex(&[
        "--auth",
        &official,
        "proof",
        "attestation",
        lic["id"].as_str().unwrap(),
        "--node",
        &url,
        "--disclose",
        "licence-no",
        // an official discloses only on a legal basis of its role (spec §12.3)
        "--legal-basis",
        "cn-admin-inspection",
        "--out",
        s(&lp),
    ]));
    assert_eq!(verify(&lp, &g).0, 0);
    let issuers = json_out(&credex(&["issuers", "--node", &url, "--lang", "zh"]));
    let t = issuers["issuers"].as_array().unwrap().iter().find(|i| i["agency"] == "cn-sfh-tax").unwrap();
    assert_eq!((t["name"].as_str(), t["retired_keys"].as_array().unwrap().len()), (Some("税务局"), 1));

    // -- the webhook got the events after one failed delivery
    let start = Instant::now();
    while bodies.lock().unwrap().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "webhook never delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(*hits.lock().unwrap() >= 2, "a retry after the 500");
    let (head, body) = bodies.lock().unwrap()[0].clone();
    let first: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(first[0]["seq"], 1);
    assert_eq!(first[0]["change"], "entered");
    // signed: the HMAC of time and body under the subscription's secret
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} in {head}"))
    };
    let time: u64 = header("x-credex-webhook-time").parse().unwrap();
    let signature = header("x-credex-webhook-signature");
    assert!(credex_api_types::types::webhook_signature_matches(&secret, time, &body, &signature), "{head}");
    assert!(
        !credex_api_types::types::webhook_signature_matches(&secret, time + 1, &body, &signature),
        "the time is signed"
    );
    let mut forged = body.clone();
    forged[0] ^= 1;
    assert!(!credex_api_types::types::webhook_signature_matches(&secret, time, &forged, &signature));
    assert!(header("x-credex-webhook-id").starts_with(sub["id"].as_str().unwrap()), "{head}");
    // removed with the CLI: gone from the list
    let id = sub["id"].as_str().unwrap();
    json_out(&credex(&["--auth", &official, "webhook", "remove", id, "--node", &url]));
    let listed = json_out(&credex(&["--auth", &official, "webhook", "list", "--node", &url]));
    assert_eq!(listed["subscriptions"], serde_json::json!([]), "{listed}");
}

fn json_out_raw(args: &[&str]) -> Vec<u8> {
    let o = credex(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// A platform checks its sellers in bulk (`credex check`, `POST
/// /v1/standing`): every list for each at one height, a line per input
/// (an id that is none says so), and each one's proof to keep, which
/// verifies offline; public callers and oversized calls are refused.
#[test]
fn a_platform_checks_its_sellers_in_bulk_with_proofs_it_can_keep() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    credex_tests::harness::attest(
        &node.url,
        &amr,
        "91350100M000100Y43",
        "abnormal-operation-listing",
        &["reason-code=annual-report"],
    );
    let sellers = tmp.path().join("sellers.csv");
    std::fs::write(
        &sellers,
        "统一社会信用代码,店铺\n91350100M000100Y43,A\nru-inn:7707083893,B\nnot-a-seller,C\n91231081MA1B2C3D4T,D\n",
    )
    .unwrap();
    let platform = tmp.path().join("dev/keys/platform.json");
    let out = tmp.path().join("results.csv");
    let proofs = tmp.path().join("proofs");
    let o = credex(&[
        "--auth",
        platform.to_str().unwrap(),
        "check",
        sellers.to_str().unwrap(),
        "--node",
        &node.url,
        "--out",
        out.to_str().unwrap(),
        "--proofs",
        proofs.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "one line is not a subject id: {}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "input,subject,status,lists,height,block_time,error");
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[1].starts_with("91350100M000100Y43,cn-uscc:91350100M000100Y43,listed,abnormal-operation,"), "{csv}");
    assert!(lines[2].starts_with("ru-inn:7707083893,ru-inn:7707083893,not-listed,,"), "{csv}");
    assert!(lines[3].starts_with("not-a-seller,,invalid-id,,") && lines[3].contains("matches no scheme"), "{csv}");
    assert!(lines[4].contains(",not-listed,,"), "{csv}");
    // the kept proofs verify offline, and say what the lines say
    let listed = proofs.join("cn-uscc_91350100M000100Y43.proof");
    let (code, text) = verify(&listed, &node.genesis());
    assert_eq!(code, 1, "{text}");
    assert!(text.starts_with("LISTED since "), "{text}");
    let (code, text) = verify(&proofs.join("ru-inn_7707083893.proof"), &node.genesis());
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("VALID: ON NO LIST"), "{text}");
    assert_eq!(std::fs::read_dir(&proofs).unwrap().count(), 3, "a proof per valid id");
    // the bulk route needs a signed caller of a role that may, and takes at most 10,000
    let body = serde_json::to_vec(&serde_json::json!({ "subjects": ["91350100M000100Y43"] })).unwrap();
    let (status, v) = post(&node.url, "/v1/standing", &body);
    assert_eq!((status, v["code"].as_str()), (401, Some("unauthenticated")), "{v}");
    let many: Vec<String> = (0..10_001).map(|_| "ru-inn:7707083893".to_string()).collect();
    let body = serde_json::to_vec(&serde_json::json!({ "subjects": many })).unwrap();
    let (status, v) = post_as(&node.url, "/v1/standing", &body, platform.to_str().unwrap());
    assert_eq!((status, v["code"].as_str()), (400, Some("bulk-size")), "{v}");
    let trader_body = serde_json::to_vec(&serde_json::json!({ "subjects": ["ru-inn:7707083893"] })).unwrap();
    let (status, v) = post_as(&node.url, "/v1/standing", &trader_body, &amr);
    assert_eq!(status, 200, "an issuer may check too: {v}");
    assert_eq!(v["results"][0]["listed_on"], serde_json::json!([]));
}

/// A list's pages end where the list ends (no "next" on a full last
/// page), and the count follows a search.
#[test]
fn list_pages_end_where_the_list_ends_and_counts_follow_a_search() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    for s in ["91350100M000100Y43", "91231081MA1B2C3D4T"] {
        credex_tests::harness::attest(&node.url, &amr, s, "abnormal-operation-listing", &["reason-code=annual-report"]);
    }
    let (_, all) = get(&node.url, "/v1/lists/abnormal-operation?limit=2");
    assert_eq!((all["total"].as_u64(), all["entries"].as_array().unwrap().len()), (Some(2), 2), "{all}");
    assert!(all["next"].is_null(), "a full last page has no next: {all}");
    let (_, first) = get(&node.url, "/v1/lists/abnormal-operation?limit=1");
    let next = first["next"].as_str().unwrap().to_string();
    let (_, second) = get(&node.url, &format!("/v1/lists/abnormal-operation?limit=1&after={next}"));
    assert_eq!(second["entries"].as_array().unwrap().len(), 1);
    assert!(second["next"].is_null(), "{second}");
    let (_, found) = get(&node.url, "/v1/lists/abnormal-operation?q=M000100");
    assert_eq!((found["total"].as_u64(), found["entries"].as_array().unwrap().len()), (Some(1), 1), "{found}");
}
