//! Every allowed and forbidden transition of the chain rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credex_chain::{
    AnchorTx, BlockContext, ExecError, MemState, Overlay, StateRead, Transaction, TxError, apply_tx, execute_block,
};
use credex_crypto::SecretKey;
use credex_tests::Fixture;
use credex_types::attestation::{Attestation, AttestationId};
use credex_types::genesis::Genesis;
use credex_types::state::{AttestationStatus, StateKey, StateValue};
use credex_types::{AttestationKind as K, ListKind, SubjectId, Timestamp};

const TRADER: &str = "91350100M000100Y43";

struct World {
    fx: Fixture,
    state: MemState,
    height: u64,
}

impl World {
    fn new() -> World {
        let mut fx = Fixture::new("rules");
        // let customs also list and unlist, to test 谁认定、谁修复 between two listing agencies
        for i in &mut fx.genesis.issuers {
            if i.agency.as_str() == "cn-sfh-customs" {
                i.kinds.extend([K::AbnormalOperationListing, K::AbnormalOperationRemoval]);
            }
        }
        World { fx, state: MemState::default(), height: 1 }
    }

    fn genesis(&self) -> &Genesis {
        &self.fx.genesis
    }

    fn att(&mut self, issuer: &str, subject: &str, kind: K, supersedes: Option<AttestationId>) -> Attestation {
        let mut a = self.fx.attest(issuer, subject, kind, &[("note", "x")], None);
        if supersedes.is_some() {
            a.header.supersedes = supersedes;
            a = Attestation::sign(a.header.clone(), a.claims.clone(), &self.fx.issuer_keys[issuer]).unwrap();
        }
        a
    }

    fn ctx(&self) -> BlockContext {
        BlockContext { height: self.height, time: Timestamp(1_000_000 + self.height) }
    }

    /// Applies one tx in its own block; commits on success.
    fn apply(&mut self, a: &Attestation) -> Result<AttestationId, TxError> {
        let tx = Transaction::Anchor(AnchorTx::of(a));
        let ctx = self.ctx();
        let genesis = self.fx.genesis.clone();
        let mut o = Overlay::new(&self.state);
        let r = apply_tx(&mut o, &genesis, ctx, &tx);
        if r.is_ok() {
            let (w, anchors) = o.into_writes();
            self.state.apply(w, anchors);
            self.height += 1;
        }
        r
    }

    fn status(&self, id: AttestationId) -> AttestationStatus {
        match self.state.get(&StateKey::Attestation(id)) {
            Some(StateValue::Attestation(r)) => r.status,
            other => panic!("{other:?}"),
        }
    }

