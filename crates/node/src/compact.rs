//! Assembling compact proposals (spec §10.7).
//!
//! A proposal travels on the consensus topic as a
//! [`CompactProposal`]: the header and the hashes of its transactions.
//! Every validator already holds most of them from transaction gossip
//! (where each was admitted, its signatures verified once). To hand the
//! engine the full proposal, a validator:
//!
//! 1. checks the message alone ([`CompactProposal::check`]: at most
//!    `MAX_BLOCK_TXS` hashes, the header's height, their RFC 6962 root the
//!    header's `tx_root`) and the proposer's signature over the header's
//!    id (the consensus verifier, before gossip forwards it);
//! 2. takes the named transactions from its pool or from this height's
//!    proposal bodies ([`Node::lookup_transactions`]);
//! 3. asks peers for those it lacks ([`SyncRequest::Transactions`]), first
//!    the proposal's author (who built or re-proposes the block and holds
//!    it), then the others, keeping only transactions whose hash it asked
//!    for — a peer cannot slip in other bytes under a name;
//! 4. assembles the block ([`CompactProposal::assemble`]), within
//!    [`ASSEMBLE_WAIT`]. A proposal it cannot assemble in time is dropped:
//!    the round's propose timeout then makes it prevote nil, as for a
//!    proposal that never arrived.
//!
//! Validation then re-executes the block as before, skipping only the
//! signatures the pool verified on the same bytes
//! (`credex_chain::execute_block_with`).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use credex_chain::Transaction;
use credex_consensus::ConsensusMsg;
use credex_crypto::Hash32;
use credex_wire::{CompactError, CompactProposal, SyncRequest, SyncResponse};

use crate::service::Node;

/// The longest a validator spends assembling one compact proposal
/// (fetches included) before it drops it.
pub const ASSEMBLE_WAIT: Duration = Duration::from_secs(3);

/// The longest one fetch from one peer may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// Where missing transactions are fetched from.
pub trait TxSource {
    /// Those of the transactions with these hashes the source holds.
    fn fetch(&mut self, hashes: Vec<Hash32>) -> impl Future<Output = Result<Vec<Transaction>, FetchError>> + Send;
}

/// A source that could not answer (network, timeout, a refusal).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

/// Why a compact proposal could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// The message is malformed or its transactions are not the named ones.
    #[error(transparent)]
    Compact(#[from] CompactError),
    /// Neither this node nor any source holds some of the transactions.
    #[error("{missing} of the proposal's {named} transactions were found nowhere")]
    Missing {
        /// How many are missing.
        missing: usize,
        /// How many the proposal names.
        named: usize,
    },
}

/// The full proposal for `compact`: its transactions from `node`, then
/// from `sources` in order (spec §10.7). Each source is asked again as long
/// as it brings something new (an answer is bounded in bytes).
pub async fn assemble<S: TxSource>(
    node: &Node,
    compact: CompactProposal,
    sources: &mut [S],
) -> Result<ConsensusMsg, AssembleError> {
    compact.check()?;
    let mut found = node.lookup_transactions(&compact.txs);
    let mut positions: HashMap<Hash32, Vec<usize>> = HashMap::new();
    for (i, (h, slot)) in compact.txs.iter().zip(&found).enumerate() {
        if slot.is_none() {
            positions.entry(*h).or_default().push(i);
        }
    }
    let local = compact.txs.len() - found.iter().filter(|s| s.is_none()).count();
    for source in sources.iter_mut() {
        while !positions.is_empty() {
            let wanted: Vec<Hash32> = positions.keys().copied().collect();
            let got = match source.fetch(wanted).await {
                Ok(g) => g,
                Err(e) => {
                    tracing::debug!(target: "credex::consensus", error = %e, "transactions not fetched from a peer");
                    break;
                }
            };
            let mut progress = false;
            for tx in got {
                // Only what was asked for, by the hash of the bytes received.
                if let Some(at) = positions.remove(&tx.hash()) {
                    for i in at {
                        found[i] = Some(tx.clone());
                    }
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
    }
    let named = compact.txs.len();
    if !positions.is_empty() {
        return Err(AssembleError::Missing { missing: positions.values().map(Vec::len).sum(), named });
    }
    tracing::debug!(target: "credex::consensus", height = compact.height, round = compact.round, named,
        fetched = named - local, "compact proposal assembled");
    Ok(compact.assemble(found.into_iter().flatten().collect())?)
}

/// A peer over `credex-p2p`.
pub struct PeerTxSource {
    /// The swarm.
    pub handle: credex_p2p::Handle,
    /// The peer.
    pub peer: credex_p2p::PeerId,
}

impl TxSource for PeerTxSource {
    async fn fetch(&mut self, hashes: Vec<Hash32>) -> Result<Vec<Transaction>, FetchError> {
        let req = SyncRequest::Transactions(hashes);
        match tokio::time::timeout(FETCH_TIMEOUT, crate::net::ask(&self.handle, self.peer, &req)).await {
            Ok(Ok(SyncResponse::Transactions(txs))) => Ok(txs),
            Ok(Ok(SyncResponse::Error(e))) => Err(FetchError(format!("peer {} refused: {e}", self.peer))),
            Ok(Ok(_)) => Err(FetchError(format!("peer {}: unexpected answer to a transactions request", self.peer))),
            Ok(Err(e)) => Err(FetchError(format!("peer {}: {e}", self.peer))),
            Err(_) => Err(FetchError(format!("peer {}: no answer within {} s", self.peer, FETCH_TIMEOUT.as_secs()))),
        }
    }
}
