//! State snapshots, served and imported (spec §10.6).
//!
//! **Serving.** [`Store::snapshot`] makes a RocksDB checkpoint of the whole
//! store (hard links to its table files, so cheap in time and disk) in a
//! directory of its own and opens it read-only: a [`Snapshot`] is the
//! store exactly at one committed height, whatever the live store commits
//! meanwhile. Its two parts are read in key order, in chunks bounded in
//! bytes: the state's values ([`Snapshot::state_chunk`], family `state`)
//! and the anchored attestations ([`Snapshot::anchor_chunk`], family
//! `attestations`). Dropping it removes the directory.
//!
//! **Importing.** A store at height 0 takes a snapshot in steps, marked in
//! `meta` (`import`) until the last: [`Store::begin_import`] (clears any
//! earlier attempt), [`Store::import_values`] (each entry decoded, its
//! encoding canonical, its key the hash of its state key),
//! [`Store::import_values_done`] (the map's nodes and the indexes built from
//! the values, the root returned for the caller to compare with the
//! certified header's), [`Store::import_anchors`] (the anchored headers and
//! the subject index), and [`Store::finish_import`] (cases from the state,
//! the head block and the set-change blocks, the height: one synced write).
//! A store whose import was cut short ([`Store::import_unfinished`]) holds
//! nothing checked: [`Store::abort_import`] empties it again. What a
//! snapshot does not carry (blocks below its height, the transaction index
//! of those blocks, audit anchors before it) is absent from the importing
//! node; it serves what it holds.

use std::path::{Path, PathBuf};

use credex_chain::{AnchorTx, Block};
use credex_crypto::Hash32;
use credex_types::attestation::AttestationId;
use credex_types::chain::{CommitCertificate, ValidatorSet};
use credex_types::state::{StateKey, StateValue};
use rocksdb::{DB, Direction, IteratorMode, Options, WriteBatch, WriteOptions};

use crate::state::{CF_STATE_INDEX, CF_STATE_MAP};
use crate::{
    CF_ATTESTATIONS, CF_BLOCKS, CF_CASES, CF_CERTS, CF_META, CF_SET_CHANGES, CF_STATE, CF_SUBJECTS, FAMILIES, Store,
    StoreError, decode,
};

/// `meta` key present while an import is under way.
const IMPORT: &str = "import";

/// A consistent, read-only copy of a store at one committed height.
pub struct Snapshot {
    db: DB,
    dir: PathBuf,
    height: u64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("dir", &self.dir).field("height", &self.height).finish()
    }
}

impl Snapshot {
    /// The committed height the snapshot is the state after.
    pub fn height(&self) -> u64 {
        self.height
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db.cf_handle(name).ok_or_else(|| StoreError::Corrupt {
            what: "snapshot",
            error: credex_codec::CodecError::Malformed(format!("no family {name}")),
        })
    }

    /// The block at `height` with its certificate.
    pub fn block_with_certificate(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, StoreError> {
        let hk = height.to_be_bytes();
        let block = self.db.get_cf(self.cf(CF_BLOCKS)?, hk)?;
        let cert = self.db.get_cf(self.cf(CF_CERTS)?, hk)?;
        match (block, cert) {
            (Some(b), Some(c)) => Ok(Some((decode("block", &b)?, decode("certificate", &c)?))),
            _ => Ok(None),
        }
    }

    /// State values after the key `after`: (key hash, `encode((StateKey,
    /// StateValue))`), in key order, about `budget` bytes; whether more follow.
    pub fn state_chunk(&self, after: Option<&[u8]>, budget: usize) -> Result<Chunk, StoreError> {
        self.chunk(CF_STATE, after, budget)
    }

    /// Anchored attestations after the key `after`: (id, `encode((height,
    /// AnchorTx))`), in key order, about `budget` bytes; whether more follow.
    pub fn anchor_chunk(&self, after: Option<&[u8]>, budget: usize) -> Result<Chunk, StoreError> {
        self.chunk(CF_ATTESTATIONS, after, budget)
    }

    /// How many entries each part holds (RocksDB's estimate: for progress only).
    pub fn estimated_counts(&self) -> Result<(u64, u64), StoreError> {
        let estimate = |name: &str| -> Result<u64, StoreError> {
            Ok(self.db.property_int_value_cf(self.cf(name)?, "rocksdb.estimate-num-keys")?.unwrap_or(0))
        };
        Ok((estimate(CF_STATE)?, estimate(CF_ATTESTATIONS)?))
    }

    fn chunk(&self, family: &str, after: Option<&[u8]>, budget: usize) -> Result<Chunk, StoreError> {
        let mode = match after {
            Some(k) => IteratorMode::From(k, Direction::Forward),
            None => IteratorMode::Start,
        };
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        for item in self.db.iterator_cf(self.cf(family)?, mode) {
            let (k, v) = item?;
            if after.is_some_and(|a| *k <= *a) {
                continue;
            }
            let size = k.len() + v.len();
            if bytes + size > budget && !entries.is_empty() {
                return Ok(Chunk { entries, more: true });
            }
            bytes += size;
            entries.push((k.to_vec(), v.to_vec()));
        }
        Ok(Chunk { entries, more: false })
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(target: "credex::storage", dir = %self.dir.display(), error = %e, "snapshot directory not removed");
        }
    }
}

