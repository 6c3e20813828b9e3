//! Admission, the state transition and block execution.

use std::collections::{BTreeMap, BTreeSet};

use credex_crypto::{Hash32, PublicKey, Purpose, Signature};
use credex_types::attestation::{AttestationError, AttestationHeader, AttestationId, check_header};
use credex_types::genesis::Genesis;
use credex_types::kinds::{ListEffect, durations};
use credex_types::lifecycle::{
    ActBody, ApprovalError, CaseEvent, CaseId, CaseKind, CaseRecord, CaseStatus, GovAction, IssuerRecord,
    MAX_CASE_EVENTS, SubjectKeyRecord, verify_approvals,
};
use credex_types::state::{
    AttestationRecord, AttestationStatus, Listing, ListingRecord, StandingRecord, StateKey, StateValue,
};
use credex_types::{AgencyId, AttestationKind, ChainId, ListKind, SubjectId, Timestamp};

use crate::index::{IndexEntry, index_changes};
use crate::tx::{MAX_BLOCK_TXS, MAX_TX_BYTES, Transaction};

/// An abnormal-operation listing unresolved this long escalates (spec §11.2).
pub const ESCALATION_AFTER_MS: u64 = durations::YEARS_3;
/// Most escalations one block performs; the rest follow in later blocks.
pub const MAX_ESCALATIONS_PER_BLOCK: usize = 1_000;

/// Height and time of the block being executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockContext {
    /// Height.
    pub height: u64,
    /// Block time.
    pub time: Timestamp,
}

/// Why a transaction is refused. Each variant has a stable [`TxError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The node could not read its state (a local storage fault, not a
    /// fault of the transaction): nothing is decided on it, retry later.
    #[error("{0}")]
    State(#[from] StateError),
    /// Encoded transaction too large.
    #[error("transaction of {0} bytes exceeds {MAX_TX_BYTES}")]
    TooLarge(usize),
    /// Another chain's attestation.
    #[error("transaction is for chain {found}, this chain is {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The attestation's.
        found: ChainId,
    },
    /// Header shape.
    #[error("attestation: {0}")]
    Shape(AttestationError),
    /// Issuer not in the registry.
    #[error("issuer {0} is not registered")]
    UnknownIssuer(AgencyId),
    /// Issuer removed by governance.
    #[error("issuer {0} was removed by governance")]
    IssuerRemoved(AgencyId),
    /// Issuer may not issue this kind.
    #[error("issuer {issuer} may not issue {kind}")]
    KindNotAllowed {
        /// Issuer.
        issuer: AgencyId,
        /// Kind.
        kind: AttestationKind,
    },
    /// A permission, not an attestation kind.
    #[error("{0} is a permission, not an attestation kind")]
    NotAnAttestation(AttestationKind),
    /// Signature fails under the registered key.
    #[error("signature does not verify under the registered key of {0}")]
    BadSignature(String),
    /// Already on chain.
    #[error("attestation {0} is already anchored")]
    AlreadyAnchored(AttestationId),
    /// `revocation` / `erasure-tombstone` without a target.
    #[error("a {0} must name the attestation it applies to in `supersedes`")]
    MissingTarget(AttestationKind),
    /// Target not anchored.
    #[error("superseded attestation {0} is not anchored")]
    UnknownTarget(AttestationId),
    /// Target not active.
    #[error("superseded attestation {0} is no longer active")]
    TargetNotActive(AttestationId),
    /// Target by another issuer.
    #[error("only {owner}, which issued {target}, may supersede, revoke or erase it")]
    NotTargetIssuer {
        /// Target.
        target: AttestationId,
        /// Its issuer.
        owner: AgencyId,
    },
    /// Target about another subject.
    #[error("attestation {0} is about another subject")]
    SubjectMismatch(AttestationId),
    /// Entering a list the subject is on.
    #[error("{subject} is already on the {list} list")]
    AlreadyListed {
        /// List.
        list: ListKind,
        /// Subject.
        subject: SubjectId,
    },
    /// Leaving a list the subject is not on.
    #[error("{subject} is not on the {list} list")]
    NotListed {
        /// List.
        list: ListKind,
        /// Subject.
        subject: SubjectId,
    },
    /// Evidence that does not prove equivocation.
    #[error("evidence: {0}")]
    BadEvidence(String),
    /// This equivocation is already on chain.
    #[error("this equivocation is already recorded")]
    AlreadyRecorded,
    /// Removal by an agency other than the listing one.
    #[error("only the listing agency {owner} may take {subject} off the {list} list")]
    NotListingAgency {
        /// List.
        list: ListKind,
        /// Subject.
        subject: SubjectId,
        /// The listing agency.
        owner: AgencyId,
    },
    /// A penalty's publication window (`expires_at − effective_at`) is missing or out of bounds.
    #[error("a {kind} must set expires_at between {min_days} and {max_days} days after effective_at")]
    PublicationWindow {
        /// Kind.
        kind: AttestationKind,
        /// Shortest window.
        min_days: u64,
        /// Longest window.
        max_days: u64,
    },
    /// A kind that answers a case, without `case`.
    #[error("a {0} answers a subject's case: set `case`")]
    MissingCase(AttestationKind),
    /// No such case.
    #[error("case {0} does not exist")]
    UnknownCase(CaseId),
    /// The case is another subject's.
    #[error("case {0} was filed by another subject")]
    CaseSubjectMismatch(CaseId),
    /// The case is addressed to another agency.
    #[error("case {case} is for {agency} to decide")]
    NotCaseAgency {
        /// Case.
        case: CaseId,
        /// The deciding agency.
        agency: AgencyId,
    },
    /// The kind cannot move the case from its status.
    #[error("a {kind} cannot answer case {case} while it is {status}")]
    CaseTransition {
        /// Case.
        case: CaseId,
        /// Its status.
        status: &'static str,
        /// The answering kind.
        kind: AttestationKind,
    },
    /// A repair approval that does not remove the listing the case is about.
    #[error("case {0} is about another listing than the one this attestation removes")]
    CaseTargetChanged(CaseId),
    /// The subject has no bound key.
    #[error("subject {0} has no registered key; a registrar must bind one first")]
    NoSubjectKey(SubjectId),
    /// A key to register has a torsion component (spec §2.4).
    #[error("the key to register for {0} has a torsion component: not admissible (generate a new key)")]
    WeakKey(String),
    /// Replacing a bound key without the old key's consent or a recovery basis.
    #[error("{0} has a bound key: replacing it needs that key's consent or a recovery on a legal basis")]
    RebindNeedsConsent(SubjectId),
    /// A recovery basis, but no key to recover from.
    #[error("{0} has no bound key: a first binding is not a recovery")]
    NothingToRecover(SubjectId),
    /// The act was already filed.
    #[error("case {0} is already filed")]
    AlreadyFiled(CaseId),
    /// A commitment deadline not in the future.
    #[error("commitment deadline {0} is not after the block time")]
    DueInPast(Timestamp),
    /// Governance approvals insufficient or invalid.
    #[error("governance approvals: {0}")]
    Approvals(ApprovalError),
    /// The binding or proposal was already applied.
    #[error("already applied")]
    AlreadyApplied,
    /// Adding an issuer that is registered and active.
    #[error("issuer {0} is already registered")]
    IssuerExists(AgencyId),
    /// Rotating to the key in force.
    #[error("issuer {0} already uses this key")]
    KeyUnchanged(AgencyId),
    /// A validator-set change that does not apply.
    #[error("validator change: {0}")]
    ValidatorChange(credex_types::lifecycle::ValidatorChangeError),
    /// An audit anchor by a key that is not the node's.
    #[error("{0} is not a node of this chain, or the key is not its validator or peer key")]
    NotANode(AgencyId),
    /// An audit anchor that does not advance the node's log.
    #[error("audit anchor of {node} at {seq} does not advance its last anchored entry {last}")]
    AuditNotAdvancing {
        /// Node.
        node: AgencyId,
        /// Offered.
        seq: u64,
        /// Anchored.
        last: u64,
    },
    /// A registered name that breaks the shape rules (spec §11.10).
    #[error("registered name: {0}")]
    BadName(credex_types::lifecycle::NameError),
}

