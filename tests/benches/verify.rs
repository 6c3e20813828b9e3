//! Proof-verification benchmark: `cargo bench -p credex-tests --bench verify`.
//!
//! Builds a state map of `CREDEX_BENCH_ENTRIES` entries (default 1,000,000),
//! then measures, in the same run: full credit-proof verification, the bare
//! cost of the same number of Ed25519 verifications (1 issuer + 3 validator
//! signatures), their ratio, proof sizes, and sparse-Merkle-map figures;
//! then the attestation and every-list proofs again on a chain of 7
//! validators (certificates of 5 signatures).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use credex_crypto::{Hash32, Purpose, SecretKey};
use credex_merkle::smt::{self, SparseMerkleMap};
use credex_proof::{Policy, Verifier};
use credex_tests::Fixture;
use credex_types::{AttestationKind, ListKind, SubjectId, Timestamp};

/// Runs `f` repeatedly for about `budget`; returns mean time per call.
fn time_per_op(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..10 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget {
        for _ in 0..20 {
            f();
        }
        n += 20;
    }
    start.elapsed() / n
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let entries: usize = std::env::var("CREDEX_BENCH_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let budget = Duration::from_millis(1500);
    println!("credex proof-verification benchmark ({entries} state entries, 4 validators)");

    let mut fx = Fixture::new("bench");
    let t0 = Instant::now();
    fx.add_filler(entries);
    let fill = t0.elapsed();
    let t1 = Instant::now();
    let _ = fx.map.root();
    let rehash = t1.elapsed();
    println!(
        "smt fill: {entries} inserts in {:.2} s ({:.0} inserts/s), first root {:.2} s",
        fill.as_secs_f64(),
        entries as f64 / fill.as_secs_f64(),
        rehash.as_secs_f64()
    );

    let att = listing(&mut fx);
    fx.anchor(&att);
    let proof = fx.prove_attestation(&att, &["reason-code"], &[0, 1, 2]);
    let subject: SubjectId = "ru-inn:7707083893".parse().unwrap();
    let absent = fx.prove_listing(ListKind::AbnormalOperation, &subject, &[0, 1, 2]);
    // the trader on every list in one proof (listed on one of them)
    fx.set_listing(
        ListKind::AbnormalOperation,
        &att.header.subject,
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
    let standing = fx.prove_standing(&att.header.subject, &[0, 1, 2]);
    let verifier = Verifier::new(fx.genesis.clone(), Policy::default()).unwrap();
    let now = Timestamp(fx.time.0 + 1000);
    assert_eq!(verifier.verify(&proof, now).unwrap().outcome.name(), "valid");
    assert_eq!(verifier.verify(&absent, now).unwrap().outcome.name(), "valid");
    assert_eq!(verifier.verify(&standing, now).unwrap().outcome.name(), "listed");

    let bytes = proof.to_bytes();
    let text = proof.to_text();
    println!("attestation proof: {} bytes, {} chars as text", bytes.len(), text.len());
    println!("non-membership list proof: {} bytes, {} chars as text", absent.to_bytes().len(), absent.to_text().len());
    let standing_text = standing.to_text();
    let qr = |level: qrcode::EcLevel| match qrcode::QrCode::with_error_correction_level(standing_text.as_bytes(), level)
    {
        Ok(c) => format!("{:?}", c.version()),
        Err(_) => "does not fit".to_string(),
    };
    println!(
        "every-list (standing) proof: {} bytes, {} chars as text; QR byte mode: level L {}, M {}, Q {}",
        standing.to_bytes().len(),
        standing_text.len(),
        qr(qrcode::EcLevel::L),
        qr(qrcode::EcLevel::M),
        qr(qrcode::EcLevel::Q)
    );

    let verify_struct = time_per_op(budget, || {
        black_box(verifier.verify(black_box(&proof), now).unwrap());
    });
    let verify_bytes = time_per_op(budget, || {
        black_box(verifier.verify_any(black_box(&bytes), now).unwrap());
    });
    let verify_absent = time_per_op(budget, || {
        black_box(verifier.verify(black_box(&absent), now).unwrap());
    });
    let verify_standing = time_per_op(budget, || {
        black_box(verifier.verify(black_box(&standing), now).unwrap());
    });

    // Bare signature cost: the same 4 signatures, each verified singly.
    let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed([i + 1; 32])).collect();
    let pks: Vec<_> = keys.iter().map(|k| k.public()).collect();
    let msg = [7u8; 96];
    let sigs: Vec<_> = keys.iter().map(|k| k.sign(Purpose::Vote, &msg)).collect();
    let four_sigs = time_per_op(budget, || {
        for (pk, s) in pks.iter().zip(&sigs) {
            credex_crypto::verify(pk, Purpose::Vote, black_box(&msg), s).unwrap();
        }
    });
    let one_sig = four_sigs / 4;

    println!("verify credit proof (decoded): {:.1} µs", us(verify_struct));
    println!("verify credit proof (from bytes): {:.1} µs", us(verify_bytes));
    println!("verify list non-membership proof: {:.1} µs", us(verify_absent));
    println!("verify every-list (standing) proof: {:.1} µs", us(verify_standing));
    println!("bare ed25519 verify: {:.1} µs each, 4 signatures {:.1} µs", us(one_sig), us(four_sigs));
    println!(
        "ratio proof-verify / 4 bare signature checks: {:.2}",
        verify_bytes.as_secs_f64() / four_sigs.as_secs_f64()
    );

    seven_validators(entries, budget, one_sig);

    // SMT proof figures over random keys.
    let mut sizes = 0usize;
    let mut depth = 0usize;
    let probes = 1000u32;
    let mut map: &mut SparseMerkleMap = &mut fx.map;
    let root = map.root();
    let mut proofs = Vec::new();
    for i in 0..probes {
        let k = Hash32::sha256(&[b"probe", &i.to_le_bytes()]);
        let p = map.prove(&k);
        sizes += credex_codec::encode(&p).len();
        depth += usize::from(p.depth);
        proofs.push((k, p));
    }
    map = &mut fx.map;
    let _ = map;
    let smt_verify = time_per_op(budget, || {
        for (k, p) in proofs.iter().take(100) {
            smt::verify(&root, k, None, p).unwrap();
        }
    }) / 100;
    println!(
        "smt non-membership proof: mean {} bytes, mean depth {:.1}, verify {:.1} µs",
        sizes / probes as usize,
        depth as f64 / f64::from(probes),
        us(smt_verify)
    );
}

/// The abnormal-operation listing both sections prove: three fields, one
/// disclosed.
fn listing(fx: &mut Fixture) -> credex_types::Attestation {
    fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AbnormalOperationListing,
        &[("decision-no", "绥市监异〔2026〕17号"), ("note", "—"), ("reason-code", "annual-report")],
        None,
    )
}

