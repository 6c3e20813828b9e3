//! Fuzz targets for every decoder that takes outside bytes and for the consensus inbox, with a stable-toolchain replay of the committed corpus and its mutations.
//!
//! Each target is a function of arbitrary bytes that must return without
//! panicking, whatever the bytes (issue #14). The same functions run
//!
//! * under libFuzzer: `tests/fuzz/` is a cargo-fuzz project with one
//!   `fuzz_targets/<name>.rs` per entry of [`TARGETS`]
//!   (`RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz <name>`);
//! * on the stable toolchain in `cargo test`: `tests/replay.rs` runs every
//!   file of `tests/fuzz/corpus/<name>/` and a fixed number of seeded
//!   mutations of each (what `scripts/check.sh` runs in CI).
//!
//! What a target asserts beyond "no panic": decoders are canonical (what
//! decodes re-encodes to the same bytes), and the consensus engine never
//! reports a driver failure for inputs it accepted.

#![warn(unreachable_pub)]
// A fuzz target reports a finding by panicking: that is what libFuzzer and
// the replay test catch.
#![allow(clippy::panic)]

use std::sync::OnceLock;

use credex_chain::{Block, Transaction};
use credex_consensus::{Action, ConsensusMsg, Engine, MsgError};
use credex_crypto::{Purpose, SecretKey};
use credex_proof::{CreditProof, Policy, Verifier};
use credex_types::attestation::{Attestation, DisclosedAttestation};
use credex_types::chain::{BlockHeader, CommitCertificate};
use credex_types::{Genesis, Timestamp};
use credex_wire::{ConsensusGossip, MAX_MESSAGE, SyncRequest, SyncResponse};

/// A fuzz target.
pub type Target = fn(&[u8]);

/// Every target: its name (the corpus directory and the cargo-fuzz target)
/// and its function.
pub const TARGETS: &[(&str, Target)] = &[
    ("codec", codec),
    ("attestation", attestation),
    ("block", block),
    ("consensus_msg", consensus_msg),
    ("consensus_gossip", consensus_gossip),
    ("consensus_inbox", consensus_inbox),
    ("certificate", certificate),
    ("credit_proof", credit_proof),
    ("proof_text", proof_text),
    ("p2p_frames", p2p_frames),
    ("genesis_toml", genesis_toml),
    ("request_headers", request_headers),
    ("transaction", transaction),
];

/// The fixture chain the targets check against: the vectors' genesis, its
/// validator and issuer keys.
pub fn fixture() -> &'static credex_tests::Fixture {
    static F: OnceLock<credex_tests::Fixture> = OnceLock::new();
    F.get_or_init(|| credex_tests::Fixture::new("vectors"))
}

/// Decodes `T` with `limit`; if it decodes, its encoding must be `data`.
fn canonical<T: credex_codec::Encode + credex_codec::Decode<()> + std::fmt::Debug>(
    data: &[u8],
    limit: usize,
) -> Option<T> {
    let v = credex_codec::decode::<T>(data, limit).ok()?;
    assert_eq!(credex_codec::encode(&v), data, "decoded but not canonical: {v:?}");
    Some(v)
}

/// The canonical decoder on a selection of wire types.
pub fn codec(data: &[u8]) {
    let _ = canonical::<BlockHeader>(data, 4096);
    let _ = canonical::<CommitCertificate>(data, 1 << 20);
    let _ = canonical::<credex_types::Vote>(data, 4096);
    let _ = canonical::<credex_types::chain::Evidence>(data, 4096);
    let _ = canonical::<credex_types::chain::ValidatorSet>(data, 1 << 20);
    let _ = canonical::<credex_types::lifecycle::GovernanceTx>(data, 1 << 20);
    let _ = canonical::<credex_types::state::StateValue>(data, 1 << 20);
    let _ = canonical::<(u64, Option<[u8; 32]>, Vec<u16>)>(data, 4096);
}

/// An attestation from a peer or a client: decode, then check shape and signature.
pub fn attestation(data: &[u8]) {
    if let Some(a) = canonical::<Attestation>(data, MAX_MESSAGE) {
        let _ = a.id();
        let _ = a.check_shape();
        let _ = a.check_labels(&credex_types::labels::LabelTable::builtin());
        let f = fixture();
        if let Some(issuer) = f.genesis.issuer(&a.header.issuer) {
            let _ = a.verify_signature(&issuer.key);
            let _ = a.disclose(&[]);
        }
    }
    if let Some(d) = canonical::<DisclosedAttestation>(data, MAX_MESSAGE) {
        let _ = d.id();
        if let Some(issuer) = fixture().genesis.issuer(&d.header.issuer) {
            let _ = d.verify_signature(&issuer.key);
        }
    }
}

