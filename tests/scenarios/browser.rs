//! The web UI in a real headless Chromium (Debian `chromium`, installed by
//! `.ci/run`): the verify page with a valid and a tampered proof, the trader
//! profile in each language, the lists and the explorer; the rendered DOM is
//! checked for what a person would see, and screenshots are kept under
//! `<target>/browser-screenshots/`.

use std::path::PathBuf;
use std::process::Command;

use crate::dev_node::{DevNode, credex, free_port, json_out};

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
    let a = json_out(&credex(&[
        "attest",
        "--node",
        &node.url,
        "--key",
        &amr,
        "--subject",
        trader,
        "--kind",
        "abnormal-operation-listing",
        "--field",
        "reason-code=annual-report",
        "--field",
        "decision-no=17",
        "--wait",
    ]));
    let id = a["id"].as_str().unwrap();
    let proof_file = tmp.path().join("p.txt");
    json_out(&credex(&[
        "--auth",
        &amr,
        "proof",
        "attestation",
        id,
        "--node",
        &node.url,
        "--disclose",
        "reason-code",
        "--out",
        proof_file.to_str().unwrap(),
    ]));
    let proof = std::fs::read_to_string(&proof_file).unwrap().trim().to_string();
    let genesis = crate::dev_node::get(&node.url, "/v1/status").1["genesis"].as_str().unwrap().to_string();

    // verify, in Russian: valid, with the disclosed field's label and value, the signer, and the genesis
    let dom = page(&format!("{}/?lang=ru#/verify?proof={proof}", node.url), "verify-valid-ru");
    assert!(dom.contains("data-outcome=\"valid\"") && dom.contains("ДЕЙСТВИТЕЛЬНО"), "{dom}");
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

    // the trader's profile in each language: list statuses, QR code, report link
    for (lang, list_label, listed) in [
        ("zh", "经营异常名录", "列入时间"),
        ("ru", "Реестр недобросовестных предприятий", "в списке с"),
        ("en", "Abnormal-operation list", "listed since"),
    ] {
        let dom = page(&format!("{}/?lang={lang}#/trader/{trader}", node.url), &format!("trader-{lang}"));
        assert!(dom.contains(list_label) && dom.contains(listed), "{lang}: {dom}");
        assert!(dom.contains("/v1/lists/abnormal-operation/cn-uscc%3A91350100M000100Y43/qr.svg"), "{lang}: QR");
        assert!(dom.contains(&format!("/report/cn-uscc%3A91350100M000100Y43?lang={lang}")), "{lang}: report link");
    }
    // the QR holds the status proof itself
    let mut r = crate::dev_node::agent()
        .get(format!("{}/v1/lists/abnormal-operation/{trader}/qr.svg", node.url))
        .call()
        .unwrap();
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

    // the printable report, in Chinese
    let dom = page(&format!("{}/report/{trader}?lang=zh", node.url), "report-zh");
    assert!(dom.contains("企业信用报告") && dom.contains("经营异常名录") && dom.contains("<svg"), "{dom}");
}
