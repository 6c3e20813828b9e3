//! The node on the network: transaction gossip and block sync over
//! `credex-p2p`.
//!
//! Messages (canonical encoding, `credex-codec`, size-limited):
//!
//! * gossip [`Topic::Attestations`]: one `Transaction` (anchor only: header,
//!   claims root, signature; field values never leave the issuer's node);
//! * request [`SyncRequest::Status`] → [`SyncResponse::Status`] (height);
//! * request [`SyncRequest::Blocks`] `{from, max}` → [`SyncResponse::Blocks`]:
//!   consecutive blocks with their certificates, at most [`SYNC_BYTES`];
//! * request [`SyncRequest::Snapshot`] → [`SyncResponse::Snapshot`] and
//!   [`SyncRequest::SnapshotChunk`] → [`SyncResponse::SnapshotChunk`]: the
//!   state snapshot this node serves (`crate::statesync`, spec §10.6);
//! * gossip [`Topic::Consensus`]: one `ConsensusGossip`, a vote, a polka or
//!   a compact proposal (header and transaction hashes), assembled by
//!   validators from their pool and from peers (`crate::compact`, spec
//!   §10.7); a full proposal on gossip is malformed;
//! * request [`SyncRequest::Transactions`] → [`SyncResponse::Transactions`]:
//!   the named transactions this node holds, at most
//!   `credex_wire::TRANSACTIONS_BYTES`;
//! * request [`SyncRequest::RawRecord`] → [`SyncResponse::RawRecord`]: a raw
//!   record for a client of the asking node (`crate::records`).
//!
//! Gossip is validated before it is forwarded (`credex_p2p::Verdict`): a
//! transaction after admission, a consensus message after
//! `credex_consensus::Verifier`'s checks; malformed or badly signed ones
//! penalize the peer that passed them on. Requests are served in their own
//! tasks, at most [`REQUESTS_PER_PEER`] per peer and [`REQUESTS`] in all.
//!
//! A follower (observer, or any node behind) republishes its pending
//! transactions every second until they are committed (gossip alone can
//! drop them while no validator is connected), asks its peers for their
//! height and fetches what it lacks; every block is checked like a
//! proposal (header links, transaction root, re-execution, state root) and
//! its certificate verified under the validator set before it is stored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use credex_chain::{MAX_TX_BYTES, Transaction};
use credex_consensus::ConsensusMsg;
use credex_p2p::{Event, GossipId, Handle, PeerId, Topic, Verdict};
use credex_wire::{CompactProposal, ConsensusGossip};
use tokio::sync::Semaphore;

use crate::service::{BlockError, Node, SyncError};

pub use credex_wire::MAX_MESSAGE;
/// Byte budget of one blocks response.
pub const SYNC_BYTES: usize = 4 << 20;
/// Most blocks per response.
const SYNC_BLOCKS: u32 = 256;

pub use credex_wire::{SyncRequest, SyncResponse};

/// Largest request: a transactions request names up to `MAX_BLOCK_TXS`
/// hashes of 32 bytes (a raw-record request carries an authorization).
const MAX_REQUEST: usize = credex_chain::MAX_BLOCK_TXS * 32 + 16 * 1024;

/// The ends of the channels the network side of a node serves, created by
/// the builder before the node (whose ends it holds).
pub struct NetPorts {
    /// The swarm's handle.
    pub handle: Handle,
    /// The swarm's events.
    pub events: tokio::sync::mpsc::Receiver<Event>,
    /// Local submissions to gossip (the node holds the sender).
    pub gossip: tokio::sync::mpsc::UnboundedReceiver<Transaction>,
    /// The number of connected peers (the node holds the receiver).
    pub peers: tokio::sync::watch::Sender<usize>,
    /// Consensus messages for the BFT engine (validators of a network).
    pub consensus: Option<tokio::sync::mpsc::Sender<credex_consensus::ConsensusMsg>>,
}