/// A block from a peer: decode, header rules, transaction root.
pub fn block(data: &[u8]) {
    let Some(b) = canonical::<Block>(data, MAX_MESSAGE) else { return };
    let f = fixture();
    let _ = credex_chain::tx_root(&b.txs);
    let _ = credex_chain::check_header(&f.genesis.identity(), &f.set, None, &b);
}

/// One consensus message from gossip: decode, then the engine's checks.
pub fn consensus_msg(data: &[u8]) {
    let Some(msg) = canonical::<ConsensusMsg>(data, MAX_MESSAGE) else { return };
    let f = fixture();
    let verifier = credex_consensus::Verifier::new(f.genesis.chain_id.clone(), &f.set);
    let _ = verifier.check(&msg);
    let mut engine = Engine::new(f.genesis.chain_id.clone(), &f.set, Some((0, key(0))), 1);
    if let Ok(actions) = engine.start(1) {
        drive(&mut engine, actions);
    }
    feed(&mut engine, msg);
}

/// One message of the consensus gossip topic (spec §10.7): decode; a vote
/// or polka through the verifier; a compact proposal through its own
/// checks, the proposer's signature, and assembly from the transactions it
/// names (which must then give the same header) and from none.
pub fn consensus_gossip(data: &[u8]) {
    let Some(gossip) = canonical::<ConsensusGossip>(data, MAX_MESSAGE) else { return };
    let f = fixture();
    let verifier = credex_consensus::Verifier::new(f.genesis.chain_id.clone(), &f.set);
    match gossip {
        ConsensusGossip::Message(msg) => {
            let _ = verifier.check(&msg);
        }
        ConsensusGossip::Proposal(c) => {
            let checked = c.check();
            let _ = verifier.check_proposal(c.height, c.round, c.pol_round, c.proposer, &c.header, &c.signature);
            match c.clone().assemble(Vec::new()) {
                Ok(ConsensusMsg::Proposal { block, .. }) => {
                    assert!(c.txs.is_empty(), "a compact proposal naming transactions was assembled from none");
                    if checked.is_ok() {
                        assert_eq!(credex_chain::tx_root(&block.txs), c.header.tx_root, "checked, yet another root");
                    }
                }
                Ok(other) => panic!("assembled into a non-proposal: {other:?}"),
                Err(_) => {}
            }
        }
    }
}

fn key(i: usize) -> SecretKey {
    SecretKey::from_seed(fixture().validator_keys[i].seed())
}

/// Answers an engine's actions as the node would (every block valid,
/// timeouts fired at once), failing on a driver error.
fn drive(engine: &mut Engine, actions: Vec<Action>) {
    let mut queue = std::collections::VecDeque::from(actions);
    let mut steps = 0;
    while let Some(a) = queue.pop_front() {
        steps += 1;
        if steps > 10_000 {
            return;
        }
        let next = match a {
            Action::Validate(m) => engine.validated(&m, true),
            Action::GetValue { round, height } => {
                engine.propose(round, credex_crypto::Hash32::sha256(&[&height.to_le_bytes(), &round.to_le_bytes()]))
            }
            Action::Schedule(t) if steps < 64 => engine.timeout(t),
            _ => Ok(Vec::new()),
        };
        match next {
            Ok(more) => queue.extend(more),
            Err(MsgError::Driver(e)) => panic!("driver failed: {e}"),
            Err(_) => {}
        }
    }
}

fn feed(engine: &mut Engine, msg: ConsensusMsg) {
    match engine.on_message(msg) {
        Ok(actions) => drive(engine, actions),
        Err(MsgError::Driver(e)) => panic!("driver failed: {e}"),
        Err(_) => {}
    }
    let _ = engine.take_evidence();
    let _ = engine.gossip();
    assert!(engine.buffered_bytes() <= credex_consensus::FUTURE_BYTES);
}

