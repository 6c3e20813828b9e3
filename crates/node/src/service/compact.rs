//! The transactions of compact proposals (spec §10.7): a proposal names
//! its block's transactions by hash; this node finds them in its pool or
//! among the bodies of the proposals it holds for the current height, and
//! serves them to peers that lack them.

use super::*;

/// Most transactions held beyond the pool for peers (this height's
/// proposal bodies): four full blocks.
const HELD_TXS: usize = 4 * credex_chain::MAX_BLOCK_TXS;

/// The transactions of this height's proposals, by hash: a block this node
/// proposed or validated may hold transactions that are not (or no longer)
/// in its pool, and a peer assembling the same proposal may ask for them.
#[derive(Default)]
pub(super) struct Held {
    height: u64,
    txs: HashMap<Hash32, Arc<Transaction>>,
}

impl Node {
    /// Keeps `block`'s transactions for peers that lack them
    /// ([`Node::transactions_by_hash`]) until a later height's block is
    /// held; at most `HELD_TXS` at a time (beyond them, peers find the
    /// rest in their own pools or at the proposer).
    pub fn hold_block(&self, block: &Block) {
        let mut held = self.held.lock().unwrap_or_else(lock_err);
        let height = block.header.height;
        if height < held.height {
            return;
        }
        if height > held.height {
            *held = Held { height, txs: HashMap::new() };
        }
        for tx in &block.txs {
            if held.txs.len() >= HELD_TXS {
                break;
            }
            held.txs.entry(tx.hash()).or_insert_with(|| Arc::new(tx.clone()));
        }
    }

    /// What this node holds of the transactions named by `hashes`, position
    /// by position: from the pool, else from this height's proposal bodies.
    pub fn lookup_transactions(&self, hashes: &[Hash32]) -> Vec<Option<Transaction>> {
        let mut found: Vec<Option<Transaction>> = {
            let pool = self.mempool.lock().unwrap_or_else(lock_err);
            hashes.iter().map(|h| pool.by_hash(h).map(|t| Transaction::clone(&t))).collect()
        };
        if found.iter().any(Option::is_none) {
            let held = self.held.lock().unwrap_or_else(lock_err);
            for (slot, h) in found.iter_mut().zip(hashes) {
                if slot.is_none() {
                    *slot = held.txs.get(h).map(|t| Transaction::clone(t));
                }
            }
        }
        found
    }

    /// The answer to a peer's [`credex_wire::SyncRequest::Transactions`]:
    /// those of the named transactions this node holds, in the order
    /// named, until their encodings reach `budget` bytes (one at least).
    pub fn transactions_by_hash(&self, hashes: &[Hash32], budget: usize) -> Vec<Transaction> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for tx in self.lookup_transactions(hashes).into_iter().flatten() {
            bytes = bytes.saturating_add(credex_codec::encode(&tx).len());
            if bytes > budget && !out.is_empty() {
                break;
            }
            out.push(tx);
        }
        out
    }

    /// Per transaction of `txs`, the keys this node's pool verified its
    /// signatures under, when the pool holds exactly these bytes (the same
    /// hash, not merely the same id): [`Node::validate_block`] does not
    /// verify those again (`credex_chain::execute_block_with`).
    pub(super) fn pool_verified(&self, txs: &[Transaction]) -> Vec<Option<VerifiedKeys>> {
        let pool = self.mempool.lock().unwrap_or_else(lock_err);
        txs.iter().map(|t| pool.verified_keys(t).cloned()).collect()
    }
}
