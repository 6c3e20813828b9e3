//! The consensus engine: Malachite's driver, fed with verified messages,
//! turned into actions for the node. Pure: no I/O, no clock; timeouts are
//! scheduled by the caller and fed back.
//!
//! Wire messages ([`ConsensusMsg`], canonical encoding) carry our own
//! signing bytes: a vote signs `credex_types::Vote` (spec §5.2, the bytes the
//! offline verifier checks in a commit certificate), a proposal signs
//! [`ProposalBytes`] with purpose `proposal`.
//!
//! ## Inputs are checked and bounded before anything is kept
//!
//! [`Engine::on_message`] takes a message from any peer. It checks the
//! signer is in the set, the signature, and for a proposal the round's
//! proposer and the block's height and proposer, *before* the message is
//! buffered or acted on. It then keeps at most:
//!
//! * one proposal per (height, round): the round's proposer is fixed, so a
//!   second, different signed proposal is an equivocation; it is refused
//!   ([`MsgError::ConflictingProposal`]) and its block never executed;
//! * rounds up to [`ROUNDS_AHEAD`] past the current one;
//! * messages for the next [`FUTURE_HEIGHTS`] heights, within
//!   [`FUTURE_BYTES_PER_SIGNER`] per signer and [`FUTURE_BYTES`] in all.
//!
//! ## The consensus log (write-ahead)
//!
//! Every input the engine acts on comes out first as an
//! [`Action::Persist`] of a [`Logged`] entry, before the effects it causes;
//! the node appends it to its consensus log and makes the log durable
//! before any signed message leaves (ADR 0003). [`recover`] replays a
//! height's entries into a fresh engine: the driver is deterministic and
//! Ed25519 signatures are too, so the restarted engine is in the same
//! round and step, with the same lock and valid value, and has signed the
//! same votes. Invariant: *every message this validator ever sent follows
//! from entries that were durable before it was sent*, so a crash cannot
//! make it forget a lock or sign against its earlier votes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use credex_chain::Block;
use credex_crypto::{Hash32, Purpose, SecretKey, Signature};
use credex_types::ChainId;
use credex_types::chain::{CommitCertificate, CommitSig, Evidence, SignedVote, VoteKind};
use malachite_driver::{Driver, Input, Output};
use malachite_types::{
    Context as _, NilOrVal, Round, SignedMessage, ThresholdParams, Timeout, TimeoutKind, Validity, VoteType,
};

use crate::context::{Addr, BlockValue, Ctx, Height, Proposal, Sig, ValidatorSet, Vote};

/// What a proposer signs.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ProposalBytes {
    /// Chain.
    pub chain_id: ChainId,
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Proof-of-lock round, if any.
    pub pol_round: Option<u32>,
    /// Block id.
    pub block: Hash32,
    /// Proposer index.
    pub proposer: u16,
}

/// A consensus message on the wire.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
#[allow(clippy::large_enum_variant)] // one message at a time; boxing would only add an allocation
pub enum ConsensusMsg {
    /// A proposal with its block.
    Proposal {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Proof-of-lock round.
        pol_round: Option<u32>,
        /// Proposer index.
        proposer: u16,
        /// The block.
        block: Block,
        /// Signature over [`ProposalBytes`].
        signature: Signature,
    },
    /// A vote.
    Vote {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Prevote or precommit.
        kind: VoteKind,
        /// Block id or nil.
        block: Option<Hash32>,
        /// Voter index.
        validator: u16,
        /// Signature over the `credex_types::Vote` bytes.
        signature: Signature,
    },
    /// A polka: prevotes of more than 2/3 of the power for one block in one
    /// round, relayed as one message (Malachite's polka certificate). A
    /// validator that counted an equivocator's other vote first can still
    /// see that the polka a re-proposal cites exists; each signature is
    /// checked as a prevote.
    Polka {
        /// Height.
        height: u64,
        /// The round of the polka.
        round: u32,
        /// The block.
        block: Hash32,
        /// The prevotes: validator index and signature, increasing indices.
        votes: Vec<CommitSig>,
    },
}

impl ConsensusMsg {
    /// The height the message is for.
    pub fn height(&self) -> u64 {
        match self {
            ConsensusMsg::Proposal { height, .. }
            | ConsensusMsg::Vote { height, .. }
            | ConsensusMsg::Polka { height, .. } => *height,
        }
    }

    /// The round the message is for.
    pub fn round(&self) -> u32 {
        match self {
            ConsensusMsg::Proposal { round, .. }
            | ConsensusMsg::Vote { round, .. }
            | ConsensusMsg::Polka { round, .. } => *round,
        }
    }

    /// The validator that signed it (a polka, signed by many: `u16::MAX`).
    pub fn signer(&self) -> u16 {
        match self {
            ConsensusMsg::Proposal { proposer, .. } => *proposer,
            ConsensusMsg::Vote { validator, .. } => *validator,
            ConsensusMsg::Polka { .. } => u16::MAX,
        }
    }
}

