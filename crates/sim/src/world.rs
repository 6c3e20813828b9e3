//! The simulated world: validators running the real engine
//! (`credex_consensus::Engine`) with real keys and signatures, a network
//! that drops, delays, reorders, duplicates and partitions, a virtual
//! clock, crashes that keep only what the consensus log made durable, and
//! the byzantine behaviours of [`Behaviour`].
//!
//! Every event (a delivery, a timer, a crash, a restart, a byzantine act)
//! is in one queue ordered by (virtual time, sequence number); every random
//! choice comes from the run's seed. The same seed gives the same run.
//!
//! What an honest node does mirrors `credex_node::bft`: inputs through
//! `Engine::on_message`, `Persist` to the log, the log made durable before
//! a vote or proposal leaves, a `Validate` executed once, a decision
//! committed after checking its certificate with the offline verifier's
//! `verify_commit`, votes rebroadcast every second, sync from a peer that
//! is ahead (certificates checked), gossip forwarding only of what the
//! engine accepted.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use credex_chain::{Block, Transaction};
use credex_consensus::{Action, ConsensusMsg, Engine, FUTURE_BYTES, Logged, MsgError, ProposalBytes, Timeout};
use credex_crypto::{Hash32, Purpose, SecretKey};
use credex_types::chain::{
    BlockHeader, CommitCertificate, Evidence, Names, Validator, ValidatorSet, VoteKind, verify_commit,
};
use credex_types::{ChainId, Timestamp, Vote};

use crate::rng::Rng;

/// The state root an invalid block carries: honest validators refuse it.
pub const INVALID_ROOT: Hash32 = Hash32([0xEE; 32]);

/// Most evidence transactions a simulated block carries.
const EVIDENCE_PER_BLOCK: usize = 4;

/// What a byzantine validator does besides running an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Sends two different signed proposals for each round it proposes in,
    /// each to half of the validators.
    Equivocate,
    /// Signs a second, conflicting vote for every vote and sends it to some.
    DoubleVote,
    /// Restarts every few seconds with its consensus log wiped.
    Amnesia,
    /// Floods: many distinct signed proposals per round, votes for far
    /// rounds and heights and for the next heights, bad signatures.
    Flood,
    /// Proposes blocks that do not execute.
    InvalidBlocks,
}

/// Network faults before the network heals.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Per-delivery drop probability, per mille.
    pub drop_permille: u32,
    /// Per-delivery duplicate probability, per mille.
    pub dup_permille: u32,
    /// Delivery delay range, ms.
    pub delay_ms: (u64, u64),
    /// Random partitions in two groups.
    pub partitions: bool,
    /// Random crashes and restarts of honest validators.
    pub crashes: bool,
}

/// One run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The seed everything random comes from.
    pub seed: u64,
    /// Validators (at most `credex_types::chain::MAX_VALIDATORS`).
    pub n: u16,
    /// Byzantine validators and what they do.
    pub byzantine: Vec<(u16, Behaviour)>,
    /// Faults before `heal_ms`.
    pub faults: Faults,
    /// From this time on: no drops, no partitions, crashed honest validators back.
    pub heal_ms: u64,
    /// The run ends at this time.
    pub end_ms: u64,
    /// Heights every honest validator must commit between heal and end.
    pub progress_after_heal: u64,
}

impl Config {
    /// A random configuration for `seed`: 4 or 7 validators, up to f of
    /// them byzantine with random behaviours, random faults.
    pub fn random(seed: u64) -> Config {
        let mut rng = Rng::new(seed ^ 0x5EED);
        let n: u16 = if rng.chance(300) { 7 } else { 4 };
        let f = usize::from((n - 1) / 3);
        let all = [
            Behaviour::Equivocate,
            Behaviour::DoubleVote,
            Behaviour::Amnesia,
            Behaviour::Flood,
            Behaviour::InvalidBlocks,
        ];
        let count = rng.index(f + 1);
        let mut byzantine = Vec::new();
        while byzantine.len() < count {
            let who = rng.validator(n);
            if byzantine.iter().all(|(w, _)| *w != who) {
                byzantine.push((who, all[rng.index(all.len())]));
            }
        }
        let faults = Faults {
            drop_permille: rng.up_to(250),
            dup_permille: rng.up_to(100),
            delay_ms: (rng.range(1, 20), rng.range(20, 400)),
            partitions: rng.chance(500),
            crashes: rng.chance(600),
        };
        Config { seed, n, byzantine, faults, heal_ms: 6_000, end_ms: 20_000, progress_after_heal: 3 }
    }
}

