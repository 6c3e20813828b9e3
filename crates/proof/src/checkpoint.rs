//! Checkpoints (spec §8.5): a later header a relying party trusts, so that
//! validator keys retired before it no longer count.
//!
//! Genesis alone lets a verifier follow every certified set change, but a
//! proof may leave changes out: keys the chain retired (rotated out after a
//! compromise, or of a removed agency) can still sign a block at a later
//! height that names the genesis set, and a genesis-only verifier accepts
//! it. A checkpoint fixes that, in the manner of weak subjectivity: the
//! partner obtains it from a source it trusts (with the genesis, from the
//! agencies it deals with; its hash compared by a second channel), and
//! from then on only the set in force after the checkpoint, and changes
//! that set certifies, sign anything the verifier accepts; proofs anchored
//! below the checkpoint are refused (ask for a fresh one). Refresh it when
//! the set changes (`credex checkpoint`).

use crate::{Anchor, FormatError, armor, dearmor};
use credex_types::chain::ValidatorSet;

/// The only checkpoint version.
pub const CHECKPOINT_VERSION: u8 = 1;
/// Prefix of the text form.
pub const CHECKPOINT_PREFIX: &str = "credex-checkpoint1:";
/// Largest encoded checkpoint accepted.
pub const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;

/// A certified header with the set changes that lead to it from genesis
/// and the set in force after it.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// [`CHECKPOINT_VERSION`].
    pub version: u8,
    /// The trusted header, its certificate and the set changes before it.
    pub anchor: Anchor,
    /// The set in force after the header (its hash is the header's
    /// `next_validators_hash`).
    pub next_set: ValidatorSet,
}

impl Checkpoint {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        credex_codec::encode(self)
    }

    /// `credex-checkpoint1:` + unpadded base64url of the canonical bytes.
    pub fn to_text(&self) -> String {
        armor(CHECKPOINT_PREFIX, &self.to_bytes())
    }

    /// Reads the text form or canonical bytes.
    pub fn from_any(data: &[u8]) -> Result<Checkpoint, FormatError> {
        let bytes = match core::str::from_utf8(data) {
            Ok(t) if t.trim_start().starts_with(CHECKPOINT_PREFIX) => {
                dearmor(CHECKPOINT_PREFIX, t, MAX_CHECKPOINT_BYTES)?
            }
            _ => data.to_vec(),
        };
        Ok(credex_codec::decode(&bytes, MAX_CHECKPOINT_BYTES)?)
    }

    /// The trusted header's height.
    pub fn height(&self) -> u64 {
        self.anchor.header.height
    }
}
