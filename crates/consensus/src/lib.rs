//! credex BFT consensus: Malachite's Tendermint driver over credex votes, proposals, validator sets and commit certificates; pure, no I/O.

pub mod context;
pub mod engine;

pub use engine::{Action, ConsensusMsg, Engine, MsgError, ProposalBytes};
pub use malachite_types::{Round, Timeout, TimeoutKind};
