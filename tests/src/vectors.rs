//! Known-answer vectors: generation (`cargo run -p credex-tests --bin gen-vectors`)
//! and the shared case format the checks read. Everything is derived from
//! fixed seeds, so regenerating gives byte-identical files.

use credex_crypto::{Hash32, PublicKey, Purpose, SecretKey, Signature, domain, hash, signing_input};
use credex_merkle::{smt, tree};
use credex_proof::{Claim, CreditProof, Policy, Verifier};
use credex_types::genesis::Genesis;
use credex_types::state::{AttestationStatus, Listing, ListingRecord};
use credex_types::{AttestationKind, ListKind, SubjectId, Timestamp};
use serde_json::{Value, json};

use crate::{Fixture, seed};

/// Directory of the committed vectors, relative to the workspace root.
pub const DIR: &str = "tests/vectors";

/// Every vector file: (file name, content).
pub fn all() -> Vec<(&'static str, String)> {
    let (proofs, genesis, other, same_id) = credit_proofs();
    vec![
        ("subject_ids.json", pretty(&subject_ids())),
        ("hashing.json", pretty(&hashing())),
        ("signatures.json", pretty(&signatures())),
        ("merkle.json", pretty(&merkle())),
        ("attestations.json", pretty(&attestations())),
        ("governance.json", pretty(&governance())),
        ("credit_proofs.json", pretty(&proofs)),
        ("genesis.toml", genesis),
        ("genesis-other-chain.toml", other),
        ("genesis-same-chain-id.toml", same_id),
    ]
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Valid identifier inputs (canonical form is derived by the library and checked).
pub const VALID_IDS: &[&str] = &[
    "91350100M000100Y43",
    "cn-uscc:91350100m000100y43",
    "7707083893",
    "ru-inn:500100732259",
    "ru-ogrn:1027700132195",
    "ru-ogrnip:304500116000157",
    "jp-cn:7000012050002",
    "mn-reg:2081237",
    "kr-brn:124-81-00998",
];

/// Invalid identifier inputs and the exact error text.
pub const INVALID_IDS: &[(&str, &str)] = &[
    ("91350100M000100Y44", "cn-uscc: check digit at position 18 is 4, expected 3"),
    ("91350100M00010OY43", "cn-uscc: character 'O' at position 15 is not allowed (0-9 and A-Z except I, O, S, V, Z)"),
    ("ru-inn:77070838", "ru-inn: length is 8, expected 10 or 12"),
    ("ru-inn:7707083894", "ru-inn: check digit at position 10 is 4, expected 3"),
    ("ru-inn:770708389A", "ru-inn: character 'A' at position 10 is not allowed (0-9)"),
    ("ru-ogrn:1027700132194", "ru-ogrn: check digit at position 13 is 4, expected 5"),
    ("ru-ogrnip:123", "ru-ogrnip: length is 3, expected 15"),
    ("jp-cn:8000012050002", "jp-cn: check digit at position 1 is 8, expected 7"),
    (
        "1027700132195",
        "13 digits may be a Russian OGRN or a Japanese corporate number; prefix the scheme, e.g. ru-ogrn:… or jp-cn:…",
    ),
    (
        "xx:1",
        "unknown scheme \"xx\" (known: cn-uscc, ru-inn, ru-ogrn, ru-ogrnip, jp-cn, or cc-scheme for other jurisdictions)",
    ),
    ("", "empty identifier"),
];

fn subject_ids() -> Value {
    let valid: Vec<Value> = VALID_IDS
        .iter()
        .map(|input| {
            let id: SubjectId = input.parse().expect("vector id must be valid");
            json!({
                "input": input,
                "canonical": id.to_string(),
                "scheme": id.scheme_name(),
                "jurisdiction": id.jurisdiction().to_string(),
                "encoding": hex::encode(credex_codec::encode(&id)),
            })
        })
        .collect();
    let invalid: Vec<Value> = INVALID_IDS
        .iter()
        .map(|(input, error)| {
            let got = input.parse::<SubjectId>().expect_err("vector id must be invalid").to_string();
            assert_eq!(&got, error, "error text of {input}");
            json!({ "input": input, "error": error })
        })
        .collect();
    // non-canonical encodings a decoder refuses (spec §4.1): each is a valid
    // encoding with one byte changed
    let mutate = |id: &str, from: u8, to: u8, why: &str| {
        let id: SubjectId = id.parse().expect("vector id must be valid");
        let mut enc = credex_codec::encode(&id);
        let at = enc.iter().position(|b| *b == from).expect("byte to change is there");
        enc[at] = to;
        assert!(credex_codec::decode::<SubjectId>(&enc, 256).is_err(), "{why}");
        json!({ "encoding": hex::encode(enc), "why": why })
    };
    let refused = vec![
        mutate("mn-reg:2081237", b'M', b'm', "country bytes in lower case"),
        mutate("mn-reg:2081237", b'N', b'1', "country bytes not letters"),
        mutate("mn-reg:2081237", b'r', b'R', "scheme in upper case"),
        mutate("cn-uscc:91350100M000100Y43", b'M', b'm', "value in lower case"),
    ];
    json!({ "valid": valid, "invalid": invalid, "refused_encodings": refused })
}

fn hashing() -> Value {
    let domains: Vec<Value> = domain::ALL
        .iter()
        .map(|d| json!({ "domain": d, "data": hex::encode(b"abc"), "hash": hash(d, b"abc").to_string() }))
        .collect();
    let purposes: Vec<Value> = Purpose::ALL
        .iter()
        .map(|p| json!({ "purpose": p.tag(), "message": hex::encode(b"abc"), "signing_input": hex::encode(signing_input(*p, b"abc")) }))
        .collect();
    json!({
        "rule": "H(domain, data) = SHA-256(u8(len(domain)) || domain || data); M' = u8(len(tag)) || tag || M",
        "domains": domains,
        "purposes": purposes,
    })
}

/// Governance proposals (spec §11.8): every action's canonical encoding,
/// proposal hash and one approval, and the validator set each validator
/// action leaves (its hash is the next block's `validators_hash`, §9.6).
fn governance() -> Value {
    use credex_types::chain::{Names, Validator, ValidatorSet};
    use credex_types::lifecycle::{GovAction, GovProposal};
    let key = |seed: u8| SecretKey::from_seed([seed; 32]);
    let validator = |i: u8| Validator {
        agency: format!("agency-{i}").parse().unwrap_or_else(|_| unreachable!("valid agency id")),
        names: Names { zh: "机构".into(), ru: "Агентство".into(), en: "Agency".into() },
        jurisdiction: "CN".parse().unwrap_or_else(|_| unreachable!("valid jurisdiction")),
        key: key(60 + i).public(),
        power: 1,
    };
    let set = ValidatorSet { validators: (0..4).map(validator).collect() };
    let agency = |i: u8| validator(i).agency;
    let issuer = credex_types::genesis::Issuer {
        agency: "cn-sfh-tax".parse().unwrap_or_else(|_| unreachable!("valid agency id")),
        names: Names { zh: "税务局".into(), ru: "Налоговая".into(), en: "Tax".into() },
        jurisdiction: "CN".parse().unwrap_or_else(|_| unreachable!("valid jurisdiction")),
        key: key(70).public(),
        kinds: vec![credex_types::AttestationKind::AdministrativeLicence],
    };
    let actions = vec![
        ("add-issuer", GovAction::AddIssuer(issuer)),
        ("remove-issuer", GovAction::RemoveIssuer { agency: "cn-sfh-tax".parse().unwrap_or_else(|_| unreachable!()) }),
        (
            "set-kinds",
            GovAction::SetKinds {
                agency: "cn-sfh-tax".parse().unwrap_or_else(|_| unreachable!()),
                kinds: vec![credex_types::AttestationKind::AdministrativePenalty],
            },
        ),
        (
            "rotate-key",
            GovAction::RotateKey {
                agency: "cn-sfh-tax".parse().unwrap_or_else(|_| unreachable!()),
                key: key(71).public(),
            },
        ),
        ("add-validator", GovAction::AddValidator(validator(4))),
        ("remove-validator", GovAction::RemoveValidator { agency: agency(3) }),
        ("set-power", GovAction::SetPower { agency: agency(0), power: 3 }),
        ("rotate-validator-key", GovAction::RotateValidatorKey { agency: agency(1), key: key(72).public() }),
    ];
    let chain_id: credex_types::ChainId = "credex-vectors".parse().unwrap_or_else(|_| unreachable!("valid chain id"));
    let cases: Vec<Value> = actions
        .into_iter()
        .map(|(name, action)| {
            let next = action.apply_to_set(&set).map(|r| r.map(|s| json!({ "set": s, "hash": s.hash().to_string() })));
            let proposal = GovProposal { chain_id: chain_id.clone(), action, nonce: [7; 16] };
            let hash = proposal.hash();
            json!({
                "name": name,
                "proposal": proposal,
                "encoding": hex::encode(credex_codec::encode(&proposal)),
                "proposal_hash": hash.to_string(),
                "approval_by_validator_0": key(60).sign(Purpose::Governance, &hash.0).to_string(),
                "next_set": match next { None => Value::Null, Some(Ok(v)) => v, Some(Err(e)) => json!({ "error": e.to_string() }) },
            })
        })
        .collect();
    json!({
        "rule": "proposal hash = H(\"credex/governance/v1\", encode(GovProposal)); an approval signs the 32-byte hash with purpose governance (spec §11.8)",
        "validator_set": set,
        "validator_set_hash": set.hash().to_string(),
        "cases": cases,
    })
}

/// The speccheck cases ("Taming the many EdDSAs", Chalkias et al. 2020) and
/// the verdict the credex-ed25519-v1 rule must give each.
pub const EDGE_EXPECTED: &[&str] = &[
    "reject:small-order-key",
    "reject:small-order-key",
    "accept",
    "accept",
    "accept",
    "accept",
    "reject:non-canonical-s",
    "reject:non-canonical-s",
    "reject:non-canonical-r",
    "reject:non-canonical-r",
];

/// The verdict of the admission rule (`credex-ed25519-admit-v1`, spec
/// §2.4) on the same cases: every case a stock library may disagree on is
/// refused before it reaches the chain.
pub const EDGE_EXPECTED_ADMISSION: &[&str] = &[
    "reject:small-order-key",
    "reject:small-order-key",
    "reject:torsion-key",
    "reject:torsion-key",
    "reject:torsion-key",
    "reject:torsion-key",
    "reject:non-canonical-s",
    "reject:non-canonical-s",
    // the keys of cases 8 and 9 are of mixed order: refused at registration
    "reject:torsion-key",
    "reject:torsion-key",
];

fn verdict_name(r: Result<(), credex_crypto::SignatureError>) -> &'static str {
    use credex_crypto::SignatureError as E;
    match r {
        Ok(()) => "accept",
        Err(E::SmallOrderKey) => "reject:small-order-key",
        Err(E::NonCanonicalKey) => "reject:non-canonical-key",
        Err(E::NonCanonicalR) => "reject:non-canonical-r",
        Err(E::NonCanonicalS) => "reject:non-canonical-s",
        Err(E::TorsionKey) => "reject:torsion-key",
        Err(E::SmallOrderR) => "reject:small-order-r",
        Err(E::MixedOrderR) => "reject:mixed-order-r",
        Err(_) => "reject:equation",
    }
}