/// Rounds past the current one whose messages are kept (Tendermint's round
/// skip needs f + 1 of them; further ones are dropped, peers rebroadcast).
pub const ROUNDS_AHEAD: u32 = 64;
/// Heights past the current one whose messages are buffered.
pub const FUTURE_HEIGHTS: u64 = 2;
/// Bytes of buffered future-height messages kept per signer.
pub const FUTURE_BYTES_PER_SIGNER: usize = 24 << 20;
/// Bytes of buffered future-height messages kept in all.
pub const FUTURE_BYTES: usize = 96 << 20;
/// Size counted for a buffered vote.
const VOTE_BYTES: usize = 160;

/// How long a timeout waits: linear in the round (partial synchrony) up to
/// round 16, so a network that stalled for a while resumes within seconds.
pub fn timeout_duration(t: &Timeout) -> Duration {
    let r = u64::from(t.round.as_u32().unwrap_or(0)).min(16);
    match t.kind {
        TimeoutKind::Propose => Duration::from_millis(1500 + 250 * r),
        TimeoutKind::Prevote | TimeoutKind::Precommit => Duration::from_millis(500 + 250 * r),
        TimeoutKind::Rebroadcast => Duration::from_millis(3000),
        TimeoutKind::FinalizeHeight(d) => d,
    }
}

/// One input the engine acted on, as the consensus log keeps it
/// (canonical encoding; a proposal without its block body, which the node
/// logs apart).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum Logged {
    /// The engine started this height (a log holds one height).
    Start {
        /// Height.
        height: u64,
    },
    /// A proposal, with the node's verdict on its block.
    Proposal {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Proof-of-lock round.
        pol_round: Option<u32>,
        /// Proposer index.
        proposer: u16,
        /// Block id.
        block: Hash32,
        /// Proposer's signature over [`ProposalBytes`].
        signature: Signature,
        /// Whether the block executed to its header.
        valid: bool,
    },
    /// Another validator's vote.
    Vote(ConsensusMsg),
    /// A polka ([`ConsensusMsg::Polka`]).
    Polka(ConsensusMsg),
    /// This node's own block for a round it proposes in.
    Propose {
        /// Round.
        round: u32,
        /// Block id.
        block: Hash32,
    },
    /// A timeout fired: step 0 propose, 1 prevote, 2 precommit.
    Timeout {
        /// Round.
        round: u32,
        /// Step.
        step: u8,
    },
}

/// What the node must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived, handled one by one
pub enum Action {
    /// Append to the consensus log; durable before the next signed message
    /// ([`Action::Broadcast`], [`Action::BroadcastProposal`]) leaves.
    Persist(Logged),
    /// Send to all validators.
    Broadcast(ConsensusMsg),
    /// Send this node's proposal: a [`ConsensusMsg::Proposal`] with the
    /// block whose id is `block` (the node holds the body).
    BroadcastProposal {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Proof-of-lock round.
        pol_round: Option<u32>,
        /// Proposer index (this node).
        proposer: u16,
        /// Block id.
        block: Hash32,
        /// Signature over [`ProposalBytes`].
        signature: Signature,
    },
    /// Call back [`Engine::timeout`] with this timeout after its duration.
    Schedule(Timeout),
    /// Build a block for this height and round and give its id to [`Engine::propose`].
    GetValue {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
    },
    /// Execute this (checked) proposal's block and give the verdict to
    /// [`Engine::validated`]; at most one per height and round.
    Validate(ConsensusMsg),
    /// The block is decided; commit it with this certificate.
    Decided {
        /// Height.
        height: u64,
        /// Block id.
        block: Hash32,
        /// Its certificate (spec §5.4).
        certificate: CommitCertificate,
    },
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsgError {
    /// For a height already decided here.
    #[error("message for height {0}, engine at {1}")]
    Stale(u64, u64),
    /// Too far ahead to keep.
    #[error("message for height {height} round {round}, too far ahead of {at_height}/{at_round}")]
    TooFarAhead {
        /// Its height.
        height: u64,
        /// Its round.
        round: u32,
        /// The engine's height.
        at_height: u64,
        /// The engine's round.
        at_round: u32,
    },
    /// The future-height buffer is full for this signer or in all.
    #[error("future-height buffer full for validator {0}")]
    BufferFull(u16),
    /// Sender is not a validator.
    #[error("validator index {0} is not in the set")]
    UnknownValidator(u16),
    /// Wrong proposer for the round.
    #[error("proposal by {0}, not the proposer of the round")]
    NotProposer(u16),
    /// A second, different proposal for a round (the proposer equivocates).
    #[error("a different proposal for height {0} round {1} was already received")]
    ConflictingProposal(u64, u32),
    /// The same proposal again.
    #[error("proposal already received")]
    Duplicate,
    /// Signature fails.
    #[error("signature does not verify")]
    BadSignature,
    /// Block does not match the proposal.
    #[error("block does not match the proposal")]
    BlockMismatch,
    /// A polka whose prevotes do not add up to more than 2/3 of the power
    /// (or name a validator twice, or out of order).
    #[error("polka without a quorum of distinct prevotes")]
    NotAQuorum,
    /// A verdict for a proposal the engine did not ask about.
    #[error("no validation was asked for this proposal")]
    NotAsked,
    /// The consensus log does not replay.
    #[error("consensus log entry {0} does not replay: {1}")]
    BadLog(usize, String),
    /// The driver refused the input.
    #[error("driver: {0}")]
    Driver(String),
}

fn round_u32(r: Round) -> u32 {
    r.as_u32().unwrap_or(0)
}

fn round_of(r: u32) -> Round {
    Round::new(r)
}

fn timeout_step(kind: TimeoutKind) -> Option<u8> {
    match kind {
        TimeoutKind::Propose => Some(0),
        TimeoutKind::Prevote => Some(1),
        TimeoutKind::Precommit => Some(2),
        TimeoutKind::Rebroadcast | TimeoutKind::FinalizeHeight(_) => None,
    }
}

fn step_timeout(round: u32, step: u8) -> Option<Timeout> {
    let r = round_of(round);
    match step {
        0 => Some(Timeout::propose(r)),
        1 => Some(Timeout::prevote(r)),
        2 => Some(Timeout::precommit(r)),
        _ => None,
    }
}

/// Proposals seen at the current height, by round: the block id and, once
/// known, the node's verdict.
type Seen = BTreeMap<u32, (Hash32, Option<bool>)>;

/// The checks of a consensus message that need only the chain and the
/// validator set, no engine state (spec §10.5): signer in the set, its
/// signature, a proposal's proposer, proof-of-lock round and block height,
/// a polka's quorum. The node runs them before gossip forwards a message;
/// the engine runs them again before it keeps one.
#[derive(Clone)]
pub struct Verifier {
    chain_id: ChainId,
    set: ValidatorSet,
    credex_set: credex_types::ValidatorSet,
}

impl Verifier {
    /// A verifier for `set` on `chain_id`.
    pub fn new(chain_id: ChainId, set: &credex_types::ValidatorSet) -> Verifier {
        Verifier { chain_id, set: ValidatorSet::from_set(set), credex_set: set.clone() }
    }

