//! Admission, the state transition and block execution.

use std::collections::BTreeMap;

use credex_crypto::{BatchItem, Hash32, PublicKey, Purpose};
use credex_types::attestation::{AttestationError, AttestationHeader, AttestationId, check_header};
use credex_types::genesis::Genesis;
use credex_types::kinds::ListEffect;
use credex_types::state::{AttestationRecord, AttestationStatus, Listing, ListingRecord, StateKey, StateValue};
use credex_types::{AgencyId, AttestationKind, ChainId, ListKind, SubjectId, Timestamp};

use crate::tx::{MAX_BLOCK_TXS, MAX_TX_BYTES, Transaction};

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
    /// Encoded transaction too large.
    #[error("transaction of {0} bytes exceeds {MAX_TX_BYTES}")]
    TooLarge(usize),
    /// Another chain's attestation.
    #[error("attestation is for chain {found}, this chain is {expected}")]
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
    /// Issuer may not issue this kind.
    #[error("issuer {issuer} may not issue {kind}")]
    KindNotAllowed {
        /// Issuer.
        issuer: AgencyId,
        /// Kind.
        kind: AttestationKind,
    },
    /// Signature fails under the registered key.
    #[error("issuer signature does not verify under the registered key of {0}")]
    BadSignature(AgencyId),
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
    #[error("superseded attestation {0} is about another subject")]
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
}

impl TxError {
    /// Stable machine-readable code (API error codes use it).
    pub fn code(&self) -> &'static str {
        match self {
            TxError::TooLarge(_) => "too-large",
            TxError::WrongChain { .. } => "wrong-chain",
            TxError::Shape(_) => "invalid-attestation",
            TxError::UnknownIssuer(_) => "unknown-issuer",
            TxError::KindNotAllowed { .. } => "kind-not-allowed",
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
        }
    }
}

/// Read access to the chain state.
pub trait StateRead {
    /// The value under `key`.
    fn get(&self, key: &StateKey) -> Option<StateValue>;
    /// The header of an anchored attestation (chain data, not in the map).
    fn anchored(&self, id: &AttestationId) -> Option<AttestationHeader>;
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
    fn get(&self, key: &StateKey) -> Option<StateValue> {
        match self.writes.get(&key.hash()) {
            Some((_, v)) => Some(v.clone()),
            None => self.base.get(key),
        }
    }
    fn anchored(&self, id: &AttestationId) -> Option<AttestationHeader> {
        self.anchors.get(id).cloned().or_else(|| self.base.anchored(id))
    }
}

/// An in-memory state, for tests and tools.
#[derive(Debug, Default, Clone)]
pub struct MemState {
    /// Values by key hash.
    pub values: BTreeMap<Hash32, StateValue>,
    /// Anchored headers.
    pub anchors: BTreeMap<AttestationId, AttestationHeader>,
}

impl MemState {
    /// Applies writes.
    pub fn apply(&mut self, writes: Vec<(StateKey, StateValue)>, anchors: BTreeMap<AttestationId, AttestationHeader>) {
        for (k, v) in writes {
            self.values.insert(k.hash(), v);
        }
        self.anchors.extend(anchors);
    }
}

impl StateRead for MemState {
    fn get(&self, key: &StateKey) -> Option<StateValue> {
        self.values.get(&key.hash()).cloned()
    }
    fn anchored(&self, id: &AttestationId) -> Option<AttestationHeader> {
        self.anchors.get(id).cloned()
    }
}

/// Stateless admission: size, chain, shape, issuer, kind, signature.
/// Returns the attestation id.
pub fn check_tx(genesis: &Genesis, tx: &Transaction) -> Result<AttestationId, TxError> {
    let (id, key) = check_structure(genesis, tx)?;
    if let (Transaction::Anchor(a), Some(key)) = (tx, key) {
        credex_crypto::verify(&key, Purpose::Attestation, &id.0.0, &a.signature)
            .map_err(|_| TxError::BadSignature(a.header.issuer.clone()))?;
    }
    Ok(id)
}

