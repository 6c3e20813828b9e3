//! Every credit-proof vector through the command's own path (options →
//! policy → verifier → exit code and text): the outcome the vector names,
//! the exit code that outcome gets, and the words an officer reads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use credex_tests::vectors::ProofCase;
use credex_verify::{MaxAge, VerifyOptions};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Every committed case, the chain-run ones included.
fn cases() -> Vec<ProofCase> {
    credex_tests::vectors::proof_cases()
}

fn args(c: &ProofCase, json: bool) -> VerifyOptions {
    VerifyOptions::from_policy(&c.policy.to_policy(), Some(c.now), "en".parse().unwrap(), json)
}

#[test]
fn every_vector_gets_its_outcome_and_exit_code() {
    let cases = cases();
    assert!(cases.len() >= 30);
    for c in &cases {
        let genesis = credex_verify::load_genesis(&dir().join(&c.genesis)).unwrap();
        let cp = c.policy.checkpoint.as_ref().map(|t| credex_proof::Checkpoint::from_any(t.as_bytes()).unwrap());
        let r =
            credex_verify::verify_bytes(genesis.clone(), cp.as_ref(), c.proof_text.as_bytes(), c.now, &args(c, true));
        let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
        let got = match v["verdict"]["outcome"].as_str() {
            Some(o) => format!("outcome:{o}"),
            None => format!("error:{}", v["error"]["code"].as_str().unwrap()),
        };
        assert_eq!(got, c.expected, "case {}", c.name);
        let want = match c.expected.as_str() {
            "outcome:valid" => 0,
            e if e.starts_with("outcome:") => 1,
            "error:bad-checkpoint" => 3,
            _ => 2,
        };
        assert_eq!(r.exit_code, want, "case {}", c.name);
        // the bytes give what the text gives
        let b = credex_verify::verify_bytes(
            genesis,
            cp.as_ref(),
            &hex::decode(&c.proof_hex).unwrap(),
            c.now,
            &args(c, true),
        );
        assert_eq!(b, r, "case {}", c.name);
    }
}

#[test]
fn the_text_names_the_policy_the_age_and_a_list_proof_says_not_listed() {
    let cases = cases();
    let c = cases
        .iter()
        .find(|c| c.expected == "outcome:valid" && c.proof_text.len() > 8 && c.name.contains("never"))
        .unwrap();
    let genesis = credex_verify::load_genesis(&dir().join(&c.genesis)).unwrap();
    let r = credex_verify::verify_bytes(genesis.clone(), None, c.proof_text.as_bytes(), c.now, &args(c, false));
    assert!(r.text.starts_with("VALID: NOT LISTED\n"), "{}", r.text);
    // the sentence a reader can repeat: which list, as of which block and time
    let second = r.text.lines().nth(1).unwrap();
    assert!(second.starts_with("  Not on the ") && second.contains(", as of block "), "{}", r.text);
    let mut zh = args(c, false);
    zh.lang = "zh".parse().unwrap();
    let z = credex_verify::verify_bytes(genesis.clone(), None, c.proof_text.as_bytes(), c.now, &zh);
    let second = z.text.lines().nth(1).unwrap();
    assert!(
        second.starts_with("  未列入") && second.contains("，截至区块 ") && second.ends_with("北京时间）"),
        "{}",
        z.text
    );
    assert!(r.text.contains("\n  age          "), "{}", r.text);
    assert!(r.text.contains("\n  policy       no max age\n"), "{}", r.text);
    // the default policy: 90 days
    let mut a = args(c, false);
    a.max_age = "90d".parse().unwrap();
    let r = credex_verify::verify_bytes(genesis.clone(), None, c.proof_text.as_bytes(), c.now, &a);
    assert!(r.text.contains("\n  policy       max age 90 d 0 h\n"), "{}", r.text);
    // a genesis whose label table is not this verifier's: codes, and it says so
    let verifier = credex_proof::Verifier::new(genesis.clone(), a.policy()).unwrap();
    let result = verifier.verify_any(c.proof_text.as_bytes(), c.now);
    let lang = "zh".parse().unwrap();
    let reader = credex_verify::Reader::new(lang);
    let pinned = credex_verify::verdict_text(&result, &genesis.hash(), c.now, &reader, true);
    let unpinned = credex_verify::verdict_text(&result, &genesis.hash(), c.now, &reader, false);
    assert!(pinned.contains("严重违法失信名单") || pinned.contains("经营异常名录"), "{pinned}");
    assert!(!unpinned.contains("经营异常名录") && !unpinned.contains("严重违法失信名单"), "{unpinned}");
    assert!(unpinned.contains(" (abnormal-operation)") || unpinned.contains(" (serious-violation)"), "{unpinned}");
    assert!(unpinned.contains("标签         未显示"), "{unpinned}");
}

#[test]
fn max_age_takes_a_duration_or_none() {
    assert_eq!("none".parse::<MaxAge>(), Ok(MaxAge(None)));
    assert_eq!("12h".parse::<MaxAge>(), Ok(MaxAge(Some(12 * 3_600_000))));
    assert!("12 hours".parse::<MaxAge>().is_err());
}