/// A property that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Two honest validators committed different blocks at a height.
    #[error("fork at height {height}: validator {a} committed {block_a}, validator {b} committed {block_b}")]
    Fork {
        /// Height.
        height: u64,
        /// First validator.
        a: u16,
        /// Its block.
        block_a: Hash32,
        /// Second validator.
        b: u16,
        /// Its block.
        block_b: Hash32,
    },
    /// A decision whose certificate the offline verifier refuses.
    #[error("validator {node} decided height {height} with a certificate that does not verify: {reason}")]
    BadCertificate {
        /// Validator.
        node: u16,
        /// Height.
        height: u64,
        /// Why.
        reason: String,
    },
    /// Too little progress after the network healed.
    #[error("validator {node} committed {got} heights after the heal, expected at least {want}")]
    NoProgress {
        /// Validator.
        node: u16,
        /// Heights committed after the heal.
        got: u64,
        /// Heights required.
        want: u64,
    },
    /// An equivocation by a byzantine validator never reached the chain.
    #[error("validator {0} equivocated but no evidence against it is on the chain")]
    MissingEvidence(u16),
    /// Evidence on the chain accuses an honest validator or does not verify.
    #[error("evidence on the chain against validator {0} is false")]
    FalseEvidence(u16),
    /// An honest node executed more than one proposal for a height and round.
    #[error("validator {node} executed {count} proposals for height {height} round {round}")]
    Reexecuted {
        /// Validator.
        node: u16,
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// How many.
        count: u32,
    },
    /// An honest engine's future-message buffer went past its cap.
    #[error("validator {node} buffered {bytes} bytes of future messages")]
    Unbounded {
        /// Validator.
        node: u16,
        /// Bytes.
        bytes: usize,
    },
    /// An honest engine failed.
    #[error("validator {node}'s engine failed: {error}")]
    Engine {
        /// Validator.
        node: u16,
        /// The error.
        error: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Lowest chain height among honest validators at the end.
    pub min_height: u64,
    /// Highest.
    pub max_height: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Crashes and restarts of honest validators.
    pub restarts: u32,
    /// Evidence transactions on the longest honest chain.
    pub evidence_on_chain: usize,
    /// Messages honest engines refused.
    pub refused: u64,
    /// Most bytes any honest engine buffered for future heights.
    pub max_buffered: usize,
}

#[derive(Debug, Clone)]
enum Event {
    Deliver { to: u16, msg: Box<ConsensusMsg> },
    Timer { node: u16, incarnation: u64, height: u64, timeout: Timeout },
    Rebroadcast { node: u16, incarnation: u64 },
    Crash { node: u16, down_ms: u64 },
    Restart { node: u16 },
    Sync { node: u16 },
    Act { node: u16 },
    Partition { groups: Vec<u16>, until: u64 },
}