    /// Proposer index for a height and round.
    pub fn proposer(&self, height: u64, round: u32) -> u16 {
        Ctx.select_proposer(&self.set, Height(height), round_of(round)).address.0
    }

    /// Whether the refusal proves the message malformed whatever the
    /// validator set (a proposal whose block is for another height, or
    /// whose proof-of-lock round is not below its round). A bad signature
    /// or an unknown signer proves less: after a key rotation or removal an
    /// honest validator that has not restarted yet still sends such
    /// messages for a while.
    pub fn is_malformed(e: &MsgError) -> bool {
        matches!(e, MsgError::BlockMismatch)
    }

    /// Signer, signature and (for a proposal) proposer and block shape.
    pub fn check(&self, msg: &ConsensusMsg) -> Result<(), MsgError> {
        match msg {
            ConsensusMsg::Proposal { height, round, pol_round, proposer, block, signature } => {
                self.check_proposal(*height, *round, *pol_round, *proposer, &block.header, signature)
            }
            ConsensusMsg::Polka { height, round, block, votes } => {
                let vote = credex_types::Vote {
                    chain_id: self.chain_id.clone(),
                    height: *height,
                    round: *round,
                    kind: VoteKind::Prevote,
                    block: Some(*block),
                };
                let bytes = vote.signing_bytes();
                if votes.len() > self.credex_set.validators.len()
                    || votes.windows(2).any(|w| w[0].validator >= w[1].validator)
                {
                    return Err(MsgError::NotAQuorum);
                }
                let mut power = 0u64;
                for s in votes {
                    let v = self.credex_set.get(s.validator).ok_or(MsgError::UnknownValidator(s.validator))?;
                    credex_crypto::admit(&v.key, Purpose::Vote, &bytes, &s.signature)
                        .map_err(|_| MsgError::BadSignature)?;
                    power = power.saturating_add(v.power);
                }
                if power.saturating_mul(3) <= self.credex_set.total_power().saturating_mul(2) {
                    return Err(MsgError::NotAQuorum);
                }
                Ok(())
            }
            ConsensusMsg::Vote { height, round, kind, block, validator, signature } => {
                let v = self.credex_set.get(*validator).ok_or(MsgError::UnknownValidator(*validator))?;
                let ours = credex_types::Vote {
                    chain_id: self.chain_id.clone(),
                    height: *height,
                    round: *round,
                    kind: *kind,
                    block: *block,
                };
                credex_crypto::admit(&v.key, Purpose::Vote, &ours.signing_bytes(), signature)
                    .map_err(|_| MsgError::BadSignature)
            }
        }
    }

    /// A proposal's checks on its header alone (what a compact proposal
    /// carries, spec §10.7): proposer of the round, header height, a
    /// proof-of-lock round below the round, and the proposer's signature
    /// over the header's id.
    pub fn check_proposal(
        &self,
        height: u64,
        round: u32,
        pol_round: Option<u32>,
        proposer: u16,
        header: &credex_types::chain::BlockHeader,
        signature: &Signature,
    ) -> Result<(), MsgError> {
        if proposer != self.proposer(height, round) {
            return Err(MsgError::NotProposer(proposer));
        }
        // The header names who built the block, not who proposes it
        // now: a later round's proposer re-proposes its valid value
        // (Tendermint line 16), a block another validator built.
        if header.height != height {
            return Err(MsgError::BlockMismatch);
        }
        if pol_round.is_some_and(|p| p >= round) {
            return Err(MsgError::BlockMismatch);
        }
        self.check_proposal_signature(height, round, pol_round, proposer, header.id(), signature)
    }

