//! State sync (spec §10.6): a node with no block starts from a peer's
//! snapshot of the state at a certified height instead of replaying every
//! block from genesis, then follows blocks as usual.
//!
//! The peer is trusted for nothing; in order:
//!
//! 1. its offer's checkpoint (header, certificate, set changes from the
//!    genesis, next set) must verify from the genesis exactly as a
//!    partner's checkpoint does (spec §8.5, `credex_proof::Verifier`);
//! 2. the head block and every block that changed the validator set must
//!    be those headers (equal headers, transaction roots that match);
//! 3. the state's values come in chunks of strictly increasing keys, each
//!    entry in canonical encoding under its state key's hash
//!    ([`credex_storage::Store::import_values`]); once all are in, the
//!    state map built from them must have the header's `state_root`, else
//!    everything is dropped and the peer is refused;
//! 4. every anchored attestation must be under its own id, match its record
//!    in the checked state (anchoring height) and carry a valid issuer
//!    signature under the record's key (batch-verified, one rule with
//!    admission); and there must be exactly one per attestation record, so
//!    none is missing.
//!
//! Only then is the height written ([`credex_storage::Store::finish_import`]):
//! a crash before leaves a store marked unfinished, emptied at the next start.
//!
//! The algorithm reads through [`SnapshotSource`] (a peer over
//! `credex-p2p` in the node, [`PeerSource`]; anything in tests) and is
//! blocking: run it on a blocking thread.

use std::time::{Duration, Instant};

use credex_chain::{AnchorTx, Block};
use credex_storage::{SetChangeBlock, Store, StoreError};
use credex_types::chain::CommitCertificate;
use credex_types::genesis::Genesis;
use credex_types::state::{StateKey, StateValue};
use credex_wire::{SnapshotChunk, SnapshotOffer, SnapshotPart};

/// Where a syncing node reads a snapshot from.
pub trait SnapshotSource {
    /// The snapshot offered, if any.
    fn offer(&mut self) -> Result<Option<SnapshotOffer>, SourceError>;
    /// The entries of `part` of the snapshot at `height` after `after`.
    fn chunk(&mut self, height: u64, part: SnapshotPart, after: Option<Vec<u8>>) -> Result<SnapshotChunk, SourceError>;
    /// The block at `height` with its certificate.
    fn block(&mut self, height: u64) -> Result<Option<(Block, CommitCertificate)>, SourceError>;
}

