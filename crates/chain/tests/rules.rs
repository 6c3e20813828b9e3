//! Every allowed and forbidden transition of the chain rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use credex_chain::{
    AnchorTx, BlockContext, ExecError, MemState, Overlay, StateRead, Transaction, TxError, apply_tx, begin_block,
    execute_block,
};
use credex_crypto::SecretKey;
use credex_tests::Fixture;
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId};
use credex_types::genesis::Genesis;
use credex_types::lifecycle::CaseId;
use credex_types::state::{AttestationStatus, StateKey, StateValue};
use credex_types::time::DAY_MS;
use credex_types::{AttestationKind as K, ListKind, SubjectId, Timestamp};

const TRADER: &str = "91350100M000100Y43";

/// Values and anchored headers, both in memory.
#[derive(Default)]
struct Full {
    values: MemState,
    anchors: BTreeMap<AttestationId, AttestationHeader>,
}

impl Full {
    fn get(&self, key: &StateKey) -> Option<StateValue> {
        self.values.get(key)
    }

    fn apply(&mut self, writes: Vec<(StateKey, StateValue)>, anchors: BTreeMap<AttestationId, AttestationHeader>) {
        self.values.apply(writes);
        self.anchors.extend(anchors);
    }
}

impl StateRead for Full {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, credex_chain::StateError> {
        Ok(self.values.get(key))
    }
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, credex_chain::StateError> {
        self.values.with(&self.anchors).anchored(id)
    }
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, credex_chain::StateError> {
        Ok(self.values.due_escalations(cutoff, limit))
    }
}

