//! The `credex` binary's command-line interface, run as a real process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn credex(args: &[&str]) -> Output {
    Command::new(credex_tests::harness::binary()).args(args).output().unwrap()
}

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

#[test]
fn id_check_prints_canonical_form() {
    let out = credex(&["id", "check", "91350100m000100y43"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "cn-uscc:91350100M000100Y43\njurisdiction: CN\nscheme: cn-uscc\n");
    let out = credex(&["id", "check", "--json", "ru-inn:7707083893"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["jurisdiction"], "RU");
}

#[test]
fn id_check_rejects_with_reason() {
    for (id, reason) in [
        ("91350100M000100Y44", "check digit at position 18 is 4, expected 3"),
        ("ru-inn:77070838", "length is 8, expected 10 or 12"),
        ("91350100M00010OY43", "character 'O' at position 15"),
    ] {
        let out = credex(&["id", "check", id]);
        assert_eq!(out.status.code(), Some(1), "{id}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(reason), "{id}: {err}");
    }
}

fn case(name: &str) -> credex_tests::vectors::ProofCase {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("credit_proofs.json")).unwrap()).unwrap();
    let cases: Vec<credex_tests::vectors::ProofCase> = serde_json::from_value(v["cases"].clone()).unwrap();
    cases.into_iter().find(|c| c.name == name).unwrap()
}

fn verify_case(name: &str, extra: &[&str], binary: bool) -> Output {
    let c = case(name);
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("credex-cli-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("proof");
    if binary {
        std::fs::write(&file, hex::decode(&c.proof_hex).unwrap()).unwrap();
    } else {
        std::fs::write(&file, &c.proof_text).unwrap();
    }
    let genesis = vectors().join(&c.genesis);
    let now = c.now.to_string();
    let mut args = vec!["verify", file.to_str().unwrap(), "--genesis", genesis.to_str().unwrap(), "--now", &now];
    args.extend_from_slice(extra);
    let out = credex(&args);
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

#[test]
fn verify_exit_codes_follow_outcomes() {
    let out = verify_case("attestation-active", &[], false);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("VALID"), "{text}");
    assert!(text.contains("annual-report"));
    assert_eq!(verify_case("attestation-active", &[], true).status.code(), Some(0));
    assert_eq!(verify_case("attestation-revoked", &[], false).status.code(), Some(1));
    assert_eq!(verify_case("list-listed", &[], false).status.code(), Some(1));
    assert_eq!(verify_case("two-of-four-signatures", &[], false).status.code(), Some(2));
    assert_eq!(verify_case("truncated", &[], true).status.code(), Some(2));
    assert_eq!(verify_case("attestation-active-quorum", &["--max-age", "1d"], false).status.code(), Some(1));
    assert_eq!(verify_case("attestation-active", &["--require-jurisdiction", "RU"], false).status.code(), Some(0));
    assert_eq!(
        verify_case("attestation-active-quorum", &["--require-jurisdiction", "RU"], false).status.code(),
        Some(2)
    );
}

#[test]
fn verify_json_and_russian_labels() {
    let out = verify_case("attestation-active", &["--json"], false);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["outcome"], "valid");
    assert_eq!(v["verdict"]["facts"]["signers"].as_array().unwrap().len(), 4);
    let out = verify_case("tampered-issuer-signature", &["--json"], false);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "bad-issuer-signature");
    let out = verify_case("attestation-active", &["--lang", "ru"], false);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Код причины внесения"), "{text}");
    assert!(text.contains("Таможня Суйфэньхэ [CN]"), "{text}");
    // the verdict itself is in the reader's language, and a list proof
    // says "not on the list" in words
    assert!(text.starts_with("ДЕЙСТВИТЕЛЬНО\n  "), "{text}");
    assert!(text.lines().nth(1).is_some_and(|l| l.contains("действует — на блок 1")), "the sentence: {text}");
    assert!(text.contains("\n  субъект      "), "{text}");
    assert!(text.contains("\n  подписали    "), "{text}");
    let out = verify_case("list-never-listed", &["--lang", "zh"], false);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("有效：未列入该名单\n"), "{text}");
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("  未列入") && l.contains("截至区块")), "{text}");
    let out = verify_case("list-listed", &["--lang", "ru"], false);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("В СПИСКЕ с "), "{text}");
}

#[test]
fn verify_refuses_missing_or_bad_genesis() {
    // 3, not 2: nothing was checked, which is not "the proof is invalid"
    let out = credex(&["verify", "/nonexistent", "--genesis", "/nonexistent.toml"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8(out.stderr).unwrap().contains("reading /nonexistent.toml"));
    let bad = std::env::temp_dir().join(format!("credex-bad-genesis-{}.toml", std::process::id()));
    std::fs::write(&bad, "chain_id = 7\n").unwrap();
    let g = vectors().join("genesis.toml");
    let out = credex(&["verify", g.to_str().unwrap(), "--genesis", bad.to_str().unwrap()]);
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8(out.stderr).unwrap().contains("genesis"), "names the genesis");
}