/// Every admission check except an anchor's issuer signature; returns the
/// id and, for an anchor, the registry key its signature must verify under.
/// Evidence is verified here in full (its vote signatures included).
fn check_structure(genesis: &Genesis, tx: &Transaction) -> Result<(AttestationId, Option<PublicKey>), TxError> {
    let size = credex_codec::encode(tx).len();
    if size > MAX_TX_BYTES {
        return Err(TxError::TooLarge(size));
    }
    let a = match tx {
        Transaction::Anchor(a) => a,
        Transaction::Evidence(e) => {
            e.verify(&genesis.validator_set(), &genesis.chain_id).map_err(|e| TxError::BadEvidence(e.to_string()))?;
            return Ok((tx.id(), None));
        }
    };
    let h = &a.header;
    if h.chain_id != genesis.chain_id {
        return Err(TxError::WrongChain { expected: genesis.chain_id.clone(), found: h.chain_id.clone() });
    }
    check_header(h).map_err(TxError::Shape)?;
    let issuer = genesis.issuer(&h.issuer).ok_or_else(|| TxError::UnknownIssuer(h.issuer.clone()))?;
    if !issuer.kinds.contains(&h.kind) {
        return Err(TxError::KindNotAllowed { issuer: h.issuer.clone(), kind: h.kind });
    }
    if matches!(h.kind, AttestationKind::Revocation | AttestationKind::ErasureTombstone) && h.supersedes.is_none() {
        return Err(TxError::MissingTarget(h.kind));
    }
    Ok((a.id(), Some(issuer.key)))
}

/// Admission checks of a whole block, with one batch verification of all
/// issuer signatures (same rule as [`check_tx`], spec §2.4). On failure,
/// the index of the first failing transaction.
pub fn check_block_txs(genesis: &Genesis, txs: &[Transaction]) -> Result<(), (usize, TxError)> {
    let mut checked = Vec::with_capacity(txs.len());
    for (i, tx) in txs.iter().enumerate() {
        checked.push(check_structure(genesis, tx).map_err(|e| (i, e))?);
    }
    let items: Vec<BatchItem<'_>> = txs
        .iter()
        .zip(&checked)
        .filter_map(|(tx, (id, key))| match (tx, key) {
            (Transaction::Anchor(a), Some(key)) => {
                Some(BatchItem { key, purpose: Purpose::Attestation, msg: &id.0.0, sig: &a.signature })
            }
            _ => None,
        })
        .collect();
    if credex_crypto::verify_batch(&items).is_err() {
        // Name the first failing transaction exactly, with the single rule.
        for (i, tx) in txs.iter().enumerate() {
            check_tx(genesis, tx).map_err(|e| (i, e))?;
        }
    }
    Ok(())
}

fn listing(state: &impl StateRead, list: ListKind, subject: &SubjectId) -> ListingRecord {
    match state.get(&StateKey::Listing { list, subject: subject.clone() }) {
        Some(StateValue::Listing(r)) => r,
        _ => ListingRecord { current: None, last_removed: None, times_listed: 0 },
    }
}

/// Admission plus the stateful rules; on success the effects are in `state`.
pub fn apply_tx<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    tx: &Transaction,
) -> Result<AttestationId, TxError> {
    check_tx(genesis, tx)?;
    apply_admitted(state, genesis, ctx, tx)
}

