//! Property tests across crates: every single-byte mutation of a proof is
//! rejected; arbitrary input never panics the verifier.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credex_proof::{CreditProof, Policy, Verifier};
use credex_tests::Fixture;
use credex_types::{AttestationKind, ListKind, SubjectId, Timestamp};
use proptest::prelude::*;

fn proofs() -> (Verifier, Vec<CreditProof>, Timestamp) {
    let mut fx = Fixture::new("props");
    fx.add_filler(200);
    let att = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AbnormalOperationListing,
        &[("decision-no", "17"), ("note", "n"), ("reason-code", "annual-report")],
        Some(Timestamp(u64::MAX / 2)),
    );
    fx.anchor(&att);
    let listed: SubjectId = "91350100M000100Y43".parse().unwrap();
    fx.set_listing(
        ListKind::AbnormalOperation,
        &listed,
        credex_types::state::ListingRecord {
            current: Some(credex_types::state::Listing {
                since: att.header.effective_at,
                by: att.id(),
                issuer: att.header.issuer.clone(),
                escalated_from: None,
            }),
            last_removed: None,
            times_listed: 1,
        },
    );
    let absent: SubjectId = "ru-inn:7707083893".parse().unwrap();
    let mut out = vec![
        fx.prove_attestation(&att, &["reason-code"], &[0, 1, 2]),
        fx.prove_listing(ListKind::AbnormalOperation, &listed, &[0, 1, 2, 3]),
        fx.prove_listing(ListKind::AbnormalOperation, &absent, &[1, 2, 3]),
        fx.prove_status(&att, &[0, 1, 3]),
    ];
    fx.rotate_validators("props/rot");
    out.push(fx.prove_attestation(&att, &[], &[0, 2, 3]));
    let now = fx.time;
    (Verifier::new(fx.genesis.clone(), Policy::default()).unwrap(), out, now)
}

#[test]
fn every_single_byte_mutation_is_rejected() {
    let (verifier, proofs, now) = proofs();
    for proof in &proofs {
        let bytes = proof.to_bytes();
        let good = verifier.verify_any(&bytes, now).unwrap();
        for i in 0..bytes.len() {
            for delta in [0x01u8, 0x80, 0xff] {
                let mut m = bytes.clone();
                m[i] ^= delta;
                let r = verifier.verify_any(&m, now);
                assert!(r.is_err(), "mutation at byte {i} (xor {delta:#04x}) accepted: {r:?}; original {good:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_mutations_and_garbage_never_panic(which in 0usize..5, pos in any::<prop::sample::Index>(), delta in 1u8..=255,
                                                garbage in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (verifier, proofs, now) = PROOFS.with(|p| p.clone());
        let mut bytes = proofs[which].to_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= delta;
        prop_assert!(verifier.verify_any(&bytes, now).is_err());
        // garbage, raw and as text, is a typed error
        prop_assert!(verifier.verify_any(&garbage, now).is_err());
        let mut text = b"credex1:".to_vec();
        text.extend(garbage.iter().map(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[usize::from(*b) % 64]));
        prop_assert!(verifier.verify_any(&text, now).is_err());
    }
}

thread_local! {
    static PROOFS: (Verifier, Vec<CreditProof>, Timestamp) = proofs();
}
