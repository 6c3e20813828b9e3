//! Durable credex storage: typed RocksDB column families, one fsync'd atomic write batch per committed block.
//!
//! Column families (all values are canonical encodings, `credex-codec`):
//!
//! | family | key | value |
//! |---|---|---|
//! | `blocks` | height (u64 BE) | [`Block`] |
//! | `certificates` | height (u64 BE) | [`CommitCertificate`] |
//! | `transactions` | tx hash | height (u64 BE) |
//! | `attestations` | attestation id | (height, [`AnchorTx`]) |
//! | `subjects` | encode(subject) ‖ attestation id | height (u64 BE) |
//! | `state` | state-key hash | ([`StateKey`], [`StateValue`]) |
//! | `state_map` | depth (u16 BE) ‖ key prefix (⌈depth/8⌉ bytes) | the map node there: tag (0 leaf, 1 inner) ‖ two hashes |
//! | `state_index` | `a`/`g`/`m`/`n`/`c` ‖ … (see module `state`) | the list, escalation, issuer and name indexes |
//! | `raw` | attestation id | XChaCha20-Poly1305 ciphertext of the full [`Attestation`] (field values and salts; issuer-side only): 24-byte nonce ‖ ciphertext, the id as associated data |
//! | `record_keys` | attestation id | the slot (u64 BE) of the record's own 256-bit key in the key file `RECORD_KEYS` (`keyslab`: outside RocksDB, so destroying a key leaves no copy in a log or table file); the slot is zeroed when an erasure tombstone for it is committed |
//! | `meta` | name | value (`genesis`: genesis hash; `height`: last committed height; `state-map`: the map nodes and indexes are complete; `import`: a snapshot import under way (module `snapshot`); `base`: the height a state sync started the store from; `purge` ‖ slot (u64 BE): a key destruction still to do, written with the erasing block and removed once the slot is zeroed) |
//! | `cases` | encode(subject) ‖ case id | height (u64 BE) of the filing |
//! | `warnings` | `e` ‖ seq (u64 BE) → early-warning event (JSON); `r` ‖ encode(subject) → the rules it triggers now (JSON); `s` ‖ id → webhook subscription (JSON) — node-local, not chain state |
//! | `audit` | `e` ‖ seq (u64 BE) → [`AuditEntry`]; `s` ‖ encode(subject) ‖ seq → (index); `h` → (seq, head hash) — this node's query audit log |
//! | `audit_anchors` | encode(node agency) ‖ seq (u64 BE) | (height, head hash): every audit head anchored on chain |
//!
//! [`Store::commit_block`] writes a block, its certificate, its state writes,
//! its anchors and the new height in **one** `WriteBatch` with `sync = true`:
//! after it returns the block survives a crash, and a crash before it
//! leaves no part of the block. A store remembers its genesis hash and
//! refuses to open for another genesis.
//!
//! The state lives here and nowhere else (module `state`, ADR 0002): the
//! values in `state`, the state map's nodes in `state_map`, the derived
//! indexes in `state_index`, written with the block; [`Store`] is the
//! [`StateRead`](credex_chain::StateRead) blocks execute on, and a commit
//! whose writes miss the header's state root is refused. Memory is bounded
//! by one block cache and one write-buffer budget for every family.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use std::path::Path;

pub mod crash;
mod keyslab;
pub mod signed;
mod snapshot;
mod state;
pub mod wal;

pub use snapshot::{Chunk, SetChangeBlock, Snapshot};

use credex_chain::{AnchorRead, AnchorTx, Block, StateError};
use credex_crypto::Hash32;
use credex_types::SubjectId;
use credex_types::access::AuditEntry;
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId};
use credex_types::chain::{CommitCertificate, ValidatorSet};
use credex_types::lifecycle::CaseId;
use credex_types::state::{StateKey, StateValue};
use rocksdb::{ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch, WriteOptions};

const CF_BLOCKS: &str = "blocks";
const CF_CERTS: &str = "certificates";
const CF_TXS: &str = "transactions";
const CF_ATTESTATIONS: &str = "attestations";
const CF_SUBJECTS: &str = "subjects";
const CF_STATE: &str = "state";
const CF_RAW: &str = "raw";
const CF_META: &str = "meta";
const CF_CASES: &str = "cases";
const CF_WARNINGS: &str = "warnings";
const CF_KEYS: &str = "record_keys";
const CF_AUDIT: &str = "audit";
const CF_AUDIT_ANCHORS: &str = "audit_anchors";
const CF_SET_CHANGES: &str = "set_changes";
/// Ids of raw records kept at admission whose anchor no block holds yet:
/// what a restart re-admits, without reading the whole raw history.
const CF_UNANCHORED: &str = "unanchored";
const FAMILIES: [&str; 17] = [
    state::CF_STATE_MAP,
    state::CF_STATE_INDEX,
    CF_BLOCKS,
    CF_CERTS,
    CF_TXS,
    CF_ATTESTATIONS,
    CF_SUBJECTS,
    CF_STATE,
    CF_RAW,
    CF_META,
    CF_CASES,
    CF_WARNINGS,
    CF_KEYS,
    CF_AUDIT,
    CF_AUDIT_ANCHORS,
    CF_SET_CHANGES,
    CF_UNANCHORED,
];