impl TxError {
    /// Stable machine-readable code (API error codes use it).
    pub fn code(&self) -> &'static str {
        match self {
            TxError::TooLarge(_) => "too-large",
            TxError::WrongChain { .. } => "wrong-chain",
            TxError::Shape(_) => "invalid-attestation",
            TxError::State(_) => "state-unreadable",
            TxError::UnknownIssuer(_) => "unknown-issuer",
            TxError::IssuerRemoved(_) => "issuer-removed",
            TxError::KindNotAllowed { .. } => "kind-not-allowed",
            TxError::NotAnAttestation(_) => "not-an-attestation",
            TxError::BadSignature(_) => "bad-signature",
            TxError::AlreadyAnchored(_) => "already-anchored",
            TxError::MissingTarget(_) => "missing-target",
            TxError::UnknownTarget(_) => "unknown-target",
            TxError::TargetNotActive(_) => "target-not-active",
            TxError::NotTargetIssuer { .. } => "not-target-issuer",
            TxError::SubjectMismatch(_) => "subject-mismatch",
            TxError::AlreadyListed { .. } => "already-listed",
            TxError::NotListed { .. } => "not-listed",
            TxError::NotListingAgency { .. } => "not-listing-agency",
            TxError::BadEvidence(_) => "bad-evidence",
            TxError::AlreadyRecorded => "already-recorded",
            TxError::PublicationWindow { .. } => "publication-window",
            TxError::MissingCase(_) => "missing-case",
            TxError::UnknownCase(_) => "unknown-case",
            TxError::CaseSubjectMismatch(_) => "case-subject-mismatch",
            TxError::NotCaseAgency { .. } => "not-case-agency",
            TxError::CaseTransition { .. } => "case-transition",
            TxError::CaseTargetChanged(_) => "case-target-changed",
            TxError::NoSubjectKey(_) => "no-subject-key",
            TxError::WeakKey(_) => "weak-key",
            TxError::RebindNeedsConsent(_) => "rebind-needs-consent",
            TxError::NothingToRecover(_) => "nothing-to-recover",
            TxError::AlreadyFiled(_) => "already-filed",
            TxError::DueInPast(_) => "due-in-past",
            TxError::Approvals(_) => "insufficient-approvals",
            TxError::AlreadyApplied => "already-applied",
            TxError::IssuerExists(_) => "issuer-exists",
            TxError::KeyUnchanged(_) => "key-unchanged",
            TxError::ValidatorChange(_) => "bad-validator-change",
            TxError::NotANode(_) => "not-a-node",
            TxError::AuditNotAdvancing { .. } => "audit-not-advancing",
            TxError::BadName(credex_types::lifecycle::NameError::NotLegalEntity(_)) => "not-a-legal-entity",
            TxError::BadName(_) => "invalid-name",
        }
    }
}

/// The state could not be read: a fault of the node's own storage. No
/// verdict on a transaction or a block follows from it (execution stops
/// with [`ExecError::State`], admission with [`TxError::State`]), so a
/// failing disk never makes a validator call a good block bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the node could not read its state: {0}")]
pub struct StateError(pub String);

/// Read access to the chain state.
pub trait StateRead {
    /// The value under `key`.
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StateError>;
    /// The header of an anchored attestation (chain data, not in the map;
    /// a node reads it from its store, hence the error).
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError>;
    /// Subjects whose abnormal-operation listing in force took effect at or
    /// before `cutoff`, oldest first, at most `limit` (the escalation index).
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, StateError>;
}

/// Uncommitted writes over a base state.
pub struct Overlay<'a, S: StateRead + ?Sized> {
    base: &'a S,
    writes: BTreeMap<Hash32, (StateKey, StateValue)>,
    anchors: BTreeMap<AttestationId, AttestationHeader>,
}

impl<'a, S: StateRead + ?Sized> Overlay<'a, S> {
    /// No writes yet.
    pub fn new(base: &'a S) -> Self {
        Overlay { base, writes: BTreeMap::new(), anchors: BTreeMap::new() }
    }

    fn put(&mut self, key: StateKey, value: StateValue) {
        self.writes.insert(key.hash(), (key, value));
    }

    /// The state writes, ordered by key hash.
    pub fn into_writes(self) -> (Vec<(StateKey, StateValue)>, BTreeMap<AttestationId, AttestationHeader>) {
        (self.writes.into_values().collect(), self.anchors)
    }
}

impl<S: StateRead + ?Sized> StateRead for Overlay<'_, S> {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StateError> {
        match self.writes.get(&key.hash()) {
            Some((_, v)) => Ok(Some(v.clone())),
            None => self.base.get(key),
        }
    }
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError> {
        match self.anchors.get(id) {
            Some(h) => Ok(Some(h.clone())),
            None => self.base.anchored(id),
        }
    }
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, StateError> {
        // Escalation runs first in a block, before any write of it.
        self.base.due_escalations(cutoff, limit)
    }
}

/// The state map's values in memory, with the indexes the chain and the
/// node's queries need: the node's working copy and the tests' state.
/// Anchored attestation headers are not here: they are chain data, read
/// through an [`AnchorRead`] (the node's store; a map in tests), so memory
/// does not grow with every header ever anchored. [`MemState::with`] joins
/// the two into a [`StateRead`].
#[derive(Debug, Default, Clone)]
pub struct MemState {
    /// Values by key hash.
    pub values: BTreeMap<Hash32, StateValue>,
    /// Abnormal-operation listings in force, by effective time.
    abnormal: BTreeSet<(Timestamp, SubjectId)>,
    /// Issuers with a state record (changed by governance).
    governed: BTreeSet<AgencyId>,
    /// Subjects on each list now, by their text form (the order of pages).
    members: BTreeMap<ListKind, BTreeMap<String, SubjectId>>,
    /// Registered names, folded ([`IndexEntry::Name`]), for searching lists.
    names: BTreeMap<SubjectId, String>,
}