/// Starts the network side of `node`; followers also run the sync loop.
pub fn start(node: Arc<Node>, access: Arc<crate::access::Access>, ports: NetPorts, follow: bool) {
    let NetPorts { handle, mut events, gossip: mut tx_in, peers, consensus } = ports;
    let grace = if consensus.is_some() { VALIDATOR_SYNC_GRACE } else { Duration::ZERO };
    // local submissions → gossip
    let h = handle.clone();
    tokio::spawn(async move {
        while let Some(tx) = tx_in.recv().await {
            if let Err(e) = h.publish(Topic::Attestations, credex_codec::encode(&tx)).await {
                tracing::debug!(target: "credex::net", error = %e, "gossip not sent");
            }
        }
    });
    // gossiped transactions are admitted in batches, off the event loop;
    // each is forwarded (or not) once its admission has decided
    let (gossip_tx, mut gossip_rx) = tokio::sync::mpsc::channel::<(PeerId, Vec<u8>, GossipId)>(10_000);
    let (n, h) = (node.clone(), handle.clone());
    tokio::spawn(async move {
        while let Some(first) = gossip_rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 512 {
                match gossip_rx.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(_) => break,
                }
            }
            let n = n.clone();
            let verdicts = tokio::task::spawn_blocking(move || {
                batch.into_iter().map(|(source, data, id)| (id, admit_gossip(&n, source, &data))).collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            for (id, verdict) in verdicts {
                h.report(id, verdict).await;
            }
        }
    });
    // network events
    let (n, h) = (node.clone(), handle.clone());
    tokio::spawn(async move {
        let all = Arc::new(Semaphore::new(REQUESTS));
        let assembling = Arc::new(Semaphore::new(ASSEMBLING));
        let mut serving: HashMap<PeerId, Arc<Semaphore>> = HashMap::new();
        while let Some(ev) = events.recv().await {
            match ev {
                Event::Gossip { topic: Topic::Attestations, source, data, id } => {
                    // When the queue is full the message is dropped (and not
                    // forwarded): the sender republishes what stays pending.
                    if let Err(e) = gossip_tx.try_send((source, data, id)) {
                        tracing::debug!(target: "credex::net", peer = %source, "gossip queue full; dropped");
                        let (_, _, id) = e.into_inner();
                        h.report(id, Verdict::Ignore).await;
                    }
                }
                Event::Gossip { topic: Topic::Consensus, source, data, id } => {
                    let verdict = match credex_codec::decode::<ConsensusGossip>(&data, MAX_MESSAGE) {
                        Err(e) => {
                            tracing::warn!(target: "credex::net", peer = %source, error = %e, "malformed consensus message");
                            Verdict::Reject
                        }
                        Ok(ConsensusGossip::Message(ConsensusMsg::Proposal { .. })) => {
                            tracing::warn!(target: "credex::net", peer = %source, "full proposal on gossip (proposals travel compact)");
                            Verdict::Reject
                        }
                        Ok(ConsensusGossip::Message(msg)) => {
                            let verdict = consensus_verdict(&n, msg.height(), |v| v.check(&msg));
                            if verdict == Verdict::Accept
                                && let Some(tx) = &consensus
                                && tx.try_send(msg).is_err()
                            {
                                tracing::debug!(target: "credex::net", peer = %source, "consensus queue full; dropped");
                            }
                            verdict
                        }
                        Ok(ConsensusGossip::Proposal(compact)) => {
                            let verdict = match compact.check() {
                                Err(e) => {
                                    tracing::warn!(target: "credex::net", peer = %source, error = %e, "malformed compact proposal");
                                    Verdict::Reject
                                }
                                Ok(()) => consensus_verdict(&n, compact.height, |v| {
                                    let c = &compact;
                                    v.check_proposal(
                                        c.height,
                                        c.round,
                                        c.pol_round,
                                        c.proposer,
                                        &c.header,
                                        &c.signature,
                                    )
                                }),
                            };
                            if verdict == Verdict::Accept
                                && let Some(tx) = &consensus
                            {
                                assemble_in_background(&n, &h, &assembling, tx, compact, source);
                            }
                            verdict
                        }
                    };
                    h.report(id, verdict).await;
                }
                Event::Request { peer, data, reply } => {
                    // Served concurrently, at most REQUESTS_PER_PEER at a time
                    // per peer and REQUESTS in all; a peer over its share is
                    // told so at once, and the event loop never waits on one.
                    let mine =
                        serving.entry(peer).or_insert_with(|| Arc::new(Semaphore::new(REQUESTS_PER_PEER))).clone();
                    let (Ok(p1), Ok(p2)) = (mine.try_acquire_owned(), all.clone().try_acquire_owned()) else {
                        tracing::debug!(target: "credex::net", %peer, "request refused: too many in flight");
                        let busy = SyncResponse::Error("busy: too many requests in flight; retry".into());
                        let _ = h.respond(reply, credex_codec::encode(&busy)).await;
                        continue;
                    };
                    let (n, a, h) = (n.clone(), access.clone(), h.clone());
                    tokio::spawn(async move {
                        let _permits = (p1, p2);
                        let answer = tokio::task::spawn_blocking(move || serve(&n, &a, peer, &data))
                            .await
                            .unwrap_or_else(|e| SyncResponse::Error(e.to_string()));
                        if let SyncResponse::Error(e) = &answer {
                            tracing::debug!(target: "credex::net", %peer, error = %e, "sync request refused");
                        }
                        let _ = h.respond(reply, credex_codec::encode(&answer)).await;
                    });
                }
                Event::Refused { peer, reason } => {
                    tracing::warn!(target: "credex::net", ?peer, %reason, "peer refused");
                }
                Event::Connected(_) | Event::Disconnected(_) => {
                    if let Ok(p) = h.peers().await {
                        peers.send_replace(p.len());
                    }
                }
                _ => {}
            }
        }
    });
    if follow {
        tokio::spawn(regossip_loop(node.clone(), handle.clone()));
        tokio::spawn(follow_loop(node, handle, grace));
    }
}

