//! The multi-validator engine: `credex-consensus` (Malachite's Tendermint
//! driver) wired to the node, the network, timers and the consensus log.
//!
//! * `GetValue` → [`Node::propose_with`] (waits up to [`EMPTY_BLOCK_WAIT`]
//!   for transactions, then proposes, possibly an empty block: a heartbeat
//!   that keeps certificates fresh);
//! * proposals leave in their compact form (header and transaction
//!   hashes, `credex_wire::CompactProposal`, spec §10.7) and arrive
//!   assembled by `crate::net` from the pool and from peers; the bodies of
//!   this height's proposals are held for peers that lack transactions;
//! * messages from the network → [`Engine::on_message`], which checks
//!   signer, signature and proposer and bounds what it keeps (one proposal
//!   per height and round, rounds and heights not far ahead, future-height
//!   bytes per signer and in all) before anything is buffered or executed;
//! * `Validate` (the first proposal of a round) → [`Node::validate_block`]
//!   (re-execution against a snapshot, under the state's read lock);
//! * `Decided` → [`Node::commit`] with the engine's certificate, which the
//!   node re-verifies under the validator set (spec §5.4); a commit whose
//!   state disagrees with its header stops the engine with that error (the
//!   block is durable; a restart rebuilds memory from disk);
//! * blocks committed by sync (a node that fell behind) move the engine to
//!   the next height.
//!
//! Write-ahead (ADR 0003): every engine input is appended to the consensus
//! log (`consensus.wal` in the data directory, [`ConsensusLog`]) with the
//! block bodies of this height's proposals, and the log is fdatasync'd
//! before any vote or proposal is sent. A restarted validator replays the
//! log ([`credex_consensus::recover`]): same round, step, lock, valid value
//! and signed votes. Across heights, the signed-state record
//! (`credex_storage::signed`) keeps the last signature: a validator whose
//! store lost blocks it certified withholds every vote and proposal at or
//! below that point until it has synced past it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use credex_chain::Block;
use credex_consensus::{Action, ConsensusMsg, Engine, Logged, MsgError, Timeout};
use credex_crypto::{Hash32, SecretKey};
use credex_p2p::{Handle, Topic};
use credex_storage::signed::{STEP_PRECOMMIT, STEP_PREVOTE, STEP_PROPOSAL, SignError, SignGuard, Signed};
use credex_storage::wal::ConsensusLog;
use credex_types::chain::VoteKind;
use tokio::sync::mpsc;

use crate::service::{CommitError, Node, Proposal};

/// How long a proposer waits for transactions before proposing an empty block.
pub const EMPTY_BLOCK_WAIT: Duration = Duration::from_millis(1000);

/// The consensus log's file in the data directory.
pub const CONSENSUS_LOG: &str = "consensus.wal";

/// One record of the consensus log.
#[derive(Debug, bincode::Encode, bincode::Decode)]
#[allow(clippy::large_enum_variant)] // one record at a time
enum WalRecord {
    /// An input the engine acted on.
    Engine(Logged),
    /// The body of a proposal of this height (this node's, or another's
    /// that it validated), so that after a restart it can send its own
    /// proposal again and commit a decided block without fetching it.
    Block(Block),
}

/// The consensus log did not replay: the node stops rather than risk
/// signing against what it signed before the crash.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// A record is not a consensus-log record of this version.
    #[error("consensus log {path}: record {index} does not decode: {reason}")]
    Decode {
        /// The file.
        path: String,
        /// Record index.
        index: usize,
        /// Decoder's reason.
        reason: String,
    },
    /// The engine refused the log.
    #[error("consensus log {path} does not replay: {source}")]
    Replay {
        /// The file.
        path: String,
        /// Why.
        source: MsgError,
    },
}