impl MemState {
    /// Sets one value, keeping the indexes ([`crate::index_changes`]).
    pub fn insert(&mut self, key: StateKey, value: StateValue) {
        let (removed, added) = index_changes(&key, self.values.get(&key.hash()), &value);
        for e in removed {
            match e {
                IndexEntry::Abnormal(t, s) => {
                    self.abnormal.remove(&(t, s));
                }
                IndexEntry::Governed(a) => {
                    self.governed.remove(&a);
                }
                IndexEntry::Member(l, s) => {
                    if let Some(m) = self.members.get_mut(&l) {
                        m.remove(&s.to_string());
                    }
                }
                IndexEntry::Name(s, _) => {
                    self.names.remove(&s);
                }
            }
        }
        for e in added {
            match e {
                IndexEntry::Abnormal(t, s) => {
                    self.abnormal.insert((t, s));
                }
                IndexEntry::Governed(a) => {
                    self.governed.insert(a);
                }
                IndexEntry::Member(l, s) => {
                    self.members.entry(l).or_default().insert(s.to_string(), s);
                }
                IndexEntry::Name(s, n) => {
                    self.names.insert(s, n);
                }
            }
        }
        self.values.insert(key.hash(), value);
    }

    /// Issuers whose registry entry governance changed (genesis issuers
    /// not among them are as genesis lists them).
    pub fn governed_issuers(&self) -> impl Iterator<Item = &AgencyId> {
        self.governed.iter()
    }

    /// Subjects on `list` now, in the order of their text form, after `after`, whose text
    /// form or registered name contains `query` (case aside), at most `limit`.
    pub fn members(
        &self,
        list: ListKind,
        after: Option<&SubjectId>,
        query: Option<&str>,
        limit: usize,
    ) -> Vec<SubjectId> {
        let Some(set) = self.members.get(&list) else { return Vec::new() };
        let range = match after {
            Some(a) => set.range((std::ops::Bound::Excluded(a.to_string()), std::ops::Bound::Unbounded)),
            None => set.range::<String, _>(..),
        };
        let query = query.map(str::to_lowercase);
        range
            .map(|(_, s)| s)
            .filter(|s| {
                query.as_deref().is_none_or(|q| crate::index::matches(s, self.names.get(*s).map(String::as_str), q))
            })
            .take(limit)
            .cloned()
            .collect()
    }

    /// How many subjects are on `list` now.
    pub fn member_count(&self, list: ListKind) -> usize {
        self.members.get(&list).map_or(0, BTreeMap::len)
    }

    /// How many subjects on `list` match `query` (a part of the id or of
    /// the registered name), or all of them without one.
    pub fn member_count_matching(&self, list: ListKind, query: Option<&str>) -> usize {
        match query {
            None => self.member_count(list),
            Some(q) => {
                let q = q.to_lowercase();
                self.members.get(&list).map_or(0, |set| {
                    set.values()
                        .filter(|s| crate::index::matches(s, self.names.get(*s).map(String::as_str), &q))
                        .count()
                })
            }
        }
    }

    /// Applies a block's writes (its anchored headers go to the
    /// [`AnchorRead`], which keeps them).
    pub fn apply(&mut self, writes: Vec<(StateKey, StateValue)>) {
        for (k, v) in writes {
            self.insert(k, v);
        }
    }

    /// The value under `key`.
    pub fn get(&self, key: &StateKey) -> Option<StateValue> {
        self.values.get(&key.hash()).cloned()
    }

    /// Subjects whose abnormal-operation listing in force took effect at or
    /// before `cutoff`, oldest first, at most `limit`.
    pub fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Vec<SubjectId> {
        self.abnormal.iter().take_while(|(t, _)| *t <= cutoff).take(limit).map(|(_, s)| s.clone()).collect()
    }

    /// This state with its anchored headers read from `anchors`.
    pub fn with<'a, A: AnchorRead + ?Sized>(&'a self, anchors: &'a A) -> WithAnchors<'a, A> {
        WithAnchors { state: self, anchors }
    }
}

/// Where anchored attestation headers are read from.
pub trait AnchorRead {
    /// The header of the attestation `id` if a committed block anchored it.
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError>;
}

/// Headers in memory (tests, fuzzing).
impl AnchorRead for BTreeMap<AttestationId, AttestationHeader> {
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError> {
        Ok(self.get(id).cloned())
    }
}

/// A [`MemState`] with its anchored headers: the state a block executes on.
pub struct WithAnchors<'a, A: AnchorRead + ?Sized> {
    /// Values and indexes.
    pub state: &'a MemState,
    /// Anchored headers.
    pub anchors: &'a A,
}

impl<A: AnchorRead + ?Sized> StateRead for WithAnchors<'_, A> {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StateError> {
        Ok(self.state.get(key))
    }
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError> {
        self.anchors.anchored(id)
    }
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, StateError> {
        Ok(self.state.due_escalations(cutoff, limit))
    }
}

/// The validator set in force for the next block: the state's if
/// governance changed it, else the genesis set (spec §9.6).
pub fn validator_set(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
) -> Result<credex_types::chain::ValidatorSet, StateError> {
    Ok(match state.get(&StateKey::Validators)? {
        Some(StateValue::Validators(set)) => set,
        _ => genesis.validator_set(),
    })
}

/// The issuer registry entry of `agency`: the state's record if governance
/// changed it, else the genesis entry (spec §11.8).
pub fn issuer(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
    agency: &AgencyId,
) -> Result<Option<IssuerRecord>, StateError> {
    Ok(match state.get(&StateKey::Issuer(agency.clone()))? {
        Some(StateValue::Issuer(r)) => Some(r),
        _ => genesis.issuer(agency).map(IssuerRecord::from_genesis),
    })
}

/// The key of an active issuer allowed `kind` (no record is built: this
/// runs for every transaction).
fn issuer_for(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
    agency: &AgencyId,
    kind: AttestationKind,
) -> Result<PublicKey, TxError> {
    let (key, active, allowed) = match state.get(&StateKey::Issuer(agency.clone()))? {
        Some(StateValue::Issuer(r)) => (r.key, r.active, r.kinds.contains(&kind)),
        _ => {
            let i = genesis.issuer(agency).ok_or_else(|| TxError::UnknownIssuer(agency.clone()))?;
            (i.key, true, i.kinds.contains(&kind))
        }
    };
    if !active {
        return Err(TxError::IssuerRemoved(agency.clone()));
    }
    if !allowed {
        return Err(TxError::KindNotAllowed { issuer: agency.clone(), kind });
    }
    Ok(key)
}

