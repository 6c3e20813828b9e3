//! The `credex` binary's multi-process tests, in one integration-test binary:
//! the CLI, the `credex dev` chain, and networks of `credex node` processes
//! on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adversarial;
mod bft;
mod browser;
mod cli;
mod dev_node;
mod lifecycle;
mod network;