/// Admits a gossiped transaction; the verdict decides whether gossip
/// forwards it: a transaction whose decoding or signature fails is
/// invalid (the peer that passed it on is penalized), one refused for the
/// state it meets (a duplicate, a conflict, a full pool) is only not
/// forwarded.
fn admit_gossip(node: &Node, source: PeerId, data: &[u8]) -> Verdict {
    match credex_codec::decode::<Transaction>(data, MAX_TX_BYTES + 64) {
        Ok(tx) => match node.submit_tx(&tx) {
            Ok((id, _)) => {
                tracing::trace!(target: "credex::net", %id, peer = %source, "gossiped transaction admitted");
                Verdict::Accept
            }
            Err(e @ crate::service::SubmitError::Attestation(_)) => {
                tracing::warn!(target: "credex::net", peer = %source, error = %e, "invalid gossiped transaction");
                Verdict::Reject
            }
            Err(e) => {
                tracing::debug!(target: "credex::net", peer = %source, error = %e, "gossiped transaction refused");
                Verdict::Ignore
            }
        },
        Err(e) => {
            tracing::warn!(target: "credex::net", peer = %source, error = %e, "malformed gossip");
            Verdict::Reject
        }
    }
}

/// Whether gossip forwards a consensus message of `height`: checked
/// against the validator set in force (`check`: signature, proposer,
/// quorum) before anyone else sees it from us; heights already committed
/// here, or far ahead, are not forwarded (spec §10.5).
fn consensus_verdict(
    node: &Node,
    height: u64,
    check: impl FnOnce(&credex_consensus::Verifier) -> Result<(), credex_consensus::MsgError>,
) -> Verdict {
    let committed = node.height();
    if height <= committed || height > committed + 1 + credex_consensus::FUTURE_HEIGHTS {
        return Verdict::Ignore;
    }
    // The set in force for the next height (a later height's may differ).
    let verifier = credex_consensus::Verifier::new(node.genesis().chain_id.clone(), &node.validator_set());
    match check(&verifier) {
        Ok(()) => Verdict::Accept,
        Err(e) if credex_consensus::Verifier::is_malformed(&e) => {
            tracing::warn!(target: "credex::net", error = %e, "malformed consensus message");
            Verdict::Reject
        }
        // Not forwarded; not penalized: a validator whose key was just
        // rotated or removed sends such messages until its operator restarts it.
        Err(e) => {
            tracing::debug!(target: "credex::net", error = %e, "consensus message not forwarded");
            Verdict::Ignore
        }
    }
}

/// Compact proposals assembled at a time; one more is dropped (its round
/// times out as for a proposal never received).
const ASSEMBLING: usize = 4;

