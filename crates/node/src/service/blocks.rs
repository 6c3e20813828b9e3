//! Block production and acceptance (the consensus seam): propose from the
//! mempool, validate another node's block, commit with a certificate; the
//! single-validator engine. Execution and header rules are `credex-chain`'s;
//! state roots of candidates come from the map without changing it.

use super::*;
use credex_storage::signed::{STEP_PRECOMMIT, SignError, SignGuard, Signed};

/// Largest lead of a proposed block's time over a validator's clock.
pub const MAX_FUTURE_MS: u64 = 30_000;
/// Largest lag of a fresh proposal's block time behind a validator's clock
/// (a re-proposal of a value that already had a polka is exempt: the
/// polka's validators took its time when it was fresh).
pub const MAX_PAST_MS: u64 = 30_000;

/// Most transactions per block.
pub const BLOCK_TXS: usize = 5_000;

/// A block ready for a certificate.
pub struct Proposal {
    block: Block,
    outcome: BlockOutcome,
    /// The state map's update for the outcome's writes, on the committed
    /// state the block follows (computed once, committed with it).
    map: credex_merkle::stored::Update,
    included: Vec<AttestationId>,
}

impl Proposal {
    /// The proposed header.
    pub fn header(&self) -> &BlockHeader {
        &self.block.header
    }

    /// The proposed block.
    pub fn block(&self) -> &Block {
        &self.block
    }
}

/// Why a block could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The certificate does not commit the header.
    #[error("certificate: {0}")]
    Certificate(#[from] credex_types::chain::CertificateError),
    /// Not the next height.
    #[error("proposal for height {got} but next is {expected}")]
    OutOfOrder {
        /// The block's height.
        got: u64,
        /// The next height.
        expected: u64,
    },
    /// Storage failed (the block is not committed).
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The block's writes give another state root than its header:
    /// execution is deterministic, so this is a bug; nothing is written,
    /// as serving on would hand out proofs that do not verify.
    #[error("state root after the block's writes {ours} differs from the header's {header}")]
    StateRoot {
        /// What the writes give.
        ours: Hash32,
        /// What the header says.
        header: Hash32,
    },
}

/// Why a certified block from a peer (block sync) was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Its certificate does not commit its header under the validator set.
    #[error("certificate: {0}")]
    Certificate(#[from] credex_types::chain::CertificateError),
    /// The block breaks a header rule or does not execute to its header.
    #[error(transparent)]
    Block(#[from] BlockError),
    /// Committing it failed.
    #[error(transparent)]
    Commit(#[from] CommitError),
}

/// Why another node's block was refused.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// A header field is wrong.
    #[error("block {height}: {what}")]
    Header {
        /// Height of the block.
        height: u64,
        /// Which check failed.
        what: &'static str,
    },
    /// This node could not read its own state: no verdict on the block.
    #[error("block {height}: {error}")]
    Storage {
        /// Height.
        height: u64,
        /// The storage fault.
        error: credex_chain::StateError,
    },
    /// A transaction does not apply.
    #[error("block {height}: {error}")]
    Execution {
        /// Height.
        height: u64,
        /// Why.
        error: String,
    },
}

/// The words of a broken header rule (the `what` of [`BlockError::Header`]).
pub(super) fn header_rule(e: credex_chain::HeaderError) -> &'static str {
    use credex_chain::HeaderError as E;
    match e {
        E::ChainId => "chain id",
        E::Genesis => "genesis hash",
        E::Height => "height does not follow the head",
        E::Parent => "parent is not the head",
        E::Time => "time does not increase",
        E::ValidatorSet => "validator set",
        E::Proposer => "proposer",
        E::TxRoot => "transaction root",
    }
}

/// The one-signature certificate of a single-validator chain (round 0).
pub fn solo_certificate(key: &SecretKey, index: u16, h: &BlockHeader) -> CommitCertificate {
    CommitCertificate::signed(h, 0, &[(index, key)])
}

/// When the single-validator engine makes blocks.
#[derive(Debug, Clone, Copy)]
pub struct SoloTiming {
    /// Longest wait for a transaction before it looks for block work anyway
    /// (expiries, scheduled list changes).
    pub interval: Duration,
    /// How long submissions gather once one arrived, before the block is made.
    pub gather: Duration,
}