/// The stateful rules for a transaction whose signature was already
/// verified ([`check_tx`] at admission, or [`check_block_txs`]); the other
/// admission checks run again (they are cheap).
pub fn apply_admitted<S: StateRead + ?Sized>(
    state: &mut Overlay<'_, S>,
    genesis: &Genesis,
    ctx: BlockContext,
    tx: &Transaction,
) -> Result<AttestationId, TxError> {
    let (id, _) = check_structure(genesis, tx)?;
    let a = match tx {
        Transaction::Anchor(a) => a,
        Transaction::Evidence(e) => {
            // One record per validator, height, round and step.
            let v = &e.first;
            let key = StateKey::Equivocation {
                validator: v.validator,
                height: v.vote.height,
                round: v.vote.round,
                kind: v.vote.kind,
            };
            if state.get(&key).is_some() {
                return Err(TxError::AlreadyRecorded);
            }
            state.put(key, StateValue::Equivocation { evidence: tx.hash(), height: ctx.height });
            return Ok(id);
        }
    };
    let h = &a.header;
    let akey = StateKey::Attestation(id);
    if state.get(&akey).is_some() {
        return Err(TxError::AlreadyAnchored(id));
    }
    let effect = h.kind.list_effect();
    let mut writes: Vec<(StateKey, StateValue)> = Vec::new();

    // 1. supersession
    let mut lists: BTreeMap<ListKind, ListingRecord> = BTreeMap::new();
    if let Some(target) = h.supersedes {
        let Some(StateValue::Attestation(mut rec)) = state.get(&StateKey::Attestation(target)) else {
            return Err(TxError::UnknownTarget(target));
        };
        let theader = state.anchored(&target).ok_or(TxError::UnknownTarget(target))?;
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
        // on the same list replaces it (handled in step 2).
        if let Some(ListEffect::Enter(list)) = theader.kind.list_effect() {
            let mut r = listing(state, list, &h.subject);
            if r.current.as_ref().is_some_and(|l| l.by == target) {
                r.current = None;
                if effect != Some(ListEffect::Enter(list)) {
                    r.last_removed = Some(ctx.time);
                }
                lists.insert(list, r);
            }
        }
    }

    // 2. list effect
    match effect {
        Some(ListEffect::Enter(list)) => {
            let mut r = lists.remove(&list).unwrap_or_else(|| listing(state, list, &h.subject));
            if r.current.is_some() {
                return Err(TxError::AlreadyListed { list, subject: h.subject.clone() });
            }
            let replacing = h.supersedes.is_some_and(|t| {
                state.anchored(&t).is_some_and(|th| th.kind.list_effect() == Some(ListEffect::Enter(list)))
            });
            r.current = Some(Listing { since: h.effective_at, by: id, issuer: h.issuer.clone() });
            if !replacing {
                r.times_listed = r.times_listed.saturating_add(1);
            }
            lists.insert(list, r);
        }
        Some(ListEffect::Leave(list)) => {
            let mut r = lists.remove(&list).unwrap_or_else(|| listing(state, list, &h.subject));
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
    let issuer_key =
        genesis.issuer(&h.issuer).map(|i| i.key).ok_or_else(|| TxError::UnknownIssuer(h.issuer.clone()))?;
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
    Ok(id)
}

/// Why a block does not execute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Too many transactions.
    #[error("block has {0} transactions, at most {MAX_BLOCK_TXS} allowed")]
    TooManyTxs(usize),
    /// A transaction fails.
    #[error("transaction {index}: {error}")]
    Tx {
        /// Position.
        index: usize,
        /// Why.
        error: TxError,
    },
}

/// Executes every transaction of a block in order; all must succeed.
/// Issuer signatures are batch-verified first.
pub fn execute_block<'a, S: StateRead + ?Sized>(
    base: &'a S,
    genesis: &Genesis,
    ctx: BlockContext,
    txs: &[Transaction],
) -> Result<Overlay<'a, S>, ExecError> {
    if txs.len() > MAX_BLOCK_TXS {
        return Err(ExecError::TooManyTxs(txs.len()));
    }
    check_block_txs(genesis, txs).map_err(|(index, error)| ExecError::Tx { index, error })?;
    let mut overlay = Overlay::new(base);
    for (index, tx) in txs.iter().enumerate() {
        apply_admitted(&mut overlay, genesis, ctx, tx).map_err(|error| ExecError::Tx { index, error })?;
    }
    Ok(overlay)
}
