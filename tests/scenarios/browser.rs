//! The web UI in a real headless Chromium (Debian `chromium`, installed by
//! `.ci/run`): the verify page with a valid and a tampered proof, the trader
//! profile in each language, the lists and the explorer; the rendered DOM is
//! checked for what a person would see, and screenshots are kept under
//! `<target>/browser-screenshots/`.

use std::path::PathBuf;
use std::process::Command;

use crate::dev_node::{DevNode, free_port};

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn browser(args: &[&str], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=15000"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (install Debian's chromium, or set CHROMIUM): {e}", chromium()));
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The DOM after the page's scripts ran; and a screenshot named `shot`.
fn page(url: &str, shot: &str) -> String {
    let path = artifacts().join(format!("{shot}.png"));
    browser(&["--window-size=1280,1100", &format!("--screenshot={}", path.display())], url);
    assert!(std::fs::metadata(&path).is_ok_and(|m| m.len() > 1000), "screenshot {shot}");
    String::from_utf8(browser(&["--dump-dom"], url).stdout).unwrap()
}

#[test]
fn the_web_ui_verifies_proofs_and_shows_traders_in_three_languages() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let trader = "91350100M000100Y43";
    let (id, _) = credex_tests::harness::attest(
        &node.url,
        &amr,
        trader,
        "abnormal-operation-listing",
        &["reason-code=annual-report", "decision-no=17"],
    );
    let proof = credex_tests::harness::attestation_proof_text(&node.url, &amr, &id, &tmp.path().join("p.txt"));
    let id = id.to_string();
    let id = id.as_str();
    let genesis = crate::dev_node::get(&node.url, "/v1/status").1["genesis"].as_str().unwrap().to_string();

    // verify, in Russian: valid, with the disclosed field's label and value, the signer, and the genesis
    let dom = page(&format!("{}/?lang=ru#/verify?proof={proof}", node.url), "verify-valid-ru");
    assert!(dom.contains("data-outcome=\"valid\"") && dom.contains("ДЕЙСТВИТЕЛЬНО"), "{dom}");
    assert!(dom.contains("data-where=\"browser\""), "verified in the browser by the WebAssembly verifier: {dom}");
    assert!(dom.contains("Код причины внесения"), "the field label in Russian");
    assert!(dom.contains("Не опубликован годовой отчёт"), "the reason code's label in Russian");
    assert!(dom.contains("Администрация ЗСТ Суйфэньхэ [CN]"), "the signing validator, in Russian, with jurisdiction");
    assert!(dom.contains(&genesis), "the genesis the proof was checked against");
    assert!(!dom.contains("decision-no") && !dom.contains("17</td>"), "a hidden field stays hidden");

    // a tampered proof: one character of the body changed
    let mut tampered: Vec<char> = proof.chars().collect();
    let i = tampered.len() - 40;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let dom = page(&format!("{}/?lang=ru#/verify?proof={tampered}", node.url), "verify-tampered-ru");
    assert!(dom.contains("data-outcome=\"invalid\"") && dom.contains("НЕДЕЙСТВИТЕЛЬНО"), "{dom}");
    assert!(dom.contains("id=\"reason\""), "the reason is shown");

    // an every-list proof of a subject on no list reads "on no list", in Chinese, list by list
    let (_, standing) = crate::dev_node::get(&node.url, "/v1/standing/ru-inn:7707083893");
    let text = standing["proof_text"].as_str().unwrap().to_string();
    let dom = page(&format!("{}/?lang=zh#/verify?proof={text}", node.url), "verify-all-lists-zh");
    assert!(dom.contains("data-outcome=\"valid\"") && dom.contains("有效：未列入任何名单"), "{dom}");
    assert!(dom.contains("data-list=\"serious-violation\"") && dom.contains("严重违法失信名单"), "{dom}");

    // the trader's profile in each language: list statuses, QR code, report link
    for (lang, list_label, listed) in [
        ("zh", "经营异常名录", "列入时间"),
        ("ru", "Реестр недобросовестных предприятий", "в списке с"),
        ("en", "Abnormal-operation list", "listed since"),
    ] {
        let dom = page(&format!("{}/?lang={lang}#/trader/{trader}", node.url), &format!("trader-{lang}"));
        assert!(dom.contains(list_label) && dom.contains(listed), "{lang}: {dom}");
        assert!(dom.contains("/v1/standing/cn-uscc%3A91350100M000100Y43/qr.svg"), "{lang}: QR of every list");
        assert!(dom.contains(&format!("/report/cn-uscc%3A91350100M000100Y43?lang={lang}")), "{lang}: report link");
    }
    // the QR holds the every-list proof itself
    let mut r = crate::dev_node::agent().get(format!("{}/v1/standing/{trader}/qr.svg", node.url)).call().unwrap();
    assert!(r.body_mut().read_to_string().unwrap().starts_with("<?xml"));

    // lists and explorer
    let dom = page(&format!("{}/?lang=en#/lists/abnormal-operation", node.url), "lists-en");
    assert!(dom.contains("id=\"total\">1<") && dom.contains("cn-uscc:91350100M000100Y43"), "{dom}");
    let dom = page(&format!("{}/?lang=ru#/lists/abnormal-operation?q=M000100", node.url), "lists-search-ru");
    assert!(
        dom.contains("cn-uscc:91350100M000100Y43") && dom.contains("Поиск субъекта"),
        "search finds the trader: {dom}"
    );
    let dom = page(&format!("{}/?lang=ru#/lists/abnormal-operation?q=nobody", node.url), "lists-search-none-ru");
    assert!(!dom.contains("cn-uscc:91350100M000100Y43") && dom.contains("Список пуст."), "{dom}");
    let dom = page(&format!("{}/?lang=zh#/explorer", node.url), "explorer-zh");
    assert!(dom.contains("最新区块") && dom.contains("href=\"#/block/1\""), "{dom}");
    let dom = page(&format!("{}/?lang=en#/block/1", node.url), "block-en");
    assert!(dom.contains(&format!("href=\"#/attestation/{id}\"")) && dom.contains("Commit certificate"), "{dom}");
    // public callers do not learn whom an anchored attestation concerns
    assert!(!dom.contains("cn-uscc:91350100M000100Y43"), "{dom}");
    let dom = page(&format!("{}/?lang=ru#/attestation/{id}", node.url), "attestation-ru");
    assert!(dom.contains(id) && dom.contains("id=\"redacted\"") && !dom.contains("cn-sfh-amr"), "{dom}");

    // the printable report, in Chinese
    let dom = page(&format!("{}/report/{trader}?lang=zh", node.url), "report-zh");
    assert!(dom.contains("企业信用报告") && dom.contains("经营异常名录") && dom.contains("<svg"), "{dom}");
}