/// The single-validator engine: proposes whenever transactions wait, signs
/// the precommit with the only validator key, commits. Runs until the
/// process stops; a commit that fails in storage puts the node read-only
/// (the block is committed when the disk has room), and a governance change
/// that leaves a set of more validators (or another key) stops block
/// production with that reason. A signature the
/// signed-state record refuses (`guard`: a height this validator already
/// certified, after its store lost blocks) stops block production, not the
/// node: reads go on being served.
///
/// Each block is written to the log at `log` (fdatasync) before the record
/// says it is signed, so a crash between the record and the commit is told
/// apart from a store that lost blocks: at start, a block recorded as
/// signed one past the store's head that the log holds is committed (the
/// same block, the same signature); anything else stays refused.
pub async fn run_solo(
    node: Arc<Node>,
    key: SecretKey,
    guard: Arc<SignGuard>,
    log: std::path::PathBuf,
    timing: SoloTiming,
) -> anyhow::Result<()> {
    let index = node
        .validator_index(&key.public())
        .ok_or_else(|| anyhow::anyhow!("this node's key is not in the validator set in force"))?;
    anyhow::ensure!(
        node.validator_set().validators.len() == 1,
        "the single-validator engine needs a validator set of exactly one validator"
    );
    let (wal, records) = credex_storage::wal::ConsensusLog::open(&log)?;
    let wal = Arc::new(std::sync::Mutex::new(wal));
    // A block recorded as signed but not committed (a crash, or a commit that
    // failed on a full disk) is committed first, before any new one.
    let pending: Arc<std::sync::Mutex<Option<Block>>> = Arc::new(std::sync::Mutex::new(
        guard.last().filter(|last| last.height == node.height() + 1).and_then(|last| {
            records
                .iter()
                .filter_map(|r| credex_codec::decode::<Block>(r, credex_storage::wal::MAX_RECORD).ok())
                .find(|b| Some(b.header.id()) == last.block && b.header.height == last.height)
        }),
    ));
    if pending.lock().map_err(|_| anyhow::anyhow!("solo pending lock poisoned"))?.is_none() {
        warn_if_behind(&node, &guard);
    }
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            node.wait_for_tx(timing.interval).await;
        }
        // Let a burst of submissions gather into one block.
        tokio::time::sleep(timing.gather).await;
        // Admitted (answered) but in no block yet: only the raw records on disk hold them.
        credex_storage::crash::point("pool-before-block");
        if node.read_only() {
            // No new blocks on a disk below its floor; the pool waits.
            continue;
        }
        let n = node.clone();
        let (k, g, w, pend) = (SecretKey::from_seed(key.seed()), guard.clone(), wal.clone(), pending.clone());
        let done = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Halt>> {
            let mut pend = pend.lock().map_err(|_| anyhow::anyhow!("solo pending lock poisoned"))?;
            if let Some(block) = pend.take() {
                let height = block.header.height;
                let p = n.validate_block(block.clone())?;
                let cert = solo_certificate(&k, index, p.header());
                match n.commit(p, cert) {
                    Ok(()) => tracing::info!(target: "credex::chain", height, "committed the block signed before a crash or a failed commit"),
                    Err(CommitError::Store(e)) => {
                        *pend = Some(block);
                        return read_only_after(&n, &anyhow::Error::from(e));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            while let Some(p) = n.propose(index) {
                let h = p.header();
                {
                    // The block first, durably: see the function's doc.
                    let mut w = w.lock().map_err(|_| anyhow::anyhow!("solo log lock poisoned"))?;
                    w.reset()?;
                    w.append(&credex_codec::encode(p.block()))?;
                    w.sync()?;
                }
                // Recorded (fsync'd) before the signature exists; refused if it goes back.
                match g.approve(Signed { height: h.height, round: 0, step: STEP_PRECOMMIT, block: Some(h.id()) }) {
                    Ok(()) => {}
                    Err(e @ (SignError::Behind { .. } | SignError::Conflict { .. })) => return Ok(Some(Halt::Refused(e))),
                    Err(e) => return Err(e.into()),
                }
                let cert = solo_certificate(&k, index, h);
                let block = p.block().clone();
                match n.commit(p, cert) {
                    Ok(()) => {}
                    Err(CommitError::Store(e)) => {
                        // Signed and logged, not stored: this very block is committed
                        // when the disk allows (no other block may take its height).
                        *pend = Some(block);
                        return read_only_after(&n, &anyhow::Error::from(e));
                    }
                    Err(e) => return Err(e.into()),
                }
                // Governance may have changed the set with this block: more
                // validators need the multi-validator engine, another key
                // the operator's new key file.
                let set = n.validator_set();
                if set.validators.len() != 1 || n.validator_index(&k.public()) != Some(index) {
                    return Ok(Some(Halt::SetChanged { validators: set.validators.len() }));
                }
            }
            Ok(None)
        })
        .await;
        match done {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(halt))) => {
                // No other validator can supply the lost blocks, or this
                // engine no longer fits the set: produce nothing more, keep
                // serving what the store holds.
                tracing::error!(target: "credex::chain", reason = %halt, "block production stopped; reads are still served");
                return std::future::pending().await;
            }
            Ok(Err(e)) => return Err(e),
            Err(e) => anyhow::bail!("block production task failed: {e}"),
        }
    }
}

