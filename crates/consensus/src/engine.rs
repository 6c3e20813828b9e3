//! The consensus engine: Malachite's driver, fed with verified messages,
//! turned into actions for the node. Pure: no I/O, no clock; timeouts are
//! scheduled by the caller and fed back.
//!
//! Wire messages ([`ConsensusMsg`], canonical encoding) carry our own
//! signing bytes: a vote signs `credex_types::Vote` (spec §5.2, the bytes the
//! offline verifier checks in a commit certificate), a proposal signs
//! [`ProposalBytes`] with purpose `proposal`.

use std::collections::VecDeque;

use credex_chain::Block;
use credex_crypto::{Hash32, Purpose, SecretKey, Signature};
use credex_types::ChainId;
use credex_types::chain::{CommitCertificate, CommitSig, Evidence, SignedVote, VoteKind};
use malachite_driver::{Driver, Input, Output};
use malachite_types::{Context as _, NilOrVal, Round, SignedMessage, ThresholdParams, Timeout, Validity, VoteType};

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
}

impl ConsensusMsg {
    /// The height the message is for.
    pub fn height(&self) -> u64 {
        match self {
            ConsensusMsg::Proposal { height, .. } | ConsensusMsg::Vote { height, .. } => *height,
        }
    }
}

/// What the node must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived, handled one by one
pub enum Action {
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
    /// Not for the current height.
    #[error("message for height {0}, engine at {1}")]
    OtherHeight(u64, u64),
    /// Sender is not a validator.
    #[error("validator index {0} is not in the set")]
    UnknownValidator(u16),
    /// Wrong proposer for the round.
    #[error("proposal by {0}, not the proposer of the round")]
    NotProposer(u16),
    /// Signature fails.
    #[error("signature does not verify")]
    BadSignature,
    /// Block does not match the proposal.
    #[error("block does not match the proposal")]
    BlockMismatch,
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

/// One validator's (or a non-voting follower's) consensus state for a height.
pub struct Engine {
    /// Votes this validator signed at the current height, (round, step) →
    /// block: it never signs a different one for the same round and step,
    /// also across restarts (the node persists them and loads them back).
    signed: std::collections::BTreeMap<(u32, VoteKind), Option<Hash32>>,
    chain_id: ChainId,
    set: ValidatorSet,
    credex_set: credex_types::ValidatorSet,
    me: Option<(u16, SecretKey)>,
    driver: Driver<Ctx>,
}

impl Engine {
    /// An engine at `height`; `me` is this node's index and key if it votes.
    pub fn new(
        chain_id: ChainId,
        set: &credex_types::ValidatorSet,
        me: Option<(u16, SecretKey)>,
        height: u64,
    ) -> Engine {
        let vs = ValidatorSet::from_set(set);
        let addr = Addr(me.as_ref().map_or(u16::MAX, |(i, _)| *i));
        let driver = Driver::new(Ctx, Height(height), vs.clone(), addr, ThresholdParams::default());
        Engine { signed: Default::default(), chain_id, set: vs, credex_set: set.clone(), me, driver }
    }

    /// Current height.
    pub fn height(&self) -> u64 {
        self.driver.height().0
    }

    /// Proposer index for a height and round.
    pub fn proposer(&self, height: u64, round: u32) -> u16 {
        Ctx.select_proposer(&self.set, Height(height), round_of(round)).address.0
    }

    /// Votes this validator already signed at the current height (loaded
    /// from its store after a restart): it will not sign conflicting ones.
    pub fn restore_signed(&mut self, votes: impl IntoIterator<Item = (u32, VoteKind, Option<Hash32>)>) {
        for (round, kind, block) in votes {
            self.signed.insert((round, kind), block);
        }
    }

    /// Starts `height` at round 0 (also used to move on after a commit).
    pub fn start(&mut self, height: u64) -> Result<Vec<Action>, MsgError> {
        if height != self.height() {
            self.driver.move_to_height(Height(height), self.set.clone());
            self.signed.clear();
        }
        let proposer = Addr(self.proposer(height, 0));
        self.run(Input::NewRound(Height(height), Round::new(0), proposer))
    }

    /// The block this node proposes for `round` (after [`Action::GetValue`]).
    pub fn propose(&mut self, round: u32, block: Hash32) -> Result<Vec<Action>, MsgError> {
        self.run(Input::ProposeValue(round_of(round), BlockValue(block)))
    }

    /// A timeout fired.
    pub fn timeout(&mut self, t: Timeout) -> Result<Vec<Action>, MsgError> {
        self.run(Input::TimeoutElapsed(t))
    }

    /// Checks a proposal's sender, signature and block id (the caller then
    /// validates the block and calls [`Engine::on_proposal`]).
    pub fn check_proposal(&self, msg: &ConsensusMsg) -> Result<(), MsgError> {
        let ConsensusMsg::Proposal { height, round, pol_round, proposer, block, signature } = msg else {
            return Err(MsgError::BlockMismatch);
        };
        if *height != self.height() {
            return Err(MsgError::OtherHeight(*height, self.height()));
        }
        if *proposer != self.proposer(*height, *round) {
            return Err(MsgError::NotProposer(*proposer));
        }
        let v = self.credex_set.get(*proposer).ok_or(MsgError::UnknownValidator(*proposer))?;
        if block.header.height != *height || block.header.proposer != *proposer {
            return Err(MsgError::BlockMismatch);
        }
        let bytes = ProposalBytes {
            chain_id: self.chain_id.clone(),
            height: *height,
            round: *round,
            pol_round: *pol_round,
            block: block.header.id(),
            proposer: *proposer,
        };
        credex_crypto::verify(&v.key, Purpose::Proposal, &credex_codec::encode(&bytes), signature)
            .map_err(|_| MsgError::BadSignature)
    }

    /// A checked proposal, with the caller's verdict on its block.
    pub fn on_proposal(&mut self, msg: &ConsensusMsg, valid: bool) -> Result<Vec<Action>, MsgError> {
        self.check_proposal(msg)?;
        let ConsensusMsg::Proposal { height, round, pol_round, proposer, block, signature } = msg else {
            return Err(MsgError::BlockMismatch);
        };
        let p = Proposal {
            height: Height(*height),
            round: round_of(*round),
            value: BlockValue(block.header.id()),
            pol_round: pol_round.map_or(Round::Nil, round_of),
            proposer: Addr(*proposer),
        };
        let validity = if valid { Validity::Valid } else { Validity::Invalid };
        self.run(Input::Proposal(SignedMessage::new(p, Sig(*signature)), validity))
    }

    /// A vote from the network: checked, then fed to the driver.
    pub fn on_vote(&mut self, msg: &ConsensusMsg) -> Result<Vec<Action>, MsgError> {
        let ConsensusMsg::Vote { height, round, kind, block, validator, signature } = msg else {
            return Err(MsgError::BlockMismatch);
        };
        if *height != self.height() {
            return Err(MsgError::OtherHeight(*height, self.height()));
        }
        let v = self.credex_set.get(*validator).ok_or(MsgError::UnknownValidator(*validator))?;
        let ours = credex_types::Vote {
            chain_id: self.chain_id.clone(),
            height: *height,
            round: *round,
            kind: *kind,
            block: *block,
        };
        credex_crypto::verify(&v.key, Purpose::Vote, &ours.signing_bytes(), signature)
            .map_err(|_| MsgError::BadSignature)?;
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
                    Output::Decide(r, p) => {
                        let certificate = self.certificate(r, p.value.0)?;
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