/// One signature a transaction needs, for single or batch verification.
#[derive(Debug, Clone)]
pub struct SigCheck {
    /// Who must have signed (for the error).
    pub signer: String,
    /// Key.
    pub key: PublicKey,
    /// Purpose.
    pub purpose: Purpose,
    /// The signed 32-byte message.
    pub msg: Hash32,
    /// Signature.
    pub sig: Signature,
}

/// Every signature under the admission rule (`credex-ed25519-admit-v1`,
/// spec §2.4), one at a time: the rule's subgroup condition on `R` costs a
/// scalar multiplication per signature whichever way it is checked, so a
/// batch would save nothing.
fn verify_single(checks: &[SigCheck]) -> Result<(), TxError> {
    for c in checks {
        credex_crypto::admit(&c.key, c.purpose, &c.msg.0, &c.sig)
            .map_err(|_| TxError::BadSignature(c.signer.clone()))?;
    }
    Ok(())
}

fn check_chain(genesis: &Genesis, found: &ChainId) -> Result<(), TxError> {
    if *found == genesis.chain_id {
        Ok(())
    } else {
        Err(TxError::WrongChain { expected: genesis.chain_id.clone(), found: found.clone() })
    }
}

/// Every admission check except signatures, against `state`; returns the id
/// and the signatures still to verify. Evidence and governance approvals
/// are verified here in full (they are rare).
fn check_structure(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
    tx: &Transaction,
) -> Result<(AttestationId, Vec<SigCheck>), TxError> {
    let size = credex_codec::encode(tx).len();
    if size > MAX_TX_BYTES {
        return Err(TxError::TooLarge(size));
    }
    let id = tx.id();
    match tx {
        Transaction::Evidence(e) => {
            e.admit(&validator_set(state, genesis)?, &genesis.chain_id)
                .map_err(|e| TxError::BadEvidence(e.to_string()))?;
            Ok((id, Vec::new()))
        }
        Transaction::Governance(g) => {
            check_chain(genesis, &g.proposal.chain_id)?;
            if g.proposal.action.new_key().is_some_and(|k| k.check_admissible().is_err()) {
                return Err(TxError::WeakKey(g.proposal.action.agency().to_string()));
            }
            verify_approvals(&validator_set(state, genesis)?, &g.proposal.hash(), &g.approvals)
                .map_err(TxError::Approvals)?;
            Ok((id, Vec::new()))
        }
        Transaction::SubjectKey(t) => {
            let b = &t.binding;
            check_chain(genesis, &b.chain_id)?;
            if b.key.check_admissible().is_err() {
                return Err(TxError::WeakKey(b.subject.to_string()));
            }
            let registrar_key = issuer_for(state, genesis, &b.registrar, AttestationKind::SubjectKeyBinding)?;
            let msg = b.hash();
            // Replacing a bound key needs the bound key's consent, or a
            // recovery recorded on a legal basis (spec §11.3).
            let current = match state.get(&StateKey::SubjectKey(b.subject.clone()))? {
                Some(StateValue::SubjectKey(r)) => Some(r.key),
                _ => None,
            };
            let mut consent = Vec::new();
            match (current, &t.consent, &b.recovery) {
                (None, _, Some(_)) => return Err(TxError::NothingToRecover(b.subject.clone())),
                (Some(old), _, _) if old == b.key => {}
                (Some(old), Some(sig), _) => consent.push(SigCheck {
                    signer: b.subject.to_string(),
                    key: old,
                    purpose: Purpose::SubjectAct,
                    msg,
                    sig: *sig,
                }),
                (Some(_), None, None) => return Err(TxError::RebindNeedsConsent(b.subject.clone())),
                (Some(_), None, Some(_)) | (None, _, None) => {}
            }
            let mut checks = vec![
                SigCheck {
                    signer: b.registrar.to_string(),
                    key: registrar_key,
                    purpose: Purpose::SubjectKey,
                    msg,
                    sig: t.registrar_signature,
                },
                SigCheck {
                    signer: b.subject.to_string(),
                    key: b.key,
                    purpose: Purpose::SubjectAct,
                    msg,
                    sig: t.subject_signature,
                },
            ];
            checks.extend(consent);
            Ok((id, checks))
        }
        Transaction::AuditAnchor(t) => {
            let a = &t.anchor;
            check_chain(genesis, &a.chain_id)?;
            let peer = credex_types::access::ed25519_peer_id(&t.key);
            let validator = genesis
                .validators
                .iter()
                .any(|v| v.agency == a.node && (v.key == t.key || v.peer_id.as_deref() == Some(&peer)));
            let observer = genesis.observers.iter().any(|o| o.agency == a.node && o.peer_id == peer);
            if !validator && !observer {
                return Err(TxError::NotANode(a.node.clone()));
            }
            Ok((
                id,
                vec![SigCheck {
                    signer: a.node.to_string(),
                    key: t.key,
                    purpose: Purpose::AuditAnchor,
                    msg: a.hash(),
                    sig: t.signature,
                }],
            ))
        }
        Transaction::SubjectName(t) => {
            let r = &t.record;
            check_chain(genesis, &r.chain_id)?;
            r.check().map_err(TxError::BadName)?;
            // a registrar: the agency that may bind subjects' keys registers them
            let key = issuer_for(state, genesis, &r.registrar, AttestationKind::SubjectKeyBinding)?;
            Ok((
                id,
                vec![SigCheck {
                    signer: r.registrar.to_string(),
                    key,
                    purpose: Purpose::SubjectName,
                    msg: r.hash(),
                    sig: t.signature,
                }],
            ))
        }
        Transaction::SubjectAct(t) => {
            let a = &t.act;
            check_chain(genesis, &a.chain_id)?;
            let Some(StateValue::SubjectKey(k)) = state.get(&StateKey::SubjectKey(a.subject.clone()))? else {
                return Err(TxError::NoSubjectKey(a.subject.clone()));
            };
            Ok((
                id,
                vec![SigCheck {
                    signer: a.subject.to_string(),
                    key: k.key,
                    purpose: Purpose::SubjectAct,
                    msg: id.0,
                    sig: t.signature,
                }],
            ))
        }
        Transaction::Anchor(a) => {
            let h = &a.header;
            check_chain(genesis, &h.chain_id)?;
            check_header(h).map_err(TxError::Shape)?;
            if h.kind.is_permission() {
                return Err(TxError::NotAnAttestation(h.kind));
            }
            let issuer_key = issuer_for(state, genesis, &h.issuer, h.kind)?;
            if matches!(h.kind, AttestationKind::Revocation | AttestationKind::ErasureTombstone)
                && h.supersedes.is_none()
            {
                return Err(TxError::MissingTarget(h.kind));
            }
            if let Some((min, max)) = h.kind.publication_window() {
                let ok = h.expires_at.is_some_and(|e| (min..=max).contains(&e.since(h.effective_at)));
                if !ok {
                    let day = credex_types::time::DAY_MS;
                    return Err(TxError::PublicationWindow { kind: h.kind, min_days: min / day, max_days: max / day });
                }
            }
            if h.kind.needs_case() && h.case.is_none() {
                return Err(TxError::MissingCase(h.kind));
            }
            Ok((
                id,
                vec![SigCheck {
                    signer: h.issuer.to_string(),
                    key: issuer_key,
                    purpose: Purpose::Attestation,
                    msg: id.0,
                    sig: a.signature,
                }],
            ))
        }
    }
}

