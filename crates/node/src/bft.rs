//! The multi-validator engine: `credex-consensus` (Malachite's Tendermint
//! driver) wired to the node, the network and timers.
//!
//! * `GetValue` → [`Node::propose_with`] (waits up to [`EMPTY_BLOCK_WAIT`]
//!   for transactions, then proposes, possibly an empty block: a heartbeat
//!   that keeps certificates fresh);
//! * proposals from the network → signature and proposer checked by the
//!   engine, block validated by [`Node::validate_block`] (re-execution);
//! * `Decided` → [`Node::commit`] with the engine's certificate, which the
//!   node re-verifies under the validator set (spec §5.4);
//! * blocks committed by sync (a node that fell behind) move the engine to
//!   the next height.
//!
//! Write-ahead: every vote is written (fsync'd, `signed_votes` column
//! family) before it is sent, and a restarted validator loads the votes of
//! its current height so the engine never signs a conflicting one: a crash
//! cannot make an honest validator equivocate. (Its lock is not restored;
//! where its earlier votes forbid a different vote it abstains.) Apart
//! from the block store, the signed-state record
//! (`credex_storage::signed`) keeps the last signature: a validator whose
//! store lost blocks it certified withholds every vote and proposal at or
//! below that point until it has synced past it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use credex_consensus::{Action, ConsensusMsg, Engine, Timeout, TimeoutKind};
use credex_crypto::{Hash32, SecretKey};
use credex_p2p::{Handle, Topic};
use credex_types::chain::VoteKind;
use tokio::sync::mpsc;

use credex_storage::signed::{STEP_PRECOMMIT, STEP_PREVOTE, STEP_PROPOSAL, SignError, SignGuard, Signed};

use crate::service::{Node, Proposal};

/// How long a proposer waits for transactions before proposing an empty block.
pub const EMPTY_BLOCK_WAIT: Duration = Duration::from_millis(1000);

/// Round timeouts grow linearly with the round (partial synchrony) up to a cap,
/// so a network that stalled for a while resumes within seconds.
fn kind_step(k: VoteKind) -> u8 {
    match k {
        VoteKind::Prevote => 0,
        VoteKind::Precommit => 1,
    }
}

fn step_kind(step: u8) -> VoteKind {
    if step == 0 { VoteKind::Prevote } else { VoteKind::Precommit }
}

fn duration(t: &Timeout) -> Duration {
    let r = u64::from(t.round.as_u32().unwrap_or(0)).min(16);
    match t.kind {
        TimeoutKind::Propose => Duration::from_millis(1500 + 250 * r),
        TimeoutKind::Prevote | TimeoutKind::Precommit => Duration::from_millis(500 + 250 * r),
        TimeoutKind::Rebroadcast => Duration::from_millis(3000),
        TimeoutKind::FinalizeHeight(d) => d,
    }
}

struct Bft {
    node: Arc<Node>,
    /// What this validator signed, kept apart from the block store.
    guard: Arc<SignGuard>,
    net: Handle,
    engine: Engine,
    /// Validated proposals (ours and others') by block id, for this height.
    proposals: HashMap<Hash32, Proposal>,
    /// Messages for later heights, replayed when we get there.
    future: Vec<ConsensusMsg>,
    timers: mpsc::UnboundedSender<(u64, Timeout)>,
    index: u16,
    /// What this node signed and sent at the current height; its votes are
    /// rebroadcast until the height is decided (gossip does not replay
    /// messages to peers that were down or joined late, and Tendermint needs
    /// them to progress).
    sent: Vec<ConsensusMsg>,
}

/// Rebroadcast period for this height's own messages.
const REBROADCAST: Duration = Duration::from_millis(1000);
/// Most own messages kept for rebroadcast (the latest ones).
const SENT_KEPT: usize = 8;

