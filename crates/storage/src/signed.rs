//! What this validator has signed, kept apart from the block store (as
//! CometBFT keeps `priv_validator_state.json`): one small file, replaced
//! atomically and fsync'd before every signature leaves the node.
//!
//! A validator that lost the tail of its block store (a cut write-ahead
//! log, a restored backup) would otherwise start at a lower height and sign
//! *new* blocks for heights it already certified: two certificates for one
//! height, and every proof issued for the first contradicts the chain. The
//! record is the last `(height, round, step, block)` signed; a signature is
//! allowed only if it goes forward, or repeats the same one exactly.
//!
//! File format: the canonical encoding (`credex-codec`) of [`Signed`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use credex_crypto::Hash32;

/// The step of a proposal in the order of signatures within a round.
pub const STEP_PROPOSAL: u8 = 0;
/// The step of a prevote.
pub const STEP_PREVOTE: u8 = 1;
/// The step of a precommit.
pub const STEP_PRECOMMIT: u8 = 2;

/// One signature: where and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Signed {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// [`STEP_PROPOSAL`], [`STEP_PREVOTE`] or [`STEP_PRECOMMIT`].
    pub step: u8,
    /// The block signed for (`None`: nil).
    pub block: Option<Hash32>,
}

impl Signed {
    fn position(&self) -> (u64, u32, u8) {
        (self.height, self.round, self.step)
    }
}

/// Why a signature is refused or the record cannot be kept.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signature would go back to where this validator already signed.
    #[error(
        "refusing to sign height {height} round {round} step {step}: this validator already signed height \
         {last_height} round {last_round} step {last_step} (its block store may have lost blocks it certified; \
         restore the data directory or let the node sync past height {last_height})"
    )]
    Behind {
        /// The refused signature's height.
        height: u64,
        /// Its round.
        round: u32,
        /// Its step.
        step: u8,
        /// The last signature's height.
        last_height: u64,
        /// Its round.
        last_round: u32,
        /// Its step.
        last_step: u8,
    },
    /// Another block at a position already signed: an equivocation.
    #[error("refusing to sign height {height} round {round} step {step} for another block than the one already signed")]
    Conflict {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Step.
        step: u8,
    },
    /// The record cannot be read or written (nothing is signed then).
    #[error("signed-state record {path}: {reason}")]
    Record {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The record of what this validator signed ([`SignGuard::approve`] before
/// each signature).
#[derive(Debug)]
pub struct SignGuard {
    path: PathBuf,
    last: Mutex<Option<Signed>>,
}

impl SignGuard {
    /// Opens the record at `path` (none yet: nothing signed). A record that
    /// does not decode is an error, never "nothing signed".
    pub fn open(path: &Path) -> Result<SignGuard, SignError> {
        let err = |reason: String| SignError::Record { path: path.display().to_string(), reason };
        let last = match std::fs::read(path) {
            Ok(bytes) => Some(credex_codec::decode::<Signed>(&bytes, 64).map_err(|e| err(format!("corrupt: {e}")))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(err(e.to_string())),
        };
        Ok(SignGuard { path: path.to_path_buf(), last: Mutex::new(last) })
    }

    /// The last signature recorded.
    pub fn last(&self) -> Option<Signed> {
        *self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Allows `next` if it goes forward from the last signature (or is the
    /// same signature again) and records it durably first; otherwise refuses.
    pub fn approve(&self, next: Signed) -> Result<(), SignError> {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = *last {
            if next.position() < l.position() {
                return Err(SignError::Behind {
                    height: next.height,
                    round: next.round,
                    step: next.step,
                    last_height: l.height,
                    last_round: l.round,
                    last_step: l.step,
                });
            }
            if next.position() == l.position() {
                return if next.block == l.block {
                    Ok(())
                } else {
                    Err(SignError::Conflict { height: next.height, round: next.round, step: next.step })
                };
            }
        }
        self.write(&next)?;
        *last = Some(next);
        Ok(())
    }

    /// Replaces the file atomically: a temporary file, fsync'd, renamed, and
    /// the directory fsync'd.
    fn write(&self, s: &Signed) -> Result<(), SignError> {
        use std::io::Write as _;
        let err =
            |e: std::io::Error| SignError::Record { path: self.path.display().to_string(), reason: e.to_string() };
        let tmp = self.path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(&credex_codec::encode(s)).map_err(err)?;
        f.sync_all().map_err(err)?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(height: u64, round: u32, step: u8, block: u8) -> Signed {
        Signed { height, round, step, block: Some(Hash32([block; 32])) }
    }

    #[test]
    fn signatures_only_go_forward_and_the_record_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signed-state");
        let g = SignGuard::open(&path).unwrap();
        assert_eq!(g.last(), None);
        g.approve(s(5, 0, STEP_PREVOTE, 1)).unwrap();
        g.approve(s(5, 0, STEP_PREVOTE, 1)).unwrap(); // the same again: fine
        assert!(matches!(g.approve(s(5, 0, STEP_PREVOTE, 2)), Err(SignError::Conflict { .. })));
        g.approve(s(5, 0, STEP_PRECOMMIT, 1)).unwrap();
        g.approve(s(5, 1, STEP_PROPOSAL, 3)).unwrap();
        assert!(matches!(g.approve(s(5, 0, STEP_PRECOMMIT, 1)), Err(SignError::Behind { .. })));
        assert!(matches!(g.approve(s(4, 9, STEP_PRECOMMIT, 1)), Err(SignError::Behind { last_height: 5, .. })));
        drop(g);
        // after a restart the record still says where this validator is
        let g = SignGuard::open(&path).unwrap();
        assert_eq!(g.last(), Some(s(5, 1, STEP_PROPOSAL, 3)));
        let e = g.approve(s(3, 0, STEP_PRECOMMIT, 7)).unwrap_err().to_string();
        assert!(e.contains("already signed height 5"), "{e}");
        g.approve(s(6, 0, STEP_PROPOSAL, 4)).unwrap();
        // a damaged record is an error, not a fresh start
        std::fs::write(&path, b"\x01").unwrap();
        assert!(matches!(SignGuard::open(&path), Err(SignError::Record { .. })));
    }
}