/// Admission against `state`: size, chain, shape, registry, kind, windows,
/// and every signature. Returns the transaction id.
pub fn check_tx(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
    tx: &Transaction,
) -> Result<AttestationId, TxError> {
    admit(state, genesis, tx).map(|(id, _)| id)
}

/// As [`check_tx`], also returning the keys whose signatures it verified:
/// a signature depends only on key, message and signature, so a proposer
/// holding the transaction need not verify it again under the same key
/// ([`build_block`]'s `verified`).
pub fn admit(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
    tx: &Transaction,
) -> Result<(AttestationId, Vec<PublicKey>), TxError> {
    let (id, checks) = check_structure(state, genesis, tx)?;
    verify_single(&checks)?;
    Ok((id, checks.into_iter().map(|c| c.key).collect()))
}

/// A transaction that passed admission ([`admit_checked`]): its id and the
/// signatures verified, so that the state rules can follow without a second
/// structural pass ([`apply_rules_of`]).
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The transaction's id.
    pub id: AttestationId,
    checks: Vec<SigCheck>,
}

impl Admitted {
    /// The keys whose signatures were verified.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.checks.iter().map(|c| c.key).collect()
    }
}

/// As [`admit`], keeping what the state rules need afterwards.
pub fn admit_checked(
    state: &(impl StateRead + ?Sized),
    genesis: &Genesis,
    tx: &Transaction,
) -> Result<Admitted, TxError> {
    let (id, checks) = check_structure(state, genesis, tx)?;
    verify_single(&checks)?;
    Ok(Admitted { id, checks })
}

/// The stateful rules for `tx`, admitted as `admitted` (the structure and
/// signature checks are not repeated); on success the effects are in `state`.
pub fn apply_rules_of<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    tx: &Transaction,
    admitted: &Admitted,
) -> Result<(), TxError> {
    apply_rules(state, genesis, ctx, tx, admitted.id, &admitted.checks)
}

fn listing(
    state: &(impl StateRead + ?Sized),
    list: ListKind,
    subject: &SubjectId,
) -> Result<ListingRecord, StateError> {
    Ok(match state.get(&StateKey::Listing { list, subject: subject.clone() })? {
        Some(StateValue::Listing(r)) => r,
        _ => ListingRecord { current: None, last_removed: None, times_listed: 0 },
    })
}

/// Admission plus the stateful rules, signatures verified one by one; on
/// success the effects are in `state`.
pub fn apply_tx<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    tx: &Transaction,
) -> Result<AttestationId, TxError> {
    let (id, checks) = check_structure(state, genesis, tx)?;
    verify_single(&checks)?;
    apply_rules(state, genesis, ctx, tx, id, &checks)?;
    Ok(id)
}

/// The stateful rules for a transaction whose signatures are verified
/// elsewhere (at admission, or in a block's batch); the other admission
/// checks run again. Returns the id and the signatures the caller must
/// verify for the result to stand.
pub fn apply_admitted<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    tx: &Transaction,
) -> Result<(AttestationId, Vec<SigCheck>), TxError> {
    let (id, checks) = check_structure(state, genesis, tx)?;
    apply_rules(state, genesis, ctx, tx, id, &checks)?;
    Ok((id, checks))
}

/// The state rules, after [`check_structure`] gave the id and the
/// signatures (for an anchor, the first is the issuer's, under the key in force).
fn apply_rules<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    tx: &Transaction,
    id: AttestationId,
    checks: &[SigCheck],
) -> Result<(), TxError> {
    match tx {
        Transaction::Evidence(e) => {
            // One record per validator, height, round and step.
            let v = &e.first;
            let key = StateKey::Equivocation {
                validator: v.validator,
                height: v.vote.height,
                round: v.vote.round,
                kind: v.vote.kind,
            };
            if state.get(&key)?.is_some() {
                return Err(TxError::AlreadyRecorded);
            }
            state.put(key, StateValue::Equivocation { evidence: tx.hash(), height: ctx.height });
            Ok(())
        }
        Transaction::SubjectKey(t) => {
            let b = &t.binding;
            let key = StateKey::SubjectKey(b.subject.clone());
            let binding = b.hash();
            let before = match state.get(&key)? {
                Some(StateValue::SubjectKey(r)) if r.binding == binding => return Err(TxError::AlreadyApplied),
                Some(StateValue::SubjectKey(r)) => Some(r),
                _ => None,
            };
            // Authoritative here too: an earlier transaction of the same block may have bound a key.
            match &before {
                None if b.recovery.is_some() => return Err(TxError::NothingToRecover(b.subject.clone())),
                Some(r) if r.key != b.key && b.recovery.is_none() => {
                    let consented = t
                        .consent
                        .as_ref()
                        .is_some_and(|sig| credex_crypto::admit(&r.key, Purpose::SubjectAct, &binding.0, sig).is_ok());
                    if !consented {
                        return Err(TxError::RebindNeedsConsent(b.subject.clone()));
                    }
                }
                _ => {}
            }
            let mut previous = before.as_ref().map(|r| r.previous.clone()).unwrap_or_default();
            if let Some(r) = before.as_ref().filter(|r| r.key != b.key) {
                previous.push((r.key, ctx.height));
            }
            let excess = previous.len().saturating_sub(credex_types::lifecycle::MAX_PREVIOUS_KEYS);
            previous.drain(..excess);
            state.put(
                key,
                StateValue::SubjectKey(SubjectKeyRecord {
                    key: b.key,
                    registrar: b.registrar.clone(),
                    height: ctx.height,
                    binding,
                    recovery: b.recovery.clone(),
                    previous,
                }),
            );
            Ok(())
        }
        Transaction::SubjectAct(t) => apply_subject_act(state, genesis, ctx, t),
        Transaction::SubjectName(t) => {
            let r = &t.record;
            let key = StateKey::SubjectName(r.subject.clone());
            let record = r.hash();
            if matches!(state.get(&key)?, Some(StateValue::SubjectName(n)) if n.record == record) {
                return Err(TxError::AlreadyApplied);
            }
            state.put(
                key,
                StateValue::SubjectName(credex_types::lifecycle::SubjectNameRecord {
                    name: r.name.clone(),
                    latin: r.latin.clone(),
                    registrar: r.registrar.clone(),
                    height: ctx.height,
                    record,
                }),
            );
            Ok(())
        }
        Transaction::AuditAnchor(t) => {
            let a = &t.anchor;
            let key = StateKey::AuditHead(a.node.clone());
            let last = match state.get(&key)? {
                Some(StateValue::AuditHead { seq, .. }) => seq,
                _ => 0,
            };
            if a.seq <= last {
                return Err(TxError::AuditNotAdvancing { node: a.node.clone(), seq: a.seq, last });
            }
            state.put(key, StateValue::AuditHead { seq: a.seq, head: a.head, height: ctx.height });
            Ok(())
        }
        Transaction::Governance(g) => apply_governance(state, genesis, ctx, g),
        Transaction::Anchor(a) => {
            let issuer_key =
                checks.first().map(|c| c.key).ok_or_else(|| TxError::UnknownIssuer(a.header.issuer.clone()))?;
            apply_anchor(state, ctx, a, id, issuer_key)
        }
    }
}

