//! Record keys outside RocksDB (spec §11.5, erasure).
//!
//! A raw record is encrypted under a key of its own; erasing the record
//! destroys the key. RocksDB cannot destroy anything reliably: a deleted
//! value lives on in the write-ahead log (kept while any column family has
//! unflushed data) and in table files until compaction. So the keys live
//! here instead, in one file of fixed 32-byte slots (`RECORD_KEYS` in the
//! database directory); RocksDB stores only a key's slot number. Destroying
//! a key overwrites its slot with zeros in place and syncs the file, so no
//! copy is left in any file of the data directory. (A copy-on-write
//! filesystem or an SSD's wear levelling may still keep the old block below
//! the file system: run nodes on encrypted disks as well.) An all-zero slot
//! is a destroyed key.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::Mutex;

/// Bytes per slot.
const SLOT: u64 = 32;

/// The key file.
pub(crate) struct KeySlab {
    file: Mutex<File>,
}

impl KeySlab {
    /// Opens (creating if needed) the key file at `path`.
    pub(crate) fn open(path: &Path) -> std::io::Result<KeySlab> {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        Ok(KeySlab { file: Mutex::new(file) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends `keys` durably; returns the slot of the first.
    pub(crate) fn append(&self, keys: &[[u8; 32]]) -> std::io::Result<u64> {
        let f = self.lock();
        let len = f.metadata()?.len();
        // a torn append (crash mid-write) leaves a partial slot: start after it
        let first = len.div_ceil(SLOT);
        let bytes: Vec<u8> = keys.iter().flatten().copied().collect();
        f.write_all_at(&bytes, first * SLOT)?;
        f.sync_data()?;
        Ok(first)
    }

    /// The key in `slot`; `None` once destroyed (or never written).
    pub(crate) fn get(&self, slot: u64) -> std::io::Result<Option<[u8; 32]>> {
        let f = self.lock();
        let mut key = [0u8; 32];
        match f.read_exact_at(&mut key, slot * SLOT) {
            Ok(()) => Ok((key != [0u8; 32]).then_some(key)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Overwrites `slot` with zeros and syncs: the key is gone.
    pub(crate) fn destroy(&self, slot: u64) -> std::io::Result<()> {
        let f = self.lock();
        if slot * SLOT >= f.metadata()?.len() {
            return Ok(());
        }
        f.write_all_at(&[0u8; 32], slot * SLOT)?;
        f.sync_data()
    }
}