/// RocksDB's block cache, shared by every family.
const BLOCK_CACHE_BYTES: usize = 256 << 20;
/// All memtables together.
const WRITE_BUFFERS_BYTES: usize = 128 << 20;

fn family_options(cache: &rocksdb::Cache) -> Options {
    let mut t = rocksdb::BlockBasedOptions::default();
    t.set_block_cache(cache);
    t.set_bloom_filter(10.0, false);
    t.set_cache_index_and_filter_blocks(true);
    t.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut o = Options::default();
    o.set_block_based_table_factory(&t);
    o
}

/// Largest stored value decoded (a block of 10,000 transactions fits).
const MAX_VALUE: usize = 64 << 20;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB reported an error.
    #[error("rocksdb: {0}")]
    Db(#[from] rocksdb::Error),
    /// The directory holds another chain.
    #[error("data directory belongs to genesis {found}, not {expected}")]
    WrongGenesis {
        /// This node's genesis.
        expected: Hash32,
        /// What the store holds.
        found: String,
    },
    /// A stored value does not decode: the database is damaged.
    #[error("corrupt {what}: {error}")]
    Corrupt {
        /// Which record.
        what: &'static str,
        /// Decoder error.
        error: credex_codec::CodecError,
    },
    /// A stored JSON value (the risk list's rules) does not parse.
    #[error("corrupt {what}: {error}")]
    CorruptJson {
        /// Which record.
        what: &'static str,
        /// Parser error.
        error: String,
    },
    /// Too little free space on the data directory's filesystem to start.
    #[error(
        "only {free_mb} MiB free on the filesystem of {path} (at least {floor_mb} MiB needed): \
         free some space, or lower the floor with --min-free-disk-mb"
    )]
    DiskFull {
        /// The data directory.
        path: String,
        /// Free MiB available to this process.
        free_mb: u64,
        /// The floor.
        floor_mb: u64,
    },
    /// The free space of the data directory could not be read.
    #[error("cannot read the free space of {path}: {error}")]
    DiskStat {
        /// The data directory.
        path: String,
        /// Why.
        error: String,
    },
    /// An import was asked of a store that already holds blocks.
    #[error("the store already holds blocks (height {height}); a snapshot is imported into an empty one")]
    NotEmpty {
        /// Its height.
        height: u64,
    },
    /// An import step without [`Store::begin_import`].
    #[error("no snapshot import under way")]
    NotImporting,
    /// A snapshot entry from a peer is not what the spec says (§10.6).
    #[error("snapshot refused: {0}")]
    BadSnapshot(String),
    /// A snapshot could not be made or opened.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// The record-key file failed.
    #[error("record-key file: {0}")]
    Keys(String),
    /// No randomness for a record key.
    #[error("no randomness for a record key: {0}")]
    Random(String),
    /// A raw record does not decrypt under its key.
    #[error("raw record {0} does not decrypt: its key or ciphertext is damaged")]
    Decrypt(AttestationId),
    /// A block's writes do not lead to the state root its header states
    /// (execution is deterministic: a bug, and nothing was written).
    #[error("state root after the block's writes is {ours}, the header says {header}")]
    StateRoot {
        /// What the writes give.
        ours: Hash32,
        /// What the header says.
        header: Hash32,
    },
    /// The state could not be read through the chain's [`StateRead`](credex_chain::StateRead).
    #[error("{0}")]
    State(#[from] StateError),
    /// A commit out of order.
    #[error("block {got} does not follow committed height {have}")]
    OutOfOrder {
        /// Committed height.
        have: u64,
        /// Offered height.
        got: u64,
    },
}

/// The node's database.
pub struct Store {
    db: DB,
    keys: keyslab::KeySlab,
}

/// Everything one committed block changes.
pub struct BlockCommit<'a> {
    /// The block.
    pub block: &'a Block,
    /// Its certificate.
    pub certificate: &'a CommitCertificate,
    /// State writes, from execution.
    pub writes: &'a [(StateKey, StateValue)],
    /// Anchored attestations.
    pub anchors: &'a [AnchorTx],
    /// Attestations erased by this block: their raw records and keys are destroyed with it.
    pub erased: &'a [AttestationId],
    /// The state map's new root and node writes for `writes`, from
    /// [`Store::state_update`] on the committed state this block follows:
    /// the commit is refused ([`StoreError::StateRoot`], nothing written)
    /// if that root is not the header's.
    pub map: &'a credex_merkle::stored::Update,
}

