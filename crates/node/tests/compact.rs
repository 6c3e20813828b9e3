//! Compact proposals (spec §10.7) between two real nodes' RocksDB stores: a
//! validator assembles a proposal named by header and transaction hashes
//! from its own pool and from a peer, keeps only transactions whose bytes
//! hash to the names, and re-verifies every signature it did not verify on
//! those very bytes — a transaction that shares an id with a pooled one but
//! carries another signature is checked, and refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use credex_chain::{AnchorTx, Transaction};
use credex_consensus::ConsensusMsg;
use credex_crypto::{Hash32, SecretKey, Signature};
use credex_node::compact::{AssembleError, FetchError, TxSource, assemble};
use credex_node::service::{BlockError, Node, SystemClock, Wiring};
use credex_storage::Store;
use credex_types::attestation::{Attestation, AttestationHeader};
use credex_types::genesis::Genesis;
use credex_types::{AttestationKind, Timestamp};
use credex_wire::{CompactError, CompactProposal, TRANSACTIONS_BYTES};

/// Two nodes of one dev chain (same genesis, separate stores and pools)
/// and the chain's licensing issuer.
struct Pair {
    _tmp: tempfile::TempDir,
    proposer: Arc<Node>,
    validator: Arc<Node>,
    genesis: Genesis,
    issuer: (credex_types::AgencyId, SecretKey),
}

impl Pair {
    fn new() -> Pair {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("dev");
        let (genesis, _) = credex_node::dev::init_or_load(&data, Timestamp::system_now()).unwrap();
        let (file, key) = credex_api_types::KeyFile::read(&data.join("keys/cn-sfh-amr.json")).unwrap();
        let open = |db: &str| {
            let store = Store::open(&tmp.path().join(db), genesis.hash()).unwrap();
            Arc::new(Node::open(genesis.clone(), store, Box::new(SystemClock), Wiring::solo()).unwrap())
        };
        let (proposer, validator) = (open("a"), open("b"));
        Pair { _tmp: tmp, proposer, validator, genesis, issuer: (file.agency, key) }
    }

    fn attestations(&self, from: u64, count: u64) -> Vec<Attestation> {
        let effective = Timestamp(Timestamp::system_now().0 - 60_000);
        (from..from + count)
            .map(|k| {
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&k.to_le_bytes());
                let header = AttestationHeader::new(
                    self.genesis.chain_id.clone(),
                    self.issuer.0.clone(),
                    format!("zz-compact:N{k}").parse().unwrap(),
                    AttestationKind::AdministrativeLicence,
                    effective,
                    nonce,
                )
                .unwrap();
                Attestation::sign(header, vec![], &self.issuer.1).unwrap()
            })
            .collect()
    }

    /// The proposer's next block from its pool, as a full proposal message
    /// (the proposal signature is not what these tests are about).
    fn proposal(&self) -> ConsensusMsg {
        let p = self.proposer.propose(0).expect("a block");
        ConsensusMsg::Proposal {
            height: p.header().height,
            round: 0,
            pol_round: None,
            proposer: 0,
            block: p.block().clone(),
            signature: Signature([0; 64]),
        }
    }
}

fn submit(node: &Node, atts: &[Attestation]) {
    for r in node.submit_many(atts) {
        r.unwrap();
    }
}

/// A peer in the same process, answering as `credex_node::net` does, with a
/// hook to change what it sends.
struct Peer<'a> {
    node: &'a Node,
    damage: &'a (dyn Fn(Vec<Transaction>) -> Vec<Transaction> + Sync),
    asked: usize,
}

impl TxSource for Peer<'_> {
    async fn fetch(&mut self, hashes: Vec<Hash32>) -> Result<Vec<Transaction>, FetchError> {
        self.asked += 1;
        Ok((self.damage)(self.node.transactions_by_hash(&hashes, TRANSACTIONS_BYTES)))
    }
}

struct Down;

impl TxSource for Down {
    async fn fetch(&mut self, _: Vec<Hash32>) -> Result<Vec<Transaction>, FetchError> {
        Err(FetchError("connection refused".into()))
    }
}

fn honest(txs: Vec<Transaction>) -> Vec<Transaction> {
    txs
}