/// Assembles a compact proposal off the event loop (`crate::compact`),
/// fetching what the pool lacks from the author first, then from the other
/// peers, and hands the full proposal to the engine.
fn assemble_in_background(
    node: &Arc<Node>,
    handle: &Handle,
    permits: &Arc<Semaphore>,
    engine: &tokio::sync::mpsc::Sender<ConsensusMsg>,
    compact: CompactProposal,
    author: PeerId,
) {
    let Ok(permit) = permits.clone().try_acquire_owned() else {
        tracing::warn!(target: "credex::net", height = compact.height, round = compact.round,
            "compact proposal dropped: too many being assembled");
        return;
    };
    let (node, handle, engine) = (node.clone(), handle.clone(), engine.clone());
    tokio::spawn(async move {
        let _permit = permit;
        let (height, round) = (compact.height, compact.round);
        let mut sources = vec![crate::compact::PeerTxSource { handle: handle.clone(), peer: author }];
        if let Ok(peers) = handle.peers().await {
            sources.extend(
                peers
                    .into_iter()
                    .filter(|p| *p != author)
                    .map(|peer| crate::compact::PeerTxSource { handle: handle.clone(), peer }),
            );
        }
        let assembled =
            tokio::time::timeout(crate::compact::ASSEMBLE_WAIT, crate::compact::assemble(&node, compact, &mut sources))
                .await;
        match assembled {
            Ok(Ok(msg)) => {
                if engine.send(msg).await.is_err() {
                    tracing::debug!(target: "credex::net", "consensus engine gone; proposal dropped");
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(target: "credex::net", height, round, error = %e, "compact proposal not assembled")
            }
            Err(_) => tracing::warn!(target: "credex::net", height, round,
                "compact proposal not assembled within {} s", crate::compact::ASSEMBLE_WAIT.as_secs()),
        }
    });
}

fn serve(node: &Node, access: &crate::access::Access, peer: PeerId, data: &[u8]) -> SyncResponse {
    match credex_codec::decode::<SyncRequest>(data, MAX_REQUEST) {
        Err(e) => SyncResponse::Error(format!("malformed request: {e}")),
        Ok(SyncRequest::RawRecord(req)) => SyncResponse::RawRecord(Box::new(crate::records::serve(
            node,
            access,
            node.agency_of_peer(&peer.to_string()),
            *req,
        ))),
        Ok(SyncRequest::Status) => SyncResponse::Status { height: node.height() },
        Ok(SyncRequest::Transactions(hashes)) => {
            if hashes.len() > credex_chain::MAX_BLOCK_TXS {
                SyncResponse::Error(format!("at most {} hashes per request", credex_chain::MAX_BLOCK_TXS))
            } else {
                SyncResponse::Transactions(node.transactions_by_hash(&hashes, credex_wire::TRANSACTIONS_BYTES))
            }
        }
        Ok(SyncRequest::Snapshot) => match node.snapshot_offer() {
            Ok(offer) => SyncResponse::Snapshot(offer.map(Box::new)),
            Err(e) => SyncResponse::Error(e.to_string()),
        },
        Ok(SyncRequest::SnapshotChunk { height, part, after }) => {
            match node.snapshot_chunk(height, part, after.as_deref()) {
                Ok(chunk) => SyncResponse::SnapshotChunk(chunk),
                Err(e) => SyncResponse::Error(e.to_string()),
            }
        }
        Ok(SyncRequest::Blocks { from, max }) => {
            let mut out = Vec::new();
            let mut bytes = 0usize;
            let last = from.saturating_add(u64::from(max.min(SYNC_BLOCKS))).min(node.height().saturating_add(1));
            for h in from.max(1)..last {
                match node.block_with_certificate(h) {
                    Ok(Some(bc)) => {
                        bytes += credex_codec::encode(&bc).len();
                        if bytes > SYNC_BYTES && !out.is_empty() {
                            break;
                        }
                        out.push(bc);
                    }
                    Ok(None) => break,
                    Err(e) => return SyncResponse::Error(format!("storage: {e}")),
                }
            }
            SyncResponse::Blocks(out)
        }
    }
}

/// Sends `req` to `peer` and decodes the answer.
pub async fn ask(handle: &Handle, peer: PeerId, req: &SyncRequest) -> anyhow::Result<SyncResponse> {
    let bytes = handle.request(peer, credex_codec::encode(req)).await?;
    Ok(credex_codec::decode(&bytes, MAX_MESSAGE)?)
}

/// Requests one peer may have served at a time.
pub const REQUESTS_PER_PEER: usize = 4;
/// Requests served at a time in all.
pub const REQUESTS: usize = 32;

/// Most transactions republished per second.
const REPUBLISH_PER_TICK: usize = 100;

/// Gossip is fire-and-forget: a transaction published while no validator
/// was connected (start-up, a validator restarting) would be lost. A
/// follower therefore republishes (up to 100 per second) what is still pending until
/// a committed block takes it out of its pool; receivers admit repeats
/// idempotently.
async fn regossip_loop(node: Arc<Node>, handle: Handle) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // Only what was already pending a tick ago is republished: a fresh
    // transaction's first publication usually suffices.
    let mut previous: std::collections::HashSet<credex_types::AttestationId> = Default::default();
    loop {
        tick.tick().await;
        let pending = node.pending(10_000);
        for (id, tx) in pending.iter().filter(|(id, _)| previous.contains(id)).take(REPUBLISH_PER_TICK) {
            if handle.publish(Topic::Attestations, credex_codec::encode(tx)).await.is_err() {
                tracing::debug!(target: "credex::net", %id, "republish failed; next tick");
                break;
            }
        }
        previous = pending.into_iter().map(|(id, _)| id).collect();
    }
}

