//! Checks the committed known-answer vectors in `tests/vectors/`, each
//! recomputed through the public API, and that regenerating them gives the
//! committed bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::cast_possible_truncation)]

use std::path::PathBuf;

use credex_crypto::{Hash32, PublicKey, Purpose, SecretKey, Signature, signing_input};
use credex_merkle::smt::{self, SmtProof, SparseMerkleMap};
use credex_merkle::tree;
use credex_tests::vectors::{self, ProofCase, hex_array};
use credex_types::genesis::Genesis;
use credex_types::{Attestation, DisclosedAttestation, SubjectId};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn committed_vectors_are_what_the_generator_produces() {
    for (name, content) in vectors::all() {
        let committed = std::fs::read_to_string(dir().join(name)).unwrap();
        assert!(
            committed == content,
            "tests/vectors/{name} differs from the generator's output; run `cargo run -p credex-tests --bin gen-vectors` and review the diff"
        );
    }
}

#[test]
fn subject_id_vectors() {
    let v = load("subject_ids.json");
    for c in v["valid"].as_array().unwrap() {
        let id: SubjectId = s(&c["input"]).parse().unwrap();
        assert_eq!(id.to_string(), s(&c["canonical"]));
        assert_eq!(id.scheme_name(), s(&c["scheme"]));
        assert_eq!(id.jurisdiction().to_string(), s(&c["jurisdiction"]));
        let enc = hex::decode(s(&c["encoding"])).unwrap();
        assert_eq!(credex_codec::decode::<SubjectId>(&enc, 256).unwrap(), id);
        // the canonical form parses to itself
        assert_eq!(s(&c["canonical"]).parse::<SubjectId>().unwrap(), id);
    }
    for c in v["invalid"].as_array().unwrap() {
        assert_eq!(s(&c["input"]).parse::<SubjectId>().unwrap_err().to_string(), s(&c["error"]));
    }
    let refused = v["refused_encodings"].as_array().unwrap();
    assert!(refused.len() >= 4);
    for c in refused {
        let enc = hex::decode(s(&c["encoding"])).unwrap();
        assert!(credex_codec::decode::<SubjectId>(&enc, 256).is_err(), "{}", c["why"]);
    }
}

#[test]
fn hashing_vectors() {
    let v = load("hashing.json");
    for c in v["domains"].as_array().unwrap() {
        let d = s(&c["domain"]);
        let data = hex::decode(s(&c["data"])).unwrap();
        // independent spelling of the rule: SHA-256(u8(len) || domain || data)
        let mut raw = vec![d.len() as u8];
        raw.extend_from_slice(d.as_bytes());
        raw.extend_from_slice(&data);
        assert_eq!(Hash32::sha256(&[&raw]).to_string(), s(&c["hash"]));
        assert_eq!(credex_crypto::hash(d, &data).to_string(), s(&c["hash"]));
    }
    for (c, p) in v["purposes"].as_array().unwrap().iter().zip(Purpose::ALL) {
        assert_eq!(s(&c["purpose"]), p.tag());
        let mut raw = vec![p.tag().len() as u8];
        raw.extend_from_slice(p.tag().as_bytes());
        raw.extend_from_slice(&hex::decode(s(&c["message"])).unwrap());
        assert_eq!(hex::encode(&raw), s(&c["signing_input"]));
    }
}