/// The consensus inbox: a stream of messages (each `u32` little-endian
/// length ‖ bytes), valid signed ones mixed in by the first byte's choice,
/// fed to one engine in order.
pub fn consensus_inbox(data: &[u8]) {
    let f = fixture();
    let mut engine = Engine::new(f.genesis.chain_id.clone(), &f.set, Some((0, key(0))), 1);
    if let Ok(actions) = engine.start(1) {
        drive(&mut engine, actions);
    }
    let mut rest = data;
    let mut n = 0u32;
    while rest.len() >= 4 && n < 256 {
        n += 1;
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize % 4096;
        rest = &rest[4..];
        let (chunk, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;
        // A chunk of at least 6 bytes may instead name a validly signed vote:
        // validator, height, round, kind, block choice.
        let msg = match chunk {
            [0xff, v, h, r, k, b, ..] => Some(signed_vote(*v, *h, *r, *k, *b)),
            _ => credex_codec::decode::<ConsensusMsg>(chunk, MAX_MESSAGE).ok(),
        };
        if let Some(m) = msg {
            feed(&mut engine, m);
        }
    }
}

fn signed_vote(v: u8, h: u8, r: u8, k: u8, b: u8) -> ConsensusMsg {
    let f = fixture();
    let validator = u16::from(v) % u16::try_from(f.validator_keys.len()).unwrap_or(1).max(1);
    let kind = if k.is_multiple_of(2) {
        credex_types::chain::VoteKind::Prevote
    } else {
        credex_types::chain::VoteKind::Precommit
    };
    let block = (!b.is_multiple_of(3)).then_some(credex_crypto::Hash32([b % 3; 32]));
    let vote = credex_types::Vote {
        chain_id: f.genesis.chain_id.clone(),
        height: 1 + u64::from(h % 4),
        round: u32::from(r % 8),
        kind,
        block,
    };
    ConsensusMsg::Vote {
        height: vote.height,
        round: vote.round,
        kind,
        block,
        validator,
        signature: f.validator_keys[usize::from(validator)].sign(Purpose::Vote, &vote.signing_bytes()),
    }
}

/// A header and a certificate: decode both, verify the certificate.
pub fn certificate(data: &[u8]) {
    let Some((h, c)) = canonical::<(BlockHeader, CommitCertificate)>(data, 1 << 20) else { return };
    let _ = credex_types::chain::verify_commit(&fixture().set, &h, &c);
}

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| match Verifier::new(fixture().genesis.clone(), Policy::default()) {
        Ok(v) => v,
        Err(e) => unreachable!("the fixture genesis verifies: {e}"),
    })
}

/// A credit proof as bytes (a file, a QR code's payload).
pub fn credit_proof(data: &[u8]) {
    if let Ok(p) = CreditProof::from_bytes(data) {
        let _ = verifier().verify(&p, Timestamp(u64::MAX / 2));
        let _ = p.to_text();
    }
    let _ = verifier().verify_any(data, Timestamp(1_800_000_000_000));
}

/// A credit proof's text form (pasted, scanned).
pub fn proof_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = CreditProof::from_text(&text) {
        let _ = verifier().verify(&p, Timestamp(1_800_000_000_000));
    }
}

/// Request-response frames between nodes.
pub fn p2p_frames(data: &[u8]) {
    let _ = canonical::<SyncRequest>(data, MAX_MESSAGE);
    let _ = canonical::<SyncResponse>(data, MAX_MESSAGE);
}

/// A genesis file.
pub fn genesis_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(g) = Genesis::from_toml(text)
    {
        let _ = g.hash();
        let _ = g.validator_set().check();
    }
}

/// Signed-request headers (`X-Credex-Client`, `-Time`, `-Nonce`,
/// `-Signature`, one per line), parsed and verified as the node does
/// before it looks the client up.
pub fn request_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let (Some(client), Some(time), Some(nonce), Some(sig)) = (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        return;
    };
    let Ok(time) = time.parse::<u64>() else { return };
    let mut n = [0u8; 16];
    if hex::decode_to_slice(nonce, &mut n).is_err() {
        return;
    }
    let Ok(signature) = sig.parse::<credex_crypto::Signature>() else { return };
    let f = fixture();
    let audience = credex_types::access::Audience {
        chain_id: f.genesis.chain_id.clone(),
        genesis: f.genesis.hash(),
        node: "cn-sfh-amr".into(),
    };
    let req = credex_api_types::sign::signed_request(audience, client, "GET", "/v1/status", b"", Timestamp(time), n);
    let key = fixture().validator_keys[0].public();
    let _ = credex_crypto::verify(&key, Purpose::Request, &req.hash().0, &signature);
}

/// A gossiped transaction: decode, then admission against the fixture state.
pub fn transaction(data: &[u8]) {
    let Some(tx) = canonical::<Transaction>(data, credex_chain::MAX_TX_BYTES + 64) else { return };
    let f = fixture();
    let (state, anchors) = (credex_chain::MemState::default(), std::collections::BTreeMap::new());
    let _ = credex_chain::check_tx(&state.with(&anchors), &f.genesis, &tx);
}