/// Runs the engine for validator `key` until the process stops.
pub async fn run(
    node: Arc<Node>,
    net: Handle,
    mut inbox: mpsc::Receiver<ConsensusMsg>,
    key: SecretKey,
    guard: Arc<SignGuard>,
) -> anyhow::Result<()> {
    crate::service::warn_if_behind(&node, &guard);
    let index =
        node.validator_index(&key.public()).ok_or_else(|| anyhow::anyhow!("not a validator of this genesis"))?;
    let (timers, mut fired) = mpsc::unbounded_channel();
    let mut heights = node.heights();
    let mut engine =
        Engine::new(node.genesis().chain_id.clone(), node.validator_set(), Some((index, key)), node.height() + 1);
    // Votes signed at this height before a crash: never contradict them.
    let earlier = node.store().signed_votes(node.height() + 1)?;
    if !earlier.is_empty() {
        tracing::info!(target: "credex::bft", votes = earlier.len(), "restored signed votes of the current height");
    }
    engine.restore_signed(earlier.into_iter().map(|(round, step, block)| (round, step_kind(step), block)));
    let mut bft = Bft {
        node,
        net,
        engine,
        proposals: HashMap::new(),
        future: Vec::new(),
        timers,
        index,
        sent: Vec::new(),
        guard,
    };
    // Give the network a moment to connect before the first round.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let h = bft.node.height() + 1;
    let actions = bft.engine.start(h).map_err(|e| anyhow::anyhow!("{e}"))?;
    bft.apply(actions).await?;
    let mut rebroadcast = tokio::time::interval(REBROADCAST);
    loop {
        tokio::select! {
            _ = rebroadcast.tick() => {
                // Votes only: they are small, and a node that missed a
                // proposal prevotes nil and catches the next round's.
                for m in bft.sent.clone() {
                    if matches!(m, ConsensusMsg::Vote { .. }) {
                        bft.publish(&m).await;
                    }
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
                    let actions = bft.engine.timeout(t).map_err(|e| anyhow::anyhow!("{e}"))?;
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
                tracing::error!(target: "credex::bft", error = %e, "signature withheld");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn next_height(&mut self, h: u64) -> anyhow::Result<()> {
        self.proposals.clear();
        self.sent.clear();
        let n = self.node.clone();
        tokio::task::spawn_blocking(move || n.store().prune_signed_votes(h)).await??;
        let actions = self.engine.start(h).map_err(|e| anyhow::anyhow!("{e}"))?;
        self.apply(actions).await?;
        let (now, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.future).into_iter().partition(|m| m.height() == h);
        self.future = later.into_iter().filter(|m| m.height() > h).collect();
        for m in now {
            Box::pin(self.on_message(m)).await?;
        }
        Ok(())
    }

    async fn on_message(&mut self, msg: ConsensusMsg) -> anyhow::Result<()> {
        let h = self.engine.height();
        if msg.height() > h {
            if self.future.len() < 10_000 {
                self.future.push(msg);
            }
            return Ok(());
        }
        if msg.height() < h {
            return Ok(());
        }
        let result = match &msg {
            ConsensusMsg::Vote { .. } => self.engine.on_vote(&msg),
            ConsensusMsg::Proposal { block, .. } => {
                if let Err(e) = self.engine.check_proposal(&msg) {
                    tracing::debug!(target: "credex::bft", error = %e, "proposal refused");
                    return Ok(());
                }
                if self.proposals.contains_key(&block.header.id()) {
                    // A rebroadcast of a block already validated.
                    return match self.engine.on_proposal(&msg, true) {
                        Ok(actions) => self.apply(actions).await,
                        Err(e) => {
                            tracing::debug!(target: "credex::bft", error = %e, "proposal refused");
                            Ok(())
                        }
                    };
                }
                if let Err(e) = self.node.check_proposal_time(&block.header) {
                    // A proposer may not run the chain's clock ahead of ours.
                    tracing::warn!(target: "credex::bft", error = %e, "prevoting nil");
                    let result = self.engine.on_proposal(&msg, false);
                    self.record_evidence();
                    return match result {
                        Ok(actions) => self.apply(actions).await,
                        Err(e) => {
                            tracing::debug!(target: "credex::bft", error = %e, "proposal refused");
                            Ok(())
                        }
                    };
                }
                let (n, b) = (self.node.clone(), block.clone());
                let validated = tokio::task::spawn_blocking(move || n.validate_block(b)).await?;
                let valid = match validated {
                    Ok(p) => {
                        self.proposals.insert(p.header().id(), p);
                        true
                    }
                    Err(e) => {
                        tracing::warn!(target: "credex::bft", error = %e, "proposed block is invalid");
                        false
                    }
                };
                self.engine.on_proposal(&msg, valid)
            }
        };
        self.record_evidence();
        match result {
            Ok(actions) => self.apply(actions).await,
            Err(e) => {
                tracing::debug!(target: "credex::bft", error = %e, "consensus message refused");
                Ok(())
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

    fn remember(&mut self, msg: ConsensusMsg) {
        self.sent.push(msg);
        if self.sent.len() > SENT_KEPT {
            self.sent.remove(0);
        }
    }

    async fn publish(&self, msg: &ConsensusMsg) {
        if let Err(e) = self.net.publish(Topic::Consensus, credex_codec::encode(msg)).await {
            tracing::debug!(target: "credex::bft", error = %e, "consensus message not sent");
        }
    }

    async fn apply(&mut self, actions: Vec<Action>) -> anyhow::Result<()> {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Broadcast(msg) => {
                    if let ConsensusMsg::Vote { height, round, kind, block, .. } = &msg {
                        let step = match kind {
                            VoteKind::Prevote => STEP_PREVOTE,
                            VoteKind::Precommit => STEP_PRECOMMIT,
                        };
                        if !self.approve(Signed { height: *height, round: *round, step, block: *block }).await? {
                            continue;
                        }
                        self.node.metrics().set_round(*round);
                        // Write-ahead: durable before anyone can see it.
                        let (n, h, r, k, b) = (self.node.clone(), *height, *round, *kind, *block);
                        tokio::task::spawn_blocking(move || n.store().put_signed_vote(h, r, kind_step(k), b)).await??;
                    }
                    self.publish(&msg).await;
                    self.remember(msg);
                }
                Action::BroadcastProposal { height, round, pol_round, proposer, block, signature } => {
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
                        self.remember(msg);
                    }
                }
                Action::Schedule(t) => {
                    let (tx, h) = (self.timers.clone(), self.engine.height());
                    tokio::spawn(async move {
                        tokio::time::sleep(duration(&t)).await;
                        let _ = tx.send((h, t));
                    });
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
                    let (n, index) = (self.node.clone(), self.index);
                    let proposal = tokio::task::spawn_blocking(move || n.propose_with(index, true)).await?;
                    if let Some(p) = proposal {
                        let id = p.header().id();
                        self.proposals.insert(id, p);
                        queue.extend(self.engine.propose(round, id).map_err(|e| anyhow::anyhow!("{e}"))?);
                    }
                }
                Action::Decided { height, block, certificate } => {
                    let Some(p) = self.proposals.remove(&block) else {
                        tracing::info!(target: "credex::bft", height, %block, "decided a block we do not hold; waiting for sync");
                        continue;
                    };
                    let n = self.node.clone();
                    let done = tokio::task::spawn_blocking(move || n.commit(p, certificate)).await?;
                    match done {
                        Ok(()) => {
                            // The heights watcher moves the engine to the next height.
                        }
                        Err(e) => tracing::warn!(target: "credex::bft", height, error = %e, "commit failed"),
                    }
                }
            }
        }
        Ok(())
    }
}