struct Bft {
    node: Arc<Node>,
    /// What this validator signed, kept apart from the block store.
    guard: Arc<SignGuard>,
    /// The consensus log of the current height.
    wal: Arc<Mutex<ConsensusLog>>,
    wal_path: String,
    net: Handle,
    engine: Engine,
    /// Validated proposals (ours and others') by block id, for this height.
    proposals: HashMap<Hash32, Proposal>,
    timers: mpsc::UnboundedSender<(u64, Timeout)>,
    /// This validator's key (its index may change with the set).
    seed: [u8; 32],
    /// Sending again what the log says was signed before a restart: the
    /// signed-state record may already be past an earlier one of them.
    resending: bool,
}

/// Period of [`Engine::gossip`]: the current round's votes and the
/// polkas of the valid and locked values, sent again until the height is
/// decided (gossip does not replay messages to peers that were down or
/// joined late, and Tendermint needs them to progress).
const REBROADCAST: Duration = Duration::from_millis(1000);

/// The engine stepped aside: the disk is below its floor (read-only
/// mode), or the consensus log or the block store could not be written.
/// It votes and proposes nothing until the node writes again, then starts
/// over from its log, exactly as after a crash (ADR 0003).
#[derive(Debug, thiserror::Error)]
#[error("consensus suspended: {0}")]
struct Suspended(String);

/// Runs the engine for validator `key` until the process stops, from the
/// consensus log at `wal_path`. In read-only mode the validator is
/// suspended — it neither logs, votes, proposes nor commits (an unlogged
/// input could cost it its lock) — and when the node writes again it
/// recovers from the log, as a restarted validator does, and catches up.
pub async fn run(
    node: Arc<Node>,
    net: Handle,
    mut inbox: mpsc::Receiver<ConsensusMsg>,
    key: SecretKey,
    guard: Arc<SignGuard>,
    wal_path: std::path::PathBuf,
) -> anyhow::Result<()> {
    crate::service::warn_if_behind(&node, &guard);
    let seed = key.seed();
    loop {
        if !node.read_only() {
            let key = SecretKey::from_seed(seed);
            match run_until_suspended(&node, &net, &mut inbox, key, &guard, &wal_path).await {
                Ok(()) => return Ok(()),
                Err(e) => match e.downcast_ref::<Suspended>() {
                    Some(why) => {
                        tracing::error!(target: "credex::bft", reason = %why.0,
                            "validator suspended: no votes, proposals or commits until the node writes again");
                    }
                    None => return Err(e),
                },
            }
        }
        // Messages meanwhile are dropped: the engine state they would
        // change is rebuilt from the log, and peers rebroadcast.
        tokio::select! {
            m = inbox.recv() => if m.is_none() { return Ok(()) },
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        if !node.read_only() {
            tracing::info!(target: "credex::bft", height = node.height(), "writing again: resuming consensus from the log");
        }
    }
}

/// One life of the engine: from the consensus log to a suspension
/// ([`Suspended`]), the end of the inbox (`Ok`), or a fatal error.
async fn run_until_suspended(
    node: &Arc<Node>,
    net: &Handle,
    inbox: &mut mpsc::Receiver<ConsensusMsg>,
    key: SecretKey,
    guard: &Arc<SignGuard>,
    wal_path: &std::path::Path,
) -> anyhow::Result<()> {
    let (wal, records) = ConsensusLog::open(wal_path)?;
    let wal_path = wal_path.display().to_string();
    let index = node.validator_index(&key.public());
    if index.is_none() {
        tracing::warn!(target: "credex::bft", "this key is not in the validator set in force; following without voting");
    }
    let seed = key.seed();
    let (timers, mut fired) = mpsc::unbounded_channel();
    let mut heights = node.heights();
    let height = node.height() + 1;
    // The log of the height this node was at when it stopped.
    let mut logged = Vec::new();
    let mut bodies = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match credex_codec::decode::<WalRecord>(r, credex_storage::wal::MAX_RECORD) {
            Ok(WalRecord::Engine(e)) => logged.push(e),
            Ok(WalRecord::Block(b)) => bodies.push(b),
            Err(e) => {
                return Err(RecoverError::Decode { path: wal_path.clone(), index: i, reason: e.to_string() }.into());
            }
        }
    }
    let (engine, actions) = credex_consensus::recover(
        node.genesis().chain_id.clone(),
        &node.validator_set(),
        index.map(|i| (i, key)),
        height,
        &logged,
    )
    .map_err(|source| RecoverError::Replay { path: wal_path.clone(), source })?;
    let replayed = !actions.iter().any(|a| matches!(a, Action::Persist(Logged::Start { .. })));
    if replayed {
        tracing::info!(target: "credex::bft", height, round = engine.round(), locked = ?engine.locked(),
            entries = logged.len(), "consensus state restored from the log");
    }
    let mut bft = Bft {
        node: node.clone(),
        net: net.clone(),
        engine,
        proposals: HashMap::new(),
        timers,
        seed,
        guard: guard.clone(),
        wal: Arc::new(Mutex::new(wal)),
        wal_path,
        resending: replayed,
    };
    if replayed {
        // Bodies of this height's proposals: validated again, so a decided
        // one can be committed and our own sent again.
        for b in bodies.into_iter().filter(|b| b.header.height == height) {
            let n = bft.node.clone();
            if let Ok(p) = tokio::task::spawn_blocking(move || n.validate_block(b)).await? {
                bft.node.hold_block(p.block());
                bft.proposals.insert(p.header().id(), p);
            }
        }
    }
    // Give the network a moment to connect before the first round.
    tokio::time::sleep(Duration::from_millis(500)).await;
    bft.apply(actions).await?;
    bft.resending = false;
    let mut rebroadcast = tokio::time::interval(REBROADCAST);
    loop {
        if bft.node.read_only() {
            return Err(Suspended("the disk is below its floor (read-only mode)".into()).into());
        }
        tokio::select! {
            _ = rebroadcast.tick() => {
                // Votes and polkas only: they are small, and a node that
                // missed a proposal prevotes nil and catches the next round's.
                for m in bft.engine.gossip() {
                    bft.publish(&m).await;
                }
            }
            msg = inbox.recv() => match msg {
                Some(m) => bft.on_message(m).await?,
                None => return Ok(()),
            },
            t = fired.recv() => {
                if let Some((h, t)) = t
                    && h == bft.engine.height()
                {
                    let actions = bft.engine.timeout(t)?;
                    bft.apply(actions).await?;
                }
            }
            changed = heights.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                // Committed by sync while we were behind: move on.
                let committed = *heights.borrow_and_update();
                if committed >= bft.engine.height() {
                    bft.next_height(committed + 1).await?;
                }
            }
        }
    }
}