/// The web UI's request signing (`/assets/sign.js`, WebCrypto Ed25519 and
/// the canonical encoding in JavaScript) run in Node.js against the node:
/// a GET and a POST with a body, both accepted; a tampered one refused.
#[test]
fn the_web_uis_request_signatures_are_accepted_by_the_node() {
    let tmp = tempfile::tempdir().unwrap();
    // the webhook target of the signed POST is on loopback: allowed explicitly
    let node = DevNode::start_with(&tmp.path().join("dev"), free_port(), &["--webhook-allow", "127.0.0.1:9"]);
    let official = tmp.path().join("dev/keys/official.json");
    let script = r#"
(async () => {
  const url = process.env.NODE_URL;
  eval(await (await fetch(url + "/assets/sign.js")).text());
  const key = JSON.parse(require("fs").readFileSync(process.env.KEY_FILE, "utf8"));
  const chain = await (await fetch(url + "/v1/status")).json();
  const out = {};
  let path = "/v1/subjects/91350100M000100Y43?lang=ru";
  let h = await credexSign.headers(key, chain, "GET", path, new Uint8Array(0), Date.now());
  let r = await fetch(url + path, { headers: h });
  out.get = { status: r.status, body: await r.json() };
  path = "/v1/warnings/subscriptions";
  const body = new TextEncoder().encode(JSON.stringify({ url: "http://127.0.0.1:9/hook" }));
  h = await credexSign.headers(key, chain, "POST", path, body, Date.now());
  r = await fetch(url + path, { method: "POST", headers: Object.assign({ "content-type": "application/json" }, h), body });
  out.post = { status: r.status, body: await r.json() };
  h = await credexSign.headers(key, chain, "POST", path, body, Date.now());
  r = await fetch(url + path, { method: "POST", headers: Object.assign({ "content-type": "application/json" }, h), body: new TextEncoder().encode("{}") });
  out.tampered = { status: r.status, body: await r.json() };
  out.varint = [credexSign.varint(250), credexSign.varint(251), credexSign.varint(70000), credexSign.varint(1764500000000)].map((b) => credexSign.hex(b));
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"#;
    let o = Command::new("node")
        .arg("-e")
        .arg(script)
        .env("NODE_URL", &node.url)
        .env("KEY_FILE", &official)
        .output()
        .expect("node (Node.js) runs the web UI's signing code");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["get"]["status"], 200, "{v}");
    assert_eq!(v["get"]["body"]["grade"]["model"], "credex-grade-v1");
    assert_eq!(v["post"]["status"], 201, "{v}");
    assert_eq!(
        (v["tampered"]["status"].as_u64(), v["tampered"]["body"]["code"].as_str()),
        (Some(401), Some("bad-request-signature"))
    );
    // the same varint as the Rust codec
    let rust: Vec<String> =
        [250u64, 251, 70_000, 1_764_500_000_000].iter().map(|n| hex::encode(credex_codec::encode(n))).collect();
    assert_eq!(v["varint"], serde_json::json!(rust));
}

/// The offline verify page (`GET /verify.html`): saved as one file, opened
/// from disk with the node gone, it verifies in the browser in each
/// language: a valid attestation, the same proof broken over lines as from
/// an e-mail, a tampered one, a listed trader's every-list proof, a clean
/// one; and its verdicts are the ones `credex verify` gives.
#[test]
fn the_offline_page_verifies_from_a_saved_file_with_no_node() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let trader = "91350100M000100Y43";
    let (id, _) = credex_tests::harness::attest(
        &node.url,
        &amr,
        trader,
        "abnormal-operation-listing",
        &["reason-code=annual-report"],
    );
    let proof = credex_tests::harness::attestation_proof_text(&node.url, &amr, &id, &tmp.path().join("p.txt"));
    let listed = crate::dev_node::get(&node.url, &format!("/v1/standing/{trader}")).1["proof_text"]
        .as_str()
        .unwrap()
        .to_string();
    let clean =
        crate::dev_node::get(&node.url, "/v1/standing/ru-inn:7707083893").1["proof_text"].as_str().unwrap().to_string();
    let genesis = crate::dev_node::get(&node.url, "/v1/status").1["genesis"].as_str().unwrap().to_string();
    let mut r = crate::dev_node::agent().get(format!("{}/verify.html", node.url)).call().unwrap();
    let html = r.body_mut().with_config().limit(16 << 20).read_to_string().unwrap();
    let saved = tmp.path().join("credex-verify.html");
    std::fs::write(&saved, &html).unwrap();
    // the genesis served for verifiers is the node's own
    let mut g = crate::dev_node::agent().get(format!("{}/v1/genesis", node.url)).call().unwrap();
    let genesis_toml = g.body_mut().read_to_string().unwrap();
    assert_eq!(credex_types::Genesis::from_toml(&genesis_toml).unwrap().hash().to_string(), genesis);
    drop(node); // no node from here on

    let page_url = |lang: &str, proof: &str| format!("file://{}?lang={lang}#/verify?proof={proof}", saved.display());
    // a proof as an e-mail wraps it: lines of 76 characters
    let wrapped: String = proof
        .chars()
        .collect::<Vec<_>>()
        .chunks(76)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("%0A");
    let mut tampered: Vec<char> = proof.chars().collect();
    let i = tampered.len() - 40;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for (lang, valid, invalid, listed_word, clean_word, zone) in [
        ("zh", "有效", "无效", "经营异常名录", "有效：未列入任何名单", "北京时间"),
        (
            "ru",
            "ДЕЙСТВИТЕЛЬНО",
            "НЕДЕЙСТВИТЕЛЬНО",
            "Реестр недобросовестных предприятий",
            "НИ В ОДНОМ СПИСКЕ",
            "владивостокское время",
        ),
        ("en", "VALID", "INVALID", "Abnormal-operation list", "ON NO LIST", "UTC"),
    ] {
        let dom = page(&page_url(lang, &proof), &format!("offline-valid-{lang}"));
        assert!(dom.contains("data-where=\"browser\"") && dom.contains("data-exit=\"0\""), "{lang}: {dom}");
        // the block time in the reader's zone, named (stored and kept in UTC beside it)
        let utc = dom.split("data-utc=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
        let shown = dom.split(&format!("data-utc=\"{utc}\">")).nth(1).and_then(|r| r.split('<').next()).unwrap();
        assert!(shown.ends_with(zone), "{lang}: {shown}");
        let t: credex_types::Timestamp = utc.parse().unwrap();
        let offset = match lang {
            "zh" => 8,
            "ru" => 10,
            _ => 0,
        } * 3_600_000;
        let local = credex_types::Timestamp(t.0 + offset).to_string();
        assert!(shown.starts_with(&format!("{} {}", &local[..10], &local[11..16])), "{lang}: {shown} for {utc}");
        assert!(dom.contains("data-outcome=\"valid\"") && dom.contains(valid), "{lang}: {dom}");
        assert!(dom.contains(&genesis), "{lang}: the genesis it was checked against");
        let dom = page(&page_url(lang, &wrapped), &format!("offline-wrapped-{lang}"));
        assert!(dom.contains("data-outcome=\"valid\"") && dom.contains("data-exit=\"0\""), "{lang} wrapped: {dom}");
        let dom = page(&page_url(lang, &tampered), &format!("offline-tampered-{lang}"));
        assert!(dom.contains("data-outcome=\"invalid\"") && dom.contains(invalid), "{lang}: {dom}");
        assert!(dom.contains("data-exit=\"2\"") && dom.contains("id=\"reason\""), "{lang}: {dom}");
        let dom = page(&page_url(lang, &listed), &format!("offline-listed-{lang}"));
        assert!(dom.contains("data-exit=\"1\"") && dom.contains("class=\"listed\""), "{lang} listed: {dom}");
        assert!(
            dom.contains(listed_word) && !dom.contains("class=\"outcome outcome-valid\""),
            "{lang} listed: not green: {dom}"
        );
        let dom = page(&page_url(lang, &clean), &format!("offline-clean-{lang}"));
        assert!(dom.contains("data-exit=\"0\"") && dom.contains(clean_word), "{lang} clean: {dom}");
    }
    // the page's exit codes are the command's
    for (text, want) in [(&proof, 0), (&tampered, 2), (&listed, 1), (&clean, 0)] {
        let f = tmp.path().join("q.txt");
        std::fs::write(&f, text).unwrap();
        let g = tmp.path().join("genesis.toml");
        std::fs::write(&g, &genesis_toml).unwrap();
        assert_eq!(crate::dev_node::verify(&f, g.to_str().unwrap()).0, want);
    }
}