    fn listing(&self, subject: &str) -> Option<credex_types::state::ListingRecord> {
        let subject: SubjectId = subject.parse().unwrap();
        match self.state.get(&StateKey::Listing { list: ListKind::AbnormalOperation, subject }) {
            Some(StateValue::Listing(r)) => Some(r),
            None => None,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn admission_refuses_foreign_unknown_unauthorized_and_forged() {
    let mut w = World::new();
    // another chain
    let mut other = Fixture::with_chain("rules", "credex-other-1");
    let a = other.attest("cn-sfh-amr", TRADER, K::AdministrativeLicence, &[], None);
    assert!(matches!(w.apply(&a), Err(TxError::WrongChain { .. })));
    // an issuer not in the registry
    let mut a = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    a.header.issuer = "cn-sfh-tax".parse().unwrap();
    let a = Attestation::sign(a.header, a.claims, &SecretKey::from_seed([9; 32])).unwrap();
    assert_eq!(w.apply(&a).unwrap_err().code(), "unknown-issuer");
    // a kind the issuer may not issue
    let a = w.att("cn-sfh-customs", TRADER, K::SeriousViolationListing, None);
    assert_eq!(w.apply(&a).unwrap_err().code(), "kind-not-allowed");
    // signed by someone else
    let a = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    let forged = Attestation::sign(a.header, a.claims, &SecretKey::from_seed([8; 32])).unwrap();
    assert_eq!(w.apply(&forged).unwrap_err().code(), "bad-signature");
    // a revocation must name its target
    let a = w.att("cn-sfh-amr", TRADER, K::Revocation, None);
    assert_eq!(w.apply(&a).unwrap_err().code(), "missing-target");
    assert_eq!(w.height, 1, "nothing was committed");
}

#[test]
fn anchoring_is_once_per_id() {
    let mut w = World::new();
    let a = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    let id = w.apply(&a).unwrap();
    assert_eq!(w.status(id), AttestationStatus::Active);
    assert_eq!(w.apply(&a), Err(TxError::AlreadyAnchored(id)));
}

#[test]
fn listing_and_removal_by_the_listing_agency_only() {
    let mut w = World::new();
    let listing = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    let lid = w.apply(&listing).unwrap();
    let r = w.listing(TRADER).unwrap();
    assert_eq!(r.current.as_ref().unwrap().by, lid);
    assert_eq!(r.times_listed, 1);
    // listed twice
    let again = w.att("cn-sfh-customs", TRADER, K::AbnormalOperationListing, None);
    assert_eq!(w.apply(&again).unwrap_err().code(), "already-listed");
    // removal by another agency
    let removal = w.att("cn-sfh-customs", TRADER, K::AbnormalOperationRemoval, None);
    assert!(
        matches!(w.apply(&removal), Err(TxError::NotListingAgency { ref owner, .. }) if owner.as_str() == "cn-sfh-amr")
    );
    // removal by the listing agency
    let removal = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationRemoval, None);
    w.apply(&removal).unwrap();
    let r = w.listing(TRADER).unwrap();
    assert!(r.current.is_none());
    assert!(r.last_removed.is_some());
    // removing again
    let removal = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationRemoval, None);
    assert_eq!(w.apply(&removal).unwrap_err().code(), "not-listed");
    // a never-listed subject has no entry at all (non-membership)
    assert!(w.listing("ru-inn:7707083893").is_none());
}

#[test]
fn supersession_rules() {
    let mut w = World::new();
    let a = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    let aid = w.apply(&a).unwrap();
    // unknown target
    let x = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, Some(AttestationId(credex_crypto::Hash32([7; 32]))));
    assert_eq!(w.apply(&x).unwrap_err().code(), "unknown-target");
    // another issuer
    let x = w.att("cn-sfh-customs", TRADER, K::Revocation, Some(aid));
    assert_eq!(w.apply(&x).unwrap_err().code(), "not-target-issuer");
    // another subject
    let x = w.att("cn-sfh-amr", "ru-inn:7707083893", K::AdministrativeLicence, Some(aid));
    assert_eq!(w.apply(&x).unwrap_err().code(), "subject-mismatch");
    // supersede
    let b = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, Some(aid));
    let bid = w.apply(&b).unwrap();
    assert!(matches!(w.status(aid), AttestationStatus::Superseded { by, .. } if by == bid));
    // the superseded one cannot be revoked any more
    let x = w.att("cn-sfh-amr", TRADER, K::Revocation, Some(aid));
    assert_eq!(w.apply(&x).unwrap_err().code(), "target-not-active");
    // revoke, then erase is refused; erase an active one
    let r = w.att("cn-sfh-amr", TRADER, K::Revocation, Some(bid));
    w.apply(&r).unwrap();
    assert!(matches!(w.status(bid), AttestationStatus::Revoked { .. }));
    let c = w.att("cn-sfh-amr", TRADER, K::AdministrativePenalty, None);
    let cid = w.apply(&c).unwrap();
    let e = w.att("cn-sfh-amr", TRADER, K::ErasureTombstone, Some(cid));
    let eid = w.apply(&e).unwrap();
    assert!(matches!(w.status(cid), AttestationStatus::Erased { tombstone, .. } if tombstone == eid));
}