impl Bft {
    /// Records a signature before it leaves the node; `false` (and nothing
    /// sent) when the record refuses it: a height this validator already
    /// signed past, after its block store lost blocks. A record that cannot
    /// be written stops the engine.
    async fn approve(&self, s: Signed) -> anyhow::Result<bool> {
        let g = self.guard.clone();
        match tokio::task::spawn_blocking(move || g.approve(s)).await? {
            Ok(()) => Ok(true),
            Err(e @ (SignError::Behind { .. } | SignError::Conflict { .. })) => {
                if self.resending {
                    tracing::debug!(target: "credex::bft", error = %e, "earlier signature not sent again");
                } else {
                    tracing::error!(target: "credex::bft", error = %e, "signature withheld");
                }
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Appends to the consensus log (a new height empties it first). A
    /// write that fails suspends the engine: what it acted on must be in
    /// the log before anything follows from it.
    fn log(&self, record: &WalRecord) -> anyhow::Result<()> {
        let mut wal = self.wal.lock().map_err(|_| anyhow::anyhow!("consensus log lock poisoned"))?;
        let written = match record {
            WalRecord::Engine(Logged::Start { .. }) => wal.reset(),
            _ => Ok(()),
        }
        .and_then(|()| wal.append(&credex_codec::encode(record)));
        written.map_err(|e| self.suspend(&e))
    }

    /// Read-only mode after a failed write; the error that suspends the engine.
    fn suspend(&self, e: &dyn std::fmt::Display) -> anyhow::Error {
        self.node.set_read_only(true);
        Suspended(e.to_string()).into()
    }

    /// Makes the consensus log durable before a signed message leaves.
    async fn sync_log(&self) -> anyhow::Result<()> {
        let wal = self.wal.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            wal.lock().map_err(|_| anyhow::anyhow!("consensus log lock poisoned"))?.sync()?;
            Ok(())
        })
        .await?
        .map_err(|e| self.suspend(&format!("{}: {e}", self.wal_path)))
    }

    async fn next_height(&mut self, h: u64) -> anyhow::Result<()> {
        self.proposals.clear();
        // The set in force may have changed with the last block (governance).
        let set = self.node.validator_set();
        let key = SecretKey::from_seed(self.seed);
        let me = self.node.validator_index(&key.public()).map(|i| (i, key));
        if me.is_none() {
            tracing::info!(target: "credex::bft", height = h, "not in the validator set in force; following without voting");
        }
        self.engine.set_validators(h, &set, me);
        // Buffered messages of the new height come back from the engine.
        let actions = self.engine.start(h)?;
        self.apply(actions).await
    }

    async fn on_message(&mut self, msg: ConsensusMsg) -> anyhow::Result<()> {
        let result = self.engine.on_message(msg);
        self.record_evidence();
        match result {
            Ok(actions) => self.apply(actions).await,
            Err(e @ MsgError::ConflictingProposal(..)) => {
                tracing::warn!(target: "credex::bft", error = %e, "proposer equivocates; second proposal dropped unexecuted");
                Ok(())
            }
            Err(MsgError::Driver(e)) => Err(anyhow::anyhow!("consensus driver: {e}")),
            Err(e) => {
                tracing::debug!(target: "credex::bft", error = %e, "consensus message refused");
                Ok(())
            }
        }
    }

    /// Executes the block of the round's first proposal: its verdict, and
    /// the executed block kept if valid.
    async fn validate(&mut self, msg: &ConsensusMsg) -> anyhow::Result<bool> {
        let ConsensusMsg::Proposal { block, pol_round, .. } = msg else { return Ok(false) };
        if let Err(e) = self.node.check_proposal_time(&block.header, pol_round.is_none()) {
            // A proposer may not run the chain's clock away from ours.
            tracing::warn!(target: "credex::bft", error = %e, "prevoting nil");
            return Ok(false);
        }
        let (n, b) = (self.node.clone(), block.clone());
        match tokio::task::spawn_blocking(move || n.validate_block(b)).await? {
            Ok(p) => {
                self.log(&WalRecord::Block(block.clone()))?;
                self.node.hold_block(p.block());
                self.proposals.insert(p.header().id(), p);
                Ok(true)
            }
            // Our store failed, not the block: no nil prevote on it (that
            // would be logged as this validator's verdict); step aside as
            // after a failed write.
            Err(e @ crate::service::BlockError::Storage { .. }) => Err(self.suspend(&e)),
            Err(e) => {
                tracing::warn!(target: "credex::bft", error = %e, "proposed block is invalid");
                Ok(false)
            }
        }
    }

    /// Conflicting votes the engine saw become evidence transactions in
    /// this node's pool (the next block that includes them records them).
    fn record_evidence(&mut self) {
        for e in self.engine.take_evidence() {
            let tx = credex_chain::Transaction::Evidence(e);
            match self.node.submit_tx(&tx) {
                Ok((id, _)) => tracing::warn!(target: "credex::bft", %id, "equivocation detected; evidence queued"),
                Err(e) => tracing::debug!(target: "credex::bft", error = %e, "evidence not queued"),
            }
        }
    }

    /// Sends a consensus message on gossip: a proposal in its compact form
    /// (header and transaction hashes, spec §10.7), anything else as is.
    async fn publish(&self, msg: &ConsensusMsg) {
        let gossip = match credex_wire::CompactProposal::of(msg) {
            Some(compact) => credex_wire::ConsensusGossip::Proposal(compact),
            None => credex_wire::ConsensusGossip::Message(msg.clone()),
        };
        if let Err(e) = self.net.publish(Topic::Consensus, credex_codec::encode(&gossip)).await {
            tracing::debug!(target: "credex::bft", error = %e, "consensus message not sent");
        }
    }

    async fn apply(&mut self, actions: Vec<Action>) -> anyhow::Result<()> {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Persist(entry) => self.log(&WalRecord::Engine(entry))?,
                Action::Broadcast(msg) => {
                    if let ConsensusMsg::Vote { height, round, kind, block, .. } = &msg {
                        let step = match kind {
                            VoteKind::Prevote => STEP_PREVOTE,
                            VoteKind::Precommit => STEP_PRECOMMIT,
                        };
                        // Write-ahead: the inputs behind the vote are durable first.
                        self.sync_log().await?;
                        if !self.approve(Signed { height: *height, round: *round, step, block: *block }).await? {
                            continue;
                        }
                        self.node.metrics().set_round(*round);
                    }
                    self.publish(&msg).await;
                }
                Action::BroadcastProposal { height, round, pol_round, proposer, block, signature } => {
                    self.sync_log().await?;
                    let signed = Signed { height, round, step: STEP_PROPOSAL, block: Some(block) };
                    if !self.approve(signed).await? {
                        continue;
                    }
                    if let Some(p) = self.proposals.get(&block) {
                        let msg = ConsensusMsg::Proposal {
                            height,
                            round,
                            pol_round,
                            proposer,
                            block: p.block().clone(),
                            signature,
                        };
                        self.publish(&msg).await;
                    }
                }
                Action::Schedule(t) => {
                    let (tx, h) = (self.timers.clone(), self.engine.height());
                    tokio::spawn(async move {
                        tokio::time::sleep(credex_consensus::timeout_duration(&t)).await;
                        let _ = tx.send((h, t));
                    });
                }
                Action::Validate(msg) => {
                    let valid = self.validate(&msg).await?;
                    match self.engine.validated(&msg, valid) {
                        Ok(more) => queue.extend(more),
                        Err(e) => tracing::debug!(target: "credex::bft", error = %e, "verdict not taken"),
                    }
                    self.record_evidence();
                }
                Action::GetValue { height, round } => {
                    if height != self.engine.height() {
                        continue;
                    }
                    // Woken by the mempool's notifier, not by polling it.
                    let deadline = tokio::time::Instant::now() + EMPTY_BLOCK_WAIT;
                    while self.node.mempool_len() == 0 {
                        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        self.node.wait_for_tx(left).await;
                    }
                    let key = SecretKey::from_seed(self.seed);
                    let Some(index) = self.node.validator_index(&key.public()) else { continue };
                    let n = self.node.clone();
                    let proposal = tokio::task::spawn_blocking(move || n.propose_with(index, true)).await?;
                    if let Some(p) = proposal {
                        let id = p.header().id();
                        // The body first, so a restart can send the same proposal again.
                        self.log(&WalRecord::Block(p.block().clone()))?;
                        self.node.hold_block(p.block());
                        self.proposals.insert(id, p);
                        queue.extend(self.engine.propose(round, id)?);
                    }
                }
                Action::Decided { height, block, certificate } => {
                    let Some(p) = self.proposals.remove(&block) else {
                        tracing::info!(target: "credex::bft", height, %block, "decided a block we do not hold; waiting for sync");
                        continue;
                    };
                    let n = self.node.clone();
                    match tokio::task::spawn_blocking(move || n.commit(p, certificate)).await? {
                        // The heights watcher moves the engine to the next height.
                        Ok(()) => {}
                        // The block is durable and memory disagrees: stop; a
                        // restart rebuilds the state from disk.
                        Err(e @ CommitError::StateRoot { .. }) => return Err(e.into()),
                        // Nothing was stored: after the suspension the log
                        // decides this block again and it is committed then.
                        Err(e @ CommitError::Store(_)) => return Err(self.suspend(&e)),
                        Err(e) => tracing::warn!(target: "credex::bft", height, error = %e, "commit failed"),
                    }
                }
            }
        }
        Ok(())
    }
}