/// A source that could not answer (network, timeout, a refusal).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Why a state sync failed; nothing of it stays in the store.
#[derive(Debug, thiserror::Error)]
pub enum StateSyncError {
    /// The source could not answer.
    #[error("snapshot source: {0}")]
    Source(#[from] SourceError),
    /// No snapshot offered (the peer has no block yet).
    #[error("the peer offers no snapshot")]
    NothingOffered,
    /// The offer's checkpoint does not follow from the genesis.
    #[error("the snapshot's checkpoint does not verify from the genesis: {0}")]
    Checkpoint(String),
    /// A block the offer needs is missing or not the certified one.
    #[error("block {height} of the snapshot: {why}")]
    Block {
        /// Its height.
        height: u64,
        /// What is wrong.
        why: String,
    },
    /// A chunk breaks the rules of §10.6 (order, encoding, records, signatures).
    #[error("snapshot chunk refused: {0}")]
    Chunk(String),
    /// The values do not make the certified state.
    #[error("the snapshot's state has root {ours}, the certified header says {header}: refused")]
    Root {
        /// The root of what was sent.
        ours: credex_crypto::Hash32,
        /// The certified root.
        header: credex_crypto::Hash32,
    },
    /// This node's store failed (or refused an entry, [`StoreError::BadSnapshot`]).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The data directory's disk is below its floor.
    #[error("disk below its floor: {0}")]
    Disk(String),
}

impl StateSyncError {
    /// Whether the peer is to blame (as opposed to this node or the network).
    pub fn peer_at_fault(&self) -> bool {
        matches!(
            self,
            StateSyncError::Checkpoint(_)
                | StateSyncError::Block { .. }
                | StateSyncError::Chunk(_)
                | StateSyncError::Root { .. }
                | StateSyncError::Store(StoreError::BadSnapshot(_))
        )
    }
}

/// What a finished sync imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    /// The height the node now stands at.
    pub height: u64,
    /// State values imported.
    pub values: u64,
    /// Anchored attestations imported.
    pub attestations: u64,
    /// Bytes of entries received.
    pub bytes: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Imports the snapshot `source` offers into `store` (which holds no
/// block), checking everything as the module documentation says; `check`
/// runs before each chunk is written (the disk floor) and may stop the sync.
pub fn import(
    store: &Store,
    genesis: &Genesis,
    source: &mut dyn SnapshotSource,
    check: &mut dyn FnMut() -> Result<(), StateSyncError>,
) -> Result<Synced, StateSyncError> {
    let started = Instant::now();
    let offer = source.offer()?.ok_or(StateSyncError::NothingOffered)?;
    let cp = &offer.checkpoint;
    credex_proof::Verifier::new(genesis.clone(), credex_proof::Policy::default())
        .and_then(|v| v.with_checkpoint(cp))
        .map_err(|e| StateSyncError::Checkpoint(e.to_string()))?;
    let header = &cp.anchor.header;
    let height = header.height;
    let head = certified_block(source, header)?;
    let mut set_changes = Vec::with_capacity(cp.anchor.set_changes.len());
    for ch in &cp.anchor.set_changes {
        set_changes.push(SetChangeBlock {
            block: certified_block(source, &ch.header)?,
            certificate: ch.certificate.clone(),
            next_set: ch.next_set.clone(),
        });
    }
    tracing::info!(target: "credex::sync", height, values = offer.values, attestations = offer.attestations,
        "state sync: checkpoint verified; fetching the state");
    store.begin_import()?;
    let head_change = (header.next_validators_hash != header.validators_hash).then_some(&cp.next_set);
    let result = import_parts(store, source, height, header.state_root, check, offer.values).and_then(|counts| {
        store.finish_import((&head, &cp.anchor.certificate), &set_changes, head_change)?;
        Ok(counts)
    });
    let (values, attestations, bytes) = match result {
        Ok(counts) => counts,
        Err(e) => {
            if let Err(abort) = store.abort_import() {
                tracing::error!(target: "credex::sync", error = %abort, "state sync: clearing the failed import");
            }
            return Err(e);
        }
    };
    Ok(Synced { height, values, attestations, bytes, elapsed: started.elapsed() })
}

/// The block under `header`, fetched and checked: the same header and a
/// transaction root that matches its transactions.
fn certified_block(
    source: &mut dyn SnapshotSource,
    header: &credex_types::chain::BlockHeader,
) -> Result<Block, StateSyncError> {
    let height = header.height;
    let bad = |why: &str| StateSyncError::Block { height, why: why.to_string() };
    let (block, _) = source.block(height)?.ok_or_else(|| bad("not served"))?;
    if block.header != *header {
        return Err(bad("not the certified header"));
    }
    if credex_chain::tx_root(&block.txs) != header.tx_root {
        return Err(bad("its transactions do not match the header's transaction root"));
    }
    Ok(block)
}

/// Every chunk of both parts; (values, attestations, bytes).
fn import_parts(
    store: &Store,
    source: &mut dyn SnapshotSource,
    height: u64,
    root: credex_crypto::Hash32,
    check: &mut dyn FnMut() -> Result<(), StateSyncError>,
    announced: u64,
) -> Result<(u64, u64, u64), StateSyncError> {
    let mut bytes = 0u64;
    let (mut values, mut records) = (0u64, 0u64);
    each_chunk(source, height, SnapshotPart::State, check, &mut bytes, &mut |entries| {
        // how many attestation records: exactly as many anchors must follow
        records += store.import_values(entries)?;
        values += entries.len() as u64;
        Ok((values, announced))
    })?;
    let ours = store.import_values_done()?;
    if ours != root {
        return Err(StateSyncError::Root { ours, header: root });
    }
    tracing::info!(target: "credex::sync", values, "state sync: the state's root is the certified one; fetching the anchored attestations");
    let mut anchors = 0u64;
    each_chunk(source, height, SnapshotPart::Attestations, check, &mut bytes, &mut |entries| {
        let checked = check_anchors(store, entries)?;
        anchors += checked.len() as u64;
        if anchors > records {
            return Err(StateSyncError::Chunk(format!("more anchored attestations than the {records} records")));
        }
        store.import_anchors(&checked)?;
        Ok((anchors, records))
    })?;
    if anchors != records {
        return Err(StateSyncError::Chunk(format!("{anchors} anchored attestations for {records} records")));
    }
    Ok((values, anchors, bytes))
}

/// A chunk's entries: (key, value).
type Entries = [(Vec<u8>, Vec<u8>)];

/// What takes a chunk's entries and answers (done, of) for the progress log.
type Take<'a> = dyn FnMut(&Entries) -> Result<(u64, u64), StateSyncError> + 'a;

/// Asks for every chunk of `part` in order, checks their order, counts
/// their bytes into `bytes` and hands each to `take`, which answers
/// (done, of) for the progress log (every 5 s).
fn each_chunk(
    source: &mut dyn SnapshotSource,
    height: u64,
    part: SnapshotPart,
    check: &mut dyn FnMut() -> Result<(), StateSyncError>,
    bytes: &mut u64,
    take: &mut Take<'_>,
) -> Result<(), StateSyncError> {
    let mut last_log = Instant::now();
    let mut after: Option<Vec<u8>> = None;
    loop {
        check()?;
        let chunk = source.chunk(height, part, after.clone())?;
        let last = ordered(&chunk, after.as_deref())?;
        *bytes += chunk.entries.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum::<u64>();
        let (done, of) = take(&chunk.entries)?;
        if last_log.elapsed() > Duration::from_secs(5) {
            tracing::info!(target: "credex::sync", ?part, done, of, mib = *bytes >> 20, "state sync: progress");
            last_log = Instant::now();
        }
        if !chunk.more {
            return Ok(());
        }
        after = last;
    }
}

/// Checks that a chunk's keys strictly increase from `after` and that a
/// chunk with more to follow is not empty; its last key.
fn ordered(chunk: &SnapshotChunk, after: Option<&[u8]>) -> Result<Option<Vec<u8>>, StateSyncError> {
    if chunk.more && chunk.entries.is_empty() {
        return Err(StateSyncError::Chunk("an empty chunk said more follow".into()));
    }
    let mut prev = after;
    for (k, _) in &chunk.entries {
        if prev.is_some_and(|p| k.as_slice() <= p) {
            return Err(StateSyncError::Chunk("keys out of order or repeated".into()));
        }
        prev = Some(k);
    }
    Ok(prev.map(<[u8]>::to_vec))
}

/// Decodes and checks anchored attestations against the imported state.
fn check_anchors(
    store: &Store,
    entries: &[(Vec<u8>, Vec<u8>)],
) -> Result<Vec<(credex_types::AttestationId, u64, AnchorTx)>, StateSyncError> {
    let mut out = Vec::with_capacity(entries.len());
    let mut keys = Vec::with_capacity(entries.len());
    for (i, (k, v)) in entries.iter().enumerate() {
        let bad = |why: String| StateSyncError::Chunk(format!("anchored attestation {i}: {why}"));
        let (h, a): (u64, AnchorTx) =
            credex_codec::decode(v, credex_wire::MAX_MESSAGE).map_err(|e| bad(e.to_string()))?;
        if credex_codec::encode(&(h, &a)) != *v {
            return Err(bad("not in canonical encoding".into()));
        }
        let id = a.id();
        if id.0.0.as_slice() != k.as_slice() {
            return Err(bad("not under its id".into()));
        }
        let record = match store.state(&StateKey::Attestation(id))? {
            Some(StateValue::Attestation(r)) => r,
            _ => return Err(bad(format!("{id} has no record in the certified state"))),
        };
        if record.anchored_height != h {
            return Err(bad(format!("{id} anchored at {h}, its record says {}", record.anchored_height)));
        }
        keys.push(record.issuer_key);
        out.push((id, h, a));
    }
    let items: Vec<credex_crypto::BatchItem<'_>> = out
        .iter()
        .zip(&keys)
        .map(|((id, _, a), key)| credex_crypto::BatchItem {
            key,
            purpose: credex_crypto::Purpose::Attestation,
            msg: &id.0.0,
            sig: &a.signature,
        })
        .collect();
    credex_crypto::verify_batch(&items)
        .map_err(|e| StateSyncError::Chunk(format!("an issuer signature does not verify: {e}")))?;
    Ok(out)
}

/// How long one snapshot request to a peer may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A peer over `credex-p2p`, asked from a blocking thread.
pub struct PeerSource {
    /// The swarm.
    pub handle: credex_p2p::Handle,
    /// The peer.
    pub peer: credex_p2p::PeerId,
    /// The runtime the swarm runs on.
    pub runtime: tokio::runtime::Handle,
}

impl PeerSource {
    fn ask(&self, req: &credex_wire::SyncRequest) -> Result<credex_wire::SyncResponse, SourceError> {
        let asked = tokio::time::timeout(REQUEST_TIMEOUT, crate::net::ask(&self.handle, self.peer, req));
        match self.runtime.block_on(asked) {
            Ok(Ok(credex_wire::SyncResponse::Error(e))) => Err(SourceError(format!("peer refused: {e}"))),
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => Err(SourceError(e.to_string())),
            Err(_) => Err(SourceError(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))),
        }
    }
}

impl SnapshotSource for PeerSource {
    fn offer(&mut self) -> Result<Option<SnapshotOffer>, SourceError> {
        match self.ask(&credex_wire::SyncRequest::Snapshot)? {
            credex_wire::SyncResponse::Snapshot(o) => Ok(o.map(|b| *b)),
            other => Err(SourceError(format!("unexpected answer to a snapshot request: {other:?}"))),
        }
    }

