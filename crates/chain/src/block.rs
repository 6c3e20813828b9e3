//! Blocks as a whole (spec §9.5): the header rules, and what executing a
//! block did ([`BlockOutcome`]), derived here once so that storage commits
//! it as it is and the node applies it as it is.
//!
//! Header rules, for the block after `parent` (or the first, after the
//! genesis time):
//!
//! * `chain_id` is the genesis chain id; `height` is the parent's plus one
//!   (1 for the first block); `parent` is the parent's id (`0³²` first);
//! * `time` is strictly after the parent's time (the genesis time first);
//!   a proposer takes its clock, raised to parent time + 1 ms if behind;
//! * `validators_hash` is the hash of the set in force for this block (the
//!   genesis set, or the one the last validator-set change wrote);
//!   `next_validators_hash` the hash of the set in force after it — the
//!   same unless a governance transaction of this block changed it
//!   (checked by the caller after execution, [`BlockOutcome::next_set`]);
//!   `proposer` is an index into the set in force;
//! * `tx_root` is the RFC 6962 root of the transaction hashes;
//! * `state_root` is the state map's root after execution (checked by the
//!   caller, which holds the map).

use std::collections::BTreeSet;

use credex_crypto::Hash32;
use credex_types::attestation::AttestationId;
use credex_types::chain::{BlockHeader, ValidatorSet};
use credex_types::state::{StateKey, StateValue};
use credex_types::{AttestationKind, ChainIdentity, SubjectId, Timestamp};

use crate::exec::{BlockContext, Overlay, StateRead, TxError};
use crate::tx::{AnchorTx, Block, Transaction, tx_root};

/// Which header rule a block breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Another chain's block.
    #[error("chain id")]
    ChainId,
    /// A block of another genesis (same chain id).
    #[error("genesis hash")]
    Genesis,
    /// Not the height after the parent.
    #[error("height does not follow the head")]
    Height,
    /// Not a child of the parent.
    #[error("parent is not the head")]
    Parent,
    /// Not after the parent's time.
    #[error("time does not increase")]
    Time,
    /// Another validator set.
    #[error("validator set")]
    ValidatorSet,
    /// No such proposer.
    #[error("proposer")]
    Proposer,
    /// The transaction root does not match the transactions.
    #[error("transaction root")]
    TxRoot,
}

/// The context (height, time) of the block after `parent` (`None`: the
/// first block) proposed at clock reading `now`.
pub fn next_context(parent: Option<&BlockHeader>, genesis_time: Timestamp, now: Timestamp) -> BlockContext {
    let (height, prev_time) = match parent {
        Some(h) => (h.height + 1, h.time),
        None => (1, genesis_time),
    };
    BlockContext { height, time: Timestamp(now.0.max(prev_time.0.saturating_add(1))) }
}

/// The header of the block after `parent` holding `txs`, executed to
/// `state_root`, under `set`; `next` is the set the block's execution
/// leaves in force ([`BlockOutcome::next_set`]).
#[allow(clippy::too_many_arguments)] // the header's inputs, each once
pub fn next_header(
    chain: &ChainIdentity,
    set: &ValidatorSet,
    next: Option<&ValidatorSet>,
    parent: Option<&BlockHeader>,
    ctx: BlockContext,
    proposer: u16,
    txs: &[Transaction],
    state_root: Hash32,
) -> BlockHeader {
    let vh = set.hash();
    BlockHeader {
        chain_id: chain.chain_id.clone(),
        genesis: chain.genesis,
        height: ctx.height,
        time: ctx.time,
        proposer,
        parent: parent.map_or(Hash32::ZERO, BlockHeader::id),
        tx_root: tx_root(txs),
        state_root,
        validators_hash: vh,
        next_validators_hash: next.map_or(vh, ValidatorSet::hash),
    }
}

