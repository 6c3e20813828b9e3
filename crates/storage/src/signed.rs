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
//! File format: two 64-byte slots, written in turn; each holds a sequence
//! number (u64 little-endian), the canonical encoding (`credex-codec`) of
//! [`Signed`] zero-padded to 48 bytes, and the first 8 bytes of the SHA-256
//! of the two; the readable slot with the higher sequence number is the record.

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

/// Size of one slot of the record file: sequence number (8 bytes), the
/// encoded [`Signed`] padded to 48 bytes, and 8 bytes of its SHA-256.
const SLOT: usize = 64;
const BODY: usize = 48;

/// The record of what this validator signed ([`SignGuard::approve`] before
/// each signature). The file has two slots written in turn, each with a
/// sequence number and a checksum, so one write and one `fdatasync` record
/// a signature and a write torn by a crash leaves the other slot intact.
#[derive(Debug)]
pub struct SignGuard {
    path: PathBuf,
    state: Mutex<(std::fs::File, u64, Option<Signed>)>,
}

fn slot_bytes(seq: u64, s: &Signed) -> Option<[u8; SLOT]> {
    let body = credex_codec::encode(s);
    if body.len() > BODY {
        return None;
    }
    let mut out = [0u8; SLOT];
    out[..8].copy_from_slice(&seq.to_le_bytes());
    out[8..8 + body.len()].copy_from_slice(&body);
    let sum = Hash32::sha256(&[&out[..8 + BODY]]);
    out[8 + BODY..].copy_from_slice(&sum.0[..8]);
    Some(out)
}

fn parse_slot(b: &[u8]) -> Option<(u64, Signed)> {
    if b.len() != SLOT || b.iter().all(|x| *x == 0) {
        return None;
    }
    let sum = Hash32::sha256(&[&b[..8 + BODY]]);
    if sum.0[..8] != b[8 + BODY..] {
        return None;
    }
    let seq = u64::from_le_bytes(b[..8].try_into().ok()?);
    // the body is the encoding followed by zero padding: decode the shortest prefix that decodes
    (1..=BODY).find_map(|n| credex_codec::decode::<Signed>(&b[8..8 + n], BODY).ok()).map(|s| (seq, s))
}

impl SignGuard {
    /// Opens the record at `path` (none yet: nothing signed). A record whose
    /// slots are both unreadable is an error, never "nothing signed".
    pub fn open(path: &Path) -> Result<SignGuard, SignError> {
        use std::io::Read as _;
        let err = |reason: String| SignError::Record { path: path.display().to_string(), reason };
        let existed = path.exists();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| err(e.to_string()))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| err(e.to_string()))?;
        let (seq, last) = if bytes.is_empty() {
            (0, None)
        } else {
            let best = bytes.chunks(SLOT).filter_map(parse_slot).max_by_key(|(seq, _)| *seq);
            let (seq, s) = best.ok_or_else(|| err("corrupt: no readable slot".into()))?;
            (seq, Some(s))
        };
        if !existed {
            // the new file's name is durable before anything is recorded in it
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| err(e.to_string()))?;
            }
        }
        Ok(SignGuard { path: path.to_path_buf(), state: Mutex::new((file, seq, last)) })
    }

    /// The last signature recorded.
    pub fn last(&self) -> Option<Signed> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).2
    }

    /// Allows `next` if it goes forward from the last signature (or is the
    /// same signature again) and records it durably first; otherwise refuses.
    pub fn approve(&self, next: Signed) -> Result<(), SignError> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(l) = state.2 {
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
        let seq = state.1 + 1;
        self.write(&state.0, seq, &next)?;
        *state = (state.0.try_clone().map_err(|e| self.err(e))?, seq, Some(next));
        Ok(())
    }

    fn err(&self, e: std::io::Error) -> SignError {
        SignError::Record { path: self.path.display().to_string(), reason: e.to_string() }
    }

    /// Writes slot `seq % 2` in place and waits for the data to be on disk.
    fn write(&self, file: &std::fs::File, seq: u64, s: &Signed) -> Result<(), SignError> {
        use std::os::unix::fs::FileExt as _;
        let bytes = slot_bytes(seq, s).ok_or_else(|| SignError::Record {
            path: self.path.display().to_string(),
            reason: "record too large".into(),
        })?;
        file.write_all_at(&bytes, (seq % 2) * SLOT as u64).map_err(|e| self.err(e))?;
        crate::crash::point("signed-before-sync");
        file.sync_data().map_err(|e| self.err(e))?;
        crate::crash::point("signed-after-sync");
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
        drop(g);
        // a write torn in one slot leaves the other: the record goes back at most one signature
        let mut bytes = std::fs::read(&path).unwrap();
        let newest = if bytes[..8] > bytes[64..72] { 0 } else { 64 };
        bytes[newest + 20] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(SignGuard::open(&path).unwrap().last(), Some(s(5, 1, STEP_PROPOSAL, 3)));
        // a record with no readable slot is an error, not a fresh start
        std::fs::write(&path, [1u8; 128]).unwrap();
        assert!(matches!(SignGuard::open(&path), Err(SignError::Record { .. })));
    }
}