fn decode<T: credex_codec::Decode<()> + credex_codec::Encode>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    credex_codec::decode(bytes, MAX_VALUE).map_err(|error| StoreError::Corrupt { what, error })
}

/// Free MiB available to this (unprivileged) process on the filesystem of
/// `path`, or of its nearest existing ancestor.
pub fn free_space_mb(path: &Path) -> Result<u64, StoreError> {
    let mut at = path;
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    let st = rustix::fs::statvfs(at)
        .map_err(|e| StoreError::DiskStat { path: path.display().to_string(), error: e.to_string() })?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize) / (1024 * 1024))
}

/// Refuses to go on when the filesystem of `path` has less than `floor_mb`
/// MiB free: a node that starts on a nearly full disk fails later, in the
/// middle of a commit; better to say so now.
pub fn check_free_space(path: &Path, floor_mb: u64) -> Result<u64, StoreError> {
    let free_mb = free_space_mb(path)?;
    if free_mb < floor_mb {
        return Err(StoreError::DiskFull { path: path.display().to_string(), free_mb, floor_mb });
    }
    Ok(free_mb)
}

impl Store {
    /// Opens (creating if needed) the store at `path` for the chain of `genesis_hash`.
    pub fn open(path: &Path, genesis_hash: Hash32) -> Result<Store, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // RocksDB's own info log: a few small files, not an ever-growing pile
        opts.set_max_log_file_size(4 * 1024 * 1024);
        opts.set_keep_log_file_num(4);
        // Memory is bounded by what is sized here, not by the chain's
        // length: one block cache for every family (index and filter blocks
        // in it too) and one budget for all write buffers.
        let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        opts.set_db_write_buffer_size(WRITE_BUFFERS_BYTES);
        // Families an earlier version kept and this one no longer has (such
        // as `signed_votes`, replaced by the consensus log) are opened, then
        // dropped: RocksDB refuses to open a database without all of them.
        let existing = DB::list_cf(&opts, path).unwrap_or_default();
        // a store from before the unanchored index gets it built once, below
        let build_unanchored = !existing.is_empty() && !existing.iter().any(|n| n == CF_UNANCHORED);
        let retired: Vec<String> =
            existing.into_iter().filter(|n| n != "default" && !FAMILIES.contains(&n.as_str())).collect();
        let cfs = FAMILIES
            .iter()
            .map(|n| n.to_string())
            .chain(retired.iter().cloned())
            .map(|n| ColumnFamilyDescriptor::new(n, family_options(&cache)));
        let mut db = DB::open_cf_descriptors(&opts, path, cfs)?;
        for name in &retired {
            tracing::info!(target: "credex::storage", family = %name, "dropping a column family this version no longer uses");
            db.drop_cf(name)?;
        }
        let keys = keyslab::KeySlab::open(&path.join("RECORD_KEYS")).map_err(|e| StoreError::Keys(e.to_string()))?;
        let store = Store { db, keys };
        match store.meta("genesis")? {
            Some(found) if found != genesis_hash.0 => {
                return Err(StoreError::WrongGenesis { expected: genesis_hash, found: hex(&found) });
            }
            Some(_) => {}
            None => {
                let mut wo = WriteOptions::default();
                wo.set_sync(true);
                let mut b = WriteBatch::default();
                b.put_cf(store.cf(CF_META), b"genesis", genesis_hash.0);
                store.db.write_opt(b, &wo)?;
            }
        }
        // A store from before the state map on disk (or whose build was
        // cut short) gets its nodes and indexes built from the values, once.
        if store.meta(state::STATE_MAP_BUILT)?.is_none() {
            let n = store.build_state_map_and_indexes()?;
            if n > 0 {
                tracing::info!(target: "credex::storage", entries = n, "built the state map's nodes and indexes on disk (once, for a store of an earlier version)");
            }
        }
        if build_unanchored {
            let n = store.build_unanchored_index()?;
            tracing::info!(target: "credex::storage", unanchored = n, "built the index of raw records awaiting their anchor (once, for a store of an earlier version)");
        }
        tracing::info!(target: "credex::storage", path = %path.display(), height = store.height()?, "store opened");
        let pending = store.retry_purges()?;
        if pending > 0 {
            tracing::error!(target: "credex::storage", pending, "erased records whose keys could not be destroyed yet");
        }
        Ok(store)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        // Every family is created at open; a missing one is a programming error
        // that open_cf_descriptors already rules out.
        match self.db.cf_handle(name) {
            Some(cf) => cf,
            None => unreachable_cf(name),
        }
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_META), key.as_bytes())?)
    }

    /// Last committed height (0 before the first block).
    pub fn height(&self) -> Result<u64, StoreError> {
        Ok(match self.meta("height")? {
            Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                what: "height",
                error: credex_codec::CodecError::Malformed("not 8 bytes".into()),
            })?),
            None => 0,
        })
    }

    /// Writes a block and everything it changes atomically and durably.
    pub fn commit_block(&self, c: &BlockCommit<'_>) -> Result<(), StoreError> {
        let have = self.height()?;
        let h = c.block.header.height;
        if h != have + 1 {
            return Err(StoreError::OutOfOrder { have, got: h });
        }
        let hk = h.to_be_bytes();
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_BLOCKS), hk, credex_codec::encode(c.block));
        b.put_cf(self.cf(CF_CERTS), hk, credex_codec::encode(c.certificate));
        for tx in &c.block.txs {
            b.put_cf(self.cf(CF_TXS), tx.hash().0, hk);
            // by the id clients poll too (a subject act's case id, …);
            // attestations have their own index
            if !matches!(tx, credex_chain::Transaction::Anchor(_)) {
                b.put_cf(self.cf(CF_TXS), tx.id().0.0, hk);
            }
        }
        for a in c.anchors {
            let id = a.id();
            b.put_cf(self.cf(CF_ATTESTATIONS), id.0.0, credex_codec::encode(&(h, a.clone())));
            b.delete_cf(self.cf(CF_UNANCHORED), id.0.0);
            let mut sk = credex_codec::encode(&a.header.subject);
            sk.extend_from_slice(&id.0.0);
            b.put_cf(self.cf(CF_SUBJECTS), sk, hk);
        }
        for tx in &c.block.txs {
            match tx {
                credex_chain::Transaction::SubjectAct(t) => {
                    let mut ck = credex_codec::encode(&t.act.subject);
                    ck.extend_from_slice(&t.act.case_id().0.0);
                    b.put_cf(self.cf(CF_CASES), ck, hk);
                }
                credex_chain::Transaction::AuditAnchor(t) => {
                    let mut ak = credex_codec::encode(&t.anchor.node);
                    ak.extend_from_slice(&t.anchor.seq.to_be_bytes());
                    b.put_cf(self.cf(CF_AUDIT_ANCHORS), ak, credex_codec::encode(&(h, t.anchor.head)));
                }
                _ => {}
            }
        }
        // A block that changes the validator set: the set from the next
        // block on, for the set-change chain of proofs (spec §8, §9.6).
        if c.block.header.next_validators_hash != c.block.header.validators_hash {
            let next = c.writes.iter().rev().find_map(|(k, v)| match (k, v) {
                (StateKey::Validators, StateValue::Validators(set)) => Some(set),
                _ => None,
            });
            if let Some(set) = next {
                b.put_cf(self.cf(CF_SET_CHANGES), hk, credex_codec::encode(set));
            }
        }
        let mut purges = Vec::new();
        let mut inline_keys = false;
        for id in c.erased {
            if let Some(v) = self.db.get_cf(self.cf(CF_KEYS), id.0.0)? {
                match slot_of(&v) {
                    Some(slot) => {
                        b.put_cf(self.cf(CF_META), purge_key(slot), []);
                        purges.push(slot);
                    }
                    // a key written before the key file, in RocksDB itself
                    None => inline_keys = true,
                }
            }
            b.delete_cf(self.cf(CF_KEYS), id.0.0);
            b.delete_cf(self.cf(CF_RAW), id.0.0);
        }
        if c.map.root != c.block.header.state_root {
            return Err(StoreError::StateRoot { ours: c.map.root, header: c.block.header.state_root });
        }
        self.state_batch(&mut b, c.writes, &c.map.writes)?;
        b.put_cf(self.cf(CF_META), b"height", hk);
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        crash::point("commit-before-write");
        self.db.write_opt(b, &wo)?;
        crash::point("commit-after-write");
        // The block is durable: its erasures must happen. A key that cannot be
        // destroyed now stays marked and is retried ([`Store::retry_purges`]).
        for slot in purges {
            if let Err(e) = self.destroy_key(slot) {
                tracing::error!(target: "credex::storage", slot, error = %e, "record key not destroyed yet; will retry");
            }
        }
        if inline_keys {
            self.purge_inline_keys()?;
        }
        Ok(())
    }

    fn destroy_key(&self, slot: u64) -> Result<(), StoreError> {
        crash::point("purge-before-zero");
        self.keys.destroy(slot).map_err(|e| StoreError::Keys(e.to_string()))?;
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let mut b = WriteBatch::default();
        b.delete_cf(self.cf(CF_META), purge_key(slot));
        self.db.write_opt(b, &wo)?;
        Ok(())
    }

    /// Destroys every record key an erasure left to destroy; returns how
    /// many are still pending (they are logged; the node retries and
    /// reports the number in `/metrics`).
    pub fn retry_purges(&self) -> Result<usize, StoreError> {
        let mut left = 0;
        for slot in self.purge_slots()? {
            if let Err(e) = self.destroy_key(slot) {
                tracing::error!(target: "credex::storage", slot, error = %e, "record key still not destroyed");
                left += 1;
            }
        }
        Ok(left)
    }

    fn purge_slots(&self) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_META), IteratorMode::From(PURGE, Direction::Forward)) {
            let (k, _) = item?;
            let Some(rest) = k.strip_prefix(PURGE) else { break };
            if let Ok(slot) = <[u8; 8]>::try_from(rest) {
                out.push(u64::from_be_bytes(slot));
            }
        }
        Ok(out)
    }

    /// For keys of a store written before the key file, which live in
    /// RocksDB itself: pushes the deleted ones out of the memtable and older
    /// table files (a whole-family compaction, so only when such a key was
    /// erased; slot keys need none of it).
    fn purge_inline_keys(&self) -> Result<(), StoreError> {
        for cf in [CF_KEYS, CF_RAW] {
            self.db.flush_cf(self.cf(cf))?;
            self.db.compact_range_cf(self.cf(cf), None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        self.db.get_cf(self.cf(CF_BLOCKS), height.to_be_bytes())?.map(|b| decode("block", &b)).transpose()
    }

    /// The certificate of the block at `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StoreError> {
        self.db.get_cf(self.cf(CF_CERTS), height.to_be_bytes())?.map(|b| decode("certificate", &b)).transpose()
    }

    /// An anchored attestation and the height that anchored it.
    pub fn anchor(&self, id: &AttestationId) -> Result<Option<(u64, AnchorTx)>, StoreError> {
        self.db.get_cf(self.cf(CF_ATTESTATIONS), id.0.0)?.map(|b| decode("attestation", &b)).transpose()
    }

    /// Height of the block holding the transaction with hash `tx`, or (for
    /// other transactions than anchors) with id `tx`.
    pub fn tx_height(&self, tx: &Hash32) -> Result<Option<u64>, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_TXS), tx.0)?.and_then(|b| <[u8; 8]>::try_from(&*b).ok()).map(u64::from_be_bytes))
    }

    /// The state value under `key`.
    pub fn state(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        match self.db.get_cf(self.cf(CF_STATE), key.hash().0)? {
            Some(b) => Ok(Some(decode::<(StateKey, StateValue)>("state entry", &b)?.1)),
            None => Ok(None),
        }
    }

    /// Attestation ids about `subject`, with their anchoring heights, in id order.
    pub fn by_subject(&self, subject: &SubjectId) -> Result<Vec<(AttestationId, u64)>, StoreError> {
        self.subject_index(CF_SUBJECTS, subject)
    }

    /// Ids of the cases `subject` filed, with their filing heights, in id order.
    pub fn cases_of(&self, subject: &SubjectId) -> Result<Vec<(CaseId, u64)>, StoreError> {
        Ok(self.subject_index(CF_CASES, subject)?.into_iter().map(|(id, h)| (CaseId(id.0), h)).collect())
    }

    fn subject_index(&self, cf: &str, subject: &SubjectId) -> Result<Vec<(AttestationId, u64)>, StoreError> {
        let prefix = credex_codec::encode(subject);
        let mut out = Vec::new();
        let iter = self.db.iterator_cf(self.cf(cf), IteratorMode::From(&prefix, Direction::Forward));
        for item in iter {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            let (Ok(id), Ok(h)) = (<[u8; 32]>::try_from(&k[prefix.len()..]), <[u8; 8]>::try_from(&*v)) else {
                continue;
            };
            out.push((AttestationId(Hash32(id)), u64::from_be_bytes(h)));
        }
        Ok(out)
    }

    /// Appends early-warning event `seq` and sets (or, with `None`, clears)
    /// `subject`'s entry on the risk list, atomically and durably.
    pub fn put_warning_event(
        &self,
        seq: u64,
        event: &[u8],
        subject: &SubjectId,
        rules: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let cf = self.cf(CF_WARNINGS);
        let mut b = WriteBatch::default();
        let mut ek = b"e".to_vec();
        ek.extend_from_slice(&seq.to_be_bytes());
        b.put_cf(cf, ek, event);
        let mut rk = b"r".to_vec();
        rk.extend_from_slice(&credex_codec::encode(subject));
        match rules {
            Some(r) => b.put_cf(cf, rk, r),
            None => b.delete_cf(cf, rk),
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(b, &wo)?;
        Ok(())
    }

    /// Early-warning events after `seq`, oldest first, at most `limit`.
    pub fn warning_events_after(&self, seq: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut from = b"e".to_vec();
        from.extend_from_slice(&seq.saturating_add(1).to_be_bytes());
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_WARNINGS), IteratorMode::From(&from, Direction::Forward)) {
            let (k, v) = item?;
            let Some(n) = k.strip_prefix(b"e").and_then(|n| <[u8; 8]>::try_from(n).ok()) else { break };
            out.push((u64::from_be_bytes(n), v.to_vec()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The last early-warning event number (0 if none).
    pub fn last_warning_seq(&self) -> Result<u64, StoreError> {
        let mut it = self.db.iterator_cf(self.cf(CF_WARNINGS), IteratorMode::From(b"f", Direction::Reverse));
        match it.next().transpose()? {
            Some((k, _)) => {
                Ok(k.strip_prefix(b"e").and_then(|n| <[u8; 8]>::try_from(n).ok()).map_or(0, u64::from_be_bytes))
            }
            None => Ok(0),
        }
    }

    /// The risk list: each subject on it with the rules it triggers (JSON).
    pub fn risk_list(&self) -> Result<Vec<(SubjectId, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_WARNINGS), IteratorMode::From(b"r", Direction::Forward)) {
            let (k, v) = item?;
            let Some(enc) = k.strip_prefix(b"r") else { break };
            out.push((decode::<SubjectId>("risk-list subject", enc)?, v.to_vec()));
        }
        Ok(out)
    }

    /// Stores (or, with `None`, deletes) webhook subscription `id` (JSON).
    pub fn put_subscription(&self, id: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
        let mut k = b"s".to_vec();
        k.extend_from_slice(id.as_bytes());
        match value {
            Some(v) => self.db.put_cf(self.cf(CF_WARNINGS), k, v)?,
            None => self.db.delete_cf(self.cf(CF_WARNINGS), k)?,
        }
        Ok(())
    }

    /// Every webhook subscription: id and JSON.
    pub fn subscriptions(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_WARNINGS), IteratorMode::From(b"s", Direction::Forward)) {
            let (k, v) = item?;
            let Some(id) = k.strip_prefix(b"s") else { break };
            out.push((String::from_utf8_lossy(id).into_owned(), v.to_vec()));
        }
        Ok(out)
    }

    /// Appends `entry` to the audit log (with its subject index and the new
    /// head). `durable` fsyncs (raw-record accesses); otherwise the write
    /// survives a process crash through RocksDB's log but not a power cut.
    pub fn append_audit(&self, entry: &AuditEntry, durable: bool) -> Result<(), StoreError> {
        let cf = self.cf(CF_AUDIT);
        let mut b = WriteBatch::default();
        let mut ek = b"e".to_vec();
        ek.extend_from_slice(&entry.seq.to_be_bytes());
        b.put_cf(cf, ek, credex_codec::encode(entry));
        if let Some(subject) = &entry.subject {
            let mut sk = b"s".to_vec();
            sk.extend_from_slice(&credex_codec::encode(subject));
            sk.extend_from_slice(&entry.seq.to_be_bytes());
            b.put_cf(cf, sk, []);
        }
        b.put_cf(cf, b"h", credex_codec::encode(&(entry.seq, entry.hash())));
        let mut wo = WriteOptions::default();
        wo.set_sync(durable);
        self.db.write_opt(b, &wo)?;
        Ok(())
    }

    /// The audit log head: (entries, hash of the last; zero if none).
    pub fn audit_head(&self) -> Result<(u64, Hash32), StoreError> {
        match self.db.get_cf(self.cf(CF_AUDIT), b"h")? {
            Some(v) => decode("audit head", &v),
            None => Ok((0, Hash32::ZERO)),
        }
    }

    /// Audit entries from `from` (≥ 1), in order, at most `limit`.
    pub fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut start = b"e".to_vec();
        start.extend_from_slice(&from.to_be_bytes());
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_AUDIT), IteratorMode::From(&start, Direction::Forward)) {
            let (k, v) = item?;
            if !k.starts_with(b"e") || out.len() >= limit {
                break;
            }
            out.push(decode("audit entry", &v)?);
        }
        Ok(out)
    }

    /// The audit entries about `subject`, **newest first**, numbered below
    /// `before` (all when `None`), at most `limit`: page on with the last
    /// entry's `seq` as the next `before`; no entry is ever skipped.
    pub fn audit_of(
        &self,
        subject: &SubjectId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut prefix = b"s".to_vec();
        prefix.extend_from_slice(&credex_codec::encode(subject));
        let below = match before {
            None => u64::MAX,
            Some(0) => return Ok(Vec::new()),
            Some(b) => b - 1,
        };
        let mut start = prefix.clone();
        start.extend_from_slice(&below.to_be_bytes());
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_AUDIT), IteratorMode::From(&start, Direction::Reverse)) {
            let (k, _) = item?;
            if !k.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let Ok(seq) = <[u8; 8]>::try_from(&k[prefix.len()..]) else { continue };
            let mut ek = b"e".to_vec();
            ek.extend_from_slice(&seq);
            match self.db.get_cf(self.cf(CF_AUDIT), ek)? {
                Some(v) => out.push(decode("audit entry", &v)?),
                None => {
                    return Err(StoreError::Corrupt {
                        what: "audit index",
                        error: credex_codec::CodecError::Malformed("indexed entry missing".into()),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every audit head `node` anchored: (seq, head, height), by seq.
    pub fn audit_anchors(&self, node: &credex_types::AgencyId) -> Result<Vec<(u64, Hash32, u64)>, StoreError> {
        let prefix = credex_codec::encode(node);
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_AUDIT_ANCHORS), IteratorMode::From(&prefix, Direction::Forward)) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            let Ok(seq) = <[u8; 8]>::try_from(&k[prefix.len()..]) else { continue };
            let (height, head): (u64, Hash32) = decode("audit anchor", &v)?;
            out.push((u64::from_be_bytes(seq), head, height));
        }
        Ok(out)
    }

    /// The validator-set changes of blocks below `height`, oldest first:
    /// the changing block's height and the set from the next block on.
    pub fn set_changes_below(&self, height: u64) -> Result<Vec<(u64, ValidatorSet)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_SET_CHANGES), IteratorMode::Start) {
            let (k, v) = item?;
            let h = <[u8; 8]>::try_from(&k[..]).map(u64::from_be_bytes).map_err(|_| StoreError::Corrupt {
                what: "set change key",
                error: credex_codec::CodecError::Malformed(format!("{} bytes, expected 8", k.len())),
            })?;
            if h >= height {
                break;
            }
            out.push((h, decode::<ValidatorSet>("validator set", &v)?));
        }
        Ok(out)
    }

    /// Keeps the full attestation (field values, salts) this node's issuer submitted.
    pub fn put_raw(&self, att: &Attestation) -> Result<(), StoreError> {
        self.put_raws(&[att])
    }

    /// Keeps several full attestations with one fsync (group commit), each
    /// encrypted under its own fresh key.
    pub fn put_raws(&self, atts: &[&Attestation]) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let mut b = WriteBatch::default();
        let mut keys = Vec::new();
        let mut sealed = Vec::new();
        for att in atts {
            let id = att.id();
            // held already (a repeated submission): keep the one key and ciphertext
            if self.db.get_cf(self.cf(CF_KEYS), id.0.0)?.is_some() || sealed.iter().any(|(i, _)| *i == id) {
                continue;
            }
            let (key, ct) = seal(&id, &credex_codec::encode(*att))?;
            keys.push(key);
            sealed.push((id, ct));
        }
        if keys.is_empty() {
            return Ok(());
        }
        // keys first (durable), then the slots and ciphertexts in one batch
        let first = self.keys.append(&keys).map_err(|e| StoreError::Keys(e.to_string()))?;
        for (slot, (id, ct)) in (first..).zip(sealed) {
            b.put_cf(self.cf(CF_KEYS), id.0.0, slot.to_be_bytes());
            b.put_cf(self.cf(CF_RAW), id.0.0, ct);
            if self.db.get_cf(self.cf(CF_ATTESTATIONS), id.0.0)?.is_none() {
                b.put_cf(self.cf(CF_UNANCHORED), id.0.0, []);
            }
        }
        self.db.write_opt(b, &wo)?;
        Ok(())
    }

    /// The full attestation, if this node holds it (and its key still exists).
    pub fn raw(&self, id: &AttestationId) -> Result<Option<Attestation>, StoreError> {
        let (Some(key), Some(sealed)) = (self.record_key(id)?, self.db.get_cf(self.cf(CF_RAW), id.0.0)?) else {
            return Ok(None);
        };
        let plain = open(id, &key, &sealed)?;
        decode("raw record", &plain).map(Some)
    }

    /// The record's own key, while it exists (for audits of erasure: a
    /// destroyed key must be on no disk block of the store).
    pub fn record_key(&self, id: &AttestationId) -> Result<Option<[u8; 32]>, StoreError> {
        let Some(v) = self.db.get_cf(self.cf(CF_KEYS), id.0.0)? else { return Ok(None) };
        match (slot_of(&v), <[u8; 32]>::try_from(v.as_slice())) {
            (Some(slot), _) => self.keys.get(slot).map_err(|e| StoreError::Keys(e.to_string())),
            // a store written before the key file: the key itself
            (None, Ok(key)) => Ok(Some(key)),
            (None, Err(_)) => Err(StoreError::Corrupt {
                what: "record key slot",
                error: credex_codec::CodecError::Malformed(format!("{} bytes", v.len())),
            }),
        }
    }

    /// The full attestations this node accepted (raw record written before
    /// it answered "admitted") that no committed block anchors yet: what a
    /// crash between admission and commit left only on disk, at most `limit`.
    pub fn unanchored_raws(&self, limit: usize) -> Result<Vec<Attestation>, StoreError> {
        // the index holds only what awaits its anchor: no scan of the raw history
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_UNANCHORED), IteratorMode::Start) {
            let (k, _) = item?;
            let Ok(id) = <[u8; 32]>::try_from(&k[..]) else { continue };
            let id = AttestationId(Hash32(id));
            if self.db.get_cf(self.cf(CF_ATTESTATIONS), id.0.0)?.is_some() {
                continue;
            }
            if let Some(att) = self.raw(&id)? {
                out.push(att);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Raw records awaiting their anchor, in the index (see [`Store::unanchored_raws`]).
    pub fn unanchored_count(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.db.iterator_cf(self.cf(CF_UNANCHORED), IteratorMode::Start) {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Takes `ids` out of the index of raw records awaiting their anchor: a
    /// re-admission found them refused by the chain for good (they stay
    /// held as raw records, as any refused submission's would).
    pub fn forget_unanchored(&self, ids: &[AttestationId]) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        for id in ids {
            b.delete_cf(self.cf(CF_UNANCHORED), id.0.0);
        }
        self.db.write(b)?;
        Ok(())
    }

    /// Builds the index of raw records awaiting their anchor from the raw
    /// records (a store of an earlier version, once); how many it holds.
    fn build_unanchored_index(&self) -> Result<usize, StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let mut b = WriteBatch::default();
        let mut n = 0;
        for item in self.db.iterator_cf(self.cf(CF_RAW), IteratorMode::Start) {
            let (k, _) = item?;
            if self.db.get_cf(self.cf(CF_ATTESTATIONS), &k)?.is_none() {
                b.put_cf(self.cf(CF_UNANCHORED), &k, []);
                n += 1;
            }
        }
        self.db.write_opt(b, &wo)?;
        Ok(n)
    }

    /// Erasures whose key destruction has not completed yet (retried).
    pub fn pending_purges(&self) -> Result<usize, StoreError> {
        Ok(self.purge_slots()?.len())
    }

    /// True if the raw record's ciphertext is still on disk (its key may be gone).
    pub fn has_ciphertext(&self, id: &AttestationId) -> Result<bool, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_RAW), id.0.0)?.is_some())
    }
}

