//! The RocksDB store on a real database in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credex_chain::{AnchorTx, Block, BlockContext, StateRead, Transaction, execute_block};
use credex_crypto::Hash32;
use credex_storage::{BlockCommit, Store, StoreError, anchors_of};
use credex_tests::Fixture;
use credex_types::chain::{BlockHeader, CommitCertificate};
use credex_types::state::StateKey;
use credex_types::{AttestationKind, Timestamp};

fn block(fx: &mut Fixture, height: u64, txs: Vec<Transaction>) -> Block {
    Block {
        header: BlockHeader {
            chain_id: fx.genesis.chain_id.clone(),
            height,
            time: Timestamp(height),
            proposer: 0,
            parent: Hash32::ZERO,
            tx_root: credex_chain::tx_root(&txs),
            state_root: Hash32::ZERO,
            validators_hash: fx.set.hash(),
            next_validators_hash: fx.set.hash(),
        },
        txs,
    }
}

#[test]
fn commit_persists_across_reopen_and_refuses_other_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new("store");
    let gh = fx.genesis.hash();
    let att = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AbnormalOperationListing,
        &[("note", "x")],
        None,
    );
    let tx = Transaction::Anchor(AnchorTx::of(&att));
    let b = block(&mut fx, 1, vec![tx]);
    {
        let store = Store::open(dir.path(), gh).unwrap();
        assert_eq!(store.height().unwrap(), 0);
        let state = store.load_state().unwrap();
        let (writes, _) = execute_block(&state, &fx.genesis, BlockContext { height: 1, time: Timestamp(1) }, &b.txs)
            .unwrap()
            .into_writes();
        let cert = CommitCertificate { round: 0, signatures: vec![] };
        store.put_raw(&att).unwrap();
        store
            .commit_block(&BlockCommit { block: &b, certificate: &cert, writes: &writes, anchors: &anchors_of(&b) })
            .unwrap();
        // out of order
        let again = BlockCommit { block: &b, certificate: &cert, writes: &writes, anchors: &[] };
        assert!(matches!(store.commit_block(&again), Err(StoreError::OutOfOrder { have: 1, got: 1 })));
    }
    let store = Store::open(dir.path(), gh).unwrap();
    assert_eq!(store.height().unwrap(), 1);
    assert_eq!(store.block(1).unwrap().unwrap(), b);
    assert!(store.certificate(1).unwrap().is_some());
    assert_eq!(store.anchor(&att.id()).unwrap().unwrap().0, 1);
    assert_eq!(store.raw(&att.id()).unwrap().unwrap(), att);
    let state = store.load_state().unwrap();
    assert!(state.get(&StateKey::Attestation(att.id())).is_some());
    assert_eq!(state.values.len(), 2, "attestation record and listing record");
    assert_eq!(store.by_subject(&att.header.subject).unwrap(), vec![(att.id(), 1)]);
    // the consensus write-ahead log of signed votes
    store.put_signed_vote(7, 0, 0, Some(Hash32([5; 32]))).unwrap();
    store.put_signed_vote(7, 2, 1, None).unwrap();
    store.put_signed_vote(8, 0, 0, None).unwrap();
    assert_eq!(store.signed_votes(7).unwrap(), vec![(0, 0, Some(Hash32([5; 32]))), (2, 1, None)]);
    assert!(store.signed_votes(6).unwrap().is_empty());
    store.prune_signed_votes(8).unwrap();
    assert!(store.signed_votes(7).unwrap().is_empty(), "decided heights are forgotten");
    drop(store);
    assert_eq!(Store::open(dir.path(), gh).unwrap().signed_votes(8).unwrap(), vec![(0, 0, None)]);
    assert!(matches!(Store::open(dir.path(), Hash32([1; 32])), Err(StoreError::WrongGenesis { .. })));
}