/// `credex-ed25519-v1` (offline verification) on one case.
pub fn verdict(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> &'static str {
    verdict_name(PublicKey::from_bytes(*pk).and_then(|k| credex_crypto::verify_raw(&k, msg, &Signature(*sig))))
}

/// `credex-ed25519-admit-v1` on one case: the key clause (as when the key
/// was registered), then the signature clauses.
pub fn admission_verdict(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> &'static str {
    verdict_name(PublicKey::from_bytes(*pk).and_then(|k| {
        k.check_admissible()?;
        credex_crypto::admit_raw(&k, msg, &Signature(*sig))
    }))
}

/// Parses hex into a fixed array.
pub fn hex_array<const N: usize>(s: &str) -> [u8; N] {
    let mut b = [0u8; N];
    hex::decode_to_slice(s, &mut b).expect("hex");
    b
}

fn signatures() -> Value {
    let rfc = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", ""),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "72"),
        ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "af82"),
    ];
    let rfc8032: Vec<Value> = rfc
        .iter()
        .map(|(sk, msg)| {
            let key = SecretKey::from_seed(hex_array(sk));
            let m = hex::decode(msg).expect("RFC 8032 message is hex");
            json!({ "seed": sk, "public_key": key.public().to_string(), "message": msg, "signature": key.sign_raw(&m).to_string() })
        })
        .collect();
    let tagged: Vec<Value> = Purpose::ALL
        .iter()
        .map(|p| {
            let key = SecretKey::from_seed(seed("vectors/signer"));
            json!({
                "seed": hex::encode(seed("vectors/signer")),
                "public_key": key.public().to_string(),
                "purpose": p.tag(),
                "message": hex::encode(b"credex"),
                "signature": key.sign(*p, b"credex").to_string(),
            })
        })
        .collect();
    let cases: Vec<Value> = serde_json::from_str(include_str!("../vectors/ed25519-speccheck-cases.json"))
        .expect("the speccheck cases, a JSON array");
    let edge: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = |k: &str| c[k].as_str().unwrap_or_else(|| panic!("speccheck case {i}: no {k}"));
            let msg = hex::decode(field("message")).expect("speccheck message is hex");
            let pk: [u8; 32] = hex_array(field("pub_key"));
            let sig: [u8; 64] = hex_array(field("signature"));
            let got = verdict(&pk, &msg, &sig);
            assert_eq!(got, EDGE_EXPECTED[i], "edge case {i}");
            let admitted = admission_verdict(&pk, &msg, &sig);
            assert_eq!(admitted, EDGE_EXPECTED_ADMISSION[i], "edge case {i} at admission");
            json!({ "case": i, "message": c["message"], "public_key": c["pub_key"], "signature": c["signature"], "expected": got, "expected_at_admission": admitted })
        })
        .collect();
    // a registered (prime-order) key whose signatures carry torsion in R:
    // what a hostile issuer or validator can craft
    let crafted: Vec<Value> = [
        (crate::torsion::Torsion::SmallOrderR, "reject:small-order-r"),
        (crate::torsion::Torsion::MixedOrderR, "reject:mixed-order-r"),
    ]
    .iter()
    .map(|(t, want)| {
        let s = seed("vectors/signer");
        let key = SecretKey::from_seed(s);
        let sig = crate::torsion::sign(s, Purpose::Attestation, b"credex", *t);
        let input = credex_crypto::signing_input(Purpose::Attestation, b"credex");
        let pk = key.public().to_bytes();
        let (offline, admitted) = (verdict(&pk, &input, &sig.0), admission_verdict(&pk, &input, &sig.0));
        assert_eq!((offline, admitted), ("accept", *want), "{t:?}");
        json!({
            "torsion": format!("{t:?}"),
            "public_key": key.public().to_string(),
            "purpose": Purpose::Attestation.tag(),
            "message": hex::encode(b"credex"),
            "signature": sig.to_string(),
            "expected": offline,
            "expected_at_admission": admitted,
        })
    })
    .collect();
    json!({
        "rule": "credex-ed25519-v1: S < l; canonical A and R; A not small order; [8]([S]B - R - [k]A) = 0",
        "admission_rule": "credex-ed25519-admit-v1: credex-ed25519-v1's encoding clauses; [l]A = 0 (checked when the key is registered); R not small order; [S]B = R + [k]A",
        "rfc8032": rfc8032,
        "purpose_tagged": tagged,
        "edge_cases_source": "novifinancial/ed25519-speccheck cases.json (Chalkias, Garillot, Nikolaenko: Taming the many EdDSAs, 2020)",
        "edge_cases": edge,
        "torsion_cases": crafted,
    })
}

