//! credex BFT consensus: Malachite's Tendermint driver over credex votes, proposals, validator sets and commit certificates; pure, no I/O.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod context;
pub mod engine;

pub use engine::{
    Action, ConsensusMsg, Engine, FUTURE_BYTES, FUTURE_BYTES_PER_SIGNER, FUTURE_HEIGHTS, Logged, MsgError,
    ProposalBytes, ROUNDS_AHEAD, Verifier, recover, timeout_duration,
};
pub use malachite_types::{Round, Timeout, TimeoutKind};
