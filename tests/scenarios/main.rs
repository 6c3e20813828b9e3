//! The `credex` binary's multi-process tests, in one integration-test binary:
//! the CLI, the `credex dev` chain, and networks of `credex node` processes
//! on loopback. The harness they share (starting `credex dev`, HTTP raw
//! and through the typed client, signing, running the CLI) is
//! `credex_tests::harness`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adversarial;
mod bft;
mod browser;
mod cli;
mod crash;
mod dev_node;
mod lifecycle;
mod network;
