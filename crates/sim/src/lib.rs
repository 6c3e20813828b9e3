//! Deterministic simulation of credex consensus: N validators over the pure engine, a simulated network and clock, crashes from the consensus log, byzantine actors; checks safety, liveness and evidence for every seed.
//!
//! (Issue #14, ADR 0003.)
//! N validators run the real engine (`credex_consensus::Engine`, Malachite's
//! Tendermint driver) with real Ed25519 keys in one process, over a
//! simulated network (drop, delay, reorder, duplicate, partition and heal)
//! and a virtual clock, all driven by one seed: the same seed replays the
//! same run, event for event ([`world`]). Honest validators crash and
//! restart from what their consensus log made durable
//! (`credex_consensus::recover`). Byzantine validators (up to f) equivocate
//! as proposers, double-vote, lose their log (amnesia), flood, or propose
//! invalid blocks ([`Behaviour`]).
//!
//! Checked on every run ([`Violation`]):
//! * **safety**: no two honest validators commit different blocks at a
//!   height; every decision's certificate verifies with the offline
//!   verifier's `verify_commit`;
//! * **liveness**: after the network heals, with more than 2/3 honest and
//!   up, every honest validator commits at least `progress_after_heal`
//!   more heights;
//! * **evidence**: every validator that sent conflicting votes has
//!   evidence against it on the chain, and no evidence accuses an honest one;
//! * **bounded inputs**: an honest validator executes at most one proposal
//!   per height and round, and buffers at most `FUTURE_BYTES` of future
//!   messages.

#![warn(unreachable_pub)]

pub mod rng;
pub mod world;

pub use world::{Behaviour, Config, Faults, Report, Violation, World};

/// Runs one configuration: its report, or the first violated property
/// with each validator's state at that point.
pub fn run(cfg: Config) -> Result<Report, (Violation, String)> {
    World::new(cfg).run()
}