fn merkle() -> Value {
    let trees: Vec<Value> = (0..=8u8)
        .map(|n| {
            let data: Vec<Vec<u8>> = (0..n).map(|i| vec![i]).collect();
            let leaves: Vec<Hash32> = data.iter().map(|d| tree::leaf_hash(d)).collect();
            let root = tree::root(&leaves);
            let paths: Vec<Value> = (0..leaves.len())
                .map(|i| {
                    let p = tree::inclusion_proof(&leaves, i).unwrap_or_default();
                    json!({ "index": i, "path": p.iter().map(|h| h.to_string()).collect::<Vec<_>>() })
                })
                .collect();
            json!({ "leaves": data.iter().map(hex::encode).collect::<Vec<_>>(), "root": root.to_string(), "inclusion": paths })
        })
        .collect();
    let mut map = smt::SparseMerkleMap::new();
    let entries: Vec<(Hash32, Hash32)> = (0..16u32)
        .map(|i| (Hash32::sha256(&[b"key", &i.to_le_bytes()]), Hash32::sha256(&[b"value", &i.to_le_bytes()])))
        .collect();
    for (k, v) in &entries {
        map.insert(*k, *v);
    }
    let root = map.root();
    let mut proofs = Vec::new();
    for i in [0u32, 5, 11, 15, 100, 101, 102, 103] {
        let key = Hash32::sha256(&[b"key", &i.to_le_bytes()]);
        let value = map.get(&key);
        let p = map.prove(&key);
        proofs.push(json!({
            "key": key.to_string(),
            "value_hash": value.map(|v| v.to_string()),
            "proof": p,
            "encoding": hex::encode(credex_codec::encode(&p)),
        }));
    }
    json!({
        "rfc6962": trees,
        "smt": {
            "entries": entries.iter().map(|(k, v)| json!({"key": k.to_string(), "value_hash": v.to_string()})).collect::<Vec<_>>(),
            "root": root.to_string(),
            "proofs": proofs,
        },
    })
}

