//! The credex node as a library: chain state over RocksDB, mempool, engines, network, raw records, audit, warnings and metrics, wired by one builder.
//!
//! * [`builder`]: options in, a [`builder::Running`] node out (the only
//!   place the parts are connected; channels are created before the node);
//! * [`args`]: the options of `credex node` / `credex dev`, defined once
//!   (flags, `CREDEX_*` environment, TOML config);
//! * [`service`]: the node: chain state in memory over the store, the
//!   mempool, the raw-record writer, block production and proofs (the
//!   consensus seam `propose` / `validate_block` / `commit`);
//! * [`queries`]: what the API reads besides the state, and read policies;
//! * [`bft`]: the multi-validator engine driving `credex-consensus`;
//! * [`compact`]: proposals gossiped as header and transaction hashes,
//!   assembled from the pool and fetched from peers (spec §10.7);
//! * [`net`]: gossip, block sync and raw-record requests over `credex-p2p`
//!   (spec §10);
//! * [`statesync`]: starting from a peer's snapshot at a certified height
//!   (spec §10.6), every part checked before the height is written;
//! * [`access`], [`records`]: who is calling, raw records across nodes
//!   and the audit log (spec §12);
//! * [`warnings`]: the risk list and its webhooks;
//! * [`metrics`]: Prometheus counters;
//! * [`dev`]: the development chain and its demo roster.
//!
//! The HTTP API (`credex-api`) reads the node through [`service::Node`]'s
//! query methods and never touches storage.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod access;
pub mod args;
pub mod bft;
pub mod builder;
pub mod compact;
pub mod dev;
pub mod metrics;
pub mod net;
pub mod queries;
pub mod records;
pub mod service;
pub mod statesync;
pub mod warnings;

pub use credex_storage::StoreError;
pub use service::Node;