    fn chunk(&mut self, height: u64, part: SnapshotPart, after: Option<Vec<u8>>) -> Result<SnapshotChunk, SourceError> {
        match self.ask(&credex_wire::SyncRequest::SnapshotChunk { height, part, after })? {
            credex_wire::SyncResponse::SnapshotChunk(c) => Ok(c),
            _ => Err(SourceError("unexpected answer to a chunk request".into())),
        }
    }

    fn block(&mut self, height: u64) -> Result<Option<(Block, CommitCertificate)>, SourceError> {
        match self.ask(&credex_wire::SyncRequest::Blocks { from: height, max: 1 })? {
            credex_wire::SyncResponse::Blocks(mut b) if b.len() == 1 => Ok(b.pop()),
            credex_wire::SyncResponse::Blocks(_) => Ok(None),
            _ => Err(SourceError("unexpected answer to a blocks request".into())),
        }
    }
}

/// How long a node waits for its first peer before it gives up syncing.
pub const FIRST_PEER: Duration = Duration::from_secs(120);

/// Starts `store` (with no block) from a snapshot of one of its peers: waits
/// for a peer, asks each in turn until one's snapshot imports, and retries
/// every few seconds while none does (each failure logged, with the peer
/// named when it is to blame). When every peer answers that it has no block,
/// there is nothing to sync: the node replays from genesis as usual.
/// Requests from peers meanwhile are answered "busy" (the node is not
/// open yet); the swarm's events are handed back with the store.
pub async fn from_peers(
    handle: &credex_p2p::Handle,
    mut events: tokio::sync::mpsc::Receiver<credex_p2p::Event>,
    store: Store,
    genesis: &Genesis,
    data: &std::path::Path,
    floor_mb: u64,
) -> Result<(Store, tokio::sync::mpsc::Receiver<credex_p2p::Event>), StartError> {
    // the swarm must not wait on an unread channel while this runs
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let h = handle.clone();
    let drain = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return events,
                ev = events.recv() => match ev {
                    Some(credex_p2p::Event::Request { reply, .. }) => {
                        let busy = credex_wire::SyncResponse::Error("busy: this node is syncing its state; retry".into());
                        let _ = h.respond(reply, credex_codec::encode(&busy)).await;
                    }
                    Some(_) => {}
                    None => return events,
                },
            }
        }
    });
    let synced = sync_loop(handle, store, genesis, data, floor_mb).await;
    let _ = stop.send(());
    let events = drain.await.map_err(|e| StartError::Task(e.to_string()))?;
    Ok((synced?, events))
}