    fn check_proposal_signature(
        &self,
        height: u64,
        round: u32,
        pol_round: Option<u32>,
        proposer: u16,
        block: Hash32,
        signature: &Signature,
    ) -> Result<(), MsgError> {
        let v = self.credex_set.get(proposer).ok_or(MsgError::UnknownValidator(proposer))?;
        let bytes = ProposalBytes { chain_id: self.chain_id.clone(), height, round, pol_round, block, proposer };
        credex_crypto::admit(&v.key, Purpose::Proposal, &credex_codec::encode(&bytes), signature)
            .map_err(|_| MsgError::BadSignature)
    }
}

/// Future-height messages, checked, within byte budgets.
#[derive(Default)]
struct Future {
    msgs: Vec<(ConsensusMsg, usize)>,
    per_signer: HashMap<u16, usize>,
    total: usize,
    /// One proposal per (height, round).
    proposals: HashMap<(u64, u32), Hash32>,
}

/// One validator's (or a non-voting follower's) consensus state for a height.
pub struct Engine {
    /// Votes this validator signed at the current height, (round, step) →
    /// block: it never signs a different one for the same round and step
    /// (rebuilt by [`recover`] from the log).
    signed: BTreeMap<(u32, VoteKind), Option<Hash32>>,
    chain_id: ChainId,
    set: ValidatorSet,
    verifier: Verifier,
    me: Option<(u16, SecretKey)>,
    driver: Driver<Ctx>,
    seen: Seen,
    /// Polkas taken at the current height, (round, block).
    polkas: std::collections::BTreeSet<(u32, Hash32)>,
    future: Future,
    /// Replaying the log: inputs are not logged again.
    replaying: bool,
}

impl Engine {
    /// An engine at `height`; `me` is this node's index and key if it votes.
    /// Call [`Engine::start`] (or use [`recover`]) before feeding it.
    pub fn new(
        chain_id: ChainId,
        set: &credex_types::ValidatorSet,
        me: Option<(u16, SecretKey)>,
        height: u64,
    ) -> Engine {
        let vs = ValidatorSet::from_set(set);
        let addr = Addr(me.as_ref().map_or(u16::MAX, |(i, _)| *i));
        let driver = Driver::new(Ctx, Height(height), vs.clone(), addr, ThresholdParams::default());
        Engine {
            signed: Default::default(),
            verifier: Verifier::new(chain_id.clone(), set),
            chain_id,
            set: vs,
            me,
            driver,
            seen: Seen::new(),
            polkas: Default::default(),
            future: Future::default(),
            replaying: false,
        }
    }

    /// Current height.
    pub fn height(&self) -> u64 {
        self.driver.height().0
    }

    /// Current round.
    pub fn round(&self) -> u32 {
        round_u32(self.driver.round())
    }

    /// The block this engine is locked on and the round it locked in.
    pub fn locked(&self) -> Option<(u32, Hash32)> {
        self.driver.round_state().locked.as_ref().map(|l| (round_u32(l.round), l.value.0))
    }

    /// A one-line account of the engine's state, for logs and replays.
    pub fn describe(&self) -> String {
        let rs = self.driver.round_state();
        let short =
            |v: Option<(BlockValue, Round)>| v.map(|(b, r)| format!("{}@{}", &b.0.to_string()[..8], round_u32(r)));
        format!(
            "height {} round {} step {:?} locked {:?} valid {:?} decided {:?} proposals {:?}",
            self.height(),
            self.round(),
            self.driver.step(),
            short(rs.locked.as_ref().map(|v| (v.value, v.round))),
            short(rs.valid.as_ref().map(|v| (v.value, v.round))),
            short(rs.decision.as_ref().map(|v| (v.value, v.round))),
            self.seen.iter().map(|(r, (b, v))| (*r, b.to_string()[..8].to_string(), *v)).collect::<Vec<_>>(),
        )
    }

    /// Bytes of future-height messages buffered.
    pub fn buffered_bytes(&self) -> usize {
        self.future.total
    }

    /// Proposer index for a height and round.
    pub fn proposer(&self, height: u64, round: u32) -> u16 {
        self.verifier.proposer(height, round)
    }

    /// Takes the validator set in force for the next height (after a
    /// governance change; spec §9.6) and this node's place in it (`None`:
    /// it no longer votes). Call before [`Engine::start`] of that height;
    /// messages buffered for it are checked again under the new set.
    pub fn set_validators(&mut self, height: u64, set: &credex_types::ValidatorSet, me: Option<(u16, SecretKey)>) {
        let vs = ValidatorSet::from_set(set);
        let addr = Addr(me.as_ref().map_or(u16::MAX, |(i, _)| *i));
        self.driver = Driver::new(Ctx, Height(height), vs.clone(), addr, ThresholdParams::default());
        self.set = vs;
        self.verifier = Verifier::new(self.chain_id.clone(), set);
        self.me = me;
        self.signed.clear();
        self.seen.clear();
        self.polkas.clear();
    }

