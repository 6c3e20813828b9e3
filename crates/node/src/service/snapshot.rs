//! Serving state snapshots to nodes that sync from one (spec §10.6).
//!
//! One snapshot at a time, made on the first offer asked for: a RocksDB
//! checkpoint of the store taken under the chain's read lock (no commit
//! runs meanwhile), paired with the checkpoint (spec §8.5) of the same
//! head. It is kept while it is read; an offer asked for when the
//! snapshot is [`SNAPSHOT_REFRESH`] blocks behind the head and nobody read
//! it for [`SNAPSHOT_IDLE`] replaces it. Chunks are read from the
//! snapshot, never from the live store, so every chunk of one sync is of
//! one height.

use std::path::PathBuf;
use std::time::Instant;

use credex_storage::Snapshot;
use credex_wire::{SNAPSHOT_CHUNK_BYTES, SnapshotChunk, SnapshotOffer, SnapshotPart};

use super::*;

/// Blocks a snapshot may lag behind the head before an offer replaces it.
pub const SNAPSHOT_REFRESH: u64 = 1_000;
/// How long a snapshot nobody reads is kept before it may be replaced.
pub const SNAPSHOT_IDLE: Duration = Duration::from_secs(60);

/// The snapshot this node serves, with its offer.
pub(super) struct Served {
    snapshot: Arc<Snapshot>,
    offer: SnapshotOffer,
    read: Instant,
}

/// Why a snapshot request is not served.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// This node was not given a directory for snapshots.
    #[error("this node serves no snapshots")]
    NotServed,
    /// The snapshot asked for is no longer (or never was) served here.
    #[error("no snapshot at height {0} here: ask for the offer again")]
    Gone(u64),
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The checkpoint could not be made.
    #[error("checkpoint: {0}")]
    Proof(#[from] ProofError),
}

impl Node {
    /// The height this node's state sync started it from (it holds no block
    /// below), if it was started so.
    pub fn snapshot_base(&self) -> Result<Option<u64>, StoreError> {
        self.store.base()
    }

    /// The snapshot this node offers (made now if none is, or if the one it
    /// has is stale and idle); `None` before the first block.
    pub fn snapshot_offer(&self) -> Result<Option<SnapshotOffer>, SnapshotError> {
        let dir: PathBuf = self.wiring.snapshot_dir.clone().ok_or(SnapshotError::NotServed)?;
        let mut served = self.snapshot.lock().unwrap_or_else(lock_err);
        let head = self.height();
        if head == 0 {
            return Ok(None);
        }
        if let Some(s) = served.as_ref() {
            let fresh = head.saturating_sub(s.snapshot.height()) < SNAPSHOT_REFRESH;
            if fresh || s.read.elapsed() < SNAPSHOT_IDLE {
                return Ok(Some(s.offer.clone()));
            }
        }
        // the old one goes first: its directory is reused
        *served = None;
        let (snapshot, checkpoint) = {
            let chain = self.chain.read().unwrap_or_else(lock_err);
            let anchor = self.anchor_of(&chain)?;
            let checkpoint = credex_proof::Checkpoint {
                version: credex_proof::CHECKPOINT_VERSION,
                anchor,
                next_set: chain.validators.clone(),
            };
            (self.store.snapshot(&dir)?, checkpoint)
        };
        let (values, attestations) = snapshot.estimated_counts()?;
        let offer = SnapshotOffer { checkpoint, values, attestations };
        *served = Some(Served { snapshot: Arc::new(snapshot), offer: offer.clone(), read: Instant::now() });
        Ok(Some(offer))
    }

    /// A chunk of `part` of the snapshot at `height`, after `after`.
    pub fn snapshot_chunk(
        &self,
        height: u64,
        part: SnapshotPart,
        after: Option<&[u8]>,
    ) -> Result<SnapshotChunk, SnapshotError> {
        let snapshot = {
            let mut served = self.snapshot.lock().unwrap_or_else(lock_err);
            match served.as_mut() {
                Some(s) if s.snapshot.height() == height => {
                    s.read = Instant::now();
                    s.snapshot.clone()
                }
                _ => return Err(SnapshotError::Gone(height)),
            }
        };
        let chunk = match part {
            SnapshotPart::State => snapshot.state_chunk(after, SNAPSHOT_CHUNK_BYTES)?,
            SnapshotPart::Attestations => snapshot.anchor_chunk(after, SNAPSHOT_CHUNK_BYTES)?,
        };
        Ok(SnapshotChunk { entries: chunk.entries, more: chunk.more })
    }
}