/// Why the single-validator engine stops producing blocks.
#[derive(Debug, thiserror::Error)]
enum Halt {
    /// The signed-state record refused a signature.
    #[error(transparent)]
    Refused(SignError),
    /// A committed governance change left a set this engine cannot serve.
    #[error(
        "the validator set in force changed ({validators} validator(s), or another key): restart the node with its validator key, to run the multi-validator engine with its peers"
    )]
    SetChanged {
        /// Members of the set now in force.
        validators: usize,
    },
}

/// A commit that failed in storage (a full disk) puts the node in read-only
/// mode instead of stopping it: reads and proofs go on; the disk watcher
/// leaves the mode when space returns, and the block is committed then.
fn read_only_after(node: &Node, e: &anyhow::Error) -> anyhow::Result<Option<Halt>> {
    node.set_read_only(true);
    tracing::error!(target: "credex::chain", error = %e, "commit failed in storage: read-only until the disk has room");
    Ok(None)
}

/// Says at start when this validator signed beyond its block store: it
/// will sign nothing until its chain is past that height again.
pub fn warn_if_behind(node: &Node, guard: &SignGuard) {
    if let Some(last) = guard.last()
        && last.height > node.height()
    {
        tracing::error!(target: "credex::chain", signed = last.height, stored = node.height(),
            "this validator signed height {} but its block store ends at {}: it lost blocks it certified, and signs nothing at or below height {} (restore the data directory, or let it sync from its peers)",
            last.height, node.height(), last.height);
    }
}

impl Node {
    /// Executes pending transactions into the next block (consensus seam, step 1).
    /// The pool is not drained: its transactions leave it when a block holding
    /// them is committed. Transactions the state now refuses are dropped and
    /// remembered as rejected.
    /// Returns `None` when there is nothing to do.
    pub fn propose(&self, proposer: u16) -> Option<Proposal> {
        self.propose_with(proposer, false)
    }