struct World {
    fx: Fixture,
    state: Full,
    height: u64,
    time: Timestamp,
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
        let time = fx.genesis.genesis_time.plus_ms(1_000);
        World { fx, state: Full::default(), height: 1, time }
    }

    fn genesis(&self) -> &Genesis {
        &self.fx.genesis
    }

    fn att(&mut self, issuer: &str, subject: &str, kind: K, supersedes: Option<AttestationId>) -> Attestation {
        self.att_case(issuer, subject, kind, supersedes, None)
    }

    /// An attestation answering `case`; penalties get a publication window of 180 days.
    fn att_case(
        &mut self,
        issuer: &str,
        subject: &str,
        kind: K,
        supersedes: Option<AttestationId>,
        case: Option<CaseId>,
    ) -> Attestation {
        let mut a = self.fx.attest(issuer, subject, kind, &[("note", "x")], None);
        a.header.effective_at = self.time;
        if kind.publication_window().is_some() {
            a.header.expires_at = Some(a.header.effective_at.plus_ms(180 * DAY_MS));
        }
        a.header.supersedes = supersedes;
        a.header.case = case;
        Attestation::sign(a.header.clone(), a.claims.clone(), &self.fx.issuer_keys[issuer]).unwrap()
    }

    fn ctx(&self) -> BlockContext {
        BlockContext { height: self.height, time: self.time }
    }

    /// Applies one attestation in its own block; commits on success.
    fn apply(&mut self, a: &Attestation) -> Result<AttestationId, TxError> {
        self.apply_tx(&Transaction::Anchor(AnchorTx::of(a)))
    }

    /// Applies one transaction in its own block (after the block's own step); commits on success.
    fn apply_tx(&mut self, tx: &Transaction) -> Result<AttestationId, TxError> {
        let tx = tx.clone();
        let ctx = self.ctx();
        let genesis = self.fx.genesis.clone();
        let mut o = Overlay::new(&self.state);
        begin_block(&mut o, ctx)?;
        let r = apply_tx(&mut o, &genesis, ctx, &tx);
        if r.is_ok() {
            let (w, anchors) = o.into_writes();
            self.state.apply(w, anchors);
            self.height += 1;
            self.time = self.time.plus_ms(1_000);
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
        self.listing_on(ListKind::AbnormalOperation, subject)
    }

    fn listing_on(&self, list: ListKind, subject: &str) -> Option<credex_types::state::ListingRecord> {
        let subject: SubjectId = subject.parse().unwrap();
        match self.state.get(&StateKey::Listing { list, subject }) {
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

/// An issuer crafts signatures whose `R` carries torsion: the offline rule
/// (cofactored) accepts them, stock libraries that check `[S]B = R + [k]A`
/// do not. The chain refuses them at admission and inside a block, so no
/// proof can carry one (spec §2.4).
#[test]
fn signatures_a_stock_library_would_reject_never_reach_the_chain() {
    use credex_crypto::Purpose;
    use credex_tests::torsion::{Torsion, sign};
    let mut w = World::new();
    let key = SecretKey::from_seed(w.fx.issuer_keys["cn-sfh-amr"].seed());
    for t in [Torsion::SmallOrderR, Torsion::MixedOrderR] {
        let mut a = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
        let id = a.id();
        a.signature = sign(key.seed(), Purpose::Attestation, &id.0.0, t);
        assert!(
            credex_crypto::verify(&key.public(), Purpose::Attestation, &id.0.0, &a.signature).is_ok(),
            "{t:?}: the offline rule accepts it"
        );
        assert!(credex_crypto::admit(&key.public(), Purpose::Attestation, &id.0.0, &a.signature).is_err());
        assert_eq!(w.apply(&a).unwrap_err().code(), "bad-signature", "{t:?}");
        let txs = vec![Transaction::Anchor(AnchorTx::of(&a))];
        assert!(matches!(
            execute_block(&w.state, w.genesis(), w.ctx(), &txs).map(|_| ()),
            Err(ExecError::Tx { index: 0, error: TxError::BadSignature(_) })
        ));
    }
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
    assert_eq!(one.0.len(), 4, "two attestation records, one listing and the subject's standing");
    let standing = one.0.iter().find_map(|(k, v)| match (k, v) {
        (StateKey::Standing(s), StateValue::Standing(r)) if s.to_string().ends_with(TRADER) => Some(r.clone()),
        _ => None,
    });
    let lists: Vec<ListKind> = standing.expect("the listed subject's standing").lists.iter().map(|(l, _)| *l).collect();
    assert_eq!(lists, vec![ListKind::AbnormalOperation]);
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

// ---- credit lifecycle (spec §11) ----

use credex_types::lifecycle::{
    ActBody, CaseStatus, GovAction, GovProposal, GovernanceTx, SubjectAct, SubjectKeyBinding,
};

const OTHER: &str = "ru-inn:7707083893";

impl World {
    fn subject_key(&self, subject: &str) -> SecretKey {
        SecretKey::from_seed(credex_crypto::hash(credex_crypto::domain::LABELS, subject.as_bytes()).0)
    }

    fn bind(&mut self, registrar: &str, subject: &str) -> Result<AttestationId, TxError> {
        let key = self.subject_key(subject);
        let tx = SubjectKeyBinding {
            chain_id: self.genesis().chain_id.clone(),
            subject: subject.parse().unwrap(),
            key: key.public(),
            registrar: registrar.parse().unwrap(),
            nonce: [1; 16],
            recovery: None,
        }
        .sign(&self.fx.issuer_keys[registrar], &key);
        self.apply_tx(&Transaction::SubjectKey(tx))
    }

    fn file(&mut self, subject: &str, body: ActBody) -> Result<CaseId, TxError> {
        let act = SubjectAct {
            chain_id: self.genesis().chain_id.clone(),
            subject: subject.parse().unwrap(),
            body,
            nonce: [u8::try_from(self.height % 256).unwrap(); 16],
        };
        let case = act.case_id();
        let tx = Transaction::SubjectAct(act.sign(&self.subject_key(subject)));
        self.apply_tx(&tx).map(|_| case)
    }

    fn case(&self, id: CaseId) -> credex_types::lifecycle::CaseRecord {
        match self.state.get(&StateKey::Case(id)) {
            Some(StateValue::Case(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    fn governance(&mut self, action: GovAction, signers: &[u16]) -> Result<AttestationId, TxError> {
        let mut tx = GovernanceTx {
            proposal: GovProposal { chain_id: self.genesis().chain_id.clone(), action, nonce: [3; 16] },
            approvals: vec![],
        };
        for i in signers {
            tx.approve(*i, &self.fx.validator_keys[usize::from(*i)]);
        }
        self.apply_tx(&Transaction::Governance(tx))
    }
}

fn commitment(agency: &str) -> ActBody {
    ActBody::Commitment { agency: agency.parse().unwrap(), terms: credex_crypto::Hash32([4; 32]), due: None }
}

#[test]
fn penalties_must_declare_a_publication_window_within_bounds() {
    let mut w = World::new();
    for (kind, days, ok) in [
        (K::AdministrativePenalty, None, false),
        (K::AdministrativePenalty, Some(89), false),
        (K::AdministrativePenalty, Some(90), true),
        (K::AdministrativePenalty, Some(365), true),
        (K::AdministrativePenalty, Some(366), false),
        (K::SeriousAdministrativePenalty, Some(181), false),
        (K::SeriousAdministrativePenalty, Some(182), true),
        (K::SeriousAdministrativePenalty, Some(1_096), true),
        (K::SeriousAdministrativePenalty, Some(1_097), false),
    ] {
        let mut a = w.att("cn-sfh-amr", TRADER, kind, None);
        a.header.expires_at = days.map(|d| a.header.effective_at.plus_ms(d * DAY_MS));
        let a = Attestation::sign(a.header, a.claims, &w.fx.issuer_keys["cn-sfh-amr"]).unwrap();
        let r = w.apply(&a);
        assert_eq!(r.is_ok(), ok, "{kind} {days:?}: {r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().code(), "publication-window");
        }
    }
}

#[test]
fn abnormal_operation_unresolved_for_three_years_escalates_to_serious_violation() {
    let mut w = World::new();
    let listing = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    let lid = w.apply(&listing).unwrap();
    let since = listing.header.effective_at;
    // one millisecond before three years: nothing happens
    w.time = since.plus_ms(credex_chain::ESCALATION_AFTER_MS - 1);
    let filler = w.att("cn-sfh-amr", OTHER, K::AdministrativeLicence, None);
    w.apply(&filler).unwrap();
    assert!(w.listing(TRADER).unwrap().current.is_some());
    assert!(w.listing_on(ListKind::SeriousViolation, TRADER).is_none());
    // at three years the block's own step moves the subject, even in a block
    // whose only transaction is unrelated
    w.time = since.plus_ms(credex_chain::ESCALATION_AFTER_MS);
    assert!(credex_chain::has_block_work(&w.state, w.time).unwrap());
    let filler = w.att("cn-sfh-amr", OTHER, K::AdministrativeLicence, None);
    w.apply(&filler).unwrap();
    let abnormal = w.listing(TRADER).unwrap();
    assert!(abnormal.current.is_none());
    let serious = w.listing_on(ListKind::SeriousViolation, TRADER).unwrap();
    let current = serious.current.unwrap();
    assert_eq!(
        (current.by, current.issuer.as_str(), current.escalated_from),
        (lid, "cn-sfh-amr", Some(ListKind::AbnormalOperation))
    );
    assert!(!credex_chain::has_block_work(&w.state, w.time.plus_ms(1)).unwrap(), "escalated once");
    // only the listing agency removes it (谁认定、谁修复)
    let removal = w.att("cn-sfh-customs", TRADER, K::SeriousViolationRemoval, None);
    assert!(matches!(w.apply(&removal), Err(TxError::KindNotAllowed { .. })));
    let removal = w.att("cn-sfh-amr", TRADER, K::SeriousViolationRemoval, None);
    w.apply(&removal).unwrap();
    assert!(w.listing_on(ListKind::SeriousViolation, TRADER).unwrap().current.is_none());
}

#[test]
fn revoking_the_abnormal_listing_ends_the_escalated_listing_and_blocks_agree() {
    let mut w = World::new();
    let listing = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    let lid = w.apply(&listing).unwrap();
    w.time = listing.header.effective_at.plus_ms(credex_chain::ESCALATION_AFTER_MS + 5);
    // proposer (build_block) and validator (execute_block) agree on an empty block's escalation
    let ctx = w.ctx();
    let built = credex_chain::build_block(&w.state, w.genesis(), ctx, vec![], &|_, _| false).unwrap();
    assert_eq!(built.escalated.len(), 1);
    let (proposed, _) = built.state.into_writes();
    let (validated, _) = execute_block(&w.state, w.genesis(), ctx, &[]).unwrap().into_writes();
    assert_eq!(proposed, validated);
    let rv = w.att("cn-sfh-amr", TRADER, K::Revocation, Some(lid));
    w.apply(&rv).unwrap();
    assert!(w.listing_on(ListKind::SeriousViolation, TRADER).unwrap().current.is_none());
    assert!(w.listing_on(ListKind::SeriousViolation, TRADER).unwrap().last_removed.is_some());
}

#[test]
fn subject_keys_are_bound_by_a_registrar_with_proof_of_possession() {
    let mut w = World::new();
    // no key yet: acts are refused
    assert_eq!(w.file(TRADER, commitment("cn-sfh-amr")).unwrap_err().code(), "no-subject-key");
    // customs lacks the subject-key-binding permission
    assert_eq!(w.bind("cn-sfh-customs", TRADER).unwrap_err().code(), "kind-not-allowed");
    // the permission is not an attestation kind
    let a = w.att("cn-sfh-amr", TRADER, K::SubjectKeyBinding, None);
    assert_eq!(w.apply(&a).unwrap_err().code(), "not-an-attestation");
    // without the subject's own signature
    let key = w.subject_key(TRADER);
    let mut tx = SubjectKeyBinding {
        chain_id: w.genesis().chain_id.clone(),
        subject: TRADER.parse().unwrap(),
        key: key.public(),
        registrar: "cn-sfh-amr".parse().unwrap(),
        nonce: [1; 16],
        recovery: None,
    }
    .sign(&w.fx.issuer_keys["cn-sfh-amr"], &key);
    tx.subject_signature = SecretKey::from_seed([9; 32]).sign(credex_crypto::Purpose::SubjectAct, &tx.binding.hash().0);
    assert_eq!(w.apply_tx(&Transaction::SubjectKey(tx)).unwrap_err().code(), "bad-signature");
    w.bind("cn-sfh-amr", TRADER).unwrap();
    assert_eq!(w.bind("cn-sfh-amr", TRADER).unwrap_err().code(), "already-applied");
    // an act signed by another key
    let act = SubjectAct {
        chain_id: w.genesis().chain_id.clone(),
        subject: TRADER.parse().unwrap(),
        body: commitment("cn-sfh-amr"),
        nonce: [0; 16],
    };
    let forged = Transaction::SubjectAct(act.sign(&SecretKey::from_seed([9; 32])));
    assert_eq!(w.apply_tx(&forged).unwrap_err().code(), "bad-signature");
}

/// Spec §12.3: a subject withdraws its own authorization, once; another
/// subject naming the same authorization withdraws nothing of it.
#[test]
fn a_subject_withdraws_its_own_authorization_and_no_one_elses() {
    let mut w = World::new();
    w.bind("cn-sfh-amr", TRADER).unwrap();
    w.bind("cn-sfh-amr", OTHER).unwrap();
    let authorization = credex_crypto::Hash32([42; 32]);
    let revoked = |w: &World, subject: &str| {
        w.state.get(&StateKey::AuthorizationRevoked { subject: subject.parse().unwrap(), authorization }).is_some()
    };
    // another subject names the trader's authorization: only its own key is written
    w.file(OTHER, ActBody::RevokeAuthorization { authorization }).unwrap();
    assert!(revoked(&w, OTHER) && !revoked(&w, TRADER), "the trader's grant stands");
    w.file(TRADER, ActBody::RevokeAuthorization { authorization }).unwrap();
    assert!(revoked(&w, TRADER));
    let again = w.file(TRADER, ActBody::RevokeAuthorization { authorization });
    assert_eq!(again.unwrap_err().code(), "already-applied");
}

#[test]
fn credit_commitment_lifecycle() {
    let mut w = World::new();
    w.bind("cn-sfh-amr", TRADER).unwrap();
    // to an agency that may not accept commitments
    assert_eq!(w.file(TRADER, commitment("cn-sfh-customs")).unwrap_err().code(), "kind-not-allowed");
    let past = ActBody::Commitment {
        agency: "cn-sfh-amr".parse().unwrap(),
        terms: credex_crypto::Hash32([4; 32]),
        due: Some(Timestamp(1)),
    };
    assert_eq!(w.file(TRADER, past).unwrap_err().code(), "due-in-past");
    let case = w.file(TRADER, commitment("cn-sfh-amr")).unwrap();
    assert_eq!(w.case(case).status, CaseStatus::Pending);
    // a commitment attestation must name its case
    let a = w.att("cn-sfh-amr", TRADER, K::CreditCommitment, None);
    assert_eq!(w.apply(&a).unwrap_err().code(), "missing-case");
    // fulfilled before accepted
    let a = w.att_case("cn-sfh-amr", TRADER, K::CreditCommitmentFulfilled, None, Some(case));
    assert_eq!(w.apply(&a).unwrap_err().code(), "case-transition");
    // about another subject
    let a = w.att_case("cn-sfh-amr", OTHER, K::CreditCommitment, None, Some(case));
    assert_eq!(w.apply(&a).unwrap_err().code(), "case-subject-mismatch");
    // an unknown case
    let a = w.att_case("cn-sfh-amr", TRADER, K::CreditCommitment, None, Some(CaseId(credex_crypto::Hash32([1; 32]))));
    assert_eq!(w.apply(&a).unwrap_err().code(), "unknown-case");
    let accept = w.att_case("cn-sfh-amr", TRADER, K::CreditCommitment, None, Some(case));
    let accepted = w.apply(&accept).unwrap();
    assert_eq!(w.case(case).status, CaseStatus::Accepted);
    let breach = w.att_case("cn-sfh-amr", TRADER, K::CreditCommitmentBreached, None, Some(case));
    let breached = w.apply(&breach).unwrap();
    let c = w.case(case);
    assert_eq!(c.status, CaseStatus::Breached);
    let steps: Vec<_> = c.history.iter().map(|e| (e.status, e.by)).collect();
    assert_eq!(
        steps,
        vec![
            (CaseStatus::Pending, None),
            (CaseStatus::Accepted, Some(accepted)),
            (CaseStatus::Breached, Some(breached))
        ]
    );
    // final
    let again = w.att_case("cn-sfh-amr", TRADER, K::CreditCommitmentFulfilled, None, Some(case));
    assert_eq!(w.apply(&again).unwrap_err().code(), "case-transition");
    // the same act cannot be filed twice
    let act = SubjectAct {
        chain_id: w.genesis().chain_id.clone(),
        subject: TRADER.parse().unwrap(),
        body: commitment("cn-sfh-amr"),
        nonce: [0; 16],
    };
    let tx = Transaction::SubjectAct(act.sign(&w.subject_key(TRADER)));
    w.apply_tx(&tx).unwrap();
    assert_eq!(w.apply_tx(&tx).unwrap_err().code(), "already-filed");
}

#[test]
fn credit_repair_is_decided_by_the_listing_agency() {
    let mut w = World::new();
    w.bind("cn-sfh-amr", TRADER).unwrap();
    let statement = credex_crypto::Hash32([5; 32]);
    let repair = |list| ActBody::RepairApplication { list, statement };
    assert_eq!(w.file(TRADER, repair(ListKind::AbnormalOperation)).unwrap_err().code(), "not-listed");
    let listing = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    w.apply(&listing).unwrap();
    let case = w.file(TRADER, repair(ListKind::AbnormalOperation)).unwrap();
    let c = w.case(case);
    assert_eq!((c.agency.as_str(), c.target, c.status), ("cn-sfh-amr", Some(listing.id()), CaseStatus::Pending));
    // another agency cannot decide
    let r = w.att_case("cn-sfh-customs", TRADER, K::CreditRepairRejection, None, Some(case));
    assert!(matches!(w.apply(&r), Err(TxError::KindNotAllowed { .. } | TxError::NotCaseAgency { .. })));
    // a rejection, then a fresh application approved by removal
    let r = w.att_case("cn-sfh-amr", TRADER, K::CreditRepairRejection, None, Some(case));
    w.apply(&r).unwrap();
    assert_eq!(w.case(case).status, CaseStatus::Rejected);
    assert!(w.listing(TRADER).unwrap().current.is_some(), "still listed");
    let case2 = w.file(TRADER, repair(ListKind::AbnormalOperation)).unwrap();
    // approving with the removal from another list is refused
    let wrong = w.att_case("cn-sfh-amr", TRADER, K::SeriousViolationRemoval, None, Some(case2));
    assert_eq!(w.apply(&wrong).unwrap_err().code(), "case-transition");
    let removal = w.att_case("cn-sfh-amr", TRADER, K::AbnormalOperationRemoval, None, Some(case2));
    w.apply(&removal).unwrap();
    assert_eq!(w.case(case2).status, CaseStatus::Approved);
    assert!(w.listing(TRADER).unwrap().current.is_none());
}

#[test]
fn objections_end_corrected_revoked_erased_or_rejected() {
    let mut w = World::new();
    w.bind("cn-sfh-amr", TRADER).unwrap();
    w.bind("cn-sfh-amr", OTHER).unwrap();
    let penalty = w.att("cn-sfh-amr", TRADER, K::AdministrativePenalty, None);
    let pid = w.apply(&penalty).unwrap();
    let grounds = credex_crypto::Hash32([6; 32]);
    // another subject's attestation
    assert_eq!(w.file(OTHER, ActBody::Objection { target: pid, grounds }).unwrap_err().code(), "subject-mismatch");
    let case = w.file(TRADER, ActBody::Objection { target: pid, grounds }).unwrap();
    // a "correction" of another kind
    let wrong = w.att_case("cn-sfh-amr", TRADER, K::AdministrativeLicence, Some(pid), Some(case));
    assert_eq!(w.apply(&wrong).unwrap_err().code(), "case-transition");
    let fixed = w.att_case("cn-sfh-amr", TRADER, K::AdministrativePenalty, Some(pid), Some(case));
    let fid = w.apply(&fixed).unwrap();
    assert_eq!(w.case(case).status, CaseStatus::Corrected);
    assert!(matches!(w.status(pid), AttestationStatus::Superseded { by, .. } if by == fid));
    // a superseded attestation cannot be objected to any more
    assert_eq!(w.file(TRADER, ActBody::Objection { target: pid, grounds }).unwrap_err().code(), "target-not-active");
    // object to the correction: erased
    let case = w.file(TRADER, ActBody::Objection { target: fid, grounds }).unwrap();
    let tomb = w.att_case("cn-sfh-amr", TRADER, K::ErasureTombstone, Some(fid), Some(case));
    w.apply(&tomb).unwrap();
    assert_eq!(w.case(case).status, CaseStatus::Erased);
    assert!(matches!(w.status(fid), AttestationStatus::Erased { .. }));
    // rejected
    let licence = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    let lid = w.apply(&licence).unwrap();
    let case = w.file(TRADER, ActBody::Objection { target: lid, grounds }).unwrap();
    let no = w.att_case("cn-sfh-amr", TRADER, K::ObjectionRejection, None, Some(case));
    w.apply(&no).unwrap();
    assert_eq!(w.case(case).status, CaseStatus::Rejected);
    assert_eq!(w.status(lid), AttestationStatus::Active);
}

#[test]
fn issuer_governance_needs_two_thirds_and_keeps_old_proofs_valid() {
    let mut w = World::new();
    let tax_key = SecretKey::from_seed([21; 32]);
    let tax = credex_types::genesis::Issuer {
        agency: "cn-sfh-tax".parse().unwrap(),
        names: credex_types::chain::Names { zh: "税务局".into(), ru: "Налоговая".into(), en: "Tax".into() },
        jurisdiction: "CN".parse().unwrap(),
        key: tax_key.public(),
        kinds: vec![K::AdministrativeLicence],
    };
    // 2 of 4 is not more than two thirds
    let e = w.governance(GovAction::AddIssuer(tax.clone()), &[0, 1]).unwrap_err();
    assert_eq!(e.code(), "insufficient-approvals");
    w.governance(GovAction::AddIssuer(tax.clone()), &[0, 1, 3]).unwrap();
    assert_eq!(w.governance(GovAction::AddIssuer(tax), &[0, 1, 3]).unwrap_err().code(), "already-applied");
    let tax_public = tax_key.public();
    w.fx.issuer_keys.insert("cn-sfh-tax".into(), tax_key);
    let a = w.att("cn-sfh-tax", TRADER, K::AdministrativeLicence, None);
    let old = w.apply(&a).unwrap();
    // rotate: the old key no longer signs new attestations; the old record keeps its key
    let new_key = SecretKey::from_seed([22; 32]);
    let rotate = GovAction::RotateKey { agency: "cn-sfh-tax".parse().unwrap(), key: new_key.public() };
    w.governance(rotate, &[1, 2, 3]).unwrap();
    let stale = w.att("cn-sfh-tax", TRADER, K::AdministrativeLicence, None);
    assert_eq!(w.apply(&stale).unwrap_err().code(), "bad-signature");
    match w.state.get(&StateKey::Attestation(old)) {
        Some(StateValue::Attestation(r)) => assert_eq!(r.issuer_key, tax_public),
        other => panic!("{other:?}"),
    }
    w.fx.issuer_keys.insert("cn-sfh-tax".into(), new_key);
    let fresh = w.att("cn-sfh-tax", TRADER, K::AdministrativeLicence, None);
    w.apply(&fresh).unwrap();
    // kinds, then removal
    let set = GovAction::SetKinds { agency: "cn-sfh-tax".parse().unwrap(), kinds: vec![K::AdministrativePenalty] };
    w.governance(set, &[0, 1, 2]).unwrap();
    let lic = w.att("cn-sfh-tax", TRADER, K::AdministrativeLicence, None);
    assert_eq!(w.apply(&lic).unwrap_err().code(), "kind-not-allowed");
    let remove = GovAction::RemoveIssuer { agency: "cn-sfh-tax".parse().unwrap() };
    w.governance(remove.clone(), &[0, 1, 2]).unwrap();
    let pen = w.att("cn-sfh-tax", TRADER, K::AdministrativePenalty, None);
    assert_eq!(w.apply(&pen).unwrap_err().code(), "issuer-removed");
    // a genesis issuer can be removed too; an unknown one cannot
    let unknown = GovAction::RemoveIssuer { agency: "cn-sfh-nobody".parse().unwrap() };
    assert_eq!(w.governance(unknown, &[0, 1, 2]).unwrap_err().code(), "unknown-issuer");
    // changing a removed issuer is refused
    let again = GovAction::SetKinds { agency: "cn-sfh-tax".parse().unwrap(), kinds: vec![K::AdministrativeLicence] };
    assert_eq!(w.governance(again, &[0, 1, 2]).unwrap_err().code(), "issuer-removed");
}

#[test]
fn governance_refuses_existing_issuers_unchanged_keys_and_malformed_approvals() {
    let mut w = World::new();
    let amr_key = w.fx.issuer_keys["cn-sfh-amr"].public();
    let amr: credex_types::AgencyId = "cn-sfh-amr".parse().unwrap();
    let existing = credex_types::genesis::Issuer {
        agency: amr.clone(),
        names: w.genesis().issuers[0].names.clone(),
        jurisdiction: "CN".parse().unwrap(),
        key: amr_key,
        kinds: vec![K::AdministrativeLicence],
    };
    assert_eq!(w.governance(GovAction::AddIssuer(existing), &[0, 1, 2]).unwrap_err().code(), "issuer-exists");
    let same = GovAction::RotateKey { agency: amr.clone(), key: amr_key };
    assert_eq!(w.governance(same, &[0, 1, 2]).unwrap_err().code(), "key-unchanged");
    // approvals out of order, repeated, by an unknown index, or signed for another purpose
    let proposal = GovProposal {
        chain_id: w.genesis().chain_id.clone(),
        action: GovAction::RemoveIssuer { agency: amr.clone() },
        nonce: [9; 16],
    };
    let sig = |i: usize, p: credex_crypto::Purpose| credex_types::chain::CommitSig {
        validator: u16::try_from(i).unwrap(),
        signature: w.fx.validator_keys[i].sign(p, &proposal.hash().0),
    };
    use credex_crypto::Purpose::{Governance as G, Vote as V};
    for approvals in [
        vec![sig(1, G), sig(0, G), sig(2, G)],
        vec![sig(0, G), sig(0, G), sig(1, G), sig(2, G)],
        vec![
            sig(0, G),
            sig(1, G),
            sig(2, G),
            credex_types::chain::CommitSig { validator: 9, signature: sig(3, G).signature },
        ],
        vec![sig(0, G), sig(1, G), sig(2, V)],
    ] {
        let tx = Transaction::Governance(GovernanceTx { proposal: proposal.clone(), approvals });
        assert_eq!(w.apply_tx(&tx).unwrap_err().code(), "insufficient-approvals");
    }
    // another chain's proposal
    let mut other = proposal.clone();
    other.chain_id = "credex-other-1".parse().unwrap();
    let mut tx = GovernanceTx { proposal: other, approvals: vec![] };
    for i in 0..3u16 {
        tx.approve(i, &w.fx.validator_keys[usize::from(i)]);
    }
    assert_eq!(w.apply_tx(&Transaction::Governance(tx)).unwrap_err().code(), "wrong-chain");
    // a subject act for another chain
    let act = SubjectAct {
        chain_id: "credex-other-1".parse().unwrap(),
        subject: TRADER.parse().unwrap(),
        body: commitment("cn-sfh-amr"),
        nonce: [0; 16],
    };
    let tx = Transaction::SubjectAct(act.sign(&w.subject_key(TRADER)));
    assert_eq!(w.apply_tx(&tx).unwrap_err().code(), "wrong-chain");
}

#[test]
fn the_proposer_never_builds_a_block_with_a_bad_signature() {
    let mut w = World::new();
    let good = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    let c = w.att("cn-sfh-amr", OTHER, K::AdministrativeLicence, None);
    let forged = Attestation::sign(c.header, c.claims, &SecretKey::from_seed([5; 32])).unwrap();
    let cands: Vec<(AttestationId, Transaction)> =
        [&good, &forged].iter().map(|a| (a.id(), Transaction::Anchor(AnchorTx::of(a)))).collect();
    let ctx = w.ctx();
    // nothing verified before: the batch fails, the forged one is found and dropped
    let built = credex_chain::build_block(&w.state, w.genesis(), ctx, cands.clone(), &|_, _| false).unwrap();
    assert_eq!(built.included.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![good.id()]);
    assert_eq!(built.dropped.len(), 1);
    assert_eq!(built.dropped[0].1.code(), "bad-signature");
    // "verified at admission" under the key in force: skipped, and the block executes for validators
    let amr = w.fx.issuer_keys["cn-sfh-amr"].public();
    let admitted = credex_chain::admit(&w.state, w.genesis(), &cands[0].1).unwrap();
    assert_eq!(admitted.1, vec![amr]);
    let only_good = vec![cands[0].clone()];
    let built = credex_chain::build_block(&w.state, w.genesis(), ctx, only_good, &|_, k| *k == amr).unwrap();
    let txs: Vec<Transaction> = built.included.into_iter().map(|(_, t)| t).collect();
    assert!(execute_block(&w.state, w.genesis(), ctx, &txs).is_ok());
    // after a rotation, "verified under the old key" does not count: re-verified and dropped
    let new_key = SecretKey::from_seed([33; 32]);
    w.governance(GovAction::RotateKey { agency: "cn-sfh-amr".parse().unwrap(), key: new_key.public() }, &[0, 1, 2])
        .unwrap();
    let ctx = w.ctx();
    let built =
        credex_chain::build_block(&w.state, w.genesis(), ctx, vec![cands[0].clone()], &|_, k| *k == amr).unwrap();
    assert!(built.included.is_empty());
    assert_eq!(built.dropped[0].1.code(), "bad-signature");
}

#[test]
fn audit_anchors_come_from_the_nodes_own_key_and_only_advance() {
    use credex_types::access::{AuditAnchor, AuditAnchorTx, ed25519_peer_id};
    let mut w = World::new();
    let observer_key = SecretKey::from_seed([44; 32]);
    w.fx.genesis.observers.push(credex_types::genesis::Observer {
        agency: "ru-primorye-cci".parse().unwrap(),
        names: w.fx.genesis.validators[0].names.clone(),
        jurisdiction: "RU".parse().unwrap(),
        peer_id: ed25519_peer_id(&observer_key.public()),
    });
    let anchor = |w: &World, node: &str, seq: u64, key: &SecretKey| {
        let a = AuditAnchor {
            chain_id: w.genesis().chain_id.clone(),
            node: node.parse().unwrap(),
            seq,
            head: credex_crypto::Hash32([u8::try_from(seq).unwrap(); 32]),
        };
        let signature = key.sign(credex_crypto::Purpose::AuditAnchor, &a.hash().0);
        Transaction::AuditAnchor(AuditAnchorTx { anchor: a, key: key.public(), signature })
    };
    // a validator with its consensus key; an observer with the key of its genesis peer id
    let validator = w.genesis().validators[0].agency.to_string();
    let vkey = SecretKey::from_seed(w.fx.validator_keys[0].seed());
    w.apply_tx(&anchor(&w, &validator, 3, &vkey)).unwrap();
    w.apply_tx(&anchor(&w, "ru-primorye-cci", 1, &observer_key)).unwrap();
    match w.state.get(&StateKey::AuditHead("ru-primorye-cci".parse().unwrap())) {
        Some(StateValue::AuditHead { seq, .. }) => assert_eq!(seq, 1),
        other => panic!("{other:?}"),
    }
    // only forward
    assert_eq!(w.apply_tx(&anchor(&w, &validator, 3, &vkey)).unwrap_err().code(), "audit-not-advancing");
    assert_eq!(w.apply_tx(&anchor(&w, &validator, 2, &vkey)).unwrap_err().code(), "audit-not-advancing");
    w.apply_tx(&anchor(&w, &validator, 4, &vkey)).unwrap();
    // another node's key, an unknown agency, a forged signature
    assert_eq!(w.apply_tx(&anchor(&w, &validator, 9, &observer_key)).unwrap_err().code(), "not-a-node");
    assert_eq!(w.apply_tx(&anchor(&w, "cn-sfh-nobody", 1, &vkey)).unwrap_err().code(), "not-a-node");
    let mut forged = anchor(&w, &validator, 9, &vkey);
    if let Transaction::AuditAnchor(t) = &mut forged {
        t.anchor.seq = 10;
    }
    assert_eq!(w.apply_tx(&forged).unwrap_err().code(), "bad-signature");
}

#[test]
fn a_bound_key_is_replaced_only_with_the_old_keys_consent_or_a_recorded_recovery() {
    let mut w = World::new();
    w.bind("cn-sfh-amr", TRADER).unwrap();
    let old = w.subject_key(TRADER);
    let new = SecretKey::from_seed([42; 32]);
    let binding = |w: &World, nonce: u8, recovery: Option<&str>| SubjectKeyBinding {
        chain_id: w.genesis().chain_id.clone(),
        subject: TRADER.parse().unwrap(),
        key: new.public(),
        registrar: "cn-sfh-amr".parse().unwrap(),
        nonce: [nonce; 16],
        recovery: recovery.map(|r| r.parse().unwrap()),
    };
    // a registrar alone cannot take the trader's identity over
    let tx = binding(&w, 2, None).sign(&w.fx.issuer_keys["cn-sfh-amr"], &new);
    assert_eq!(w.apply_tx(&Transaction::SubjectKey(tx)).unwrap_err().code(), "rebind-needs-consent");
    // consent signed by a key that is not the bound one
    let tx =
        binding(&w, 3, None).sign(&w.fx.issuer_keys["cn-sfh-amr"], &new).with_consent(&SecretKey::from_seed([9; 32]));
    assert_eq!(w.apply_tx(&Transaction::SubjectKey(tx)).unwrap_err().code(), "bad-signature");
    // with the old key's consent
    let tx = binding(&w, 4, None).sign(&w.fx.issuer_keys["cn-sfh-amr"], &new).with_consent(&old);
    w.apply_tx(&Transaction::SubjectKey(tx)).unwrap();
    let Some(StateValue::SubjectKey(r)) = w.state.get(&StateKey::SubjectKey(TRADER.parse().unwrap())) else {
        panic!("no key bound")
    };
    assert_eq!((r.key, r.recovery.as_ref(), r.previous.len()), (new.public(), None, 1));
    // a lost key: the registrar's recorded decision on a legal basis, visible in the record
    let newer = SecretKey::from_seed([43; 32]);
    let mut b = binding(&w, 5, Some("cn-identity-verified-in-person"));
    b.key = newer.public();
    let tx = b.sign(&w.fx.issuer_keys["cn-sfh-amr"], &newer);
    w.apply_tx(&Transaction::SubjectKey(tx)).unwrap();
    let Some(StateValue::SubjectKey(r)) = w.state.get(&StateKey::SubjectKey(TRADER.parse().unwrap())) else {
        panic!("no key bound")
    };
    assert_eq!(r.key, newer.public());
    assert_eq!(r.recovery.as_ref().map(|b| b.as_str()), Some("cn-identity-verified-in-person"));
    assert_eq!(r.previous.iter().map(|(k, _)| *k).collect::<Vec<_>>(), vec![old.public(), new.public()]);
    // a recovery basis on a first binding is meaningless and refused
    let other = w.subject_key(OTHER);
    let tx = SubjectKeyBinding {
        chain_id: w.genesis().chain_id.clone(),
        subject: OTHER.parse().unwrap(),
        key: other.public(),
        registrar: "cn-sfh-amr".parse().unwrap(),
        nonce: [6; 16],
        recovery: Some("cn-identity-verified-in-person".parse().unwrap()),
    }
    .sign(&w.fx.issuer_keys["cn-sfh-amr"], &other);
    assert_eq!(w.apply_tx(&Transaction::SubjectKey(tx)).unwrap_err().code(), "nothing-to-recover");
}

#[test]
fn validator_set_changes_need_two_thirds_of_the_set_in_force_and_name_the_next_set() {
    use credex_chain::{BlockOutcome, validator_set};
    let mut w = World::new();
    let genesis_set = w.genesis().validator_set();
    assert_eq!(validator_set(&w.state, w.genesis()).unwrap(), genesis_set, "the genesis set until a change");
    let agency = |i: usize| genesis_set.validators[i].agency.clone();
    // a block removing validator 3 names the new set in its header; executing it
    // does not change the set of the block itself
    let remove = GovAction::RemoveValidator { agency: agency(3) };
    let mut tx = GovernanceTx {
        proposal: GovProposal { chain_id: w.genesis().chain_id.clone(), action: remove.clone(), nonce: [3; 16] },
        approvals: vec![],
    };
    for i in [0u16, 1, 2] {
        tx.approve(i, &w.fx.validator_keys[usize::from(i)]);
    }
    let txs = vec![Transaction::Governance(tx)];
    let outcome = BlockOutcome::new(execute_block(&w.state, w.genesis(), w.ctx(), &txs).unwrap(), &txs, vec![], vec![]);
    let next = outcome.next_set().expect("the block changes the set").clone();
    assert_eq!(next.validators.len(), 3);
    let mut header = credex_chain::next_header(
        &w.genesis().identity(),
        &genesis_set,
        Some(&next),
        None,
        w.ctx(),
        0,
        &txs,
        credex_crypto::Hash32::ZERO,
    );
    assert_eq!(header.validators_hash, genesis_set.hash());
    assert_eq!(header.next_validators_hash, next.hash());
    assert!(outcome.check_next_validators(&header, &genesis_set).is_ok());
    header.next_validators_hash = genesis_set.hash();
    assert!(outcome.check_next_validators(&header, &genesis_set).is_err(), "a header hiding the change");
    // applied: the set in force is the new one
    w.governance(remove.clone(), &[0, 1, 2]).unwrap();
    let set = validator_set(&w.state, w.genesis()).unwrap();
    assert_eq!(set, next);
    // approvals now count against the three: 2 of 3 is not more than 2/3, and
    // the removed validator's index is out of the set
    let power = GovAction::SetPower { agency: agency(0), power: 2 };
    assert_eq!(w.governance(power.clone(), &[0, 1]).unwrap_err().code(), "insufficient-approvals");
    assert_eq!(w.governance(power.clone(), &[0, 1, 3]).unwrap_err().code(), "insufficient-approvals");
    w.governance(power, &[0, 1, 2]).unwrap();
    assert_eq!(validator_set(&w.state, w.genesis()).unwrap().validators[0].power, 2);
    // a rotated key no longer approves; the new one does
    let new_key = SecretKey::from_seed([77; 32]);
    w.governance(GovAction::RotateValidatorKey { agency: agency(1), key: new_key.public() }, &[0, 1, 2]).unwrap();
    let kinds = GovAction::SetPower { agency: agency(2), power: 3 };
    // powers 2, 1, 1 of 4: validators 1 and 2 (old key) are 2 of 4
    assert_eq!(w.governance(kinds.clone(), &[0, 1]).unwrap_err().code(), "insufficient-approvals");
    w.fx.validator_keys[1] = new_key;
    w.governance(kinds, &[0, 1]).unwrap_or_else(|e| panic!("powers 2 + 1 of 4 with the new key: {e}"));
    // changes that do not apply
    let bad = |w: &mut World, action: GovAction| {
        // another nonce: the same change was proposed (and applied) before
        let mut tx = GovernanceTx {
            proposal: GovProposal { chain_id: w.genesis().chain_id.clone(), action, nonce: [9; 16] },
            approvals: vec![],
        };
        for i in [0u16, 1, 2] {
            tx.approve(i, &w.fx.validator_keys[usize::from(i)]);
        }
        w.apply_tx(&Transaction::Governance(tx)).unwrap_err().code()
    };
    assert_eq!(bad(&mut w, GovAction::RemoveValidator { agency: agency(3) }), "bad-validator-change", "not in the set");
    assert_eq!(bad(&mut w, GovAction::SetPower { agency: agency(0), power: 0 }), "bad-validator-change", "zero power");
    assert_eq!(bad(&mut w, GovAction::SetPower { agency: agency(0), power: 2 }), "bad-validator-change", "unchanged");
    let dup = genesis_set.validators[0].clone();
    assert_eq!(bad(&mut w, GovAction::AddValidator(dup)), "bad-validator-change", "already a validator");
    // and a removed validator can be added back
    let back = genesis_set.validators[3].clone();
    w.governance(GovAction::AddValidator(back), &[0, 1, 2]).unwrap();
    assert_eq!(validator_set(&w.state, w.genesis()).unwrap().validators.len(), 4);
}

/// A key outside the prime-order subgroup is never registered: not as a
/// rotated validator key (approved by the whole set), not in a genesis.
#[test]
fn keys_with_a_torsion_component_are_not_registered() {
    let mut w = World::new();
    let weak = credex_tests::torsion::mixed_order_key([42; 32]);
    assert!(weak.check_admissible().is_err());
    let agency = w.genesis().validators[1].agency.clone();
    let mut tx = GovernanceTx {
        proposal: GovProposal {
            chain_id: w.genesis().chain_id.clone(),
            action: GovAction::RotateValidatorKey { agency, key: weak },
            nonce: [4; 16],
        },
        approvals: vec![],
    };
    for i in [0u16, 1, 2, 3] {
        tx.approve(i, &w.fx.validator_keys[usize::from(i)]);
    }
    assert_eq!(w.apply_tx(&Transaction::Governance(tx)).unwrap_err().code(), "weak-key");
    let mut g = w.genesis().clone();
    g.issuers[0].key = weak;
    assert!(matches!(g.check(), Err(credex_types::genesis::GenesisError::WeakKey(_))), "{:?}", g.check());
}

// ---- registered names (spec §11.10) ----

impl World {
    fn name_record(&self, registrar: &str, subject: &str, name: &str) -> credex_types::lifecycle::SubjectName {
        credex_types::lifecycle::SubjectName {
            chain_id: self.genesis().chain_id.clone(),
            subject: subject.parse().unwrap(),
            name: name.to_string(),
            latin: Some("Suifenhe Border Trade Co., Ltd.".into()),
            registrar: registrar.parse().unwrap(),
            nonce: [3; 16],
        }
    }
}

/// Only a registrar publishes a name, only for a legal entity, only under
/// its own signature; the state then holds it, searchable; a replay is
/// refused, a rename replaces it.
#[test]
fn only_a_registrar_publishes_a_legal_entitys_registered_name() {
    let mut w = World::new();
    let name = "绥芬河市边贸有限公司";
    let name_of = |w: &World| match w.state.get(&StateKey::SubjectName(TRADER.parse().unwrap())) {
        Some(StateValue::SubjectName(n)) => Some(n.name),
        _ => None,
    };
    // an issuer without the subject-key-binding permission is no registrar
    let tx = w.name_record("cn-sfh-customs", TRADER, name).sign(&w.fx.issuer_keys["cn-sfh-customs"]);
    assert_eq!(w.apply_tx(&Transaction::SubjectName(tx)).unwrap_err().code(), "kind-not-allowed");
    // the registrar's name, signed by another key
    let tx = w.name_record("cn-sfh-amr", TRADER, name).sign(&w.fx.issuer_keys["cn-sfh-customs"]);
    assert_eq!(w.apply_tx(&Transaction::SubjectName(tx)).unwrap_err().code(), "bad-signature");
    // signed by the registrar's key, but for another purpose
    let record = w.name_record("cn-sfh-amr", TRADER, name);
    let wrong = w.fx.issuer_keys["cn-sfh-amr"].sign(credex_crypto::Purpose::SubjectKey, &record.hash().0);
    let tx = credex_types::lifecycle::SubjectNameTx { record, signature: wrong };
    assert_eq!(w.apply_tx(&Transaction::SubjectName(tx)).unwrap_err().code(), "bad-signature");
    // a natural person's name never goes on chain (a 12-digit INN is a person's)
    let tx = w.name_record("cn-sfh-amr", "ru-inn:500100732259", "Иванов Иван").sign(&w.fx.issuer_keys["cn-sfh-amr"]);
    assert_eq!(w.apply_tx(&Transaction::SubjectName(tx)).unwrap_err().code(), "not-a-legal-entity");
    // shapes: empty, control characters, too long, a "Latin" name in Cyrillic
    // (a name an export's spreadsheet would run as a formula included)
    for bad in ["  ", "绥芬河\n公司", &"企".repeat(101), "=HYPERLINK(\"http://x\")", "@SUM(A1)"] {
        let tx = w.name_record("cn-sfh-amr", TRADER, bad).sign(&w.fx.issuer_keys["cn-sfh-amr"]);
        assert_eq!(w.apply_tx(&Transaction::SubjectName(tx)).unwrap_err().code(), "invalid-name", "{bad:?}");
    }
    let mut r = w.name_record("cn-sfh-amr", TRADER, name);
    r.latin = Some("Суйфэньхэ".into());
    assert_eq!(
        w.apply_tx(&Transaction::SubjectName(r.sign(&w.fx.issuer_keys["cn-sfh-amr"]))).unwrap_err().code(),
        "invalid-name"
    );
    assert_eq!(name_of(&w), None, "nothing refused was recorded");
    // the registrar: recorded; the same record again is a replay
    let tx = w.name_record("cn-sfh-amr", TRADER, name).sign(&w.fx.issuer_keys["cn-sfh-amr"]);
    w.apply_tx(&Transaction::SubjectName(tx.clone())).unwrap();
    assert_eq!(name_of(&w).as_deref(), Some(name));
    assert_eq!(w.apply_tx(&Transaction::SubjectName(tx)).unwrap_err().code(), "already-applied");
    // renamed
    let mut r = w.name_record("cn-sfh-amr", TRADER, "绥芬河市边贸进出口有限公司");
    r.nonce = [4; 16];
    w.apply_tx(&Transaction::SubjectName(r.sign(&w.fx.issuer_keys["cn-sfh-amr"]))).unwrap();
    assert_eq!(name_of(&w).as_deref(), Some("绥芬河市边贸进出口有限公司"));
}

/// A state whose store cannot be read.
struct Unreadable<'a>(&'a Full);

impl StateRead for Unreadable<'_> {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, credex_chain::StateError> {
        StateRead::get(self.0, key)
    }
    fn anchored(&self, _: &AttestationId) -> Result<Option<AttestationHeader>, credex_chain::StateError> {
        Err(credex_chain::StateError("input/output error".into()))
    }
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, credex_chain::StateError> {
        StateRead::due_escalations(self.0, cutoff, limit)
    }
}

/// A header the node cannot read gives no verdict: a block needing it is
/// not called invalid, a candidate needing it is not dropped, a submission
/// needing it is not refused as unknown — each stops with the state error.
#[test]
fn an_unreadable_state_gives_no_verdict_on_a_block_a_candidate_or_a_submission() {
    let mut w = World::new();
    let a = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, None);
    let aid = w.apply(&a).unwrap();
    let b = w.att("cn-sfh-amr", TRADER, K::AdministrativeLicence, Some(aid));
    let tx = Transaction::Anchor(AnchorTx::of(&b));
    // readable: the correction applies
    assert!(execute_block(&w.state, w.genesis(), w.ctx(), std::slice::from_ref(&tx)).is_ok());
    let broken = Unreadable(&w.state);
    match execute_block(&broken, w.genesis(), w.ctx(), std::slice::from_ref(&tx)) {
        Err(ExecError::State(e)) => assert!(e.to_string().contains("input/output error"), "{e}"),
        Err(e) => panic!("a state fault became a verdict on the block: {e}"),
        Ok(_) => panic!("executed without the header it needs"),
    }
    let built = credex_chain::build_block(&broken, w.genesis(), w.ctx(), vec![(b.id(), tx.clone())], &|_, _| false);
    assert!(built.is_err(), "the build stops instead of dropping the candidate");
    let mut o = Overlay::new(&broken);
    match apply_tx(&mut o, w.genesis(), w.ctx(), &tx) {
        Err(e @ TxError::State(_)) => assert_eq!(e.code(), "state-unreadable"),
        other => panic!("{other:?}"),
    }
}

/// A state whose values cannot be read (the store fails on every value).
struct NoValues<'a>(&'a Full);

impl StateRead for NoValues<'_> {
    fn get(&self, _: &StateKey) -> Result<Option<StateValue>, credex_chain::StateError> {
        Err(credex_chain::StateError("input/output error".into()))
    }
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, credex_chain::StateError> {
        StateRead::anchored(self.0, id)
    }
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, credex_chain::StateError> {
        StateRead::due_escalations(self.0, cutoff, limit)
    }
}

/// A value the node cannot read (the state lives on disk) gives no verdict
/// either: not "unknown issuer", not "not listed", not a dropped candidate.
#[test]
fn an_unreadable_value_gives_no_verdict_on_a_block_a_candidate_or_a_submission() {
    let mut w = World::new();
    let listing = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationListing, None);
    w.apply(&listing).unwrap();
    let removal = w.att("cn-sfh-amr", TRADER, K::AbnormalOperationRemoval, None);
    let tx = Transaction::Anchor(AnchorTx::of(&removal));
    assert!(execute_block(&w.state, w.genesis(), w.ctx(), std::slice::from_ref(&tx)).is_ok());
    let broken = NoValues(&w.state);
    match execute_block(&broken, w.genesis(), w.ctx(), std::slice::from_ref(&tx)) {
        Err(ExecError::State(e)) => assert!(e.to_string().contains("input/output error"), "{e}"),
        Err(e) => panic!("a state fault became a verdict on the block: {e}"),
        Ok(_) => panic!("executed without reading the state"),
    }
    let built =
        credex_chain::build_block(&broken, w.genesis(), w.ctx(), vec![(removal.id(), tx.clone())], &|_, _| false);
    assert!(built.is_err(), "the build stops instead of dropping the candidate");
    let mut o = Overlay::new(&broken);
    match apply_tx(&mut o, w.genesis(), w.ctx(), &tx) {
        Err(e @ TxError::State(_)) => assert_eq!(e.code(), "state-unreadable"),
        other => panic!("{other:?}"),
    }
    assert!(credex_chain::has_block_work(&broken, w.time).is_ok(), "the escalation index is another read");
    assert!(credex_chain::validator_set(&broken, w.genesis()).is_err(), "no set in force from an unreadable state");
}