fn apply_subject_act<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    t: &credex_types::lifecycle::SubjectActTx,
) -> Result<(), TxError> {
    let act = &t.act;
    if let ActBody::RevokeAuthorization { authorization } = &act.body {
        // the subject's own grant only: the key names the subject
        let key = StateKey::AuthorizationRevoked { subject: act.subject.clone(), authorization: *authorization };
        if state.get(&key)?.is_some() {
            return Err(TxError::AlreadyApplied);
        }
        state.put(key, StateValue::AuthorizationRevoked { height: ctx.height, time: ctx.time });
        return Ok(());
    }
    let case_id = act.case_id();
    if state.get(&StateKey::Case(case_id))?.is_some() {
        return Err(TxError::AlreadyFiled(case_id));
    }
    let (kind, agency, target, list, due) = match &act.body {
        ActBody::Commitment { agency, due, .. } => {
            issuer_for(state, genesis, agency, AttestationKind::CreditCommitment)?;
            if let Some(d) = due.filter(|d| *d <= ctx.time) {
                return Err(TxError::DueInPast(d));
            }
            (CaseKind::Commitment, agency.clone(), None, None, *due)
        }
        ActBody::RepairApplication { list, .. } => {
            let Some(current) = listing(state, *list, &act.subject)?.current else {
                return Err(TxError::NotListed { list: *list, subject: act.subject.clone() });
            };
            (CaseKind::Repair, current.issuer, Some(current.by), Some(*list), None)
        }
        ActBody::Objection { target, .. } => {
            let header = state.anchored(target)?.ok_or(TxError::UnknownTarget(*target))?;
            if header.subject != act.subject {
                return Err(TxError::SubjectMismatch(*target));
            }
            match state.get(&StateKey::Attestation(*target))? {
                Some(StateValue::Attestation(r)) if r.status == AttestationStatus::Active => {}
                _ => return Err(TxError::TargetNotActive(*target)),
            }
            (CaseKind::Objection, header.issuer, Some(*target), None, None)
        }
        ActBody::RevokeAuthorization { .. } => return Ok(()), // handled above
    };
    state.put(
        StateKey::Case(case_id),
        StateValue::Case(CaseRecord {
            kind,
            subject: act.subject.clone(),
            agency,
            target,
            list,
            act: act.body.clone(),
            due,
            status: CaseStatus::Pending,
            history: vec![CaseEvent { height: ctx.height, time: ctx.time, status: CaseStatus::Pending, by: None }],
        }),
    );
    Ok(())
}

fn apply_governance<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    g: &credex_types::lifecycle::GovernanceTx,
) -> Result<(), TxError> {
    let gkey = StateKey::Governance(g.proposal.hash());
    if state.get(&gkey)?.is_some() {
        return Err(TxError::AlreadyApplied);
    }
    // Approvals were verified at admission against the set then in force;
    // the set may have changed since (an earlier transaction of this
    // block): they must carry more than 2/3 of the set in force now.
    let set = validator_set(state, genesis)?;
    verify_approvals(&set, &g.proposal.hash(), &g.approvals).map_err(TxError::Approvals)?;
    let agency = g.proposal.action.agency().clone();
    let existing = issuer(state, genesis, &agency)?;
    let active = || match &existing {
        Some(r) if r.active => Ok(r.clone()),
        Some(_) => Err(TxError::IssuerRemoved(agency.clone())),
        None => Err(TxError::UnknownIssuer(agency.clone())),
    };
    let record = match &g.proposal.action {
        GovAction::AddIssuer(i) => {
            let mut retired = Vec::new();
            if let Some(r) = &existing {
                if r.active {
                    return Err(TxError::IssuerExists(agency));
                }
                retired.clone_from(&r.retired_keys);
                if r.key != i.key {
                    retired.push((r.key, ctx.height));
                }
            }
            IssuerRecord { retired_keys: retired, ..IssuerRecord::from_genesis(i) }
        }
        GovAction::RemoveIssuer { .. } => IssuerRecord { active: false, ..active()? },
        action @ (GovAction::AddValidator(_)
        | GovAction::RemoveValidator { .. }
        | GovAction::SetPower { .. }
        | GovAction::RotateValidatorKey { .. }) => {
            // The set in force from the next block on (spec §9.6).
            let next = match action.apply_to_set(&set) {
                Some(next) => next.map_err(TxError::ValidatorChange)?,
                None => set,
            };
            state.put(StateKey::Validators, StateValue::Validators(next));
            state.put(gkey, StateValue::Governance { height: ctx.height });
            return Ok(());
        }
        GovAction::SetKinds { kinds, .. } => IssuerRecord { kinds: kinds.clone(), ..active()? },
        GovAction::RotateKey { key, .. } => {
            let mut r = active()?;
            if r.key == *key {
                return Err(TxError::KeyUnchanged(agency));
            }
            r.retired_keys.push((r.key, ctx.height));
            r.key = *key;
            r
        }
    };
    state.put(StateKey::Issuer(agency), StateValue::Issuer(record));
    state.put(gkey, StateValue::Governance { height: ctx.height });
    Ok(())
}

