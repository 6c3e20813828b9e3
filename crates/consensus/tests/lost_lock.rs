//! Regression: the Tendermint lock must survive a crash (issue #14).
//!
//! n = 4, f = 1. A (validator 0) is byzantine; B, C, D (1, 2, 3) are honest.
//! Height 1, round 0: B proposes v; A, B and C prevote and precommit v, so B
//! and C lock on v and C decides v. D saw nothing of round 0. B crashes and
//! restarts. C leaves. In rounds 1 and 2, A, B and D are 3 of 4: round 1
//! (C's) times out; in round 2 D proposes a fresh v′. A restarted B that lost
//! its lock prevotes and precommits v′ with A and D, and D decides v′ ≠ v: two
//! honest validators decide differently. With the lock restored from the
//! consensus log B prevotes nil, v′ gets two prevotes, and nothing conflicting
//! is decided.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, VecDeque};

use credex_chain::Block;
use credex_consensus::{Action, ConsensusMsg, Engine, Logged, Timeout, TimeoutKind};
use credex_crypto::{Hash32, Purpose, SecretKey};
use credex_types::chain::{BlockHeader, Names, Validator, ValidatorSet, VoteKind};
use credex_types::{ChainId, Timestamp, Vote};

const A: u16 = 0;
const B: u16 = 1;
const C: u16 = 2;
const D: u16 = 3;

struct Script {
    chain: ChainId,
    set: ValidatorSet,
    keys: Vec<SecretKey>,
    engines: Vec<Option<Engine>>,
    /// Each honest validator's consensus log (what it persisted).
    logs: Vec<Vec<Logged>>,
    blocks: HashMap<Hash32, Block>,
    decided: HashMap<u16, Hash32>,
    outbox: VecDeque<(u16, ConsensusMsg)>,
    timers: Vec<Vec<Timeout>>,
    salt: u8,
}

impl Script {
    fn new() -> Script {
        let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed([i + 70; 32])).collect();
        let set = ValidatorSet {
            validators: keys
                .iter()
                .enumerate()
                .map(|(i, k)| Validator {
                    agency: format!("agency-{i}").parse().unwrap(),
                    names: Names { zh: "a".into(), ru: "b".into(), en: "c".into() },
                    jurisdiction: "CN".parse().unwrap(),
                    key: k.public(),
                    power: 1,
                })
                .collect(),
        };
        let chain: ChainId = "credex-lost-lock".parse().unwrap();
        let mut s = Script {
            chain,
            set,
            keys,
            engines: (0..4).map(|_| None).collect(),
            logs: vec![Vec::new(); 4],
            blocks: HashMap::new(),
            decided: HashMap::new(),
            outbox: VecDeque::new(),
            timers: vec![Vec::new(); 4],
            salt: 0,
        };
        for i in [B, C, D] {
            s.boot(i);
        }
        s
    }

    fn key(&self, i: u16) -> SecretKey {
        SecretKey::from_seed(self.keys[usize::from(i)].seed())
    }

    /// Starts (or restarts) validator `i` from its log.
    fn boot(&mut self, i: u16) {
        let log = self.logs[usize::from(i)].clone();
        let (engine, actions) =
            credex_consensus::recover(self.chain.clone(), &self.set, Some((i, self.key(i))), 1, &log).unwrap();
        self.engines[usize::from(i)] = Some(engine);
        self.timers[usize::from(i)].clear();
        self.apply(i, actions);
    }

    fn block(&mut self, proposer: u16) -> Block {
        self.salt += 1;
        let header = BlockHeader {
            chain_id: self.chain.clone(),
            genesis: Hash32([7; 32]),
            height: 1,
            time: Timestamp(1_000 + u64::from(self.salt)),
            proposer,
            parent: Hash32::ZERO,
            tx_root: Hash32::ZERO,
            state_root: Hash32([self.salt; 32]),
            validators_hash: self.set.hash(),
            next_validators_hash: self.set.hash(),
        };
        let b = Block { header, txs: Vec::new() };
        self.blocks.insert(b.header.id(), b.clone());
        b
    }

    fn apply(&mut self, i: u16, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Persist(entry) => self.logs[usize::from(i)].push(entry),
                Action::Broadcast(m) => self.outbox.push_back((i, m)),
                Action::BroadcastProposal { height, round, pol_round, proposer, block, signature } => {
                    let block = self.blocks[&block].clone();
                    self.outbox.push_back((
                        i,
                        ConsensusMsg::Proposal { height, round, pol_round, proposer, block, signature },
                    ));
                }
                Action::Schedule(t) => self.timers[usize::from(i)].push(t),
                Action::GetValue { round, .. } => {
                    let id = self.block(i).header.id();
                    let e = self.engines[usize::from(i)].as_mut().unwrap();
                    queue.extend(e.propose(round, id).unwrap());
                }
                Action::Validate(m) => {
                    let e = self.engines[usize::from(i)].as_mut().unwrap();
                    queue.extend(e.validated(&m, true).unwrap());
                }
                Action::Decided { block, .. } => {
                    self.decided.insert(i, block);
                }
            }
        }
    }

    fn feed(&mut self, to: u16, m: &ConsensusMsg) {
        let Some(e) = self.engines[usize::from(to)].as_mut() else { return };
        if let Ok(actions) = e.on_message(m.clone()) {
            self.apply(to, actions);
        }
    }

    /// Delivers everything queued to the validators `to` lets through.
    fn deliver(&mut self, to: impl Fn(u16, &ConsensusMsg) -> bool) {
        while let Some((from, m)) = self.outbox.pop_front() {
            for i in [B, C, D] {
                if i != from && to(i, &m) {
                    self.feed(i, &m);
                }
            }
        }
    }

    /// Fires validator `i`'s pending timeouts of `kind`.
    fn fire(&mut self, i: u16, kind: TimeoutKind) {
        let due: Vec<Timeout> = self.timers[usize::from(i)].iter().copied().filter(|t| t.kind == kind).collect();
        self.timers[usize::from(i)].retain(|t| t.kind != kind);
        for t in due {
            if let Some(e) = self.engines[usize::from(i)].as_mut() {
                let actions = e.timeout(t).unwrap();
                self.apply(i, actions);
            }
        }
    }

    /// A's vote, signed by A and sent to `to`.
    fn byzantine_vote(&mut self, to: &[u16], round: u32, kind: VoteKind, block: Option<Hash32>) {
        let v = Vote { chain_id: self.chain.clone(), height: 1, round, kind, block };
        let m = ConsensusMsg::Vote {
            height: 1,
            round,
            kind,
            block,
            validator: A,
            signature: self.keys[usize::from(A)].sign(Purpose::Vote, &v.signing_bytes()),
        };
        for &i in to {
            self.feed(i, &m);
        }
    }

    fn round_of(&self, i: u16) -> u32 {
        self.engines[usize::from(i)].as_ref().unwrap().round()
    }
}

