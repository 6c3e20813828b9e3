//! The consensus engine on its own: conflicting votes become verifiable
//! evidence; precommits alone, without the proposal, decide nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credex_consensus::{Action, ConsensusMsg, Engine};
use credex_crypto::{Hash32, Purpose, SecretKey};
use credex_types::chain::{Names, Validator, ValidatorSet, VoteKind};
use credex_types::{ChainId, Vote};

fn setup() -> (ChainId, Vec<SecretKey>, ValidatorSet) {
    let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed([i + 40; 32])).collect();
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
    ("credex-engine-test".parse().unwrap(), keys, set)
}

fn vote(
    chain: &ChainId,
    keys: &[SecretKey],
    who: u16,
    kind: VoteKind,
    round: u32,
    block: Option<Hash32>,
) -> ConsensusMsg {
    let v = Vote { chain_id: chain.clone(), height: 1, round, kind, block };
    ConsensusMsg::Vote {
        height: 1,
        round,
        kind,
        block,
        validator: who,
        signature: keys[usize::from(who)].sign(Purpose::Vote, &v.signing_bytes()),
    }
}

#[test]
fn conflicting_votes_become_verifiable_evidence() {
    let (chain, keys, set) = setup();
    let mut e = Engine::new(chain.clone(), &set, None, 1);
    e.start(1).unwrap();
    e.on_message(vote(&chain, &keys, 3, VoteKind::Prevote, 0, Some(Hash32([1; 32])))).unwrap();
    assert!(e.take_evidence().is_empty());
    e.on_message(vote(&chain, &keys, 3, VoteKind::Prevote, 0, Some(Hash32([2; 32])))).unwrap();
    let ev = e.take_evidence();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].verify(&set, &chain), Ok(3));
    // a vote with a bad signature is refused outright
    let mut bad = vote(&chain, &keys, 1, VoteKind::Prevote, 0, None);
    if let ConsensusMsg::Vote { signature, .. } = &mut bad {
        signature.0[0] ^= 1;
    }
    assert!(e.on_message(bad).is_err());
}

#[test]
fn precommits_without_the_proposal_do_not_decide() {
    let (chain, keys, set) = setup();
    let block = Hash32([9; 32]);
    let mut e = Engine::new(chain.clone(), &set, None, 1);
    e.start(1).unwrap();
    for who in [0u16, 2, 3] {
        let actions = e.on_message(vote(&chain, &keys, who, VoteKind::Precommit, 0, Some(block))).unwrap();
        // Tendermint decides on 2f+1 precommits only for a value it holds the proposal of.
        assert!(!actions.iter().any(|a| matches!(a, Action::Decided { .. })));
    }
    assert_eq!(e.height(), 1);
}

fn prevotes(actions: &[Action]) -> Vec<Option<Hash32>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Broadcast(ConsensusMsg::Vote { kind: VoteKind::Prevote, block, .. }) => Some(*block),
            _ => None,
        })
        .collect()
}

#[test]
fn a_recovered_engine_resends_its_vote_and_signs_no_other() {
    use credex_chain::Block;
    use credex_consensus::{Logged, ProposalBytes, Round, Timeout};
    use credex_types::Timestamp;
    use credex_types::chain::BlockHeader;
    let (chain, keys, set) = setup();
    let me = || Some((0u16, SecretKey::from_seed(keys[0].seed())));
    // height 1, round 0: validator 1 proposes; no proposal arrives, so on the
    // propose timeout validator 0 prevotes nil.
    let mut fresh = Engine::new(chain.clone(), &set, me(), 1);
    let mut log: Vec<Logged> = Vec::new();
    let keep = |actions: Vec<Action>, log: &mut Vec<Logged>| {
        for a in &actions {
            if let Action::Persist(e) = a {
                log.push(e.clone());
            }
        }
        actions
    };
    keep(fresh.start(1).unwrap(), &mut log);
    let sent = prevotes(&keep(fresh.timeout(Timeout::propose(Round::new(0))).unwrap(), &mut log));
    assert_eq!(sent, vec![None]);
    // After a crash the log replays: the same nil prevote is sent again ...
    let (mut restarted, actions) = credex_consensus::recover(chain.clone(), &set, me(), 1, &log).unwrap();
    assert_eq!(prevotes(&actions), vec![None]);
    assert!(!actions.iter().any(|a| matches!(a, Action::Persist(_))), "replayed inputs are not logged twice");
    // ... and the late proposal of round 0 does not get a second prevote.
    let header = BlockHeader {
        chain_id: chain.clone(),
        genesis: Hash32([7; 32]),
        height: 1,
        time: Timestamp(1),
        proposer: 1,
        parent: Hash32::ZERO,
        tx_root: Hash32::ZERO,
        state_root: Hash32([5; 32]),
        validators_hash: set.hash(),
        next_validators_hash: set.hash(),
    };
    let bytes = ProposalBytes {
        chain_id: chain.clone(),
        height: 1,
        round: 0,
        pol_round: None,
        block: header.id(),
        proposer: 1,
    };
    let proposal = ConsensusMsg::Proposal {
        height: 1,
        round: 0,
        pol_round: None,
        proposer: 1,
        block: Block { header, txs: Vec::new() },
        signature: keys[1].sign(Purpose::Proposal, &credex_codec::encode(&bytes)),
    };
    let asked = restarted.on_message(proposal.clone()).unwrap();
    assert!(matches!(asked.as_slice(), [Action::Validate(_)]));
    assert!(prevotes(&restarted.validated(&proposal, true).unwrap()).is_empty());
    // A second, different proposal for the round is refused unexecuted.
    let mut other = proposal.clone();
    if let ConsensusMsg::Proposal { block, signature, .. } = &mut other {
        block.header.state_root = Hash32([6; 32]);
        let bytes = ProposalBytes { block: block.header.id(), ..bytes };
        *signature = keys[1].sign(Purpose::Proposal, &credex_codec::encode(&bytes));
    }
    assert_eq!(restarted.on_message(other), Err(credex_consensus::MsgError::ConflictingProposal(1, 0)));
}

#[test]
fn proposers_rotate_in_proportion_to_voting_power() {
    let (chain, _, mut set) = setup();
    // Equal power: validator (height + round) mod n.
    let e = Engine::new(chain.clone(), &set, None, 1);
    assert_eq!((0..8).map(|r| e.proposer(1, r)).collect::<Vec<_>>(), vec![1, 2, 3, 0, 1, 2, 3, 0]);
    // Powers 3, 1, 1, 1: validator 0 proposes in 3 of every 6 slots.
    set.validators[0].power = 3;
    let e = Engine::new(chain, &set, None, 1);
    let slots: Vec<u16> = (0..12).map(|r| e.proposer(0, r)).collect();
    assert_eq!(slots, vec![0, 0, 0, 1, 2, 3, 0, 0, 0, 1, 2, 3]);
    for who in 0..4u16 {
        let count = slots.iter().filter(|p| **p == who).count();
        assert_eq!(count, if who == 0 { 6 } else { 2 }, "validator {who}");
    }
}