#[test]
fn signature_vectors() {
    let v = load("signatures.json");
    for c in v["rfc8032"].as_array().unwrap() {
        let key = SecretKey::from_seed(hex_array(s(&c["seed"])));
        let msg = hex::decode(s(&c["message"])).unwrap();
        assert_eq!(key.public().to_string(), s(&c["public_key"]));
        let sig: Signature = s(&c["signature"]).parse().unwrap();
        assert_eq!(key.sign_raw(&msg), sig);
        assert!(credex_crypto::verify_raw(&key.public(), &msg, &sig).is_ok());
    }
    for c in v["purpose_tagged"].as_array().unwrap() {
        let pk: PublicKey = s(&c["public_key"]).parse().unwrap();
        let purpose = Purpose::ALL.into_iter().find(|p| p.tag() == s(&c["purpose"])).unwrap();
        let msg = hex::decode(s(&c["message"])).unwrap();
        let sig: Signature = s(&c["signature"]).parse().unwrap();
        assert!(credex_crypto::verify(&pk, purpose, &msg, &sig).is_ok());
        assert!(credex_crypto::verify_raw(&pk, &signing_input(purpose, &msg), &sig).is_ok());
        assert!(credex_crypto::verify_raw(&pk, &msg, &sig).is_err(), "untagged message must not verify");
    }
    for (i, c) in v["edge_cases"].as_array().unwrap().iter().enumerate() {
        let msg = hex::decode(s(&c["message"])).unwrap();
        let pk: [u8; 32] = hex_array(s(&c["public_key"]));
        let sig: [u8; 64] = hex_array(s(&c["signature"]));
        let got = match PublicKey::from_bytes(pk).and_then(|k| credex_crypto::verify_raw(&k, &msg, &Signature(sig))) {
            Ok(()) => "accept".to_string(),
            Err(e) => format!("reject:{e:?}"),
        };
        let expected = s(&c["expected"]);
        assert_eq!(got == "accept", expected == "accept", "edge case {i}: {got} vs {expected}");
        // and the batch path agrees with the single path on every edge case
        if let Ok(k) = PublicKey::from_bytes(pk) {
            let item = credex_crypto::BatchItem { key: &k, purpose: Purpose::Vote, msg: &msg, sig: &Signature(sig) };
            let single = credex_crypto::verify(&k, Purpose::Vote, &msg, &Signature(sig)).is_ok();
            assert_eq!(credex_crypto::verify_batch(&[item]).is_ok(), single);
        }
        // admission: what it accepts, a stock library (ed25519-dalek's strict,
        // cofactorless verification) accepts too
        let admitted = vectors::admission_verdict(&pk, &msg, &sig);
        assert_eq!(admitted, s(&c["expected_at_admission"]), "edge case {i} at admission");
        if admitted == "accept" {
            assert!(stock_accepts(&pk, &msg, &sig), "edge case {i}: admitted, but a stock library rejects it");
        }
    }
    // crafted: a prime-order key, R with torsion: the offline rule accepts,
    // the stock library rejects, admission rejects
    let crafted = v["torsion_cases"].as_array().unwrap();
    assert_eq!(crafted.len(), 2);
    for c in crafted {
        let pk: [u8; 32] = hex_array(s(&c["public_key"]));
        let sig: [u8; 64] = hex_array(s(&c["signature"]));
        let msg = signing_input(Purpose::Attestation, &hex::decode(s(&c["message"])).unwrap());
        assert_eq!(vectors::verdict(&pk, &msg, &sig), s(&c["expected"]));
        assert_eq!(s(&c["expected"]), "accept");
        assert!(!stock_accepts(&pk, &msg, &sig), "{c}: a stock library accepts it");
        assert_eq!(vectors::admission_verdict(&pk, &msg, &sig), s(&c["expected_at_admission"]));
        assert!(s(&c["expected_at_admission"]).starts_with("reject:"));
    }
}

/// ed25519-dalek's `verify_strict`: cofactorless, small-order `A` and `R` refused.
fn stock_accepts(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(pk)
        .is_ok_and(|k| k.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig)).is_ok())
}

#[test]
fn merkle_vectors() {
    let v = load("merkle.json");
    for t in v["rfc6962"].as_array().unwrap() {
        let leaves: Vec<Hash32> =
            t["leaves"].as_array().unwrap().iter().map(|l| tree::leaf_hash(&hex::decode(s(l)).unwrap())).collect();
        let root: Hash32 = s(&t["root"]).parse().unwrap();
        assert_eq!(tree::root(&leaves), root);
        for p in t["inclusion"].as_array().unwrap() {
            let i = p["index"].as_u64().unwrap();
            let path: Vec<Hash32> = p["path"].as_array().unwrap().iter().map(|h| s(h).parse().unwrap()).collect();
            assert!(tree::verify_inclusion(&root, &leaves[i as usize], i, leaves.len() as u64, &path).is_ok());
        }
    }
    let m = &v["smt"];
    let mut map = SparseMerkleMap::new();
    for e in m["entries"].as_array().unwrap() {
        map.insert(s(&e["key"]).parse().unwrap(), s(&e["value_hash"]).parse().unwrap());
    }
    let root: Hash32 = s(&m["root"]).parse().unwrap();
    assert_eq!(map.root(), root);
    for p in m["proofs"].as_array().unwrap() {
        let key: Hash32 = s(&p["key"]).parse().unwrap();
        let value: Option<Hash32> = p["value_hash"].as_str().map(|h| h.parse().unwrap());
        let proof: SmtProof = credex_codec::decode(&hex::decode(s(&p["encoding"])).unwrap(), 1 << 16).unwrap();
        assert_eq!(proof, serde_json::from_value::<SmtProof>(p["proof"].clone()).unwrap());
        assert!(smt::verify(&root, &key, value.as_ref(), &proof).is_ok());
        // the opposite claim fails
        let flipped = if value.is_some() { None } else { Some(Hash32([1; 32])) };
        assert!(smt::verify(&root, &key, flipped.as_ref(), &proof).is_err());
    }
}