    /// Starts `height` at round 0 (also used to move on after a commit);
    /// buffered messages for it are then processed.
    pub fn start(&mut self, height: u64) -> Result<Vec<Action>, MsgError> {
        if height != self.height() {
            self.driver.move_to_height(Height(height), self.set.clone());
            self.signed.clear();
            self.seen.clear();
            self.polkas.clear();
        }
        let mut actions = self.log(Logged::Start { height });
        let proposer = Addr(self.proposer(height, 0));
        actions.extend(self.run(Input::NewRound(Height(height), Round::new(0), proposer))?);
        let buffered = std::mem::take(&mut self.future);
        let mut keep = Future::default();
        for (msg, size) in buffered.msgs {
            if msg.height() == height {
                // Checked when buffered, but perhaps under the set before a change.
                if self.check(&msg).is_err() {
                    continue;
                }
                match self.accept_current(msg) {
                    Ok(a) => actions.extend(a),
                    Err(MsgError::Driver(e)) => return Err(MsgError::Driver(e)),
                    Err(_) => {} // checked when buffered; only duplicates and late rounds end here
                }
            } else if msg.height() > height {
                keep.add(msg, size);
            }
        }
        self.future = keep;
        Ok(actions)
    }

    /// The block this node proposes for `round` (after [`Action::GetValue`]).
    pub fn propose(&mut self, round: u32, block: Hash32) -> Result<Vec<Action>, MsgError> {
        let mut actions = self.log(Logged::Propose { round, block });
        actions.extend(self.run(Input::ProposeValue(round_of(round), BlockValue(block)))?);
        Ok(actions)
    }

    /// A timeout fired.
    pub fn timeout(&mut self, t: Timeout) -> Result<Vec<Action>, MsgError> {
        let mut actions = match timeout_step(t.kind) {
            Some(step) => self.log(Logged::Timeout { round: round_u32(t.round), step }),
            None => Vec::new(),
        };
        actions.extend(self.run(Input::TimeoutElapsed(t))?);
        Ok(actions)
    }

    /// A message from the network: checked, bounded, then acted on now,
    /// buffered for a later height, or handed back as [`Action::Validate`].
    pub fn on_message(&mut self, msg: ConsensusMsg) -> Result<Vec<Action>, MsgError> {
        let (height, round) = (msg.height(), msg.round());
        let (at_height, at_round) = (self.height(), self.round());
        if height < at_height {
            return Err(MsgError::Stale(height, at_height));
        }
        let far_height = height > at_height.saturating_add(FUTURE_HEIGHTS);
        let far_round = height == at_height && round > at_round.saturating_add(ROUNDS_AHEAD);
        if far_height || far_round || (height > at_height && round > ROUNDS_AHEAD) {
            return Err(MsgError::TooFarAhead { height, round, at_height, at_round });
        }
        if let ConsensusMsg::Polka { round, block, .. } = &msg
            && height == at_height
            && self.polkas.contains(&(*round, *block))
        {
            return Err(MsgError::Duplicate);
        }
        self.check(&msg)?;
        if height == at_height {
            return self.accept_current(msg);
        }
        if let ConsensusMsg::Proposal { block, .. } = &msg {
            match self.future.proposals.get(&(height, round)) {
                Some(id) if *id == block.header.id() => return Err(MsgError::Duplicate),
                Some(_) => return Err(MsgError::ConflictingProposal(height, round)),
                None => {}
            }
        }
        let size = match &msg {
            ConsensusMsg::Vote { .. } => VOTE_BYTES,
            ConsensusMsg::Polka { votes, .. } => VOTE_BYTES * (1 + votes.len()),
            ConsensusMsg::Proposal { .. } => credex_codec::encode(&msg).len(),
        };
        let signer = msg.signer();
        let used = self.future.per_signer.get(&signer).copied().unwrap_or(0);
        if used + size > FUTURE_BYTES_PER_SIGNER || self.future.total + size > FUTURE_BYTES {
            return Err(MsgError::BufferFull(signer));
        }
        self.future.add(msg, size);
        Ok(Vec::new())
    }

    /// The node's verdict on the block of a proposal handed out as
    /// [`Action::Validate`].
    pub fn validated(&mut self, msg: &ConsensusMsg, valid: bool) -> Result<Vec<Action>, MsgError> {
        let ConsensusMsg::Proposal { height, round, pol_round, proposer, block, signature } = msg else {
            return Err(MsgError::NotAsked);
        };
        let id = block.header.id();
        let current = *height == self.height();
        match self.seen.get_mut(round) {
            Some((seen, verdict @ None)) if *seen == id && current => *verdict = Some(valid),
            _ => return Err(MsgError::NotAsked),
        }
        let entry = Logged::Proposal {
            height: *height,
            round: *round,
            pol_round: *pol_round,
            proposer: *proposer,
            block: id,
            signature: *signature,
            valid,
        };
        let mut actions = self.log(entry);
        actions.extend(self.feed_proposal(*height, *round, *pol_round, *proposer, id, *signature, valid)?);
        Ok(actions)
    }