fn apply_anchor<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    ctx: BlockContext,
    a: &crate::tx::AnchorTx,
    id: AttestationId,
    issuer_key: PublicKey,
) -> Result<(), TxError> {
    let h = &a.header;
    let akey = StateKey::Attestation(id);
    if state.get(&akey)?.is_some() {
        return Err(TxError::AlreadyAnchored(id));
    }
    let effect = h.kind.list_effect();
    let mut writes: Vec<(StateKey, StateValue)> = Vec::new();

    // 0. the case it answers (spec §11.3–11.5)
    if let Some(case_id) = h.case {
        let Some(StateValue::Case(mut case)) = state.get(&StateKey::Case(case_id))? else {
            return Err(TxError::UnknownCase(case_id));
        };
        if case.subject != h.subject {
            return Err(TxError::CaseSubjectMismatch(case_id));
        }
        if case.agency != h.issuer {
            return Err(TxError::NotCaseAgency { case: case_id, agency: case.agency });
        }
        let on_target = case.target.is_some() && h.supersedes == case.target;
        let refused = || TxError::CaseTransition { case: case_id, status: case.status.name(), kind: h.kind };
        let to = case.kind.next(case.status, h.kind, on_target).ok_or_else(refused)?;
        match (case.kind, to) {
            (CaseKind::Repair, CaseStatus::Approved) => {
                // the removal must end the very listing the application is about
                let list = case.list.ok_or_else(refused)?;
                if effect != Some(ListEffect::Leave(list)) {
                    return Err(refused());
                }
                let current = listing(state, list, &h.subject)?.current;
                if current.is_none_or(|l| Some(l.by) != case.target) {
                    return Err(TxError::CaseTargetChanged(case_id));
                }
            }
            (CaseKind::Objection, CaseStatus::Corrected) => {
                // a correction restates the contested attestation: same kind
                let target = case.target.ok_or_else(refused)?;
                if state.anchored(&target)?.is_none_or(|t| t.kind != h.kind) {
                    return Err(refused());
                }
            }
            _ => {}
        }
        case.status = to;
        if case.history.len() >= MAX_CASE_EVENTS {
            case.history.remove(1);
        }
        case.history.push(CaseEvent { height: ctx.height, time: ctx.time, status: to, by: Some(id) });
        writes.push((StateKey::Case(case_id), StateValue::Case(case)));
    }

    // 1. supersession
    let mut lists: BTreeMap<ListKind, ListingRecord> = BTreeMap::new();
    if let Some(target) = h.supersedes {
        let Some(StateValue::Attestation(mut rec)) = state.get(&StateKey::Attestation(target))? else {
            return Err(TxError::UnknownTarget(target));
        };
        let theader = state.anchored(&target)?.ok_or(TxError::UnknownTarget(target))?;
        if rec.status != AttestationStatus::Active {
            return Err(TxError::TargetNotActive(target));
        }
        if theader.issuer != h.issuer {
            return Err(TxError::NotTargetIssuer { target, owner: theader.issuer });
        }
        if theader.subject != h.subject {
            return Err(TxError::SubjectMismatch(target));
        }
        rec.status = match h.kind {
            AttestationKind::Revocation => AttestationStatus::Revoked { height: ctx.height, time: ctx.time },
            AttestationKind::ErasureTombstone => {
                AttestationStatus::Erased { tombstone: id, height: ctx.height, time: ctx.time }
            }
            _ => AttestationStatus::Superseded { by: id, height: ctx.height, time: ctx.time },
        };
        writes.push((StateKey::Attestation(target), StateValue::Attestation(rec)));
        // A listing in force that loses its attestation ends, unless a listing
        // on the same list replaces it (handled in step 2). An escalated
        // serious-violation listing rests on the abnormal-operation listing
        // attestation and ends with it.
        if let Some(ListEffect::Enter(list)) = theader.kind.list_effect() {
            let mut affected = vec![list];
            if list == ListKind::AbnormalOperation {
                affected.push(ListKind::SeriousViolation);
            }
            for l in affected {
                let mut r = listing(state, l, &h.subject)?;
                if r.current.as_ref().is_some_and(|c| c.by == target) {
                    r.current = None;
                    if effect != Some(ListEffect::Enter(l)) {
                        r.last_removed = Some(ctx.time);
                    }
                    lists.insert(l, r);
                }
            }
        }
    }

    // 2. list effect
    match effect {
        Some(ListEffect::Enter(list)) => {
            let mut r = match lists.remove(&list) {
                Some(r) => r,
                None => listing(state, list, &h.subject)?,
            };
            if r.current.is_some() {
                return Err(TxError::AlreadyListed { list, subject: h.subject.clone() });
            }
            let replacing = match h.supersedes {
                Some(t) => state.anchored(&t)?.is_some_and(|th| th.kind.list_effect() == Some(ListEffect::Enter(list))),
                None => false,
            };
            r.current = Some(Listing { since: h.effective_at, by: id, issuer: h.issuer.clone(), escalated_from: None });
            if !replacing {
                r.times_listed = r.times_listed.saturating_add(1);
            }
            lists.insert(list, r);
        }
        Some(ListEffect::Leave(list)) => {
            let mut r = match lists.remove(&list) {
                Some(r) => r,
                None => listing(state, list, &h.subject)?,
            };
            let Some(current) = &r.current else {
                return Err(TxError::NotListed { list, subject: h.subject.clone() });
            };
            if current.issuer != h.issuer {
                return Err(TxError::NotListingAgency {
                    list,
                    subject: h.subject.clone(),
                    owner: current.issuer.clone(),
                });
            }
            r.current = None;
            r.last_removed = Some(ctx.time);
            lists.insert(list, r);
        }
        None => {}
    }

    // 3. the anchor itself, issuer key as checked
    writes.push((
        akey,
        StateValue::Attestation(AttestationRecord {
            issuer_key,
            anchored_height: ctx.height,
            status: AttestationStatus::Active,
        }),
    ));
    for (list, r) in lists {
        writes.push((StateKey::Listing { list, subject: h.subject.clone() }, StateValue::Listing(r)));
    }
    for (k, v) in writes {
        state.put(k, v);
    }
    state.anchors.insert(id, h.clone());
    Ok(())
}

/// The chain's own step at the end of every block (spec §6, §11.1): each
/// subject whose standing on some list changed in the block gets its
/// [`StateKey::Standing`] leaf rewritten from its `Listing` records, so one
/// state proof shows its standing on every list.
pub fn end_block<S: StateRead + ?Sized>(state: &mut Overlay<'_, S>) -> Result<(), StateError> {
    let subjects: BTreeSet<SubjectId> = state
        .writes
        .values()
        .filter_map(|(k, _)| match k {
            StateKey::Listing { subject, .. } => Some(subject.clone()),
            _ => None,
        })
        .collect();
    for subject in subjects {
        let mut lists = Vec::new();
        for list in ListKind::ALL {
            if let Some(StateValue::Listing(r)) =
                state.get(&StateKey::Listing { list: *list, subject: subject.clone() })?
            {
                lists.push((*list, r));
            }
        }
        state.put(
            StateKey::Standing(subject),
            StateValue::Standing(StandingRecord { lists: lists.into_iter().collect() }),
        );
    }
    Ok(())
}