/// The same anchors with another (invalid) signature: same ids, other bytes.
fn resigned(txs: Vec<Transaction>) -> Vec<Transaction> {
    txs.into_iter()
        .map(|t| match t {
            Transaction::Anchor(mut a) => {
                a.signature.0[0] ^= 1;
                Transaction::Anchor(a)
            }
            other => other,
        })
        .collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn a_compact_proposal_is_assembled_from_the_pool_and_a_peer_and_a_lying_peer_gets_nothing_in() {
    let pair = Pair::new();
    let all = pair.attestations(0, 300);
    submit(&pair.proposer, &all);
    // The validator's pool holds the first two thirds (gossip not yet done).
    submit(&pair.validator, &all[..200]);
    let full = pair.proposal();
    let compact = CompactProposal::of(&full).unwrap();
    assert_eq!(compact.txs.len(), 300);
    compact.check().unwrap();
    let missing = all[200..].iter().map(|a| Transaction::Anchor(AnchorTx::of(a)).hash()).collect::<Vec<_>>();
    let held = pair.validator.lookup_transactions(&compact.txs);
    assert_eq!(held.iter().filter(|t| t.is_none()).count(), 100);
    assert!(missing.iter().all(|h| held[compact.txs.iter().position(|x| x == h).unwrap()].is_none()));

    // A peer that sends other bytes under the names, or none, brings nothing in.
    for damage in [&resigned as &(dyn Fn(Vec<Transaction>) -> Vec<Transaction> + Sync), &|_| Vec::new()] {
        let mut peers = [Peer { node: &pair.proposer, damage, asked: 0 }];
        match block_on(assemble(&pair.validator, compact.clone(), &mut peers)) {
            Err(AssembleError::Missing { missing: 100, named: 300 }) => {}
            other => panic!("a lying peer's transactions were taken: {other:?}"),
        }
        assert_eq!(peers[0].asked, 1, "a peer that brings nothing new is not asked again");
    }
    match block_on(assemble(&pair.validator, compact.clone(), &mut [Down])) {
        Err(AssembleError::Missing { missing: 100, .. }) => {}
        other => panic!("{other:?}"),
    }

    // A liar first, then an honest peer: the honest one completes it, and
    // the result is the proposer's block, byte for byte.
    let mut peers = [
        Peer { node: &pair.proposer, damage: &resigned, asked: 0 },
        Peer { node: &pair.proposer, damage: &honest, asked: 0 },
    ];
    let assembled = block_on(assemble(&pair.validator, compact.clone(), &mut peers)).unwrap();
    assert_eq!((peers[0].asked, peers[1].asked), (1, 1));
    assert_eq!(credex_codec::encode(&assembled), credex_codec::encode(&full));
    let ConsensusMsg::Proposal { block, .. } = assembled else { panic!("not a proposal") };
    pair.validator.validate_block(block).unwrap();

    // The names are bound to the header: swapped, dropped or extra hashes
    // do not give its transaction root.
    let mut swapped = compact.clone();
    swapped.txs.swap(0, 1);
    assert_eq!(swapped.check(), Err(CompactError::TxRoot));
    let mut dropped = compact.clone();
    dropped.txs.pop();
    assert_eq!(dropped.check(), Err(CompactError::TxRoot));
    let mut extra = compact.clone();
    extra.txs.push(Hash32([9; 32]));
    assert_eq!(extra.check(), Err(CompactError::TxRoot));
    let mut flood = compact.clone();
    flood.txs = vec![Hash32([1; 32]); credex_chain::MAX_BLOCK_TXS + 1];
    assert_eq!(flood.check(), Err(CompactError::TooManyTxs(credex_chain::MAX_BLOCK_TXS + 1)));
    let mut other_height = compact.clone();
    other_height.height += 1;
    assert!(matches!(other_height.check(), Err(CompactError::Height { .. })));
    match block_on(assemble(&pair.validator, swapped, &mut [Down])) {
        Err(AssembleError::Compact(CompactError::TxRoot)) => {}
        other => panic!("{other:?}"),
    }
    // Assembling from given transactions checks each against its name.
    let ConsensusMsg::Proposal { block, .. } = &full else { panic!("not a proposal") };
    let wrong = resigned(block.txs.clone());
    assert_eq!(compact.clone().assemble(wrong), Err(CompactError::WrongTx { index: 0 }));
    assert!(matches!(compact.assemble(block.txs[1..].to_vec()), Err(CompactError::Count { named: 300, given: 299 })));
}

#[test]
fn a_block_whose_transaction_differs_from_the_pooled_one_only_in_its_signature_is_refused() {
    let pair = Pair::new();
    let atts = pair.attestations(1_000, 3);
    submit(&pair.proposer, &atts);
    submit(&pair.validator, &atts);
    let ConsensusMsg::Proposal { block, .. } = pair.proposal() else { panic!("not a proposal") };
    // The validator pooled (and verified) these very transactions.
    assert!(
        pair.validator
            .lookup_transactions(&block.txs.iter().map(Transaction::hash).collect::<Vec<_>>())
            .iter()
            .all(Option::is_some)
    );
    // A byzantine proposer keeps the ids (header and claims root) and puts
    // another signature on the second transaction; the header's transaction
    // root follows it, everything else is the honest block's.
    let mut forged = block.clone();
    forged.txs = block
        .txs
        .iter()
        .enumerate()
        .map(|(i, t)| if i == 1 { resigned(vec![t.clone()]).remove(0) } else { t.clone() })
        .collect();
    assert_eq!(forged.txs[1].id(), block.txs[1].id());
    assert_ne!(forged.txs[1].hash(), block.txs[1].hash());
    forged.header.tx_root = credex_chain::tx_root(&forged.txs);
    match pair.validator.validate_block(forged) {
        Err(BlockError::Execution { error, .. }) => {
            assert!(error.starts_with("transaction 1:") && error.contains("signature"), "{error}");
        }
        Err(e) => panic!("refused, but not for the signature: {e}"),
        Ok(_) => panic!("a transaction whose signature was never verified was taken on the pool's word"),
    }
    // The honest block validates.
    pair.validator.validate_block(block).unwrap();
}