/// Why a node could not start by state sync.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No peer connected in [`FIRST_PEER`].
    #[error("state sync: no peer connected within {} s; check --peer and the peers' allow-lists", FIRST_PEER.as_secs())]
    NoPeer,
    /// This node's store failed.
    #[error("state sync: {0}")]
    Store(#[from] StoreError),
    /// The sync's task failed.
    #[error("state sync task: {0}")]
    Task(String),
}

async fn sync_loop(
    handle: &credex_p2p::Handle,
    mut store: Store,
    genesis: &Genesis,
    data: &std::path::Path,
    floor_mb: u64,
) -> Result<Store, StartError> {
    let waiting = Instant::now();
    loop {
        let peers = handle.peers().await.unwrap_or_default();
        if peers.is_empty() {
            if waiting.elapsed() > FIRST_PEER {
                return Err(StartError::NoPeer);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let mut nothing = 0;
        for peer in peers.iter().copied() {
            let source = PeerSource { handle: handle.clone(), peer, runtime: tokio::runtime::Handle::current() };
            let (g, d) = (genesis.clone(), data.to_path_buf());
            let run = tokio::task::spawn_blocking(move || {
                let mut source = source;
                let mut check = || {
                    credex_storage::check_free_space(&d, floor_mb)
                        .map(|_| ())
                        .map_err(|e| StateSyncError::Disk(e.to_string()))
                };
                let r = import(&store, &g, &mut source, &mut check);
                (store, r)
            });
            let (back, result) = run.await.map_err(|e| StartError::Task(e.to_string()))?;
            store = back;
            match result {
                Ok(s) => {
                    let ms = u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX).max(1);
                    tracing::info!(target: "credex::sync", %peer, height = s.height, values = s.values,
                        attestations = s.attestations, mib = s.bytes >> 20, ms,
                        attestations_per_s = s.attestations.saturating_mul(1000) / ms,
                        "state sync done: following blocks from here");
                    return Ok(store);
                }
                Err(StateSyncError::NothingOffered) => nothing += 1,
                Err(e) if e.peer_at_fault() => {
                    tracing::warn!(target: "credex::sync", %peer, error = %e, "state sync: the peer's snapshot is refused");
                }
                Err(StateSyncError::Store(e)) => return Err(StartError::Store(e)),
                Err(e) => tracing::warn!(target: "credex::sync", %peer, error = %e, "state sync failed; trying again"),
            }
        }
        if nothing == peers.len() {
            tracing::info!(target: "credex::sync", "no peer has a block yet: nothing to sync, following from genesis");
            return Ok(store);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

/// A node in the same process as the source: the whole algorithm without
/// the network (benchmarks, tests).
pub struct NodeSource<'a>(pub &'a crate::Node);

impl SnapshotSource for NodeSource<'_> {
    fn offer(&mut self) -> Result<Option<SnapshotOffer>, SourceError> {
        self.0.snapshot_offer().map_err(|e| SourceError(e.to_string()))
    }

    fn chunk(&mut self, height: u64, part: SnapshotPart, after: Option<Vec<u8>>) -> Result<SnapshotChunk, SourceError> {
        self.0.snapshot_chunk(height, part, after.as_deref()).map_err(|e| SourceError(e.to_string()))
    }

    fn block(&mut self, height: u64) -> Result<Option<(Block, CommitCertificate)>, SourceError> {
        self.0.block_with_certificate(height).map_err(|e| SourceError(e.to_string()))
    }
}