/// The partner's `credex-verify` (no node) and `credex verify` print the
/// same words and exit with the same code on every vector, as text and as
/// JSON, with each case's policy.
#[test]
fn credex_verify_and_credex_verify_command_agree_on_every_vector() {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("credit_proofs.json")).unwrap()).unwrap();
    let cases: Vec<credex_tests::vectors::ProofCase> = serde_json::from_value(v["cases"].clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for c in &cases {
        let file = dir.path().join(format!("{}.proof", c.name));
        std::fs::write(&file, &c.proof_text).unwrap();
        let genesis = vectors().join(&c.genesis);
        let now = c.now.to_string();
        let max_age = c.policy.max_age_ms.map_or("none".to_string(), |ms| format!("{ms}ms"));
        let clear_for = c.policy.clear_for_ms.map(|ms| format!("{ms}ms"));
        let cp = dir.path().join(format!("{}.checkpoint", c.name));
        let mut args = vec![file.to_str().unwrap(), "--genesis", genesis.to_str().unwrap(), "--now", &now];
        args.extend(["--max-age", &max_age]);
        if let Some(text) = &c.policy.checkpoint {
            std::fs::write(&cp, text).unwrap();
            args.extend(["--checkpoint", cp.to_str().unwrap()]);
        }
        if let Some(w) = &clear_for {
            args.extend(["--clear-for", w]);
        }
        for j in &c.policy.required_jurisdictions {
            args.extend(["--require-jurisdiction", j]);
        }
        for i in c.policy.trusted_issuers.iter().flatten() {
            args.extend(["--trust-issuer", i]);
        }
        for json in [false, true] {
            let mut a = args.clone();
            if json {
                a.push("--json");
            }
            let node = credex(&[&["verify"][..], &a].concat());
            let partner = Command::new(credex_tests::harness::verify_binary()).args(&a).output().unwrap();
            assert_eq!(node.status.code(), partner.status.code(), "{}: exit codes", c.name);
            assert_eq!(
                String::from_utf8_lossy(&node.stdout),
                String::from_utf8_lossy(&partner.stdout),
                "{}: outputs",
                c.name
            );
            let want = match c.expected.as_str() {
                "outcome:valid" => 0,
                e if e.starts_with("outcome:") => 1,
                "error:bad-checkpoint" => 3,
                _ => 2,
            };
            assert_eq!(partner.status.code(), Some(want), "{}: {}", c.name, String::from_utf8_lossy(&partner.stdout));
            if want == 3 {
                let err = String::from_utf8_lossy(&partner.stderr);
                assert!(err.contains("checkpoint") && err.contains("bad-checkpoint"), "{}: {err}", c.name);
            }
        }
    }
}