/// The attestation and every-list proofs on a chain of 7 validators (a
/// quorum of 5 signatures), in a map of `entries` entries.
fn seven_validators(entries: usize, budget: Duration, one_sig: Duration) {
    let mut fx = Fixture::with_validators("bench-7", 7);
    fx.add_filler(entries);
    let quorum: Vec<u16> = (0..5).collect();
    let att = listing(&mut fx);
    fx.anchor(&att);
    let proof = fx.prove_attestation(&att, &["reason-code"], &quorum);
    let subject: SubjectId = "ru-inn:7707083893".parse().unwrap();
    let standing = fx.prove_standing(&subject, &quorum);
    let verifier = Verifier::new(fx.genesis.clone(), Policy::default()).unwrap();
    let now = Timestamp(fx.time.0 + 1000);
    assert_eq!(verifier.verify(&proof, now).unwrap().outcome.name(), "valid");
    assert_eq!(verifier.verify(&standing, now).unwrap().outcome.name(), "valid");
    let bytes = proof.to_bytes();
    let standing_bytes = standing.to_bytes();
    let v_att = time_per_op(budget, || {
        black_box(verifier.verify_any(black_box(&bytes), now).unwrap());
    });
    let v_standing = time_per_op(budget, || {
        black_box(verifier.verify_any(black_box(&standing_bytes), now).unwrap());
    });
    println!("7 validators, certificates of 5 signatures, {entries} entries:");
    println!(
        "  attestation proof: {} bytes, verify {:.1} µs; ratio / 6 bare signature checks: {:.2}",
        bytes.len(),
        us(v_att),
        v_att.as_secs_f64() / (6.0 * one_sig.as_secs_f64())
    );
    println!(
        "  every-list proof: {} bytes ({} chars), verify {:.1} µs; ratio / 5 bare signature checks: {:.2}",
        standing_bytes.len(),
        standing.to_text().len(),
        us(v_standing),
        v_standing.as_secs_f64() / (5.0 * one_sig.as_secs_f64())
    );
}