fn attestations() -> Value {
    let mut fx = Fixture::new("vectors");
    let a = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AbnormalOperationListing,
        &[
            ("reason-code", "annual-report"),
            ("decision-no", "绥市监异〔2026〕17号"),
            ("note", "Не опубликован годовой отчёт"),
        ],
        None,
    );
    let b = fx.attest(
        "cn-sfh-customs",
        "ru-inn:7707083893",
        AttestationKind::AdministrativePenalty,
        &[("amount", "20000"), ("severity", "ordinary")],
        Some("2027-01-01T00:00:00Z".parse().expect("a time")),
    );
    [(a, "cn-sfh-amr", vec!["reason-code"]), (b, "cn-sfh-customs", vec!["amount"])]
        .iter()
        .map(|(att, issuer, shown)| {
            let codes: Vec<_> = shown.iter().map(|c| c.parse().unwrap_or_else(|_| unreachable_code())).collect();
            let disclosed = att.disclose(&codes).unwrap_or_else(|_| unreachable_disclosure());
            json!({
                "attestation": att,
                "issuer_public_key": fx.issuer_keys[*issuer].public().to_string(),
                "encoding": hex::encode(credex_codec::encode(att)),
                "header_encoding": hex::encode(credex_codec::encode(&att.header)),
                "field_commitments": att.claims.iter().map(|f| f.commitment().to_string()).collect::<Vec<_>>(),
                "claims_root": att.claims_root().to_string(),
                "id": att.id().to_string(),
                "disclosed": { "codes": shown, "view": disclosed, "encoding": hex::encode(credex_codec::encode(&disclosed)) },
            })
        })
        .collect()
}

fn unreachable_code() -> credex_types::FieldCode {
    panic!("vector field codes are valid")
}
fn unreachable_disclosure() -> credex_types::DisclosedAttestation {
    panic!("vector disclosures name present fields")
}

/// One credit-proof case.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProofCase {
    /// Short name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Which genesis to verify against: `genesis.toml`,
    /// `genesis-other-chain.toml` or `genesis-same-chain-id.toml`.
    pub genesis: String,
    /// The verifier's clock.
    pub now: Timestamp,
    /// Policy: max age (e.g. `1d`), required jurisdictions, trusted issuers.
    pub policy: CasePolicy,
    /// `credex1:` text form.
    pub proof_text: String,
    /// Canonical bytes, hex (absent for cases whose bytes are not a proof).
    pub proof_hex: String,
    /// Encoded size in bytes.
    pub size: usize,
    /// `outcome:<name>` or `error:<code>`.
    pub expected: String,
}

/// Policy of a case.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CasePolicy {
    /// Max age in milliseconds.
    pub max_age_ms: Option<u64>,
    /// Required signer jurisdictions.
    pub required_jurisdictions: Vec<String>,
    /// Trusted issuers.
    pub trusted_issuers: Option<Vec<String>>,
    /// Time window (ms) a list claim must be clear for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_for_ms: Option<u64>,
    /// A trusted checkpoint (spec §8.5), text form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl CasePolicy {
    /// As a verifier policy.
    pub fn to_policy(&self) -> Policy {
        Policy {
            max_age_ms: self.max_age_ms,
            required_jurisdictions: self
                .required_jurisdictions
                .iter()
                .map(|j| j.parse().unwrap_or_else(|e| panic!("vector jurisdiction {j:?}: {e}")))
                .collect(),
            trusted_issuers: self
                .trusted_issuers
                .as_ref()
                .map(|v| v.iter().map(|a| a.parse().unwrap_or_else(|e| panic!("vector issuer {a:?}: {e}"))).collect()),
            clear_for_ms: self.clear_for_ms,
        }
    }
}