struct Queued {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

struct SimNode {
    behaviour: Option<Behaviour>,
    engine: Option<Engine>,
    incarnation: u64,
    /// The consensus log: what survived the last sync, and what did not yet.
    durable: Vec<Logged>,
    pending: Vec<Logged>,
    /// Committed blocks and certificates (the block store, durable).
    chain: Vec<(Block, CommitCertificate)>,
    /// Block ids this node proposed or found valid at its current height.
    held: HashSet<Hash32>,
    /// Gossip dedup.
    seen: HashSet<Hash32>,
    /// Evidence this node found, not yet on its chain.
    evidence: Vec<Evidence>,
    /// Proposals executed, by (height, round).
    executed: HashMap<(u64, u32), u32>,
    syncing: bool,
}

/// The world.
pub struct World {
    cfg: Config,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    rng: Rng,
    chain_id: ChainId,
    set: ValidatorSet,
    keys: Vec<SecretKey>,
    nodes: Vec<SimNode>,
    /// Every block body created, by id (bodies travel inside proposals; this
    /// is only the sim's registry for sync and for building messages).
    blocks: HashMap<Hash32, Block>,
    /// First honest commit at each height.
    committed: BTreeMap<u64, (u16, Hash32)>,
    /// Partition: group of each node (same group: connected), until a time.
    partition: Option<(Vec<u16>, u64)>,
    /// Validators that sent conflicting votes (checked against the chain).
    equivocated: HashSet<u16>,
    report: Report,
    violation: Option<Violation>,
    heights_at_heal: Vec<u64>,
    /// `CREDEX_SIM_TRACE=<validator>` prints that validator's inputs and actions.
    traced: Option<u16>,
}

fn msg_id(m: &ConsensusMsg) -> Hash32 {
    Hash32::sha256(&[&credex_codec::encode(m)])
}

impl SimNode {
    fn height(&self) -> u64 {
        self.chain.len() as u64
    }
}

impl World {
    /// A world for `cfg`, validators started.
    pub fn new(cfg: Config) -> World {
        let keys: Vec<SecretKey> = (0..cfg.n)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..2].copy_from_slice(&i.to_le_bytes());
                seed[8] = 0x51;
                SecretKey::from_seed(seed)
            })
            .collect();
        let set = ValidatorSet {
            validators: keys
                .iter()
                .enumerate()
                .map(|(i, k)| Validator {
                    agency: format!("sim-{i}").parse().unwrap_or_else(|_| unreachable!("valid agency id")),
                    names: Names { zh: "模拟".into(), ru: "сим".into(), en: "sim".into() },
                    jurisdiction: "CN".parse().unwrap_or_else(|_| unreachable!("valid jurisdiction")),
                    key: k.public(),
                    power: 1,
                })
                .collect(),
        };
        let nodes = (0..cfg.n)
            .map(|i| SimNode {
                behaviour: cfg.byzantine.iter().find(|(w, _)| *w == i).map(|(_, b)| *b),
                engine: None,
                incarnation: 0,
                durable: Vec::new(),
                pending: Vec::new(),
                chain: Vec::new(),
                held: HashSet::new(),
                seen: HashSet::new(),
                evidence: Vec::new(),
                executed: HashMap::new(),
                syncing: false,
            })
            .collect();
        let mut w = World {
            rng: Rng::new(cfg.seed),
            cfg,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            chain_id: "credex-sim".parse().unwrap_or_else(|_| unreachable!("valid chain id")),
            set,
            keys,
            nodes,
            blocks: HashMap::new(),
            committed: BTreeMap::new(),
            partition: None,
            equivocated: HashSet::new(),
            report: Report::default(),
            violation: None,
            heights_at_heal: Vec::new(),
            traced: std::env::var("CREDEX_SIM_TRACE").ok().and_then(|v| v.parse().ok()),
        };
        for i in 0..w.cfg.n {
            w.boot(i);
        }
        w.plan();
        w
    }

    fn honest(&self, i: u16) -> bool {
        self.nodes[usize::from(i)].behaviour.is_none()
    }

    fn key(&self, i: u16) -> SecretKey {
        SecretKey::from_seed(self.keys[usize::from(i)].seed())
    }

    fn at(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued { at, seq: self.seq, event }));
    }

    fn fail(&mut self, v: Violation) {
        if self.violation.is_none() {
            self.violation = Some(v);
        }
    }

    /// Schedules the faults and byzantine acts of the run.
    fn plan(&mut self) {
        let heal = self.cfg.heal_ms;
        if self.cfg.faults.crashes {
            for _ in 0..self.rng.range(1, 4) {
                let node = self.rng.validator(self.cfg.n);
                let at = self.rng.range(300, heal.saturating_sub(500));
                let down_ms = self.rng.range(50, 3_000);
                self.at(at, Event::Crash { node, down_ms });
            }
        }
        if self.cfg.faults.partitions {
            let at = self.rng.range(200, heal / 2);
            let until = self.rng.range(at + 500, heal);
            let groups = (0..self.cfg.n).map(|_| self.rng.validator(2)).collect();
            self.at(at, Event::Partition { groups, until });
        }
        for (who, b) in self.cfg.byzantine.clone() {
            match b {
                Behaviour::Amnesia => {
                    let at = self.rng.range(500, 2_000);
                    self.at(at, Event::Act { node: who });
                }
                Behaviour::Flood => self.at(100, Event::Act { node: who }),
                _ => {}
            }
        }
        for i in 0..self.cfg.n {
            self.at(1_000, Event::Rebroadcast { node: i, incarnation: 0 });
        }
    }

    /// Starts validator `i` from its durable state (log and chain).
    fn boot(&mut self, i: u16) {
        let height = self.nodes[usize::from(i)].height() + 1;
        let log = self.nodes[usize::from(i)].durable.clone();
        let me = Some((i, self.key(i)));
        let (engine, actions) = match credex_consensus::recover(self.chain_id.clone(), &self.set, me, height, &log) {
            Ok(r) => r,
            Err(e) => {
                self.fail(Violation::Engine { node: i, error: e.to_string() });
                return;
            }
        };
        let n = &mut self.nodes[usize::from(i)];
        n.incarnation += 1;
        n.engine = Some(engine);
        n.pending.clear();
        n.seen.clear();
        n.executed.clear(); // a restarted node may execute a round's proposal once more
        n.syncing = false;
        // What it proposed or found valid at this height, from the log.
        n.held = log
            .iter()
            .filter_map(|e| match e {
                Logged::Propose { block, .. } | Logged::Proposal { block, valid: true, .. } => Some(*block),
                _ => None,
            })
            .collect();
        let inc = n.incarnation;
        self.at(self.now + 1_000, Event::Rebroadcast { node: i, incarnation: inc });
        self.apply(i, actions);
    }

    fn crash(&mut self, i: u16) {
        let n = &mut self.nodes[usize::from(i)];
        n.engine = None;
        n.pending.clear(); // not durable: lost
        n.incarnation += 1;
    }

    fn healed(&self) -> bool {
        self.now >= self.cfg.heal_ms
    }

    fn connected(&self, a: u16, b: u16) -> bool {
        match &self.partition {
            Some((groups, until)) if self.now < *until => groups[usize::from(a)] == groups[usize::from(b)],
            _ => true,
        }
    }

    /// Sends `msg` from `from` to `to` through the faulty network.
    fn send(&mut self, from: u16, to: u16, msg: ConsensusMsg) {
        if from == to || !self.connected(from, to) {
            return;
        }
        let f = self.cfg.faults.clone();
        let (drop, dup) = if self.healed() { (0, f.dup_permille) } else { (f.drop_permille, f.dup_permille) };
        if self.rng.chance(drop) {
            return;
        }
        let copies = if self.rng.chance(dup) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = self.rng.range(f.delay_ms.0, f.delay_ms.1);
            self.at(self.now + delay, Event::Deliver { to, msg: Box::new(msg.clone()) });
        }
    }

    fn publish(&mut self, from: u16, msg: &ConsensusMsg) {
        for to in 0..self.cfg.n {
            self.send(from, to, msg.clone());
        }
    }

    /// Each validator's state: chain height, behaviour, engine.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let engine = n.engine.as_ref().map_or("down".to_string(), Engine::describe);
            out.push_str(&format!("  validator {i} ({:?}): chain {}; {engine}\n", n.behaviour, n.chain.len()));
        }
        out
    }

    /// Runs to the end; the first violated property (with the world's
    /// state at that point), or the report.
    pub fn run(mut self) -> Result<Report, (Violation, String)> {
        self.run_inner().map_err(|v| (v, self.describe()))
    }

    fn run_inner(&mut self) -> Result<Report, Violation> {
        while let Some(Reverse(q)) = self.queue.pop() {
            if q.at > self.cfg.end_ms {
                break;
            }
            if self.heights_at_heal.is_empty() && q.at >= self.cfg.heal_ms {
                self.now = self.cfg.heal_ms;
                self.heal();
            }
            self.now = q.at;
            self.handle(q.event);
            if let Some(v) = self.violation.take() {
                return Err(v);
            }
        }
        self.now = self.cfg.end_ms;
        self.finish()
    }

    fn heal(&mut self) {
        self.partition = None;
        for i in 0..self.cfg.n {
            if self.honest(i) && self.nodes[usize::from(i)].engine.is_none() {
                self.boot(i);
            }
        }
        self.heights_at_heal = self.nodes.iter().map(SimNode::height).collect();
    }

    fn finish(&mut self) -> Result<Report, Violation> {
        if self.heights_at_heal.is_empty() {
            self.heal();
        }
        let honest: Vec<u16> = (0..self.cfg.n).filter(|i| self.honest(*i)).collect();
        for &i in &honest {
            let got = self.nodes[usize::from(i)].height() - self.heights_at_heal[usize::from(i)];
            if got < self.cfg.progress_after_heal {
                return Err(Violation::NoProgress { node: i, got, want: self.cfg.progress_after_heal });
            }
        }
        // Evidence on the longest honest chain: true, and against every
        // validator that sent conflicting votes.
        let longest = honest.iter().map(|i| &self.nodes[usize::from(*i)].chain).max_by_key(|c| c.len());
        let mut accused = HashSet::new();
        for (b, _) in longest.into_iter().flatten() {
            for tx in &b.txs {
                if let Transaction::Evidence(e) = tx {
                    match e.verify(&self.set, &self.chain_id) {
                        Ok(who) if !self.honest(who) => {
                            accused.insert(who);
                            self.report.evidence_on_chain += 1;
                        }
                        _ => return Err(Violation::FalseEvidence(e.first.validator)),
                    }
                }
            }
        }
        let mut culprits: Vec<u16> = self.equivocated.iter().copied().collect();
        culprits.sort_unstable();
        for v in culprits {
            if !accused.contains(&v) {
                return Err(Violation::MissingEvidence(v));
            }
        }
        let heights: Vec<u64> = honest.iter().map(|i| self.nodes[usize::from(*i)].height()).collect();
        self.report.min_height = heights.iter().copied().min().unwrap_or(0);
        self.report.max_height = heights.iter().copied().max().unwrap_or(0);
        Ok(self.report.clone())
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Deliver { to, msg } => {
                self.report.delivered += 1;
                self.deliver(to, *msg);
            }
            Event::Timer { node, incarnation, height, timeout } => {
                let n = &mut self.nodes[usize::from(node)];
                if n.incarnation != incarnation {
                    return;
                }
                let Some(e) = n.engine.as_mut() else { return };
                if e.height() != height {
                    return;
                }
                match e.timeout(timeout) {
                    Ok(actions) => self.apply(node, actions),
                    Err(err) => self.engine_error(node, err),
                }
            }
            Event::Rebroadcast { node, incarnation } => {
                if self.nodes[usize::from(node)].incarnation != incarnation {
                    return;
                }
                let again = self.nodes[usize::from(node)].engine.as_ref().map(Engine::gossip).unwrap_or_default();
                for m in again {
                    self.publish(node, &m);
                }
                // The node's follow loop asks peers for their height too.
                self.sync(node);
                self.at(self.now + 1_000, Event::Rebroadcast { node, incarnation });
            }
            Event::Crash { node, down_ms } => {
                if self.nodes[usize::from(node)].engine.is_some() {
                    self.crash(node);
                    self.report.restarts += 1;
                    let back = (self.now + down_ms).min(self.cfg.heal_ms);
                    self.at(back, Event::Restart { node });
                }
            }
            Event::Restart { node } => {
                if self.nodes[usize::from(node)].engine.is_none() {
                    self.boot(node);
                }
            }
            Event::Sync { node } => self.sync(node),
            Event::Act { node } => self.act(node),
            Event::Partition { groups, until } => self.partition = Some((groups, until)),
        }
    }

    fn engine_error(&mut self, node: u16, err: MsgError) {
        if self.honest(node) {
            self.fail(Violation::Engine { node, error: err.to_string() });
        }
    }

    fn trace(&self, node: u16, what: impl FnOnce() -> String) {
        if self.traced == Some(node) {
            eprintln!("{:>6} ms  v{node}  {}", self.now, what());
        }
    }

    fn deliver(&mut self, to: u16, msg: ConsensusMsg) {
        let id = msg_id(&msg);
        let n = &mut self.nodes[usize::from(to)];
        let Some(engine) = n.engine.as_mut() else { return };
        if !n.seen.insert(id) {
            return;
        }
        let behind = msg.height() > engine.height();
        let result = engine.on_message(msg.clone());
        if self.traced == Some(to) {
            let short = match &msg {
                ConsensusMsg::Vote { height, round, kind, block, validator, .. } => format!(
                    "vote h{height} r{round} {kind:?} {:?} from v{validator}",
                    block.map(|b| b.to_string()[..8].to_string())
                ),
                ConsensusMsg::Proposal { height, round, pol_round, proposer, block, .. } => format!(
                    "proposal h{height} r{round} pol {pol_round:?} {} from v{proposer}",
                    &block.header.id().to_string()[..8]
                ),
                ConsensusMsg::Polka { height, round, block, votes } => {
                    format!("polka h{height} r{round} {} of {}", &block.to_string()[..8], votes.len())
                }
            };
            eprintln!("{:>6} ms  v{to}  <- {short}: {:?}", self.now, result.as_ref().map(|a| a.len()));
        }
        let evidence = engine.take_evidence();
        let buffered = engine.buffered_bytes();
        n.evidence.extend(evidence);
        let start_sync = behind && !n.syncing;
        if start_sync {
            n.syncing = true;
        }
        let honest = n.behaviour.is_none();
        if start_sync {
            self.at(self.now + 100, Event::Sync { node: to });
        }
        if honest {
            self.report.max_buffered = self.report.max_buffered.max(buffered);
            if buffered > FUTURE_BYTES {
                self.fail(Violation::Unbounded { node: to, bytes: buffered });
            }
        }
        match result {
            Ok(actions) => {
                // Gossip validation: forward only what the engine accepted.
                self.publish(to, &msg);
                self.apply(to, actions);
            }
            Err(MsgError::Driver(e)) => self.engine_error(to, MsgError::Driver(e)),
            Err(_) => self.report.refused += 1,
        }
    }

    /// Whether an honest validator finds `block` valid at its state.
    fn valid(&self, node: u16, block: &Block) -> bool {
        let n = &self.nodes[usize::from(node)];
        let parent = n.chain.last().map_or(Hash32::ZERO, |(b, _)| b.header.id());
        block.header.parent == parent
            && block.header.state_root != INVALID_ROOT
            && block.header.chain_id == self.chain_id
            && block.txs.iter().all(|tx| match tx {
                Transaction::Evidence(e) => e.verify(&self.set, &self.chain_id).is_ok(),
                _ => false,
            })
    }

    fn make_block(&mut self, node: u16, height: u64, round: u32, invalid: bool) -> Block {
        let n = &self.nodes[usize::from(node)];
        let parent = n.chain.last().map_or(Hash32::ZERO, |(b, _)| b.header.id());
        let on_chain: HashSet<Vec<u8>> =
            n.chain.iter().flat_map(|(b, _)| b.txs.iter()).map(credex_codec::encode).collect();
        let mut txs: Vec<Transaction> = Vec::new();
        for e in n.evidence.iter().take(EVIDENCE_PER_BLOCK) {
            let tx = Transaction::Evidence(e.clone());
            if !on_chain.contains(&credex_codec::encode(&tx)) && !txs.contains(&tx) {
                txs.push(tx);
            }
        }
        let salt = self.rng.next_u64().to_le_bytes();
        let state_root = if invalid {
            INVALID_ROOT
        } else {
            Hash32::sha256(&[&salt, &height.to_le_bytes(), &round.to_le_bytes(), &node.to_le_bytes()])
        };
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            genesis: Hash32([7; 32]),
            height,
            time: Timestamp(self.now),
            proposer: node,
            parent,
            tx_root: Hash32::ZERO,
            state_root,
            validators_hash: self.set.hash(),
            next_validators_hash: self.set.hash(),
        };
        let b = Block { header, txs };
        self.blocks.insert(b.header.id(), b.clone());
        b
    }

    fn sign_proposal(&self, node: u16, height: u64, round: u32, pol_round: Option<u32>, block: &Block) -> ConsensusMsg {
        let bytes = ProposalBytes {
            chain_id: self.chain_id.clone(),
            height,
            round,
            pol_round,
            block: block.header.id(),
            proposer: node,
        };
        ConsensusMsg::Proposal {
            height,
            round,
            pol_round,
            proposer: node,
            block: block.clone(),
            signature: self.keys[usize::from(node)].sign(Purpose::Proposal, &credex_codec::encode(&bytes)),
        }
    }

    fn sign_vote(&self, node: u16, height: u64, round: u32, kind: VoteKind, block: Option<Hash32>) -> ConsensusMsg {
        let v = Vote { chain_id: self.chain_id.clone(), height, round, kind, block };
        ConsensusMsg::Vote {
            height,
            round,
            kind,
            block,
            validator: node,
            signature: self.keys[usize::from(node)].sign(Purpose::Vote, &v.signing_bytes()),
        }
    }

    fn apply(&mut self, node: u16, actions: Vec<Action>) {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(a) = queue.pop_front() {
            self.trace(node, || format!("-> {a:?}").chars().take(200).collect());
            let behaviour = self.nodes[usize::from(node)].behaviour;
            match a {
                Action::Persist(entry) => {
                    let n = &mut self.nodes[usize::from(node)];
                    if let Logged::Start { .. } = entry {
                        n.durable.clear();
                        n.pending.clear();
                    }
                    n.pending.push(entry);
                }
                Action::Broadcast(msg) => {
                    let n = &mut self.nodes[usize::from(node)];
                    let pending = std::mem::take(&mut n.pending);
                    n.durable.extend(pending); // write-ahead: durable before it leaves
                    self.publish(node, &msg);
                    if behaviour == Some(Behaviour::DoubleVote)
                        && let ConsensusMsg::Vote { height, round, kind, block, .. } = msg
                    {
                        let other = match block {
                            Some(_) => None,
                            None => Some(Hash32::sha256(&[&self.rng.next_u64().to_le_bytes()])),
                        };
                        let second = self.sign_vote(node, height, round, kind, other);
                        self.equivocated.insert(node);
                        for to in 0..self.cfg.n {
                            if self.rng.chance(500) {
                                self.send(node, to, second.clone());
                            }
                        }
                    }
                }
                Action::BroadcastProposal { height, round, pol_round, proposer, block, signature } => {
                    let n = &mut self.nodes[usize::from(node)];
                    let pending = std::mem::take(&mut n.pending);
                    n.durable.extend(pending);
                    let Some(body) = self.blocks.get(&block).cloned() else { continue };
                    let msg = ConsensusMsg::Proposal { height, round, pol_round, proposer, block: body, signature };
                    if behaviour == Some(Behaviour::Equivocate) {
                        let mut other = self.blocks[&block].clone();
                        other.header.state_root = Hash32::sha256(&[&self.rng.next_u64().to_le_bytes()]);
                        self.blocks.insert(other.header.id(), other.clone());
                        let second = self.sign_proposal(node, height, round, pol_round, &other);
                        for to in 0..self.cfg.n {
                            let m = if self.rng.chance(500) { msg.clone() } else { second.clone() };
                            self.send(node, to, m);
                        }
                    } else {
                        self.publish(node, &msg);
                    }
                }
                Action::Schedule(t) => {
                    let n = &self.nodes[usize::from(node)];
                    let Some(e) = n.engine.as_ref() else { continue };
                    let event = Event::Timer { node, incarnation: n.incarnation, height: e.height(), timeout: t };
                    let d = u64::try_from(credex_consensus::timeout_duration(&t).as_millis()).unwrap_or(u64::MAX);
                    self.at(self.now + d, event);
                }
                Action::Validate(msg) => {
                    let ConsensusMsg::Proposal { height, round, block, .. } = &msg else { continue };
                    let count = {
                        let c = self.nodes[usize::from(node)].executed.entry((*height, *round)).or_default();
                        *c += 1;
                        *c
                    };
                    if count > 1 && self.honest(node) {
                        self.fail(Violation::Reexecuted { node, height: *height, round: *round, count });
                    }
                    let valid = self.valid(node, block);
                    self.blocks.entry(block.header.id()).or_insert_with(|| block.clone());
                    let n = &mut self.nodes[usize::from(node)];
                    if valid {
                        n.held.insert(block.header.id());
                    }
                    let Some(e) = n.engine.as_mut() else { continue };
                    match e.validated(&msg, valid) {
                        Ok(more) => queue.extend(more),
                        Err(err) => self.engine_error(node, err),
                    }
                }
                Action::GetValue { height, round } => {
                    let invalid = behaviour == Some(Behaviour::InvalidBlocks);
                    let b = self.make_block(node, height, round, invalid);
                    let id = b.header.id();
                    let n = &mut self.nodes[usize::from(node)];
                    n.held.insert(id);
                    let Some(e) = n.engine.as_mut() else { continue };
                    match e.propose(round, id) {
                        Ok(more) => queue.extend(more),
                        Err(err) => self.engine_error(node, err),
                    }
                }
                Action::Decided { height, block, certificate } => {
                    let held = self.nodes[usize::from(node)].held.contains(&block);
                    let Some(body) = self.blocks.get(&block).cloned().filter(|_| held) else {
                        // Decided a block it does not hold: sync fetches it.
                        let n = &mut self.nodes[usize::from(node)];
                        if !n.syncing {
                            n.syncing = true;
                            self.at(self.now + 100, Event::Sync { node });
                        }
                        continue;
                    };
                    if let Err(e) = verify_commit(&self.set, &body.header, &certificate) {
                        if self.honest(node) {
                            self.fail(Violation::BadCertificate { node, height, reason: e.to_string() });
                        }
                        continue;
                    }
                    self.commit(node, body, certificate);
                    return; // the engine moved on; older actions are moot
                }
            }
        }
    }

    /// Commits the next block at `node` and starts the next height.
    fn commit(&mut self, node: u16, block: Block, cert: CommitCertificate) {
        let height = block.header.height;
        let id = block.header.id();
        if self.honest(node) {
            match self.committed.get(&height) {
                Some((a, other)) if *other != id => {
                    let (a, block_a) = (*a, *other);
                    self.fail(Violation::Fork { height, a, block_a, b: node, block_b: id });
                }
                Some(_) => {}
                None => {
                    self.committed.insert(height, (node, id));
                }
            }
        }
        let n = &mut self.nodes[usize::from(node)];
        let on_chain: HashSet<Vec<u8>> = block.txs.iter().map(credex_codec::encode).collect();
        n.evidence.retain(|e| !on_chain.contains(&credex_codec::encode(&Transaction::Evidence(e.clone()))));
        n.chain.push((block, cert));
        n.held.clear();
        n.seen.clear();
        let Some(e) = n.engine.as_mut() else { return };
        match e.start(height + 1) {
            Ok(actions) => self.apply(node, actions),
            Err(err) => self.engine_error(node, err),
        }
    }

    /// Catches `node` up from a peer that is ahead, checking certificates.
    fn sync(&mut self, node: u16) {
        self.nodes[usize::from(node)].syncing = false;
        if self.nodes[usize::from(node)].engine.is_none() {
            return;
        }
        let mine = self.nodes[usize::from(node)].chain.len();
        let peers: Vec<u16> = (0..self.cfg.n)
            .filter(|p| *p != node && self.connected(node, *p) && self.nodes[usize::from(*p)].chain.len() > mine)
            .collect();
        if peers.is_empty() {
            return;
        }
        let from = peers[self.rng.index(peers.len())];
        let blocks: Vec<(Block, CommitCertificate)> = self.nodes[usize::from(from)].chain[mine..].to_vec();
        for (b, cert) in blocks {
            let parent = self.nodes[usize::from(node)].chain.last().map_or(Hash32::ZERO, |(p, _)| p.header.id());
            if b.header.parent != parent || verify_commit(&self.set, &b.header, &cert).is_err() {
                return; // a byzantine peer's chain: refused
            }
            self.commit(node, b, cert);
            if self.violation.is_some() {
                return;
            }
        }
    }

    /// A byzantine validator's own acts.
    fn act(&mut self, node: u16) {
        match self.nodes[usize::from(node)].behaviour {
            Some(Behaviour::Amnesia) => {
                if self.nodes[usize::from(node)].engine.is_some() {
                    self.crash(node);
                    self.nodes[usize::from(node)].durable.clear(); // forgets what it signed
                    self.boot(node);
                }
                let next = self.now + self.rng.range(1_500, 4_000);
                self.at(next, Event::Act { node });
            }
            Some(Behaviour::Flood) => {
                self.flood(node);
                self.at(self.now + 250, Event::Act { node });
            }
            _ => {}
        }
    }

    fn flood(&mut self, node: u16) {
        let Some(e) = self.nodes[usize::from(node)].engine.as_ref() else { return };
        let (h, r) = (e.height(), e.round());
        let n = u64::from(self.cfg.n);
        let mut out = Vec::new();
        for height in [h, h + 1, h + 2] {
            // Rounds this node proposes in: (height + round) % n == node.
            let first = (u64::from(node) + n - (height + u64::from(r)) % n) % n;
            for k in 0..2u64 {
                let round = r.saturating_add(u32::try_from(first + k * n).unwrap_or(u32::MAX));
                for _ in 0..3 {
                    let b = self.make_block(node, height, round, false);
                    out.push(self.sign_proposal(node, height, round, None, &b));
                }
            }
            for kind in [VoteKind::Prevote, VoteKind::Precommit] {
                for dr in 0..2u32 {
                    let block = Some(Hash32::sha256(&[&self.rng.next_u64().to_le_bytes()]));
                    out.push(self.sign_vote(node, height, r + dr, kind, block));
                }
            }
        }
        // Far rounds and heights, and a bad signature.
        out.push(self.sign_vote(node, h, r + 10_000, VoteKind::Prevote, None));
        out.push(self.sign_vote(node, h + 1_000, 0, VoteKind::Prevote, None));
        let mut bad = self.sign_vote(node, h, r, VoteKind::Precommit, None);
        if let ConsensusMsg::Vote { signature, .. } = &mut bad {
            signature.0[3] ^= 0x40;
        }
        out.push(bad);
        for m in out {
            for to in 0..self.cfg.n {
                if to != node {
                    self.at(self.now + 1, Event::Deliver { to, msg: Box::new(m.clone()) });
                }
            }
        }
        // Conflicting votes for the same round are equivocation too.
        self.equivocated.insert(node);
    }
}
