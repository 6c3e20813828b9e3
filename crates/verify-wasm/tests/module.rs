//! The in-browser verifier agrees with `credex verify` on every vector: the
//! same exit code, the same text in each language, and the API's answer;
//! natively (the same Rust) and as the real WebAssembly module under
//! Node.js (the same bytes the node serves to browsers).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use credex_tests::vectors::ProofCase;
use credex_verify::VerifyOptions;
use credex_verify_wasm::{Answer, Request, WASM};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Every committed case, the chain-run ones included.
fn cases() -> Vec<ProofCase> {
    credex_tests::vectors::proof_cases()
}

fn duration(ms: u64) -> String {
    assert_eq!(ms % 1000, 0, "vector durations are whole seconds");
    format!("{}s", ms / 1000)
}

fn request(c: &ProofCase, lang: &str) -> Request {
    Request {
        genesis: std::fs::read_to_string(dir().join(&c.genesis)).unwrap(),
        checkpoint: c.policy.checkpoint.clone(),
        now: c.now.to_string(),
        max_age: Some(c.policy.max_age_ms.map_or("none".to_string(), duration)),
        clear_for: c.policy.clear_for_ms.map(duration),
        require_jurisdiction: c.policy.required_jurisdictions.clone(),
        trust_issuer: c.policy.trusted_issuers.clone().unwrap_or_default(),
        lang: Some(lang.to_string()),
        tz: None,
    }
}

fn options(c: &ProofCase, lang: &str) -> VerifyOptions {
    VerifyOptions::from_policy(&c.policy.to_policy(), Some(c.now), lang.parse().unwrap(), false)
}

const LANGS: [&str; 3] = ["zh", "ru", "en"];

fn expected_exit(expected: &str) -> u8 {
    match expected {
        "outcome:valid" => 0,
        e if e.starts_with("outcome:") => 1,
        "error:bad-checkpoint" => 3,
        _ => 2,
    }
}

#[test]
fn the_module_is_built() {
    assert!(
        WASM.starts_with(b"\0asm"),
        "credex-verify-wasm was built without its WebAssembly module: install the target \
         (rustup target add wasm32-unknown-unknown; scripts/setup.sh does it) and rebuild"
    );
}

#[test]
fn every_vector_gets_what_credex_verify_gives_in_every_language() {
    let cases = cases();
    assert!(cases.len() >= 30);
    for c in &cases {
        let genesis = credex_verify::load_genesis(&dir().join(&c.genesis)).unwrap();
        for lang in LANGS {
            let a = credex_verify_wasm::verify(&request(c, lang), c.proof_text.as_bytes());
            if c.expected == "error:bad-checkpoint" {
                // nothing verified: the checkpoint is refused before the proof is read
                assert_eq!((a.exit_code, &a.answer), (3, &None), "case {}", c.name);
                assert!(a.text.starts_with("checkpoint: "), "case {}: {}", c.name, a.text);
                continue;
            }
            let cp =
                c.policy.checkpoint.as_ref().map(|t| credex_verify::check_checkpoint(&genesis, t.as_bytes()).unwrap());
            let report = credex_verify::verify_bytes(
                genesis.clone(),
                cp.as_ref(),
                c.proof_text.as_bytes(),
                c.now,
                &options(c, lang),
            );
            assert_eq!((a.exit_code, &a.text), (report.exit_code, &report.text), "case {} ({lang})", c.name);
            assert_eq!(a.exit_code, expected_exit(&c.expected), "case {}", c.name);
            let answer = serde_json::to_value(a.answer.as_ref().unwrap()).unwrap();
            let got = match answer["outcome"].as_str() {
                Some(o) => format!("outcome:{o}"),
                None => format!("error:{}", answer["error"]["code"].as_str().unwrap()),
            };
            assert_eq!(got, c.expected, "case {} ({lang})", c.name);
            assert_eq!(a.genesis, Some(genesis.hash().to_string()));
        }
    }
}

#[test]
fn a_bad_request_is_refused_in_words_and_verifies_nothing() {
    let c = &cases()[0];
    let mut r = request(c, "ru");
    r.max_age = Some("ninety days".into());
    let a = credex_verify_wasm::verify(&r, c.proof_text.as_bytes());
    assert_eq!((a.exit_code, a.answer), (3, None));
    assert!(a.text.starts_with("option max_age: invalid duration"), "{}", a.text);
    let mut r = request(c, "en");
    r.genesis = "chain_id = 7".into();
    let a = credex_verify_wasm::verify(&r, c.proof_text.as_bytes());
    assert!(a.exit_code == 3 && a.text.starts_with("genesis: "), "{}", a.text);
    let a = credex_verify_wasm::verify_json(b"{\"genesis\": 1}", b"");
    assert!(a.exit_code == 3 && a.text.starts_with("the request is not valid"), "{}", a.text);
}

/// The real module, under Node.js: the answers are the native ones, byte
/// for byte, from the text and from the bytes of every vector.
#[test]
fn the_webassembly_module_answers_as_the_native_code_does() {
    let tmp = tempfile::tempdir().unwrap();
    let module = tmp.path().join("credex_verify.wasm");
    std::fs::write(&module, WASM).unwrap();
    let mut runs = Vec::new();
    let mut native = Vec::new();
    for c in cases() {
        for lang in LANGS {
            let r = request(&c, lang);
            native.push(credex_verify_wasm::verify(&r, c.proof_text.as_bytes()));
            runs.push(serde_json::json!({ "request": r, "proof_text": c.proof_text }));
            native.push(credex_verify_wasm::verify(&r, &hex::decode(&c.proof_hex).unwrap()));
            runs.push(serde_json::json!({ "request": r, "proof_hex": c.proof_hex }));
        }
    }
    let file = tmp.path().join("cases.json");
    std::fs::write(&file, serde_json::to_vec(&runs).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/run-module.js");
    let out = Command::new("node")
        .arg(&script)
        .arg(&module)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (install Node.js; scripts/setup.sh --test does): {e}"));
    assert!(out.status.success(), "node: {}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<Answer> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), native.len());
    for (i, (w, n)) in answers.iter().zip(&native).enumerate() {
        assert_eq!(w, n, "run {i}: {}", runs[i]["request"]["lang"]);
    }
}