#[test]
fn attestation_vectors() {
    let v = load("attestations.json");
    for c in v.as_array().unwrap() {
        let att: Attestation = credex_codec::decode(&hex::decode(s(&c["encoding"])).unwrap(), 1 << 16).unwrap();
        assert_eq!(att, serde_json::from_value::<Attestation>(c["attestation"].clone()).unwrap());
        assert_eq!(hex::encode(credex_codec::encode(&att.header)), s(&c["header_encoding"]));
        let commitments: Vec<String> = att.claims.iter().map(|f| f.commitment().to_string()).collect();
        let expected: Vec<String> =
            c["field_commitments"].as_array().unwrap().iter().map(|x| s(x).to_string()).collect();
        assert_eq!(commitments, expected);
        assert_eq!(att.claims_root().to_string(), s(&c["claims_root"]));
        assert_eq!(att.id().to_string(), s(&c["id"]));
        let pk: PublicKey = s(&c["issuer_public_key"]).parse().unwrap();
        att.verify_signature(&pk).unwrap();
        let d: DisclosedAttestation =
            credex_codec::decode(&hex::decode(s(&c["disclosed"]["encoding"])).unwrap(), 1 << 16).unwrap();
        assert_eq!(d.verify_signature(&pk).unwrap(), att.id());
        assert_eq!(d.disclosed().count(), c["disclosed"]["codes"].as_array().unwrap().len());
    }
}

#[test]
fn credit_proof_vectors() {
    let v = load("credit_proofs.json");
    let cases: Vec<ProofCase> = serde_json::from_value(v["cases"].clone()).unwrap();
    assert!(cases.len() >= 30);
    // the genesis hashes, recomputed from the TOML files
    let hashes = v["genesis_hashes"].as_object().unwrap();
    assert_eq!(hashes.len(), 3);
    for (file, hash) in hashes {
        let g = Genesis::from_toml(&std::fs::read_to_string(dir().join(file)).unwrap()).unwrap();
        assert_eq!(g.hash().to_string(), s(hash), "{file}");
    }
    let mut outcomes = std::collections::BTreeSet::new();
    // and the cases a real chain made (chain_run.json)
    let all = vectors::proof_cases();
    assert!(all.iter().filter(|c| c.name.starts_with("run-")).count() >= 6);
    for c in &all {
        let genesis = Genesis::from_toml(&std::fs::read_to_string(dir().join(&c.genesis)).unwrap()).unwrap();
        assert_eq!(vectors::run_case(c, &genesis), c.expected, "case {}", c.name);
        outcomes.insert(c.expected.clone());
    }
    // every outcome of the spec is exercised
    for o in ["valid", "listed", "revoked", "superseded", "erased", "expired", "stale"] {
        assert!(outcomes.contains(&format!("outcome:{o}")), "no vector for {o}");
    }
}

/// §2.1 and §2.2 list every hashing domain and signing purpose the code defines.
#[test]
fn spec_tables_name_every_domain_and_purpose() {
    let spec = std::fs::read_to_string(dir().join("../../docs/spec/02-hashing-and-signing.md")).unwrap();
    for d in credex_crypto::domain::ALL {
        assert!(spec.contains(&format!("| `{d}` |")), "§2.1 lacks the domain {d}");
    }
    for p in Purpose::ALL {
        assert!(spec.contains(&format!("| `{}` |", p.tag())), "§2.2 lacks the purpose {}", p.tag());
    }
}