    /// What to send again every so often until the height is decided:
    /// every vote held for the current round (this node's and others'), and
    /// the prevotes for the valid and the locked value in the rounds they
    /// got their polka. Gossip reaches a validator that was down, behind or
    /// cut off only if someone sends again; and a re-proposal with a
    /// proof-of-lock round convinces a validator only if it holds that
    /// round's prevotes — including those of a validator that has since
    /// gone quiet, which only others can relay (Tendermint's liveness
    /// assumes every message a correct validator received reaches every
    /// correct validator eventually).
    pub fn gossip(&self) -> Vec<ConsensusMsg> {
        let mut out: Vec<ConsensusMsg> = Vec::new();
        let votes = self.driver.votes();
        if let Some(r) = votes.per_round(self.driver.round()) {
            out.extend(r.received_votes().iter().map(|v| self.vote_msg(v)));
        }
        let rs = self.driver.round_state();
        for rv in [rs.valid.as_ref(), rs.locked.as_ref()].into_iter().flatten() {
            if rv.round == self.driver.round() {
                continue;
            }
            if let Some(r) = votes.per_round(rv.round) {
                let mut prevotes: Vec<CommitSig> = r
                    .received_votes()
                    .iter()
                    .filter(|v| v.message.kind == VoteType::Prevote && v.message.value == NilOrVal::Val(rv.value.0))
                    .map(|v| CommitSig { validator: v.message.validator.0, signature: v.signature.0 })
                    .collect();
                prevotes.sort_by_key(|s| s.validator);
                prevotes.dedup_by_key(|s| s.validator);
                let polka = ConsensusMsg::Polka {
                    height: self.height(),
                    round: round_u32(rv.round),
                    block: rv.value.0,
                    votes: prevotes,
                };
                if !out.contains(&polka) {
                    out.push(polka);
                }
            }
        }
        out
    }

    fn vote_msg(&self, v: &SignedMessage<Ctx, Vote>) -> ConsensusMsg {
        let s = self.signed(v);
        ConsensusMsg::Vote {
            height: s.vote.height,
            round: s.vote.round,
            kind: s.vote.kind,
            block: s.vote.block,
            validator: s.validator,
            signature: s.signature,
        }
    }

    /// Equivocations seen since the last call, as evidence to record on chain.
    /// The vote keeper counts an equivocator's vote once; the second vote is
    /// kept only here.
    pub fn take_evidence(&mut self) -> Vec<Evidence> {
        let map = self.driver.take_vote_evidence();
        let mut out = Vec::new();
        for (_, doubles) in map.iter() {
            for (a, b) in doubles {
                out.push(Evidence::new(self.signed(a), self.signed(b)));
            }
        }
        out
    }

    fn log(&self, entry: Logged) -> Vec<Action> {
        if self.replaying { Vec::new() } else { vec![Action::Persist(entry)] }
    }

    fn check(&self, msg: &ConsensusMsg) -> Result<(), MsgError> {
        self.verifier.check(msg)
    }

    fn check_proposal_signature(
        &self,
        height: u64,
        round: u32,
        pol_round: Option<u32>,
        proposer: u16,
        block: Hash32,
        signature: &Signature,
    ) -> Result<(), MsgError> {
        self.verifier.check_proposal_signature(height, round, pol_round, proposer, block, signature)
    }

    /// A checked message for the current height.
    fn accept_current(&mut self, msg: ConsensusMsg) -> Result<Vec<Action>, MsgError> {
        if msg.round() > self.round().saturating_add(ROUNDS_AHEAD) {
            return Err(MsgError::TooFarAhead {
                height: msg.height(),
                round: msg.round(),
                at_height: self.height(),
                at_round: self.round(),
            });
        }
        match &msg {
            ConsensusMsg::Proposal { round, block, .. } => {
                let id = block.header.id();
                match self.seen.get(round) {
                    Some((seen, _)) if *seen == id => Err(MsgError::Duplicate),
                    Some(_) => Err(MsgError::ConflictingProposal(msg.height(), *round)),
                    None => {
                        self.seen.insert(*round, (id, None));
                        Ok(vec![Action::Validate(msg)])
                    }
                }
            }
            ConsensusMsg::Vote { .. } => {
                let mut actions = self.log(Logged::Vote(msg.clone()));
                actions.extend(self.feed_vote(&msg)?);
                Ok(actions)
            }
            ConsensusMsg::Polka { round, block, .. } => {
                if !self.polkas.insert((*round, *block)) {
                    return Err(MsgError::Duplicate);
                }
                let mut actions = self.log(Logged::Polka(msg.clone()));
                actions.extend(self.feed_polka(&msg)?);
                Ok(actions)
            }
        }
    }

    fn feed_polka(&mut self, msg: &ConsensusMsg) -> Result<Vec<Action>, MsgError> {
        let ConsensusMsg::Polka { height, round, block, votes } = msg else {
            return Err(MsgError::BlockMismatch);
        };
        let certificate = malachite_types::PolkaCertificate {
            height: Height(*height),
            round: round_of(*round),
            value_id: *block,
            polka_signatures: votes
                .iter()
                .map(|s| malachite_types::PolkaSignature::new(Addr(s.validator), Sig(s.signature)))
                .collect(),
        };
        self.run(Input::PolkaCertificate(certificate))
    }

