//! Merkle structures of credex: an RFC 6962 binary tree with inclusion proofs and a compressed sparse Merkle map with membership and non-membership proofs.
//!
//! * [`tree`]: the RFC 6962 / RFC 9162 Merkle tree hash (leaf prefix `0x00`,
//!   node prefix `0x01`), used for a block's transaction root and an
//!   attestation's claims root, with audit paths (spec §3.1).
//! * [`smt`]: the state map, a sparse Merkle tree over 256-bit keys in which
//!   a subtree holding one entry is that entry's leaf (so depth ≈ log₂ n, not
//!   256) and an empty subtree is the zero hash; its proofs show membership
//!   (key ↦ value) or non-membership (an empty subtree or another key's leaf
//!   where the key would be) against a root (spec §3.2).

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod smt;
pub mod stored;
pub mod tree;