#[test]
fn n4_f1_a_restarted_validator_keeps_its_lock_and_no_two_honest_validators_decide_differently() {
    let mut s = Script::new();
    // Round 0, proposer B: its proposal reaches C only (D sees nothing of round 0).
    assert_eq!(s.engines[1].as_ref().unwrap().proposer(1, 0), B);
    let v = match s.outbox.iter().find(|(f, m)| *f == B && matches!(m, ConsensusMsg::Proposal { .. })) {
        Some((_, ConsensusMsg::Proposal { block, .. })) => block.header.id(),
        _ => panic!("B did not propose in round 0"),
    };
    s.byzantine_vote(&[B, C], 0, VoteKind::Prevote, Some(v));
    s.deliver(|to, _| to != D);
    // The precommits reach C only: C decides v, B is locked on v and has not decided.
    s.byzantine_vote(&[C], 0, VoteKind::Precommit, Some(v));
    s.deliver(|to, _| to == C);
    assert_eq!(s.decided.get(&C), Some(&v), "C decides v in round 0");
    assert_eq!(s.decided.get(&B), None);
    assert_eq!(s.engines[1].as_ref().unwrap().locked(), Some((0, v)));
    // B crashes and restarts from what it persisted; C leaves the network.
    s.boot(B);
    s.engines[2] = None;
    // D's round 0 and B's restarted round 0 time out; A joins them with nil.
    for i in [B, D] {
        s.fire(i, TimeoutKind::Propose);
    }
    s.byzantine_vote(&[B, D], 0, VoteKind::Prevote, None);
    s.deliver(|_, _| true);
    for i in [B, D] {
        s.fire(i, TimeoutKind::Prevote);
    }
    s.byzantine_vote(&[B, D], 0, VoteKind::Precommit, None);
    s.deliver(|_, _| true);
    for i in [B, D] {
        s.fire(i, TimeoutKind::Precommit);
    }
    // Round 1 is C's: nobody proposes.
    for i in [B, D] {
        assert_eq!(s.round_of(i), 1, "validator {i} in round 1");
        s.fire(i, TimeoutKind::Propose);
    }
    s.byzantine_vote(&[B, D], 1, VoteKind::Prevote, None);
    s.deliver(|_, _| true);
    for i in [B, D] {
        s.fire(i, TimeoutKind::Prevote);
    }
    s.byzantine_vote(&[B, D], 1, VoteKind::Precommit, None);
    s.deliver(|_, _| true);
    for i in [B, D] {
        s.fire(i, TimeoutKind::Precommit);
    }
    // Round 2 is D's: it proposes a fresh block v′ (it never saw v).
    for i in [B, D] {
        assert_eq!(s.round_of(i), 2, "validator {i} in round 2");
    }
    let v2 = match s.outbox.iter().find(|(f, m)| *f == D && matches!(m, ConsensusMsg::Proposal { .. })) {
        Some((_, ConsensusMsg::Proposal { block, .. })) => block.header.id(),
        _ => panic!("D did not propose in round 2"),
    };
    assert_ne!(v, v2);
    s.byzantine_vote(&[B, D], 2, VoteKind::Prevote, Some(v2));
    s.deliver(|_, _| true);
    s.byzantine_vote(&[B, D], 2, VoteKind::Precommit, Some(v2));
    s.deliver(|_, _| true);
    for i in [B, D] {
        if let Some(d) = s.decided.get(&i) {
            assert_eq!(*d, v, "validator {i} decided {d}, C decided {v}: the chain forked");
        }
    }
    assert_eq!(s.engines[1].as_ref().unwrap().locked(), Some((0, v)), "B kept its lock across the restart");
}