/// A proof pasted from an e-mail (broken over lines) verifies like the
/// original; a cut or damaged one says so in words, not decoder internals.
#[test]
fn line_breaks_are_ignored_and_damage_is_named() {
    let cases = cases();
    let c = cases.iter().find(|c| c.name == "attestation-active").unwrap();
    let genesis = credex_verify::load_genesis(&dir().join(&c.genesis)).unwrap();
    let body = c.proof_text.strip_prefix("credex1:").unwrap();
    let mut wrapped = String::from("credex1:");
    for (i, ch) in body.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            wrapped.push_str("\r\n");
        }
        wrapped.push(ch);
    }
    let plain = credex_verify::verify_bytes(genesis.clone(), None, c.proof_text.as_bytes(), c.now, &args(c, false));
    let broken = credex_verify::verify_bytes(genesis.clone(), None, wrapped.as_bytes(), c.now, &args(c, false));
    assert_eq!(plain, broken);
    assert_eq!(broken.exit_code, 0, "{}", broken.text);
    let cut = &c.proof_text[..c.proof_text.len() - 40];
    let r = credex_verify::verify_bytes(genesis.clone(), None, cut.as_bytes(), c.now, &args(c, false));
    assert_eq!(r.exit_code, 2);
    assert!(r.text.contains("cut short") && !r.text.contains("UnexpectedEnd"), "{}", r.text);
    let damaged = c.proof_text.replacen('A', "!", 1);
    let r = credex_verify::verify_bytes(genesis, None, damaged.as_bytes(), c.now, &args(c, false));
    assert!(r.text.contains("is not base64url") && r.text.contains("damaged"), "{}", r.text);
}

/// Times are shown in the reader's zone, named: Beijing time for zh,
/// Vladivostok time for ru, UTC for en, or the zone `--tz` names; an
/// attestation's effective date is shown; a refusal says what it means in
/// the reader's language, with the verifier's own text as the detail.
#[test]
fn times_read_in_the_readers_zone_and_refusals_in_their_language() {
    let cases = cases();
    let c = cases.iter().find(|c| c.name == "attestation-active").unwrap();
    let genesis = credex_verify::load_genesis(&dir().join(&c.genesis)).unwrap();
    let block_time = {
        let v = credex_proof::Verifier::new(genesis.clone(), c.policy.to_policy()).unwrap();
        v.verify_any(c.proof_text.as_bytes(), c.now).unwrap().facts.block_time
    };
    let utc = block_time.to_string();
    let shifted = |hours: u64| {
        let t = credex_types::Timestamp(block_time.0 + hours * 3_600_000).to_string();
        format!("{} {}", &t[..10], &t[11..16])
    };
    let text = |lang: &str, tz: Option<&str>| {
        let mut o = VerifyOptions::from_policy(&c.policy.to_policy(), Some(c.now), lang.parse().unwrap(), false);
        o.tz = tz.map(|z| z.parse().unwrap());
        credex_verify::verify_bytes(genesis.clone(), None, c.proof_text.as_bytes(), c.now, &o).text
    };
    let zh = text("zh", None);
    assert!(zh.contains(&format!("{} 北京时间", shifted(8))), "{zh}");
    assert!(zh.contains("生效时间"), "the effective date is shown: {zh}");
    let ru = text("ru", None);
    assert!(ru.contains(&format!("{} владивостокское время", shifted(10))), "{ru}");
    let en = text("en", None);
    assert!(en.contains(&format!("{} UTC", shifted(0))) && !en.contains(&utc), "{en}");
    let tokyo = text("ru", Some("+09:00"));
    assert!(tokyo.contains(&format!("{} UTC+09:00", shifted(9))), "{tokyo}");

    // a damaged proof: the meaning in Russian, the detail after it
    let damaged = c.proof_text.replacen('A', "!", 1);
    let mut o = VerifyOptions::from_policy(&c.policy.to_policy(), Some(c.now), "ru".parse().unwrap(), false);
    o.tz = None;
    let r = credex_verify::verify_bytes(genesis, None, damaged.as_bytes(), c.now, &o);
    let first = r.text.lines().next().unwrap();
    assert_eq!(
        first,
        "НЕДЕЙСТВИТЕЛЬНО (malformed): доказательство повреждено или неполно (обрезано или изменён символ)"
    );
    assert!(r.text.contains("подробно") && r.text.contains("is not base64url"), "{}", r.text);
}

/// Every refusal code the verifier can give has its meaning in each
/// language, none the fallback.
#[test]
fn every_error_code_has_a_reason_in_each_language() {
    let codes = cases()
        .iter()
        .filter_map(|c| c.expected.strip_prefix("error:").map(String::from))
        .collect::<std::collections::BTreeSet<_>>();
    assert!(codes.len() >= 10, "{codes:?}");
    for code in &codes {
        for lang in ["zh", "ru", "en"] {
            let lang = lang.parse().unwrap();
            let r = credex_verify::reason(code, lang);
            assert_ne!(r, credex_verify::reason("no-such-code", lang), "{code} in {lang:?}");
        }
    }
}