/// How long a validator's height may stay behind a peer's before it
/// fetches blocks: its own consensus usually commits the same block a
/// moment later, and executing it twice (once from sync, once decided)
/// costs a block's execution and, worse, misreads the loser of the race
/// as a peer's bad block.
pub const VALIDATOR_SYNC_GRACE: Duration = Duration::from_secs(2);

/// Fetches and applies blocks from peers that are ahead: at once when
/// they are two or more blocks ahead, after this node's height has stayed
/// the same for `grace` (zero for a node without consensus) when one.
async fn follow_loop(node: Arc<Node>, handle: Handle, grace: Duration) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    // This node's height, and since when it is that.
    let mut stayed = (node.height(), tokio::time::Instant::now());
    loop {
        tick.tick().await;
        if node.read_only() {
            // Nothing is stored below the disk floor; sync resumes with space.
            continue;
        }
        if node.height() != stayed.0 {
            stayed = (node.height(), tokio::time::Instant::now());
        }
        let Ok(peers) = handle.peers().await else { return };
        for peer in peers {
            let theirs = match ask(&handle, peer, &SyncRequest::Status).await {
                Ok(SyncResponse::Status { height }) => height,
                Ok(other) => {
                    tracing::debug!(target: "credex::sync", %peer, ?other, "unexpected status answer");
                    continue;
                }
                Err(e) => {
                    tracing::debug!(target: "credex::sync", %peer, error = %e, "status request failed");
                    continue;
                }
            };
            // One block behind, only for a moment: the engine is deciding it.
            if theirs <= node.height() + 1 && stayed.1.elapsed() < grace {
                continue;
            }
            while node.height() < theirs {
                let from = node.height() + 1;
                let blocks = match ask(&handle, peer, &SyncRequest::Blocks { from, max: SYNC_BLOCKS }).await {
                    Ok(SyncResponse::Blocks(b)) if !b.is_empty() => b,
                    Ok(_) | Err(_) => break,
                };
                let n = node.clone();
                let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                    let mut count = 0;
                    for (block, cert) in blocks {
                        // Committed meanwhile by this node's own consensus.
                        if block.header.height <= n.height() {
                            continue;
                        }
                        n.apply_certified(block, cert)?;
                        count += 1;
                    }
                    Ok(count)
                })
                .await;
                match applied {
                    Ok(Ok(c)) => {
                        tracing::debug!(target: "credex::sync", %peer, blocks = c, height = node.height(), "synced");
                        let n = node.clone();
                        let _ = tokio::task::spawn_blocking(move || n.prune_pending()).await;
                    }
                    Ok(Err(e)) => {
                        let local = matches!(
                            e.downcast_ref::<SyncError>(),
                            Some(SyncError::Block(BlockError::Storage { .. }) | SyncError::Commit(_))
                        );
                        if local {
                            tracing::error!(target: "credex::sync", error = %e, "sync stopped: this node's store failed");
                        } else {
                            tracing::warn!(target: "credex::sync", %peer, error = %e, "peer sent a block that does not verify");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::error!(target: "credex::sync", error = %e, "sync task failed");
                        break;
                    }
                }
            }
        }
    }
}
