//! The consensus log: an append-only file of the inputs the consensus
//! engine acted on at the current height (ADR 0003, `credex_consensus::
//! recover`), kept apart from the block store.
//!
//! Format: a sequence of records, each `len` (u32 little-endian) ‖ the
//! first 8 bytes of SHA-256(`len` ‖ payload) ‖ payload. Reading stops at the
//! first record that is cut short, too long or fails its checksum: that is
//! the tail a crash left mid-write, never acknowledged to anyone, because
//! [`ConsensusLog::sync`] (fdatasync) runs before any signed message leaves
//! the node. The tail is cut off so later appends follow the last good
//! record. [`ConsensusLog::reset`] empties the file when a new height starts.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use credex_crypto::Hash32;

/// Largest record accepted (a proposal's block body is at most the wire's
/// message limit, 8 MiB, plus its framing).
pub const MAX_RECORD: usize = 9 << 20;

/// Why the log cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// Reading or writing the file failed.
    #[error("consensus log {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A record larger than [`MAX_RECORD`] was to be written.
    #[error("consensus log record of {0} bytes exceeds {MAX_RECORD}")]
    TooLarge(usize),
}

/// The open log.
pub struct ConsensusLog {
    path: PathBuf,
    file: File,
    dirty: bool,
}

fn checksum(len: &[u8; 4], payload: &[u8]) -> [u8; 8] {
    let h: Hash32 = Hash32::sha256(&[len, payload]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.0[..8]);
    out
}

impl ConsensusLog {
    /// Opens (creating if needed) the log at `path`; returns it with the
    /// payloads of its intact records, in order.
    pub fn open(path: &Path) -> Result<(ConsensusLog, Vec<Vec<u8>>), WalError> {
        let io = |source| WalError::Io { path: path.display().to_string(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut records = Vec::new();
        let mut at = 0usize;
        while let Some(header) = bytes.get(at..at + 12) {
            let mut len = [0u8; 4];
            len.copy_from_slice(&header[..4]);
            let n = u32::from_le_bytes(len) as usize;
            let Some(payload) = bytes.get(at + 12..at + 12 + n).filter(|_| n <= MAX_RECORD) else { break };
            if header[4..12] != checksum(&len, payload) {
                break;
            }
            records.push(payload.to_vec());
            at += 12 + n;
        }
        if at < bytes.len() {
            tracing::warn!(
                target: "credex::storage",
                path = %path.display(),
                kept = records.len(),
                dropped_bytes = bytes.len() - at,
                "consensus log ends in a record cut short; dropping the tail"
            );
            file.set_len(at as u64).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        file.seek(SeekFrom::Start(at as u64)).map_err(io)?;
        Ok((ConsensusLog { path: path.to_path_buf(), file, dirty: false }, records))
    }

    fn io(&self, source: std::io::Error) -> WalError {
        WalError::Io { path: self.path.display().to_string(), source }
    }

    /// Appends a record (durable after the next [`ConsensusLog::sync`]).
    pub fn append(&mut self, payload: &[u8]) -> Result<(), WalError> {
        if payload.len() > MAX_RECORD {
            return Err(WalError::TooLarge(payload.len()));
        }
        let len = u32::try_from(payload.len()).map_err(|_| WalError::TooLarge(payload.len()))?.to_le_bytes();
        let mut rec = Vec::with_capacity(12 + payload.len());
        rec.extend_from_slice(&len);
        rec.extend_from_slice(&checksum(&len, payload));
        rec.extend_from_slice(payload);
        self.file.write_all(&rec).map_err(|e| self.io(e))?;
        self.dirty = true;
        Ok(())
    }

    /// Makes every appended record durable (fdatasync), if any is pending.
    pub fn sync(&mut self) -> Result<(), WalError> {
        if self.dirty {
            crate::crash::point("wal-before-sync");
            self.file.sync_data().map_err(|e| self.io(e))?;
            crate::crash::point("wal-after-sync");
            self.dirty = false;
        }
        Ok(())
    }

    /// Empties the log (a new height starts; the last one is committed).
    pub fn reset(&mut self) -> Result<(), WalError> {
        self.file.set_len(0).map_err(|e| self.io(e))?;
        self.file.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        self.dirty = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn records_survive_reopen_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consensus.wal");
        let (mut log, found) = ConsensusLog::open(&path).unwrap();
        assert!(found.is_empty());
        log.append(b"start").unwrap();
        log.append(&[7u8; 1000]).unwrap();
        log.append(b"third").unwrap();
        log.sync().unwrap();
        drop(log);
        // A crash in the middle of the third record's write.
        let len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 2).unwrap();
        let (mut log, found) = ConsensusLog::open(&path).unwrap();
        assert_eq!(found, vec![b"start".to_vec(), vec![7u8; 1000]]);
        // New records follow the last intact one.
        log.append(b"fourth").unwrap();
        log.sync().unwrap();
        drop(log);
        let (mut log, found) = ConsensusLog::open(&path).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[2], b"fourth".to_vec());
        // A flipped bit ends the log there too.
        log.reset().unwrap();
        log.append(b"one").unwrap();
        log.append(b"two").unwrap();
        log.sync().unwrap();
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let (_, found) = ConsensusLog::open(&path).unwrap();
        assert_eq!(found, vec![b"one".to_vec()]);
    }
}