/// Checks every header rule but the state root and the next validators
/// hash (both known after execution) for `block` after `parent`; the
/// context to execute it in.
pub fn check_header(
    chain: &ChainIdentity,
    set: &ValidatorSet,
    parent: Option<&BlockHeader>,
    block: &Block,
) -> Result<BlockContext, HeaderError> {
    let h = &block.header;
    let (height, parent_id, prev_time) = match parent {
        Some(p) => (p.height + 1, p.id(), p.time),
        None => (1, Hash32::ZERO, chain.genesis_time),
    };
    let vh = set.hash();
    if h.chain_id != chain.chain_id {
        return Err(HeaderError::ChainId);
    }
    if h.genesis != chain.genesis {
        return Err(HeaderError::Genesis);
    }
    if h.height != height {
        return Err(HeaderError::Height);
    }
    if h.parent != parent_id {
        return Err(HeaderError::Parent);
    }
    if h.time <= prev_time {
        return Err(HeaderError::Time);
    }
    if h.validators_hash != vh {
        return Err(HeaderError::ValidatorSet);
    }
    if usize::from(h.proposer) >= set.validators.len() {
        return Err(HeaderError::Proposer);
    }
    if h.tx_root != tx_root(&block.txs) {
        return Err(HeaderError::TxRoot);
    }
    Ok(BlockContext { height, time: h.time })
}

/// What executing a block did: everything storage writes and the node
/// applies, derived once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// State writes.
    pub writes: Vec<(StateKey, StateValue)>,
    /// The attestations the block anchors, in block order.
    pub anchors: Vec<AnchorTx>,
    /// Attestations the block erases (targets of erasure tombstones): their
    /// raw records and keys go with the block.
    pub erased: Vec<AttestationId>,
    /// Subjects whose record the block changed (the early-warning input).
    pub touched: Vec<SubjectId>,
    /// Subjects the block's own step escalated.
    pub escalated: Vec<SubjectId>,
    /// Candidates the proposer dropped, with why (empty when validating).
    pub dropped: Vec<(AttestationId, TxError)>,
}

impl BlockOutcome {
    /// The outcome of executing `txs` into `state`.
    pub fn new<S: StateRead + ?Sized>(
        state: Overlay<'_, S>,
        txs: &[Transaction],
        escalated: Vec<SubjectId>,
        dropped: Vec<(AttestationId, TxError)>,
    ) -> BlockOutcome {
        let (writes, _) = state.into_writes();
        let anchors: Vec<AnchorTx> = txs
            .iter()
            .filter_map(|t| match t {
                Transaction::Anchor(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        let erased = anchors
            .iter()
            .filter(|a| a.header.kind == AttestationKind::ErasureTombstone)
            .filter_map(|a| a.header.supersedes)
            .collect();
        let mut touched: BTreeSet<SubjectId> = anchors.iter().map(|a| a.header.subject.clone()).collect();
        for (k, v) in &writes {
            match (k, v) {
                (
                    StateKey::Listing { subject, .. } | StateKey::SubjectKey(subject) | StateKey::SubjectName(subject),
                    _,
                ) => {
                    touched.insert(subject.clone());
                }
                (_, StateValue::Case(c)) => {
                    touched.insert(c.subject.clone());
                }
                _ => {}
            }
        }
        BlockOutcome { writes, anchors, erased, touched: touched.into_iter().collect(), escalated, dropped }
    }

    /// The validator set the block leaves in force, if it changed it (its
    /// last write of `StateKey::Validators`).
    pub fn next_set(&self) -> Option<&ValidatorSet> {
        self.writes.iter().rev().find_map(|(k, v)| match (k, v) {
            (StateKey::Validators, StateValue::Validators(set)) => Some(set),
            _ => None,
        })
    }

    /// Whether `header`'s `next_validators_hash` names the set in force
    /// after the block: `set` (in force for it) unless the block changed it.
    pub fn check_next_validators(&self, header: &BlockHeader, set: &ValidatorSet) -> Result<(), HeaderError> {
        let expected = self.next_set().unwrap_or(set).hash();
        if header.next_validators_hash == expected { Ok(()) } else { Err(HeaderError::ValidatorSet) }
    }

    /// The state-map updates of the writes: key hash and value hash.
    pub fn map_updates(&self) -> Vec<(Hash32, Option<Hash32>)> {
        self.writes.iter().map(|(k, v)| (k.hash(), Some(v.hash()))).collect()
    }
}