/// The chain's own step at the start of every block (spec §11.2): each
/// subject whose abnormal-operation listing has been in force for
/// [`ESCALATION_AFTER_MS`] moves to the serious-violation list (at most
/// [`MAX_ESCALATIONS_PER_BLOCK`], oldest first). The serious-violation
/// listing keeps the abnormal-operation listing's attestation and agency,
/// so only that agency can remove it. Returns the subjects escalated.
pub fn begin_block<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    ctx: BlockContext,
) -> Result<Vec<SubjectId>, StateError> {
    let Some(cutoff) = ctx.time.0.checked_sub(ESCALATION_AFTER_MS).map(Timestamp) else {
        return Ok(Vec::new());
    };
    let due = state.due_escalations(cutoff, MAX_ESCALATIONS_PER_BLOCK)?;
    for subject in &due {
        let mut abnormal = listing(state, ListKind::AbnormalOperation, subject)?;
        let Some(current) = abnormal.current.take() else { continue };
        abnormal.last_removed = Some(ctx.time);
        let mut serious = listing(state, ListKind::SeriousViolation, subject)?;
        if serious.current.is_none() {
            serious.current = Some(Listing {
                since: ctx.time,
                by: current.by,
                issuer: current.issuer,
                escalated_from: Some(ListKind::AbnormalOperation),
            });
            serious.times_listed = serious.times_listed.saturating_add(1);
            state.put(
                StateKey::Listing { list: ListKind::SeriousViolation, subject: subject.clone() },
                StateValue::Listing(serious),
            );
        }
        state.put(
            StateKey::Listing { list: ListKind::AbnormalOperation, subject: subject.clone() },
            StateValue::Listing(abnormal),
        );
    }
    Ok(due)
}

/// True if the next block at `time` has chain work of its own (escalations)
/// even without transactions.
pub fn has_block_work(state: &(impl StateRead + ?Sized), time: Timestamp) -> Result<bool, StateError> {
    match time.0.checked_sub(ESCALATION_AFTER_MS) {
        Some(c) => Ok(!state.due_escalations(Timestamp(c), 1)?.is_empty()),
        None => Ok(false),
    }
}

/// A block built from candidate transactions.
pub struct Built<'a, S: StateRead + ?Sized> {
    /// The state after the block.
    pub state: Overlay<'a, S>,
    /// Transactions included, with their ids, in order.
    pub included: Vec<(AttestationId, Transaction)>,
    /// Candidates refused, with why.
    pub dropped: Vec<(AttestationId, TxError)>,
    /// Subjects escalated by the block's own step.
    pub escalated: Vec<SubjectId>,
}

/// Builds the next block from candidates (the proposer's side): runs the
/// block's own step, applies each candidate in order, drops those the
/// state refuses, and batch-verifies every signature of those kept — except
/// those `verified(id, key)` says were already verified under that very key
/// (at admission, [`admit`]); a key rotated since admission is verified
/// again. If the batch fails, the failing candidates are found one by one,
/// dropped, and the block is built again (so a block never holds a bad
/// signature). A state that cannot be read stops the build
/// ([`StateError`]): no candidate is dropped for it.
pub fn build_block<'a, S: StateRead + ?Sized>(
    base: &'a S,
    genesis: &Genesis,
    ctx: BlockContext,
    candidates: Vec<(AttestationId, Transaction)>,
    verified: &dyn Fn(&AttestationId, &PublicKey) -> bool,
) -> Result<Built<'a, S>, StateError> {
    let mut bad: BTreeSet<AttestationId> = BTreeSet::new();
    let mut refused: Vec<(AttestationId, TxError)> = Vec::new();
    loop {
        let mut state = Overlay::new(base);
        let escalated = begin_block(&mut state, ctx)?;
        let mut included = Vec::new();
        let mut dropped = refused.clone();
        let mut checks: Vec<Vec<SigCheck>> = Vec::new();
        for (id, tx) in candidates.iter().filter(|(id, _)| !bad.contains(id)) {
            if included.len() >= MAX_BLOCK_TXS {
                break;
            }
            match apply_admitted(&mut state, genesis, ctx, tx) {
                Ok((_, c)) => {
                    included.push((*id, tx.clone()));
                    checks.push(c.into_iter().filter(|c| !verified(id, &c.key)).collect());
                }
                Err(TxError::State(e)) => return Err(e),
                Err(e) => dropped.push((*id, e)),
            }
        }
        let mut clean = true;
        for ((id, _), c) in included.iter().zip(&checks) {
            if let Err(e) = verify_single(c) {
                bad.insert(*id);
                refused.push((*id, e));
                clean = false;
            }
        }
        if clean {
            end_block(&mut state)?;
            return Ok(Built { state, included, dropped, escalated });
        }
    }
}

/// Why a block does not execute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Too many transactions.
    #[error("block has {0} transactions, at most {MAX_BLOCK_TXS} allowed")]
    TooManyTxs(usize),
    /// The state could not be read: no verdict on the block.
    #[error("{0}")]
    State(StateError),
    /// A transaction fails.
    #[error("transaction {index}: {error}")]
    Tx {
        /// Position.
        index: usize,
        /// Why.
        error: TxError,
    },
}

/// Executes a block (the validator's side): the block's own step, then
/// every transaction in order, all of which must succeed; signatures are
/// verified at the end with the same rule as [`check_tx`] (spec §2.4),
/// and on failure the first failing transaction is named.
pub fn execute_block<'a, S: StateRead + ?Sized>(
    base: &'a S,
    genesis: &Genesis,
    ctx: BlockContext,
    txs: &[Transaction],
) -> Result<Overlay<'a, S>, ExecError> {
    execute_block_with(base, genesis, ctx, txs, &|_, _| false)
}

/// As [`execute_block`], skipping the signatures `verified(index, key)`
/// says this validator already verified under that very key on the very
/// same transaction bytes (spec §10.7: a transaction of its pool, admitted
/// under the same rule, whose hash equals the block's transaction at
/// `index`). The verdict is the same as [`execute_block`]'s: the rule is
/// deterministic, so a signature it admitted once it admits again.
pub fn execute_block_with<'a, S: StateRead + ?Sized>(
    base: &'a S,
    genesis: &Genesis,
    ctx: BlockContext,
    txs: &[Transaction],
    verified: &dyn Fn(usize, &PublicKey) -> bool,
) -> Result<Overlay<'a, S>, ExecError> {
    if txs.len() > MAX_BLOCK_TXS {
        return Err(ExecError::TooManyTxs(txs.len()));
    }
    let mut overlay = Overlay::new(base);
    begin_block(&mut overlay, ctx).map_err(ExecError::State)?;
    let mut checks = Vec::with_capacity(txs.len());
    for (index, tx) in txs.iter().enumerate() {
        let (_, c) = apply_admitted(&mut overlay, genesis, ctx, tx).map_err(|error| match error {
            TxError::State(e) => ExecError::State(e),
            error => ExecError::Tx { index, error },
        })?;
        checks.push(c);
    }
    for (index, c) in checks.iter().enumerate() {
        let left: Vec<SigCheck> = c.iter().filter(|c| !verified(index, &c.key)).cloned().collect();
        verify_single(&left).map_err(|error| ExecError::Tx { index, error })?;
    }
    end_block(&mut overlay).map_err(ExecError::State)?;
    Ok(overlay)
}