const NONCE: usize = 24;

/// `meta` prefix of a key destruction still to do.
const PURGE: &[u8] = b"purge";

fn purge_key(slot: u64) -> Vec<u8> {
    let mut k = PURGE.to_vec();
    k.extend_from_slice(&slot.to_be_bytes());
    k
}

/// The slot number a `record_keys` value holds (8 bytes, big-endian).
fn slot_of(v: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(v).ok().map(u64::from_be_bytes)
}

/// Encrypts `plain` under a fresh key: (key, nonce ‖ ciphertext).
fn seal(id: &AttestationId, plain: &[u8]) -> Result<([u8; 32], Vec<u8>), StoreError> {
    use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
    let mut key = [0u8; 32];
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut key).map_err(|e| StoreError::Random(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| StoreError::Random(e.to_string()))?;
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&key.into());
    let ct =
        cipher.encrypt(&nonce.into(), Payload { msg: plain, aad: &id.0.0 }).map_err(|_| StoreError::Decrypt(*id))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok((key, out))
}

fn open(id: &AttestationId, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
    let key: [u8; 32] = key.try_into().map_err(|_| StoreError::Decrypt(*id))?;
    let (nonce, ct) = sealed.split_at_checked(NONCE).ok_or(StoreError::Decrypt(*id))?;
    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| StoreError::Decrypt(*id))?;
    chacha20poly1305::XChaCha20Poly1305::new(&key.into())
        .decrypt(&nonce.into(), Payload { msg: ct, aad: &id.0.0 })
        .map_err(|_| StoreError::Decrypt(*id))
}