    fn feed_vote(&mut self, msg: &ConsensusMsg) -> Result<Vec<Action>, MsgError> {
        let ConsensusMsg::Vote { height, round, kind, block, validator, signature } = msg else {
            return Err(MsgError::BlockMismatch);
        };
        let vote = Vote {
            height: Height(*height),
            round: round_of(*round),
            value: block.map_or(NilOrVal::Nil, NilOrVal::Val),
            kind: match kind {
                VoteKind::Prevote => VoteType::Prevote,
                VoteKind::Precommit => VoteType::Precommit,
            },
            validator: Addr(*validator),
            extension: None,
        };
        self.run(Input::Vote(SignedMessage::new(vote, Sig(*signature))))
    }

    #[allow(clippy::too_many_arguments)] // the proposal's fields, as logged
    fn feed_proposal(
        &mut self,
        height: u64,
        round: u32,
        pol_round: Option<u32>,
        proposer: u16,
        block: Hash32,
        signature: Signature,
        valid: bool,
    ) -> Result<Vec<Action>, MsgError> {
        let p = Proposal {
            height: Height(height),
            round: round_of(round),
            value: BlockValue(block),
            pol_round: pol_round.map_or(Round::Nil, round_of),
            proposer: Addr(proposer),
        };
        let validity = if valid { Validity::Valid } else { Validity::Invalid };
        self.run(Input::Proposal(SignedMessage::new(p, Sig(signature)), validity))
    }

    /// Replays one logged input (signatures checked again: the log is on a
    /// disk someone else may have touched).
    fn replay(&mut self, entry: &Logged) -> Result<Vec<Action>, MsgError> {
        match entry {
            Logged::Start { height } => {
                if *height != self.height() {
                    return Err(MsgError::Stale(*height, self.height()));
                }
                Ok(Vec::new())
            }
            Logged::Proposal { height, round, pol_round, proposer, block, signature, valid } => {
                if *height != self.height() {
                    return Err(MsgError::Stale(*height, self.height()));
                }
                if *proposer != self.proposer(*height, *round) {
                    return Err(MsgError::NotProposer(*proposer));
                }
                self.check_proposal_signature(*height, *round, *pol_round, *proposer, *block, signature)?;
                if self.seen.get(round).is_some_and(|(seen, _)| seen != block) {
                    return Err(MsgError::ConflictingProposal(*height, *round));
                }
                self.seen.insert(*round, (*block, Some(*valid)));
                self.feed_proposal(*height, *round, *pol_round, *proposer, *block, *signature, *valid)
            }
            Logged::Vote(msg) => {
                if msg.height() != self.height() {
                    return Err(MsgError::Stale(msg.height(), self.height()));
                }
                self.check(msg)?;
                self.feed_vote(msg)
            }
            Logged::Polka(msg) => {
                if msg.height() != self.height() {
                    return Err(MsgError::Stale(msg.height(), self.height()));
                }
                self.check(msg)?;
                if let ConsensusMsg::Polka { round, block, .. } = msg {
                    self.polkas.insert((*round, *block));
                }
                self.feed_polka(msg)
            }
            Logged::Propose { round, block } => self.run(Input::ProposeValue(round_of(*round), BlockValue(*block))),
            Logged::Timeout { round, step } => match step_timeout(*round, *step) {
                Some(t) => self.run(Input::TimeoutElapsed(t)),
                None => Err(MsgError::BadLog(0, format!("timeout step {step}"))),
            },
        }
    }

    /// The credex vote (the bytes validators sign) for a driver vote.
    fn credex_vote(&self, v: &Vote) -> credex_types::Vote {
        credex_types::Vote {
            chain_id: self.chain_id.clone(),
            height: v.height.0,
            round: round_u32(v.round),
            kind: match v.kind {
                VoteType::Prevote => VoteKind::Prevote,
                VoteType::Precommit => VoteKind::Precommit,
            },
            block: match v.value {
                NilOrVal::Nil => None,
                NilOrVal::Val(h) => Some(h),
            },
        }
    }

    fn signed(&self, v: &SignedMessage<Ctx, Vote>) -> SignedVote {
        SignedVote { vote: self.credex_vote(&v.message), validator: v.message.validator.0, signature: v.signature.0 }
    }

    fn sign_vote(&mut self, vote: &Vote) -> Option<ConsensusMsg> {
        let ours = self.credex_vote(vote);
        let (index, key) = self.me.as_ref()?;
        let (round, kind, block) = (ours.round, ours.kind, ours.block);
        match self.signed.get(&(round, kind)) {
            Some(earlier) if *earlier != block => return None, // never equivocate
            _ => {
                self.signed.insert((round, kind), block);
            }
        }
        let signature = key.sign(Purpose::Vote, &ours.signing_bytes());
        Some(ConsensusMsg::Vote { height: vote.height.0, round, kind, block, validator: *index, signature })
    }

