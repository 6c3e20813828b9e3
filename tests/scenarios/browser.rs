//! The web UI in a real headless Chromium (Debian `chromium`, installed by
//! `scripts/setup.sh --test`), driven as a person uses it ([`cdp::Browser`]:
//! clicks, typing, choosing a key file): the verify page in each language
//! with a valid, a wrapped, a tampered and a listed proof; the trader page
//! signed out, signed in as an official and as the trader itself; the
//! lists, the explorer and the report. What a person would see is checked
//! in the rendered page, and screenshots are kept under
//! `<target>/browser-screenshots/`.

mod cdp;

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use cdp::Browser;

use crate::dev_node::{DevNode, free_port};

/// A proof with one character of its body changed (40 from the end: in
/// the signatures), as a forger or a damaged print would give it.
fn tampered(proof: &str) -> String {
    let mut c: Vec<char> = proof.chars().collect();
    let i = c.len() - 40;
    c[i] = if c[i] == 'A' { 'B' } else { 'A' };
    c.into_iter().collect()
}

/// The every-list proof of `subject` as text (`GET /v1/standing/{subject}`).
fn standing_text(url: &str, subject: &str) -> String {
    let (status, v) = crate::dev_node::get(url, &format!("/v1/standing/{subject}"));
    assert_eq!(status, 200, "{v}");
    v["proof_text"].as_str().expect("proof_text").to_string()
}

/// A proof as an e-mail wraps it: lines of 76 characters.
fn wrapped(proof: &str) -> String {
    proof.chars().collect::<Vec<_>>().chunks(76).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("\n")
}

/// The words in Latin letters a reader of `lang` sees on the page, other
/// than identifiers (`.mono`, `<code>`), proper names as registered
/// (`.proper`), the language switch and the product's name: a string the
/// page forgot to translate shows up here.
fn english_words(b: &mut Browser) -> Vec<String> {
    let text = b.eval(
        "(() => { const c = document.body.cloneNode(true); \
         c.querySelectorAll('.mono, code, .proper, .langs, script, style, [hidden]').forEach((e) => e.remove()); \
         return c.innerText; })()",
    );
    let text = text.as_str().unwrap().to_string();
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2)
        .filter(|w| !matches!(*w, "credex" | "QR" | "UTC"))
        // jurisdiction codes beside a validator's name: CN, RU
        .filter(|w| !(w.len() == 2 && w.chars().all(|c| c.is_ascii_uppercase())))
        .map(String::from)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The verify page in `lang`: `proof` typed into the box, then Verify
/// clicked; the rendered page.
fn verify_typed(b: &mut Browser, url: &str, lang: &str, proof: &str) -> String {
    // a fresh fragment each time, so that the page is rendered anew
    static VISIT: AtomicU64 = AtomicU64::new(0);
    b.open(&format!("{url}/?lang={lang}#/verify?visit={}", VISIT.fetch_add(1, Ordering::Relaxed)));
    b.type_into("#proof", proof);
    b.click("#go");
    b.html()
}