/// The committed vectors directory (`tests/vectors`).
pub fn dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Every committed credit-proof case: the synthetic ones
/// (`credit_proofs.json`) and those a real chain made (`chain_run.json`);
/// each names its genesis file in [`dir`].
pub fn proof_cases() -> Vec<ProofCase> {
    let load = |name: &str| -> Vec<ProofCase> {
        let text = std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        serde_json::from_value(v["cases"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let mut cases = load("credit_proofs.json");
    cases.extend(load("chain_run.json"));
    cases
}

/// Runs one case: `outcome:<name>` or `error:<code>`.
pub fn run_case(case: &ProofCase, genesis: &Genesis) -> String {
    let verifier = match Verifier::new(genesis.clone(), case.policy.to_policy()) {
        Ok(v) => v,
        Err(e) => return format!("error:{}", e.code()),
    };
    let verifier = match &case.policy.checkpoint {
        None => verifier,
        Some(text) => match credex_proof::Checkpoint::from_any(text.as_bytes()) {
            Ok(cp) => match verifier.with_checkpoint(&cp) {
                Ok(v) => v,
                Err(e) => return format!("error:{}", e.code()),
            },
            Err(e) => return format!("error:checkpoint-format: {e}"),
        },
    };
    let bytes = match hex::decode(&case.proof_hex) {
        Ok(b) => b,
        Err(e) => return format!("proof_hex is not hex: {e}"),
    };
    let from_text = verifier.verify_any(case.proof_text.as_bytes(), case.now);
    let from_bytes = verifier.verify_any(&bytes, case.now);
    let render = |r: &Result<credex_proof::Verdict, credex_proof::ProofError>| match r {
        Ok(v) => format!("outcome:{}", v.outcome.name()),
        Err(e) => format!("error:{}", e.code()),
    };
    let (t, b) = (render(&from_text), render(&from_bytes));
    if t == b { t } else { format!("text/bytes disagree: {t} vs {b}") }
}

struct CaseBuilder {
    cases: Vec<ProofCase>,
}

impl CaseBuilder {
    fn add_bytes(
        &mut self,
        name: &str,
        description: &str,
        genesis: &str,
        now: Timestamp,
        policy: CasePolicy,
        bytes: Vec<u8>,
        expected: &str,
    ) {
        use base64::Engine as _;
        let text =
            format!("{}{}", credex_proof::TEXT_PREFIX, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes));
        self.cases.push(ProofCase {
            name: name.into(),
            description: description.into(),
            genesis: genesis.into(),
            now,
            policy,
            proof_text: text,
            size: bytes.len(),
            proof_hex: hex::encode(&bytes),
            expected: expected.into(),
        });
    }

    fn add(
        &mut self,
        name: &str,
        description: &str,
        now: Timestamp,
        policy: CasePolicy,
        proof: &CreditProof,
        expected: &str,
    ) {
        self.add_bytes(name, description, "genesis.toml", now, policy, proof.to_bytes(), expected);
    }
}

fn credit_proofs() -> (Value, String, String, String) {
    let mut fx = Fixture::new("vectors");
    fx.add_filler(1000);
    let trader: SubjectId = "91350100M000100Y43".parse().unwrap_or_else(|_| unreachable_subject());
    let clean: SubjectId = "ru-inn:7707083893".parse().unwrap_or_else(|_| unreachable_subject());
    let removed: SubjectId = "jp-cn:7000012050002".parse().unwrap_or_else(|_| unreachable_subject());

    let listing = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AbnormalOperationListing,
        &[("decision-no", "绥市监异〔2026〕17号"), ("note", "—"), ("reason-code", "annual-report")],
        None,
    );
    let penalty = fx.attest(
        "cn-sfh-customs",
        "ru-inn:7707083893",
        AttestationKind::AdministrativePenalty,
        &[("amount", "20000"), ("severity", "ordinary")],
        Some("2026-04-01T00:00:00Z".parse().expect("a time")),
    );
    let licence = fx.attest(
        "cn-sfh-amr",
        "ru-inn:7707083893",
        AttestationKind::AdministrativeLicence,
        &[("licence-no", "L-001")],
        None,
    );
    let revoked = fx.attest(
        "cn-sfh-amr",
        "ru-inn:7707083893",
        AttestationKind::AdministrativeLicence,
        &[("licence-no", "L-002")],
        None,
    );
    let superseded = fx.attest(
        "cn-sfh-customs",
        "ru-inn:7707083893",
        AttestationKind::CreditGrade,
        &[("grade", "B"), ("sector", "import")],
        None,
    );
    let erased = fx.attest(
        "cn-sfh-amr",
        "ru-inn:7707083893",
        AttestationKind::AdministrativePenalty,
        &[("amount", "500")],
        None,
    );
    for a in [&listing, &penalty, &licence, &revoked, &superseded, &erased] {
        fx.anchor(a);
    }
    fx.set_listing(
        ListKind::AbnormalOperation,
        &trader,
        ListingRecord {
            current: Some(Listing {
                since: listing.header.effective_at,
                by: listing.id(),
                issuer: listing.header.issuer.clone(),
                escalated_from: None,
            }),
            last_removed: None,
            times_listed: 1,
        },
    );
    fx.set_listing(
        ListKind::AbnormalOperation,
        &removed,
        ListingRecord {
            current: None,
            last_removed: Some("2026-01-01T00:00:30Z".parse().unwrap_or_default()),
            times_listed: 1,
        },
    );
    let t = fx.time;
    fx.set_status(revoked.id(), AttestationStatus::Revoked { height: fx.height, time: t });
    fx.set_status(superseded.id(), AttestationStatus::Superseded { by: licence.id(), height: fx.height, time: t });
    fx.set_status(erased.id(), AttestationStatus::Erased { tombstone: licence.id(), height: fx.height, time: t });

    let q = [0u16, 1, 2];
    let all4 = [0u16, 1, 2, 3];
    let now: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap_or_default();
    let none = CasePolicy::default;
    let mut b = CaseBuilder { cases: vec![] };

    let p_listing = fx.prove_attestation(&listing, &["reason-code"], &all4);
    b.add(
        "attestation-active",
        "Abnormal-operation listing, only reason-code disclosed, signed by all 4 validators.",
        now,
        none(),
        &p_listing,
        "outcome:valid",
    );
    let p_lic = fx.prove_attestation(&licence, &["licence-no"], &q);
    b.add(
        "attestation-active-quorum",
        "Licence, 3 of 4 validators signed (exactly 2f+1).",
        now,
        none(),
        &p_lic,
        "outcome:valid",
    );
    let p_none = fx.prove_attestation(&licence, &[], &q);
    b.add(
        "attestation-nothing-disclosed",
        "All fields hidden; id, signature and status still verify.",
        now,
        none(),
        &p_none,
        "outcome:valid",
    );
    b.add(
        "attestation-revoked",
        "Revoked licence.",
        now,
        none(),
        &fx.prove_attestation(&revoked, &[], &q),
        "outcome:revoked",
    );
    b.add(
        "attestation-superseded",
        "Credit grade superseded by a newer attestation.",
        now,
        none(),
        &fx.prove_attestation(&superseded, &["grade"], &q),
        "outcome:superseded",
    );
    b.add(
        "attestation-erased",
        "Penalty erased: the proof says so without content.",
        now,
        none(),
        &fx.prove_attestation(&erased, &[], &q),
        "outcome:erased",
    );
    b.add(
        "attestation-expired",
        "Penalty whose publication window ended 2026-04-01, verified on 2026-05-01.",
        "2026-05-01T00:00:00Z".parse().unwrap_or_default(),
        none(),
        &fx.prove_attestation(&penalty, &["amount"], &q),
        "outcome:expired",
    );
    b.add(
        "list-listed",
        "Trader on the abnormal-operation list (membership).",
        now,
        none(),
        &fx.prove_listing(ListKind::AbnormalOperation, &trader, &q),
        "outcome:listed",
    );
    let p_never = fx.prove_listing(ListKind::AbnormalOperation, &clean, &q);
    b.add(
        "list-never-listed",
        "Trader never on the abnormal-operation list (non-membership).",
        now,
        none(),
        &p_never,
        "outcome:valid",
    );
    b.add(
        "list-never-listed-serious",
        "Same trader, serious-violation list (non-membership).",
        now,
        none(),
        &fx.prove_listing(ListKind::SeriousViolation, &trader, &q),
        "outcome:valid",
    );
    b.add(
        "list-removed",
        "Trader removed from the list (membership, no listing in force).",
        now,
        none(),
        &fx.prove_listing(ListKind::AbnormalOperation, &removed, &q),
        "outcome:valid",
    );

    b.add(
        "status-erased",
        "Status-only proof of the erased penalty: no field, no commitment, only header, claims root and signature.",
        now,
        none(),
        &fx.prove_status(&erased, &q),
        "outcome:erased",
    );
    b.add(
        "status-active",
        "Status-only proof of the licence (what a node without the fields can serve).",
        now,
        none(),
        &fx.prove_status(&licence, &q),
        "outcome:valid",
    );

    // time windows (spec §11.1): "not listed at any time during [T − w, T]"
    let three_years = CasePolicy { clear_for_ms: Some(1_096 * 86_400_000), ..CasePolicy::default() };
    b.add(
        "window-removed-within",
        "Removed from the list 30 s after genesis; a 3-year window at the block includes the listing.",
        now,
        three_years.clone(),
        &fx.prove_listing(ListKind::AbnormalOperation, &removed, &q),
        "outcome:recently-listed",
    );
    b.add(
        "window-never-listed",
        "Never listed: clear for any window (non-membership).",
        now,
        three_years.clone(),
        &p_never,
        "outcome:valid",
    );
    b.add(
        "window-listed-now",
        "Listed now: listed, whatever the window.",
        now,
        three_years,
        &fx.prove_listing(ListKind::AbnormalOperation, &trader, &q),
        "outcome:listed",
    );
    let short = CasePolicy { clear_for_ms: Some(10_000), ..CasePolicy::default() };
    b.add(
        "window-removed-before",
        "Removed 30 s after genesis; a 10-second window at the block (genesis + 60 s) is clear.",
        now,
        short,
        &fx.prove_listing(ListKind::AbnormalOperation, &removed, &q),
        "outcome:valid",
    );
    let case_record = credex_types::lifecycle::CaseRecord {
        kind: credex_types::lifecycle::CaseKind::Repair,
        subject: trader.clone(),
        agency: listing.header.issuer.clone(),
        target: Some(listing.id()),
        list: Some(ListKind::AbnormalOperation),
        act: credex_types::lifecycle::ActBody::RepairApplication {
            list: ListKind::AbnormalOperation,
            statement: credex_crypto::Hash32([7; 32]),
        },
        due: None,
        status: credex_types::lifecycle::CaseStatus::Pending,
        history: vec![credex_types::lifecycle::CaseEvent {
            height: fx.height,
            time: fx.time,
            status: credex_types::lifecycle::CaseStatus::Pending,
            by: None,
        }],
    };
    let case_id = credex_types::lifecycle::CaseId(credex_crypto::Hash32([8; 32]));
    fx.put(credex_types::state::StateKey::Case(case_id), credex_types::state::StateValue::Case(case_record));
    b.add(
        "case-pending",
        "A pending credit-repair application against the trader's listing.",
        now,
        none(),
        &fx.prove_case(case_id, &q),
        "outcome:valid",
    );

    // policies
    let stale = CasePolicy { max_age_ms: Some(86_400_000), ..CasePolicy::default() };
    b.add("policy-stale", "Max age 1 day, verified a month after the block.", now, stale, &p_lic, "outcome:stale");
    let fresh = CasePolicy { max_age_ms: Some(40 * 86_400_000), ..CasePolicy::default() };
    b.add("policy-fresh", "Max age 40 days: within it.", now, fresh, &p_lic, "outcome:valid");
    let ru = CasePolicy { required_jurisdictions: vec!["RU".into()], ..CasePolicy::default() };
    b.add(
        "policy-jurisdiction-present",
        "Requires a Russian signer; validator 3 (RU) signed.",
        now,
        ru.clone(),
        &p_listing,
        "outcome:valid",
    );
    b.add(
        "policy-jurisdiction-missing",
        "Requires a Russian signer; only Chinese validators signed.",
        now,
        ru,
        &p_lic,
        "error:missing-jurisdiction",
    );
    let trust = CasePolicy { trusted_issuers: Some(vec!["cn-sfh-customs".into()]), ..CasePolicy::default() };
    b.add(
        "policy-untrusted-issuer",
        "Policy trusts only customs; the attestation is by market regulation.",
        now,
        trust,
        &p_lic,
        "error:untrusted-issuer",
    );

    // tampering
    let mut x = p_listing.clone();
    if let Claim::Attestation { attestation, .. } = &mut x.claim {
        for slot in &mut attestation.claims {
            if let credex_types::ClaimSlot::Disclosed(f) = slot {
                f.value = "unreachable-address".into();
            }
        }
    }
    b.add(
        "tampered-disclosed-value",
        "Disclosed reason code changed: the id and so the state key change.",
        now,
        none(),
        &x,
        "error:bad-state-proof",
    );
    let mut x = p_listing.clone();
    if let Claim::Attestation { attestation, .. } = &mut x.claim {
        attestation.signature.0[10] ^= 1;
    }
    b.add("tampered-issuer-signature", "Issuer signature altered.", now, none(), &x, "error:bad-issuer-signature");
    let mut x = fx.prove_attestation(&revoked, &[], &q);
    if let Claim::Attestation { record, .. } = &mut x.claim {
        record.status = AttestationStatus::Active;
    }
    b.add("tampered-status", "Revoked record rewritten as active.", now, none(), &x, "error:bad-state-proof");
    let mut x = fx.prove_listing(ListKind::AbnormalOperation, &trader, &q);
    if let Claim::ListStatus { record, .. } = &mut x.claim {
        *record = None;
    }
    b.add(
        "tampered-listed-as-absent",
        "A listed trader presented as never listed.",
        now,
        none(),
        &x,
        "error:bad-state-proof",
    );
    let mut x = p_lic.clone();
    x.anchor.header.state_root = p_never.anchor.header.state_root;
    x.anchor.header.state_root.0[0] ^= 1;
    b.add(
        "tampered-header",
        "Header state root changed: the certificate no longer signs it.",
        now,
        none(),
        &x,
        "error:bad-certificate",
    );
    let mut x = p_lic.clone();
    x.anchor.certificate.signatures.truncate(2);
    b.add(
        "two-of-four-signatures",
        "Only 2 of 4 validators: below 2f+1.",
        now,
        none(),
        &x,
        "error:insufficient-signatures",
    );
    let mut x = p_lic.clone();
    let s1 = x.anchor.certificate.signatures[1].clone();
    x.anchor.certificate.signatures.truncate(2);
    x.anchor.certificate.signatures.insert(1, s1);
    b.add(
        "duplicate-signer",
        "Validator 1's signature repeated to reach three.",
        now,
        none(),
        &x,
        "error:duplicate-signer",
    );
    let mut x = p_lic.clone();
    x.anchor.certificate.round = 1;
    b.add(
        "wrong-round",
        "Certificate round changed: signatures were for round 0.",
        now,
        none(),
        &x,
        "error:bad-certificate",
    );
    let mut x = p_lic.clone();
    let outsider = SecretKey::from_seed(seed("vectors/outsider"));
    let vote = credex_types::Vote {
        chain_id: x.anchor.header.chain_id.clone(),
        height: x.anchor.header.height,
        round: 0,
        kind: credex_types::VoteKind::Precommit,
        block: Some(x.anchor.header.id()),
    };
    x.anchor.certificate.signatures[2].signature = outsider.sign(Purpose::Vote, &vote.signing_bytes());
    b.add(
        "forged-validator-signature",
        "A non-validator signs in validator 2's place.",
        now,
        none(),
        &x,
        "error:bad-certificate",
    );
    let mut x = p_lic.clone();
    x.version = 2;
    b.add("unsupported-version", "Proof version 2.", now, none(), &x, "error:unsupported-version");
    let bytes = p_lic.to_bytes();
    b.add_bytes(
        "truncated",
        "Last byte cut off.",
        "genesis.toml",
        now,
        none(),
        bytes[..bytes.len() - 1].to_vec(),
        "error:malformed",
    );
    let text = p_lic.to_text();
    let mut wrapped = String::new();
    for (i, ch) in text.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            wrapped.push_str("\r\n");
        }
        wrapped.push(ch);
    }
    wrapped.push('\n');
    b.add(
        "text-broken-over-lines",
        "The text form broken every 76 characters with CR LF, as an e-mail client does: whitespace is ignored (spec §13.2).",
        now,
        none(),
        &p_lic,
        "outcome:valid",
    );
    if let Some(last) = b.cases.last_mut() {
        last.proof_text = wrapped;
    }
    let mut long = bytes.clone();
    long.push(0);
    b.add_bytes("trailing-byte", "One byte appended.", "genesis.toml", now, none(), long, "error:malformed");
    b.add_bytes(
        "wrong-chain",
        "A valid proof checked against another chain's genesis.",
        "genesis-other-chain.toml",
        now,
        none(),
        p_lic.to_bytes(),
        "error:wrong-chain",
    );
    b.add_bytes(
        "wrong-genesis",
        "A valid proof checked against a genesis with the same chain id and validator keys but another genesis time (so another genesis hash).",
        "genesis-same-chain-id.toml",
        now,
        none(),
        p_lic.to_bytes(),
        "error:wrong-genesis",
    );
    let early = Timestamp(p_lic.anchor.header.time.0.saturating_sub(credex_proof::MAX_CLOCK_SKEW_MS + 1));
    b.add(
        "block-in-future",
        "A valid proof verified by a clock more than 5 minutes behind the block time.",
        early,
        none(),
        &p_lic,
        "error:block-in-future",
    );
    let edge = Timestamp(p_lic.anchor.header.time.0.saturating_sub(credex_proof::MAX_CLOCK_SKEW_MS));
    b.add(
        "block-at-skew-limit",
        "The same proof, the clock exactly 5 minutes behind: accepted, age 0.",
        edge,
        none(),
        &p_lic,
        "outcome:valid",
    );

    // one proof for every list (spec §8.3, Standing)
    b.add(
        "standing-listed",
        "The trader's standing on every list in one proof: on the abnormal-operation list.",
        now,
        none(),
        &fx.prove_standing(&trader, &q),
        "outcome:listed",
    );
    b.add(
        "standing-never-listed",
        "A subject on no list (non-membership of its standing leaf).",
        now,
        none(),
        &fx.prove_standing(&clean, &q),
        "outcome:valid",
    );
    b.add(
        "standing-removed-within-window",
        "Removed 30 s after genesis; a 3-year window: recently listed, whichever list.",
        now,
        CasePolicy { clear_for_ms: Some(1_096 * 86_400_000), ..CasePolicy::default() },
        &fx.prove_standing(&removed, &q),
        "outcome:recently-listed",
    );

    // validator-set change
    let genesis_text = fx.genesis.to_toml();
    let mut fx2 = Fixture::new("vectors");
    let a2 = fx2.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AdministrativeLicence,
        &[("licence-no", "L-777")],
        None,
    );
    fx2.anchor(&a2);
    fx2.rotate_validators("vectors/rotation-1");
    let p_rot = fx2.prove_attestation(&a2, &["licence-no"], &q);
    b.add(
        "after-validator-set-change",
        "Validators rotated keys at height 1; the proof carries the certified change.",
        now,
        none(),
        &p_rot,
        "outcome:valid",
    );
    let mut x = p_rot.clone();
    x.anchor.set_changes.clear();
    b.add(
        "set-change-omitted",
        "Same proof without the set change: the new set is unknown to genesis.",
        now,
        none(),
        &x,
        "error:bad-certificate",
    );
    let mut x = p_rot.clone();
    x.anchor.set_changes[0].certificate.signatures.truncate(2);
    b.add(
        "set-change-under-quorum",
        "The set change is certified by only 2 of 4.",
        now,
        none(),
        &x,
        "error:bad-validator-set-change",
    );

    // checkpoints (spec §8.5): after the rotation, the partner trusts a
    // later block; the retired genesis keys then sign nothing it accepts
    let checkpoint = fx2.checkpoint(&q);
    let trusting = || CasePolicy { checkpoint: Some(checkpoint.to_text()), ..CasePolicy::default() };
    let p_after = fx2.prove_attestation(&a2, &["licence-no"], &q);
    b.add(
        "checkpoint-later-proof",
        "A proof anchored after the checkpoint, carrying the set change from genesis: valid from the checkpoint.",
        now,
        trusting(),
        &p_after,
        "outcome:valid",
    );
    b.add(
        "checkpoint-older-proof",
        "A proof anchored before the checkpoint: refused, a fresh one is needed.",
        now,
        trusting(),
        &p_rot,
        "error:before-checkpoint",
    );
    // the retired genesis keys sign a block past the checkpoint, naming the
    // genesis set and leaving the rotation out
    let mut old_keys = Fixture::new("vectors");
    old_keys.time = fx2.time;
    let a3 = old_keys.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AdministrativeLicence,
        &[("licence-no", "L-777")],
        None,
    );
    old_keys.anchor(&a3);
    while old_keys.height <= p_after.anchor.header.height {
        old_keys.commit(&q);
    }
    let forged = old_keys.prove_attestation(&a3, &["licence-no"], &q);
    b.add(
        "retired-keys-genesis-only",
        "Retired (rotated-out) genesis keys certify a later block naming the genesis set: genesis alone cannot tell (the reason for checkpoints).",
        now,
        none(),
        &forged,
        "outcome:valid",
    );
    b.add(
        "retired-keys-after-checkpoint",
        "The same forged proof, checked from the checkpoint: the genesis set is retired.",
        now,
        trusting(),
        &forged,
        "error:bad-certificate",
    );
    let mut cut = checkpoint.clone();
    cut.anchor.certificate.signatures.truncate(2);
    b.add(
        "checkpoint-under-quorum",
        "A checkpoint certified by 2 of 4: the verifier refuses to start from it.",
        now,
        CasePolicy { checkpoint: Some(cut.to_text()), ..CasePolicy::default() },
        &p_after,
        "error:bad-checkpoint",
    );

    let other = Fixture::with_chain("vectors", "credex-other-1").genesis.to_toml();
    let cases: Vec<Value> = b.cases.iter().map(|c| serde_json::to_value(c).unwrap_or_default()).collect();
    let genesis = Genesis::from_toml(&genesis_text).unwrap_or_else(|_| unreachable_genesis());
    let other_g = Genesis::from_toml(&other).unwrap_or_else(|_| unreachable_genesis());
    // the same chain id and keys, one millisecond later: another genesis
    let mut same_g = genesis.clone();
    same_g.genesis_time = Timestamp(genesis.genesis_time.0 + 1);
    let same_id = same_g.to_toml();
    for c in &b.cases {
        let g = match c.genesis.as_str() {
            "genesis.toml" => &genesis,
            "genesis-same-chain-id.toml" => &same_g,
            _ => &other_g,
        };
        assert_eq!(run_case(c, g), c.expected, "case {}", c.name);
    }
    (
        json!({
            "note": "Each case: verify proof_text (or proof_hex) against the named genesis file in this directory, with the policy, at time `now`; expect `outcome:<name>` or `error:<code>` (docs/spec/08-credit-proof.md). `genesis_hashes`: the hash of each genesis file (spec §7), which every block header carries.",
            "genesis_hashes": {
                "genesis.toml": genesis.hash().to_string(),
                "genesis-other-chain.toml": other_g.hash().to_string(),
                "genesis-same-chain-id.toml": same_g.hash().to_string(),
            },
            "cases": cases,
        }),
        genesis_text,
        other,
        same_id,
    )
}

fn unreachable_subject() -> SubjectId {
    panic!("vector subjects are valid")
}
fn unreachable_genesis() -> Genesis {
    panic!("fixture genesis is valid")
}