fn unreachable_cf(name: &str) -> ! {
    // open_cf_descriptors creates every family in FAMILIES; reaching this
    // means the binary and the list disagree, which no input can cause.
    #[allow(clippy::panic)]
    {
        panic!("column family {name} missing")
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Anchored headers are read from the store as a block needs them; a read
/// that fails is a [`StateError`], never "not anchored".
impl AnchorRead for Store {
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError> {
        self.anchor(id).map(|a| a.map(|(_, tx)| tx.header)).map_err(|e| StateError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_pending_key_destruction_is_retried_until_done() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Hash32([7; 32])).unwrap();
        let slot = store.keys.append(&[[5u8; 32]]).unwrap();
        // as a commit leaves it when the key file could not be written
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        let mut b = WriteBatch::default();
        b.put_cf(store.cf(CF_META), purge_key(slot), []);
        store.db.write_opt(b, &wo).unwrap();
        assert_eq!(store.pending_purges().unwrap(), 1);
        drop(store);
        // reopening retries it
        let store = Store::open(dir.path(), Hash32([7; 32])).unwrap();
        assert_eq!(store.pending_purges().unwrap(), 0);
        assert_eq!(store.keys.get(slot).unwrap(), None, "the slot is zeroed");
        assert_eq!(store.retry_purges().unwrap(), 0);
    }
}