/// Entries of one snapshot part in key order, and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// (key, value), strictly increasing keys.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether entries follow.
    pub more: bool,
}

/// A block that changed the validator set, for the importing store.
#[derive(Debug, Clone)]
pub struct SetChangeBlock {
    /// The block.
    pub block: Block,
    /// Its certificate.
    pub certificate: CommitCertificate,
    /// The set it hands over to.
    pub next_set: ValidatorSet,
}

impl Store {
    /// A snapshot of this store at its committed height, as a checkpoint in
    /// `dir` (replaced if it exists; on the store's file system). The
    /// caller keeps commits out while this runs, so that the height it
    /// pairs with the snapshot is the snapshot's.
    pub fn snapshot(&self, dir: &Path) -> Result<Snapshot, StoreError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| io(dir, &e))?;
        }
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(dir)?;
        let mut opts = Options::default();
        opts.set_max_log_file_size(1 << 20);
        opts.set_keep_log_file_num(1);
        let db = DB::open_cf_for_read_only(&opts, dir, FAMILIES, false)?;
        let height = match db.get_cf(db.cf_handle(CF_META).ok_or_else(|| io(dir, &"no meta family"))?, b"height")? {
            Some(b) => <[u8; 8]>::try_from(b.as_slice()).map(u64::from_be_bytes).map_err(|_| StoreError::Corrupt {
                what: "height",
                error: credex_codec::CodecError::Malformed("not 8 bytes".into()),
            })?,
            None => 0,
        };
        tracing::info!(target: "credex::storage", dir = %dir.display(), height, "state snapshot made");
        Ok(Snapshot { db, dir: dir.to_path_buf(), height })
    }

    /// Whether an import began and did not finish.
    pub fn import_unfinished(&self) -> Result<bool, StoreError> {
        Ok(self.meta(IMPORT)?.is_some())
    }

    /// Starts importing a snapshot into this store, which must hold no
    /// block; whatever an earlier attempt left is removed first.
    pub fn begin_import(&self) -> Result<(), StoreError> {
        let have = self.height()?;
        if have != 0 {
            return Err(StoreError::NotEmpty { height: have });
        }
        let mut b = WriteBatch::default();
        self.clear_imported(&mut b);
        b.put_cf(self.cf(CF_META), IMPORT.as_bytes(), [1]);
        self.write_synced(b)
    }

    /// Empties what an unfinished import wrote; the store is then at height
    /// 0 with an empty state again.
    pub fn abort_import(&self) -> Result<(), StoreError> {
        if self.height()? != 0 {
            return Err(StoreError::NotEmpty { height: self.height()? });
        }
        let mut b = WriteBatch::default();
        self.clear_imported(&mut b);
        b.delete_cf(self.cf(CF_META), IMPORT.as_bytes());
        self.write_synced(b)?;
        // the (empty) map and indexes are complete again
        self.build_state_map_and_indexes()?;
        Ok(())
    }

    fn clear_imported(&self, b: &mut WriteBatch) {
        let all = ([0u8].as_slice(), [0xffu8; 40].as_slice());
        for family in [CF_STATE, CF_STATE_MAP, CF_STATE_INDEX, CF_ATTESTATIONS, CF_SUBJECTS, CF_CASES, CF_SET_CHANGES] {
            b.delete_range_cf(self.cf(family), all.0, all.1);
            // delete_range's end is exclusive: the largest keys go one by one
            b.delete_cf(self.cf(family), all.1);
        }
    }

    /// Writes state values of a snapshot (see [`Snapshot::state_chunk`]).
    /// Each must decode, be in canonical encoding and sit under its state
    /// key's hash; the first that does not is [`StoreError::BadSnapshot`]
    /// and nothing of the chunk is written. Not yet checked against any root.
    /// Returns how many of them are attestation records.
    pub fn import_values(&self, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<u64, StoreError> {
        self.importing()?;
        let mut records = 0;
        let mut b = WriteBatch::default();
        for (i, (k, v)) in entries.iter().enumerate() {
            let bad = |why: &str| StoreError::BadSnapshot(format!("state entry {i}: {why}"));
            let (key, value): (StateKey, StateValue) =
                credex_codec::decode(v, crate::MAX_VALUE).map_err(|e| bad(&e.to_string()))?;
            if credex_codec::encode(&(&key, &value)) != *v {
                return Err(bad("not in canonical encoding"));
            }
            if key.hash().0.as_slice() != k.as_slice() {
                return Err(bad("not under its key's hash"));
            }
            if matches!(key, StateKey::Attestation(_)) {
                records += 1;
            }
            b.put_cf(self.cf(CF_STATE), k, v);
        }
        self.db.write(b)?;
        Ok(records)
    }

    /// After the last value: builds the state map's nodes and the indexes
    /// from the values written, and returns the map's root (to compare with
    /// the certified header's state root).
    pub fn import_values_done(&self) -> Result<Hash32, StoreError> {
        self.importing()?;
        self.build_state_map_and_indexes()?;
        self.state_root()
    }

    /// Writes anchored attestations (id, anchoring height, anchor) whose
    /// records the caller checked in the imported state, with the subject
    /// index.
    pub fn import_anchors(&self, anchors: &[(AttestationId, u64, AnchorTx)]) -> Result<(), StoreError> {
        self.importing()?;
        let mut b = WriteBatch::default();
        for (id, h, a) in anchors {
            b.put_cf(self.cf(CF_ATTESTATIONS), id.0.0, credex_codec::encode(&(*h, a)));
            let mut sk = credex_codec::encode(&a.header.subject);
            sk.extend_from_slice(&id.0.0);
            b.put_cf(self.cf(CF_SUBJECTS), sk, h.to_be_bytes());
        }
        self.db.write(b)?;
        Ok(())
    }

    /// Ends the import: the case index from the imported state, the head
    /// block with its certificate, the blocks that changed the validator set
    /// before it (and the head's own change, `head_change`), and the height,
    /// in one synced write. Refused if the imported root is not the head's.
    pub fn finish_import(
        &self,
        head: (&Block, &CommitCertificate),
        set_changes: &[SetChangeBlock],
        head_change: Option<&ValidatorSet>,
    ) -> Result<(), StoreError> {
        self.importing()?;
        let (block, cert) = head;
        let root = self.state_root()?;
        if root != block.header.state_root {
            return Err(StoreError::StateRoot { ours: root, header: block.header.state_root });
        }
        let mut b = WriteBatch::default();
        for item in self.db.iterator_cf(self.cf(CF_STATE), IteratorMode::Start) {
            let (_, v) = item?;
            if let (StateKey::Case(id), StateValue::Case(c)) = decode::<(StateKey, StateValue)>("state entry", &v)? {
                let mut ck = credex_codec::encode(&c.subject);
                ck.extend_from_slice(&id.0.0);
                let filed = c.history.first().map_or(0, |e| e.height);
                b.put_cf(self.cf(CF_CASES), ck, filed.to_be_bytes());
            }
        }
        let put_block = |b: &mut WriteBatch, block: &Block, cert: &CommitCertificate| {
            let hk = block.header.height.to_be_bytes();
            b.put_cf(self.cf(CF_BLOCKS), hk, credex_codec::encode(block));
            b.put_cf(self.cf(CF_CERTS), hk, credex_codec::encode(cert));
        };
        for ch in set_changes {
            put_block(&mut b, &ch.block, &ch.certificate);
            b.put_cf(self.cf(CF_SET_CHANGES), ch.block.header.height.to_be_bytes(), credex_codec::encode(&ch.next_set));
        }
        put_block(&mut b, block, cert);
        if let Some(set) = head_change {
            b.put_cf(self.cf(CF_SET_CHANGES), block.header.height.to_be_bytes(), credex_codec::encode(set));
        }
        b.put_cf(self.cf(CF_META), b"height", block.header.height.to_be_bytes());
        b.put_cf(self.cf(CF_META), b"base", block.header.height.to_be_bytes());
        b.delete_cf(self.cf(CF_META), IMPORT.as_bytes());
        self.write_synced(b)
    }

    /// The height a state sync started this store from (its first block
    /// held), if it was.
    pub fn base(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.meta("base")?.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok()).map(u64::from_be_bytes))
    }

    fn importing(&self) -> Result<(), StoreError> {
        if self.import_unfinished()? { Ok(()) } else { Err(StoreError::NotImporting) }
    }

    fn write_synced(&self, b: WriteBatch) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(b, &wo)?;
        Ok(())
    }
}

fn io(dir: &Path, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Snapshot(format!("{}: {e}", dir.display()))
}