#[test]
fn revoking_a_listing_takes_the_subject_off_and_a_correction_keeps_it_on() {
    let mut w = World::new();
    let l1 = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    let l1id = w.apply(&l1).unwrap();
    // corrected listing replaces the first: still listed, same count
    let l2 = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, Some(l1id));
    let l2id = w.apply(&l2).unwrap();
    let r = w.listing(TRADER).unwrap();
    assert_eq!(r.current.as_ref().unwrap().by, l2id);
    assert_eq!(r.times_listed, 1);
    assert!(r.last_removed.is_none());
    // revoking the listing in force removes it
    let rv = w.att("cn-sfh-amr", TRADER, K::Revocation, Some(l2id));
    w.apply(&rv).unwrap();
    let r = w.listing(TRADER).unwrap();
    assert!(r.current.is_none());
    assert!(r.last_removed.is_some());
}

#[test]
fn blocks_are_all_or_nothing_and_deterministic() {
    let mut w = World::new();
    let a = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    let b = w.att("cn-sfh-amr", "ru-inn:7707083893", K::AdministrativeLicence, None);
    let dup = Transaction::Anchor(AnchorTx::of(&a));
    let txs = vec![dup.clone(), Transaction::Anchor(AnchorTx::of(&b))];
    let ctx = w.ctx();
    let one = execute_block(&w.state, w.genesis(), ctx, &txs).unwrap().into_writes();
    let two = execute_block(&w.state, w.genesis(), ctx, &txs).unwrap().into_writes();
    assert_eq!(one.0, two.0);
    assert_eq!(one.0.len(), 3, "two attestation records and one listing");
    let bad = vec![dup.clone(), dup];
    assert!(matches!(
        execute_block(&w.state, w.genesis(), ctx, &bad).map(|_| ()),
        Err(ExecError::Tx { index: 1, error: TxError::AlreadyAnchored(_) })
    ));
    // a forged signature in the middle of a block is found by the batch check and named
    let c = w.att("cn-sfh-amr", "jp-cn:7000012050002", K::AdministrativeLicence, None);
    let forged = Attestation::sign(c.header.clone(), c.claims.clone(), &SecretKey::from_seed([5; 32])).unwrap();
    let txs = vec![
        Transaction::Anchor(AnchorTx::of(&a)),
        Transaction::Anchor(AnchorTx::of(&forged)),
        Transaction::Anchor(AnchorTx::of(&b)),
    ];
    assert!(matches!(
        execute_block(&w.state, w.genesis(), ctx, &txs).map(|_| ()),
        Err(ExecError::Tx { index: 1, error: TxError::BadSignature(_) })
    ));
}

#[test]
fn evidence_is_recorded_once_and_must_prove_equivocation() {
    use credex_crypto::Purpose;
    use credex_types::chain::{Evidence, SignedVote, VoteKind};
    let mut w = World::new();
    let chain = w.genesis().chain_id.clone();
    let vote = |block: u8| credex_types::Vote {
        chain_id: chain.clone(),
        height: 3,
        round: 0,
        kind: VoteKind::Prevote,
        block: Some(credex_crypto::Hash32([block; 32])),
    };
    let key = &w.fx.validator_keys[2];
    let sv = |v: credex_types::Vote| SignedVote {
        signature: key.sign(Purpose::Vote, &v.signing_bytes()),
        vote: v,
        validator: 2,
    };
    let ev = Evidence::new(sv(vote(1)), sv(vote(2)));
    let tx = Transaction::Evidence(ev.clone());
    let ctx = w.ctx();
    let genesis = w.fx.genesis.clone();
    let mut o = Overlay::new(&w.state);
    apply_tx(&mut o, &genesis, ctx, &tx).unwrap();
    let (writes, anchors) = o.into_writes();
    assert_eq!(writes.len(), 1);
    w.state.apply(writes, anchors);
    let mut o = Overlay::new(&w.state);
    assert_eq!(apply_tx(&mut o, &genesis, ctx, &tx), Err(TxError::AlreadyRecorded));
    // the same vote twice is no equivocation
    let same = Transaction::Evidence(Evidence::new(sv(vote(1)), sv(vote(1))));
    assert_eq!(apply_tx(&mut o, &genesis, ctx, &same).unwrap_err().code(), "bad-evidence");
}