    /// As [`Node::propose`]; with `allow_empty` an empty pool still gives a
    /// block (the BFT engine must propose something in every round it leads).
    pub fn propose_with(&self, proposer: u16, allow_empty: bool) -> Option<Proposal> {
        // A snapshot: transactions stay in the pool until a block holding
        // them is committed, so a proposal that is never decided loses nothing.
        let (batch, verified): (Vec<(AttestationId, Transaction)>, HashMap<AttestationId, VerifiedKeys>) =
            { self.mempool.lock().unwrap_or_else(lock_err).batch(BLOCK_TXS) };
        // Built under the read lock: readers (API, proofs) go on meanwhile.
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let parent = chain.head.as_ref().map(|(h, _)| h);
        let ctx = credex_chain::next_context(parent, self.genesis.genesis_time, self.clock.now());
        let view = self.state_of(&chain);
        if batch.is_empty() && !allow_empty {
            match credex_chain::has_block_work(view, ctx.time) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    tracing::error!(target: "credex::chain", error = %e, "no proposal: the state could not be read");
                    return None;
                }
            }
        }
        let already =
            |id: &AttestationId, key: &credex_crypto::PublicKey| verified.get(id).is_some_and(|k| k.contains(key));
        let built = match credex_chain::build_block(view, &self.genesis, ctx, batch, &already) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(target: "credex::chain", error = %e, "no proposal: the state could not be read");
                return None;
            }
        };
        let (txs, included): (Vec<Transaction>, Vec<AttestationId>) =
            built.included.into_iter().map(|(id, tx)| (tx, id)).unzip();
        let mut outcome = BlockOutcome::new(built.state, &txs, built.escalated, built.dropped);
        let (header, map) = match (
            self.store.state_update(&outcome.writes),
            credex_chain::validator_set(view, &self.genesis),
        ) {
            (Ok(map), Ok(set)) => {
                let next = outcome.next_set();
                (credex_chain::next_header(&self.identity, &set, next, parent, ctx, proposer, &txs, map.root), map)
            }
            (Err(e), _) => {
                tracing::error!(target: "credex::chain", error = %e, "no proposal: the state map could not be read");
                return None;
            }
            (_, Err(e)) => {
                tracing::error!(target: "credex::chain", error = %e, "no proposal: the state could not be read");
                return None;
            }
        };
        drop(chain);
        let dropped = std::mem::take(&mut outcome.dropped);
        self.reject(dropped, "dropped at block time");
        if txs.is_empty() && outcome.escalated.is_empty() && !allow_empty {
            return None;
        }
        Some(Proposal { block: Block { header, txs }, outcome, map, included })
    }

    /// Checks another node's block against the committed head and re-executes
    /// it; the result can be committed with its certificate.
    /// Signatures this node's pool verified at admission on the very same
    /// transaction bytes are not verified again (spec §10.7).
    pub fn validate_block(&self, block: Block) -> Result<Proposal, BlockError> {
        let known = self.pool_verified(&block.txs);
        let verified = |i: usize, key: &credex_crypto::PublicKey| {
            known.get(i).and_then(Option::as_ref).is_some_and(|k| k.contains(key))
        };
        // Executed under the read lock: readers go on meanwhile.
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let height = block.header.height;
        let parent = chain.head.as_ref().map(|(h, _)| h);
        let view = self.state_of(&chain);
        let set =
            credex_chain::validator_set(view, &self.genesis).map_err(|error| BlockError::Storage { height, error })?;
        let ctx = credex_chain::check_header(&self.identity, &set, parent, &block)
            .map_err(|e| BlockError::Header { height, what: header_rule(e) })?;
        let state =
            credex_chain::execute_block_with(view, &self.genesis, ctx, &block.txs, &verified).map_err(|e| match e {
                credex_chain::ExecError::State(error) => BlockError::Storage { height, error },
                e => BlockError::Execution { height, error: e.to_string() },
            })?;
        let outcome = BlockOutcome::new(state, &block.txs, Vec::new(), Vec::new());
        outcome
            .check_next_validators(&block.header, &set)
            .map_err(|_| BlockError::Header { height, what: "next validators hash" })?;
        let map = self
            .store
            .state_update(&outcome.writes)
            .map_err(|e| BlockError::Storage { height, error: credex_chain::StateError(e.to_string()) })?;
        if map.root != block.header.state_root {
            return Err(BlockError::Header { height, what: "state root" });
        }
        drop(chain);
        let included = block.txs.iter().map(Transaction::id).collect();
        Ok(Proposal { block, outcome, map, included })
    }

    /// Checks a proposed (not yet certified) block's time against this
    /// node's clock (spec §10.5): block time drives chain rules
    /// (escalation, deadlines, publication windows, the age of proofs), so
    /// the proposer may not run it more than [`MAX_FUTURE_MS`] ahead nor,
    /// for a `fresh` proposal (no proof-of-lock round), more than
    /// [`MAX_PAST_MS`] behind. Certified blocks (sync) are not subject to it.
    pub fn check_proposal_time(&self, header: &BlockHeader, fresh: bool) -> Result<(), BlockError> {
        let now = self.clock.now().0;
        if header.time.0 > now.saturating_add(MAX_FUTURE_MS) {
            return Err(BlockError::Header {
                height: header.height,
                what: "time is too far ahead of this node's clock",
            });
        }
        if fresh && header.time.0 < now.saturating_sub(MAX_PAST_MS) {
            return Err(BlockError::Header { height: header.height, what: "time is too far behind this node's clock" });
        }
        Ok(())
    }

    /// The block at `height` with its certificate.
    pub fn block_with_certificate(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, StoreError> {
        Ok(match (self.store.block(height)?, self.store.certificate(height)?) {
            (Some(b), Some(c)) => Some((b, c)),
            _ => None,
        })
    }

    /// Applies a block a peer sent with its certificate (block sync). The
    /// certificate is checked first (admission rule: what this node stores
    /// and serves in proofs verifies under stock libraries too, spec §2.4):
    /// signatures are cheap next to
    /// re-execution, and a block nobody certified costs no execution.
    pub fn apply_certified(&self, block: Block, cert: CommitCertificate) -> Result<(), SyncError> {
        admit_commit(&self.validator_set(), &block.header, &cert)?;
        let proposal = self.validate_block(block)?;
        // the certificate is verified (above) for exactly this header
        self.commit_verified(proposal, cert)?;
        Ok(())
    }

    /// Stores a proposal with its certificate and makes it the head
    /// (consensus seam, step 2). The certificate is checked first.
    pub fn commit(&self, proposal: Proposal, cert: CommitCertificate) -> Result<(), CommitError> {
        admit_commit(&self.validator_set(), &proposal.block.header, &cert)?;
        self.commit_verified(proposal, cert)
    }

    /// [`Node::commit`] for a certificate already verified for this header.
    fn commit_verified(&self, proposal: Proposal, cert: CommitCertificate) -> Result<(), CommitError> {
        let mut chain = self.chain.write().unwrap_or_else(lock_err);
        let expected = chain.head.as_ref().map_or(1, |(h, _)| h.height + 1);
        if proposal.block.header.height != expected {
            return Err(CommitError::OutOfOrder { got: proposal.block.header.height, expected });
        }
        let outcome = proposal.outcome;
        self.store
            .commit_block(&BlockCommit {
                block: &proposal.block,
                certificate: &cert,
                writes: &outcome.writes,
                anchors: &outcome.anchors,
                erased: &outcome.erased,
                map: &proposal.map,
            })
            .map_err(|e| match e {
                // Execution is deterministic; this would be a bug, and
                // committing would serve proofs that do not verify.
                StoreError::StateRoot { ours, header } => CommitError::StateRoot { ours, header },
                e => CommitError::Store(e),
            })?;
        for id in &outcome.erased {
            tracing::info!(target: "credex::chain", %id, "erased: raw record and its key destroyed");
        }
        credex_storage::crash::point("commit-after-store");
        // durable: the state, its map and indexes are the store's from now on
        if let Some(set) = outcome.writes.iter().rev().find_map(|(k, v)| match (k, v) {
            (StateKey::Validators, StateValue::Validators(set)) => Some(set.clone()),
            _ => None,
        }) {
            chain.validators = set;
        }
        let touched = outcome.touched;
        let height = proposal.block.header.height;
        let block_time = proposal.block.header.time;
        let txs = proposal.block.txs.len();
        chain.head = Some((proposal.block.header, cert));
        drop(chain);
        {
            // Whoever proposed the block, its transactions leave this node's pool.
            let included: HashSet<&AttestationId> = proposal.included.iter().collect();
            self.mempool.lock().unwrap_or_else(lock_err).remove(&included);
        }
        self.height_tx.send_replace(height);
        #[allow(clippy::cast_precision_loss)] // milliseconds far below 2^52
        self.metrics.observe_finality(self.clock.now().since(block_time) as f64 / 1000.0);
        if let Some(out) = self.wiring.touched.as_ref() {
            // Never blocks: the early-warning task drains it at its own pace.
            let _ = out.send(touched);
        }
        tracing::info!(target: "credex::chain", height, txs, "block committed");
        Ok(())
    }
}
