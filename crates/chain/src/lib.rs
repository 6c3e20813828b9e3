//! Pure credex chain logic: transactions, admission and block validation, and the deterministic state transition.
//!
//! Nothing here does I/O or reads a clock: a block's height and time come in
//! as a [`BlockContext`], the state comes in through [`StateRead`], and the
//! effects go out as a list of state writes. The node, every validator and
//! every observer run exactly this code, so they agree on every state root.
//!
//! The rules (spec `docs/spec/09-chain-rules.md`):
//!
//! * **Blocks** ([`check_header`], [`next_header`], [`BlockOutcome`]): the
//!   header rules, and everything a block's execution changed, derived once.
//!
//! * **Admission** ([`check_tx`]): size limit, chain id, header shape, issuer
//!   registered in genesis and allowed to issue the kind, issuer signature
//!   under the registered key.
//! * **Anchoring** ([`apply_tx`]): an attestation id is anchored once
//!   ([`TxError::AlreadyAnchored`]); the record stores the issuer key it was
//!   checked against.
//! * **Supersession** (`supersedes: Some(target)`): the target must be
//!   anchored, active, of the same issuer (谁认定、谁修复) and about the same
//!   subject. A `revocation` marks it revoked, an `erasure-tombstone` erased,
//!   anything else superseded. Replacing a listing in force by a listing on
//!   the same list keeps the subject listed under the new attestation;
//!   revoking, erasing or otherwise superseding it takes the subject off.
//! * **Lists**: an entering kind (e.g. `abnormal-operation-listing`) needs
//!   the subject not already on that list; a leaving kind needs it on the
//!   list and the leaving attestation's issuer to be the listing agency.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod block;
mod exec;
mod index;
mod tx;

pub use block::{BlockOutcome, HeaderError, check_header, next_context, next_header};

pub use exec::{
    Admitted, AnchorRead, BlockContext, Built, ESCALATION_AFTER_MS, ExecError, MAX_ESCALATIONS_PER_BLOCK, MemState,
    Overlay, SigCheck, StateError, StateRead, TxError, WithAnchors, admit, admit_checked, apply_admitted,
    apply_rules_of, apply_tx, begin_block, build_block, check_tx, end_block, execute_block, execute_block_with,
    has_block_work, issuer, validator_set,
};
pub use index::{IndexEntry, index_changes, index_entries, matches};
pub use tx::{AnchorTx, Block, MAX_BLOCK_TXS, MAX_TX_BYTES, Transaction, tx_root, tx_root_of_hashes};