#[test]
fn genesis_and_labels_hashes() {
    let g = vectors().join("genesis.toml");
    let out = credex(&["genesis", "hash", g.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim().len(), 64);
    let out = credex(&["labels", "hash"]);
    let text = std::fs::read_to_string(&g).unwrap();
    assert!(text.contains(String::from_utf8(out.stdout).unwrap().trim()), "genesis pins the built-in label table");
}

#[test]
fn evidence_is_checked_offline() {
    use credex_crypto::Purpose;
    use credex_types::chain::{Evidence, SignedVote, VoteKind};
    let g = vectors().join("genesis.toml");
    let genesis = credex_types::genesis::Genesis::from_toml(&std::fs::read_to_string(&g).unwrap()).unwrap();
    // the vectors' validator 1 key, from the fixture seeds
    let key = credex_crypto::SecretKey::from_seed(credex_tests::seed("vectors/validator/1"));
    assert_eq!(key.public(), genesis.validators[1].key);
    let vote = |b: u8| credex_types::Vote {
        chain_id: genesis.chain_id.clone(),
        height: 5,
        round: 1,
        kind: VoteKind::Precommit,
        block: Some(credex_crypto::Hash32([b; 32])),
    };
    let sv = |v: credex_types::Vote| SignedVote {
        signature: key.sign(Purpose::Vote, &v.signing_bytes()),
        vote: v,
        validator: 1,
    };
    let dir = std::env::temp_dir().join(format!("credex-evidence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, serde_json::to_vec(&Evidence::new(sv(vote(1)), sv(vote(2)))).unwrap()).unwrap();
    let out = credex(&["evidence", good.to_str().unwrap(), "--genesis", g.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout).unwrap().contains("EQUIVOCATION by validator 1 (cn-sfh-cbec)"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&Evidence::new(sv(vote(1)), sv(vote(1)))).unwrap()).unwrap();
    assert_eq!(credex(&["evidence", bad.to_str().unwrap(), "--genesis", g.to_str().unwrap()]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `credex node`'s options: flag, then `CREDEX_*` environment, then the
/// config file, then the default; what is missing everywhere is named with
/// all three places; unknown config keys are refused.
#[test]
fn node_options_flag_then_environment_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(
        &file,
        "genesis = \"g-file.toml\"\ndata = \"d-file\"\nhttp = \"127.0.0.1:9001\"\np2p_key = \"k-file.json\"\nlisten = \"/ip4/127.0.0.1/tcp/1\"\nlog_format = \"json\"\n",
    )
    .unwrap();
    let out = Command::new(credex_tests::harness::binary())
        .args(["node", "--print-config", "--config", file.to_str().unwrap(), "--http", "127.0.0.1:9003"])
        .env("CREDEX_DATA", "d-env")
        .env("CREDEX_HTTP", "127.0.0.1:9002")
        .env("CREDEX_PEERS", "/ip4/127.0.0.1/tcp/5,/ip4/127.0.0.1/tcp/6")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let resolved: toml::Table = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(resolved["genesis"].as_str(), Some("g-file.toml"), "from the file");
    assert_eq!(resolved["data"].as_str(), Some("d-env"), "the environment beats the file");
    assert_eq!(resolved["http"].as_str(), Some("127.0.0.1:9003"), "the flag beats the environment");
    assert_eq!(resolved["log_format"].as_str(), Some("json"));
    assert_eq!(resolved["peers"].as_array().map(Vec::len), Some(2), "comma-separated in the environment");
    // nothing anywhere: the error names the flag, the variable and the key
    let o = Command::new(credex_tests::harness::binary()).args(["node"]).env_remove("CREDEX_GENESIS").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--genesis") && err.contains("CREDEX_GENESIS") && err.contains("--config"), "{err}");
    // a bad value in the environment is refused with its name
    let o =
        Command::new(credex_tests::harness::binary()).args(["node"]).env("CREDEX_HTTP", "nowhere").output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("CREDEX_HTTP") && err.contains("--http"), "{err}");
    // a certificate without its key is refused, by `node` and by `dev`, before anything starts
    let data = dir.path().join("dev-data");
    for args in [
        vec!["node", "--config", file.to_str().unwrap(), "--tls-cert", "c.pem"],
        vec!["dev", "--data", data.to_str().unwrap(), "--tls-cert", "c.pem"],
    ] {
        let o = credex(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("--tls-cert and --tls-key go together"), "{args:?}: {err}");
    }
    assert!(!data.exists(), "nothing started");
    // unknown keys in the file are refused
    std::fs::write(&file, "genesis = \"g\"\nshoe_size = 42\n").unwrap();
    let o = credex(&["node", "--config", file.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("shoe_size"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A reader that went away (`credex labels show | head -1`) ends the
/// command quietly with 141, as a closed pipe ends any Unix tool; it does
/// not panic.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // closed before the command writes anything
    let o = std::process::Command::new(credex_tests::harness::binary())
        .args(["labels", "show"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(o.status.code(), Some(141), "{stderr}");
}

/// The README's command examples, as written: every block marked "run as
/// written by the test cli::the_readmes_examples_run_as_written" is run,
/// in order, by bash (`set -euo pipefail`) against a fresh `credex dev`,
/// with the README's own variables pointed at it; every command must
/// succeed (or exit as its comment says).
#[test]
fn the_readmes_examples_run_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let marker = "<!-- run as written by the test cli::the_readmes_examples_run_as_written";
    let blocks: Vec<&str> = readme
        .split(marker)
        .skip(1)
        .map(|rest| {
            let body = rest.split_once("```sh\n").expect("a sh block after the marker").1;
            body.split_once("\n```").expect("the block ends").0
        })
        .collect();
    assert!(blocks.len() >= 2, "the README marks its example blocks");
    let tmp = tempfile::tempdir().unwrap();
    let node = credex_tests::harness::DevNode::start(&tmp.path().join("dev"), credex_tests::harness::free_port());
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let bin = credex_tests::harness::binary();
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let script = format!("set -euo pipefail\nset -x\n{}\n", blocks.join("\n"));
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("N", &node.url)
        .env("K", node.dir.join("keys"))
        .env("G", node.genesis())
        .env_remove("CREDEX_AUTH")
        .output()
        .expect("bash runs");
    let tail = |b: &[u8]| {
        let t = String::from_utf8_lossy(b).to_string();
        t.chars().rev().take(6000).collect::<Vec<_>>().into_iter().rev().collect::<String>()
    };
    assert!(
        o.status.success(),
        "a README example failed:\n--- stderr (tail)\n{}\n--- stdout (tail)\n{}",
        tail(&o.stderr),
        tail(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("ДЕЙСТВИТЕЛЬНО"), "the Russian verdict the README promises");
    // every command of every block ran (bash -x traces each one)
    let wanted = blocks.iter().flat_map(|b| b.lines()).filter(|l| l.trim_start().starts_with("credex ")).count();
    let ran = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.trim_start_matches('+').trim_start().starts_with("credex "))
        .count();
    assert!(ran >= wanted, "{ran} of the README's {wanted} commands ran:\n{}", tail(&o.stderr));
}