    fn sign_proposal(&self, p: &Proposal) -> Option<Signature> {
        let (index, key) = self.me.as_ref()?;
        let bytes = ProposalBytes {
            chain_id: self.chain_id.clone(),
            height: p.height.0,
            round: round_u32(p.round),
            pol_round: p.pol_round.as_u32(),
            block: p.value.0,
            proposer: *index,
        };
        Some(key.sign(Purpose::Proposal, &credex_codec::encode(&bytes)))
    }

    fn run(&mut self, first: Input<Ctx>) -> Result<Vec<Action>, MsgError> {
        let mut actions = Vec::new();
        let mut inputs = VecDeque::from([first]);
        while let Some(input) = inputs.pop_front() {
            let outputs = self.driver.process(input).map_err(|e| MsgError::Driver(format!("{e:?}")))?;
            for out in outputs {
                match out {
                    Output::NewRound(h, r) => {
                        let proposer = Addr(self.proposer(h.0, round_u32(r)));
                        inputs.push_back(Input::NewRound(h, r, proposer));
                    }
                    Output::Propose(p) => {
                        // The node keeps the block body; it attaches it when broadcasting.
                        if let Some(signature) = self.sign_proposal(&p) {
                            self.seen.insert(round_u32(p.round), (p.value.0, Some(true)));
                            actions.push(Action::BroadcastProposal {
                                height: p.height.0,
                                round: round_u32(p.round),
                                pol_round: p.pol_round.as_u32(),
                                proposer: p.proposer.0,
                                block: p.value.0,
                                signature,
                            });
                            inputs.push_back(Input::Proposal(SignedMessage::new(p, Sig(signature)), Validity::Valid));
                        }
                    }
                    Output::Vote(v) => {
                        if let Some(msg) = self.sign_vote(&v) {
                            actions.push(Action::Broadcast(msg.clone()));
                            if let ConsensusMsg::Vote { signature, .. } = msg {
                                inputs.push_back(Input::Vote(SignedMessage::new(v, Sig(signature))));
                            }
                        }
                    }
                    Output::ScheduleTimeout(t) => actions.push(Action::Schedule(t)),
                    Output::GetValue(h, r, _) => actions.push(Action::GetValue { height: h.0, round: round_u32(r) }),
                    Output::Decide(_, p) => {
                        // The quorum of precommits is the proposal's round's
                        // (Tendermint line 49); the driver's current round
                        // may be later when the decision comes late.
                        let certificate = self.certificate(p.round, p.value.0)?;
                        actions.push(Action::Decided { height: p.height.0, block: p.value.0, certificate });
                    }
                }
            }
        }
        Ok(actions)
    }

    fn certificate(&self, round: Round, block: Hash32) -> Result<CommitCertificate, MsgError> {
        // The precommits for the decided block in the deciding round, as
        // kept by the driver's vote keeper (each one verified on receipt).
        let votes = self
            .driver
            .votes()
            .per_round(round)
            .map(|r| r.precommits_for_value(&block))
            .ok_or_else(|| MsgError::Driver("decided without precommits".into()))?;
        let mut signatures: Vec<CommitSig> =
            votes.iter().map(|v| CommitSig { validator: v.message.validator.0, signature: v.signature.0 }).collect();
        signatures.sort_by_key(|s| s.validator);
        signatures.dedup_by_key(|s| s.validator);
        Ok(CommitCertificate { round: round_u32(round), signatures })
    }
}

impl Future {
    fn add(&mut self, msg: ConsensusMsg, size: usize) {
        if let ConsensusMsg::Proposal { height, round, block, .. } = &msg {
            self.proposals.insert((*height, *round), block.header.id());
        }
        *self.per_signer.entry(msg.signer()).or_default() += size;
        self.total += size;
        self.msgs.push((msg, size));
    }
}

/// A validator's engine after a restart: a fresh engine at `height` with
/// the log's entries for that height replayed (entries after the last
/// `Start { height }`; none means a fresh start). Returns the engine and
/// what the node must do now: the last signed messages again (identical
/// bytes; a crash may have come between the log write and the send), the
/// pending timeouts, a decision not yet committed, a block to build if
/// the crash came before this node proposed.
pub fn recover(
    chain_id: ChainId,
    set: &credex_types::ValidatorSet,
    me: Option<(u16, SecretKey)>,
    height: u64,
    log: &[Logged],
) -> Result<(Engine, Vec<Action>), MsgError> {
    let mut engine = Engine::new(chain_id, set, me, height);
    let from = log.iter().rposition(|e| *e == Logged::Start { height });
    let Some(from) = from else {
        let actions = engine.start(height)?;
        return Ok((engine, actions));
    };
    engine.replaying = true;
    let mut actions = engine.start(height)?;
    let mut proposed = Vec::new();
    for (i, entry) in log.iter().enumerate().skip(from + 1) {
        if let Logged::Propose { round, .. } = entry {
            proposed.push(*round);
        }
        let more = engine.replay(entry).map_err(|e| MsgError::BadLog(i, e.to_string()))?;
        actions.extend(more);
    }
    engine.replaying = false;
    actions.retain(|a| match a {
        Action::Persist(_) => false,
        Action::GetValue { round, .. } => !proposed.contains(round),
        _ => true,
    });
    Ok((engine, actions))
}