/// The trader's registered name, as the registrar publishes it.
const NAME: &str = "绥芬河市边贸进出口有限公司";
const LATIN: &str = "Suifenhe Border Trade Import & Export Co., Ltd.";

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
    // the market regulator, as registrar, publishes the enterprise's registered name
    let o = credex_tests::harness::credex(&[
        "name",
        "--node",
        &node.url,
        "--registrar-key",
        &amr,
        "--subject",
        trader,
        "--name",
        NAME,
        "--latin",
        LATIN,
        "--wait",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let proof = credex_tests::harness::attestation_proof_text(&node.url, &amr, &id, &tmp.path().join("p.txt"));
    let id = id.to_string();
    let id = id.as_str();
    let genesis = crate::dev_node::get(&node.url, "/v1/status").1["genesis"].as_str().unwrap().to_string();
    let listed = standing_text(&node.url, trader);
    let clean = standing_text(&node.url, "ru-inn:7707083893");
    let mut b = Browser::launch();

    // verify, in Russian, from a link: valid, with the disclosed field's
    // label and value, the signer, and the genesis
    b.open(&format!("{}/?lang=ru#/verify?proof={proof}", node.url));
    b.screenshot("verify-valid-ru");
    let dom = b.html();
    assert!(dom.contains("data-outcome=\"valid\"") && dom.contains("ДЕЙСТВИТЕЛЬНО"), "{dom}");
    assert!(dom.contains("data-where=\"browser\""), "verified in the browser by the WebAssembly verifier: {dom}");
    assert!(dom.contains("Код причины внесения"), "the field label in Russian");
    assert!(dom.contains("Не опубликован годовой отчёт"), "the reason code's label in Russian");
    assert!(dom.contains("Администрация ЗСТ Суйфэньхэ [CN]"), "the signing validator, in Russian, with jurisdiction");
    assert!(dom.contains(&genesis), "the genesis the proof was checked against");
    assert!(!dom.contains("decision-no") && !dom.contains("17</td>"), "a hidden field stays hidden");
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words on the Russian verify page");

    // each language, typed or pasted into the box: the proof, the proof
    // broken over lines as an e-mail gives it, a tampered one, a listed
    // trader's every-list proof (a warning, never green), a clean one
    for (lang, valid, invalid, listed_word, clean_word) in [
        ("zh", "有效", "无效", "经营异常名录", "有效：未列入任何名单"),
        ("ru", "ДЕЙСТВИТЕЛЬНО", "НЕДЕЙСТВИТЕЛЬНО", "Реестр недобросовестных предприятий", "НИ В ОДНОМ СПИСКЕ"),
        ("en", "VALID", "INVALID", "Abnormal-operation list", "ON NO LIST"),
    ] {
        let dom = verify_typed(&mut b, &node.url, lang, &wrapped(&proof));
        b.screenshot(&format!("verify-wrapped-{lang}"));
        assert!(dom.contains("data-outcome=\"valid\"") && dom.contains(valid), "{lang} wrapped: {dom}");
        assert!(dom.contains("data-exit=\"0\""), "{lang} wrapped: {dom}");
        let dom = verify_typed(&mut b, &node.url, lang, &tampered(&proof));
        b.screenshot(&format!("verify-tampered-{lang}"));
        assert!(dom.contains("data-outcome=\"invalid\"") && dom.contains(invalid), "{lang} tampered: {dom}");
        assert!(dom.contains("data-exit=\"2\"") && dom.contains("id=\"reason\""), "{lang} tampered: {dom}");
        if lang != "en" {
            assert_eq!(english_words(&mut b), Vec::<String>::new(), "{lang}: untranslated words on a refusal");
        }
        let dom = verify_typed(&mut b, &node.url, lang, &listed);
        b.screenshot(&format!("verify-listed-{lang}"));
        assert!(b.text("#verified-name").contains(NAME), "{lang} listed: the trader by name: {dom}");
        assert!(dom.contains("data-exit=\"1\"") && dom.contains("class=\"listed\""), "{lang} listed: {dom}");
        assert!(
            dom.contains(listed_word) && !dom.contains("class=\"outcome outcome-valid\""),
            "{lang} listed: not green: {dom}"
        );
        let dom = verify_typed(&mut b, &node.url, lang, &clean);
        assert!(dom.contains("data-exit=\"0\"") && dom.contains(clean_word), "{lang} clean: {dom}");
        assert!(dom.contains("data-list=\"serious-violation\""), "{lang} clean: list by list: {dom}");
    }

    // the trader's profile in each language: list statuses with the
    // listing agency's name, QR code, report link
    let issuers = crate::dev_node::get(&node.url, "/v1/issuers").1;
    let amr_names =
        issuers["issuers"].as_array().unwrap().iter().find(|i| i["agency"] == "cn-sfh-amr").unwrap()["names"].clone();
    for (lang, list_label, listed) in [
        ("zh", "经营异常名录", "列入时间"),
        ("ru", "Реестр недобросовестных предприятий", "в списке с"),
        ("en", "Abnormal-operation list", "listed since"),
    ] {
        b.open(&format!("{}/?lang={lang}#/trader/{trader}", node.url));
        b.screenshot(&format!("trader-{lang}"));
        let dom = b.html();
        assert!(dom.contains(list_label) && dom.contains(listed), "{lang}: {dom}");
        assert!(b.text("#trader-name").contains(NAME), "{lang}: the registered name: {dom}");
        if lang != "zh" {
            assert!(b.text("#trader-name").contains(LATIN), "{lang}: and its Latin form: {dom}");
        }
        let name = amr_names[lang].as_str().unwrap();
        assert!(dom.contains(name), "{lang}: the listing agency by its name {name}: {dom}");
        assert!(dom.contains("/v1/standing/cn-uscc%3A91350100M000100Y43/qr.svg"), "{lang}: QR of every list");
        assert!(dom.contains(&format!("/report/cn-uscc%3A91350100M000100Y43?lang={lang}")), "{lang}: report link");
        if lang != "en" {
            assert_eq!(english_words(&mut b), Vec::<String>::new(), "{lang}: untranslated words on the trader page");
        }
    }
    // the QR holds the every-list proof itself
    let mut r = crate::dev_node::agent().get(format!("{}/v1/standing/{trader}/qr.svg", node.url)).call().unwrap();
    assert!(r.body_mut().read_to_string().unwrap().starts_with("<?xml"));

    // lists and explorer
    b.open(&format!("{}/?lang=en#/lists/abnormal-operation", node.url));
    b.screenshot("lists-en");
    let dom = b.html();
    assert!(dom.contains("id=\"total\">1<") && dom.contains("cn-uscc:91350100M000100Y43"), "{dom}");
    assert!(b.text("#members").contains(NAME), "the list shows names: {dom}");
    // searches typed into the box and started with the button: by id, by
    // the Chinese name, by the Latin name in another case
    for (query, shot) in [("M000100", "lists-search-ru"), ("边贸进出口", "lists-search-name-ru"), ("border trade", "")]
    {
        b.open(&format!("{}/?lang=ru#/lists/abnormal-operation", node.url));
        b.type_into("#q", query);
        b.click("#search");
        if !shot.is_empty() {
            b.screenshot(shot);
        }
        let dom = b.html();
        assert!(
            dom.contains("cn-uscc:91350100M000100Y43") && dom.contains("id=\"total\">1<"),
            "searching {query:?} finds the trader: {dom}"
        );
        assert!(dom.contains("Название или номер"), "{dom}");
    }
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words on the Russian lists page");
    b.open(&format!("{}/?lang=ru#/lists/abnormal-operation?q=nobody", node.url));
    let dom = b.html();
    assert!(!dom.contains("cn-uscc:91350100M000100Y43") && dom.contains("Список пуст."), "{dom}");
    b.open(&format!("{}/?lang=zh#/explorer", node.url));
    b.screenshot("explorer-zh");
    let dom = b.html();
    assert!(dom.contains("最新区块") && dom.contains("href=\"#/block/1\""), "{dom}");
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words on the Chinese explorer");
    b.open(&format!("{}/?lang=en#/block/1", node.url));
    b.screenshot("block-en");
    let dom = b.html();
    assert!(dom.contains(&format!("href=\"#/attestation/{id}\"")) && dom.contains("Commit certificate"), "{dom}");
    // public callers do not learn whom an anchored attestation concerns
    assert!(!dom.contains("cn-uscc:91350100M000100Y43"), "{dom}");
    b.open(&format!("{}/?lang=zh#/block/1", node.url));
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words on a Chinese block page");
    b.open(&format!("{}/?lang=ru#/attestation/{id}", node.url));
    b.screenshot("attestation-ru");
    let dom = b.html();
    assert!(dom.contains(id) && dom.contains("id=\"redacted\"") && !dom.contains("cn-sfh-amr"), "{dom}");

    // the printable report, in Chinese and in Russian: names, the legal
    // basis, local dates, the all-lists QR code and where to verify it;
    // self-contained, and one A4 page when printed
    b.open(&format!("{}/report/{trader}?lang=zh", node.url));
    b.screenshot("report-zh");
    let dom = b.html();
    assert!(dom.contains("企业信用报告") && dom.contains("经营异常名录") && dom.contains("<svg"), "{dom}");
    assert!(dom.contains(amr_names["zh"].as_str().unwrap()), "the listing agency by name: {dom}");
    assert!(dom.contains("《企业经营异常名录管理暂行办法》"), "the legal basis by its title: {dom}");
    assert!(dom.contains("北京时间") && dom.contains("出具时间"), "issued, in Beijing time: {dom}");
    assert!(dom.contains(&format!("{}/#/verify", node.url)), "where to verify: {dom}");
    assert!(!dom.contains("/assets/style.css") && dom.contains("@page"), "styles inlined, laid out for A4: {dom}");
    assert_eq!(b.pdf_pages("report-zh"), 1, "the report prints on one A4 page");
    b.open(&format!("{}/report/{trader}?lang=ru", node.url));
    b.screenshot("report-ru");
    let dom = b.html();
    assert!(dom.contains(amr_names["ru"].as_str().unwrap()) && dom.contains("владивостокское время"), "{dom}");
    assert!(b.text("#name").contains(NAME) && b.text("#name").contains(LATIN), "the registered name: {dom}");
    assert!(
        dom.contains("Изменения за 90 дней") && dom.contains("внесён: Реестр"),
        "the listing as a recent change: {dom}"
    );
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words in the Russian report");
    assert_eq!(b.pdf_pages("report-ru"), 1, "the Russian report prints on one A4 page");
}

/// Signed in with a key file chosen in the page: an official sees the
/// trader's grade, attestations and who looked; then signed out, the
/// trader signs in with its own key and sees its own record, with the
/// official's look in its access log, in Russian throughout.
#[test]
fn signed_in_with_a_key_file_an_official_and_the_trader_each_see_what_their_role_may() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    let trader = "91350100M000100Y43";
    credex_tests::harness::attest(
        &node.url,
        &amr,
        trader,
        "abnormal-operation-listing",
        &["reason-code=annual-report"],
    );
    let trader_key = tmp.path().join("trader.json");
    let k = trader_key.to_str().unwrap();
    let run = |args: &[&str]| {
        let o = credex_tests::harness::credex(args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["keygen", "--role", "subject", "--subject", trader, "--out", k, "--dev-warning"]);
    run(&["bind-key", "--node", &node.url, "--registrar-key", &amr, "--subject-key", k, "--wait"]);
    let official = tmp.path().join("dev/keys/official.json");
    let page = format!("{}/?lang=ru#/trader/{trader}", node.url);
    let mut b = Browser::launch();

    // signed out: the public statuses, and what signing in would show
    b.open(&page);
    assert!(b.text("#full").contains("Войдите с файлом ключа"), "{}", b.html());
    assert!(!b.html().contains("id=\"grade\""));

    // the official chooses its key file in the page
    b.choose_file("#keyfile", &official);
    b.screenshot("signed-in-official-ru");
    assert!(b.text("#who").contains("sfh-customs-official"), "{}", b.html());
    assert!(b.text("#grade").contains("credex-grade-v1"), "{}", b.html());
    let attestations = b.text("#attestations");
    assert!(attestations.contains("Внесение в реестр") || attestations.contains("реестр"), "{attestations}");
    assert!(attestations.contains("действует"), "the attestation's state in Russian: {attestations}");
    assert!(b.html().contains("id=\"access-log\""), "an official may see who looked: {}", b.html());
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words for a signed-in official");

    // signed out again, then the trader with its own key
    b.click("#signout");
    assert!(!b.html().contains("id=\"grade\""), "signed out: {}", b.html());
    b.choose_file("#keyfile", &trader_key);
    b.screenshot("signed-in-trader-ru");
    assert!(b.text("#who").contains("cn-uscc:91350100M000100Y43"), "{}", b.html());
    assert!(b.text("#grade").contains("credex-grade-v1"), "the trader sees its own grade: {}", b.html());
    assert!(b.text("#attestations").contains("действует"), "and its attestations: {}", b.html());
    let log = b.text("#access-log");
    assert!(
        log.contains("sfh-customs-official") && log.contains("сотрудник") && log.contains("профиль"),
        "the trader sees that the official read its profile, in Russian: {log}"
    );
    assert!(!b.html().contains("forbidden"), "{}", b.html());
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words for the signed-in trader");

    // an id with a wrong check digit: said in Russian, not as the node's English text
    b.open(&format!("{}/?lang=ru#/trader/91350100M000100Y44", node.url));
    assert!(b.text("#trader").contains("Неверный идентификатор субъекта"), "{}", b.html());
    assert_eq!(english_words(&mut b), Vec::<String>::new(), "untranslated words in a refusal");
    // the trader may not see another subject's record: said in Russian
    b.open(&format!("{}/?lang=ru#/trader/ru-inn:7707083893", node.url));
    let refused = b.text("#full");
    assert!(refused.contains("Ваша роль не даёт доступа"), "{refused}");
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
    let listed = standing_text(&node.url, trader);
    let clean = standing_text(&node.url, "ru-inn:7707083893");
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
    let tampered = tampered(&proof);
    let mut b = Browser::launch();
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
        b.open(&page_url(lang, &proof));
        b.screenshot(&format!("offline-valid-{lang}"));
        let dom = b.html();
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
        // pasted broken over lines, as from an e-mail
        b.open(&page_url(lang, ""));
        b.type_into("#proof", &wrapped(&proof));
        b.click("#go");
        b.screenshot(&format!("offline-wrapped-{lang}"));
        let dom = b.html();
        assert!(dom.contains("data-outcome=\"valid\"") && dom.contains("data-exit=\"0\""), "{lang} wrapped: {dom}");
        b.open(&page_url(lang, &tampered));
        b.screenshot(&format!("offline-tampered-{lang}"));
        let dom = b.html();
        assert!(dom.contains("data-outcome=\"invalid\"") && dom.contains(invalid), "{lang}: {dom}");
        assert!(dom.contains("data-exit=\"2\"") && dom.contains("id=\"reason\""), "{lang}: {dom}");
        b.open(&page_url(lang, &listed));
        b.screenshot(&format!("offline-listed-{lang}"));
        let dom = b.html();
        assert!(dom.contains("data-exit=\"1\"") && dom.contains("class=\"listed\""), "{lang} listed: {dom}");
        assert!(
            dom.contains(listed_word) && !dom.contains("class=\"outcome outcome-valid\""),
            "{lang} listed: not green: {dom}"
        );
        b.open(&page_url(lang, &clean));
        let dom = b.html();
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
