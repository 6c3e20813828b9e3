//! Named scenarios (n validators, f byzantine, what they do), each over a
//! few seeds; the random sweep runs in `scripts/check.sh` (`credex-sim`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credex_sim::{Behaviour, Config, Faults, Report, run};

fn faults(drop_permille: u32, partitions: bool, crashes: bool) -> Faults {
    Faults { drop_permille, dup_permille: 50, delay_ms: (5, 150), partitions, crashes }
}

fn scenario(n: u16, byzantine: &[(u16, Behaviour)], faults: Faults, seeds: std::ops::Range<u64>) -> Vec<Report> {
    seeds
        .map(|seed| {
            let cfg = Config {
                seed,
                n,
                byzantine: byzantine.to_vec(),
                faults: faults.clone(),
                heal_ms: 5_000,
                end_ms: 12_000,
                progress_after_heal: 3,
            };
            match run(cfg.clone()) {
                Ok(r) => r,
                Err((v, state)) => panic!("seed {seed}: {v}\n{state}{cfg:?}"),
            }
        })
        .collect()
}

#[test]
fn n4_f0_honest_with_drops_partitions_and_crashes() {
    for r in scenario(4, &[], faults(200, true, true), 1..4) {
        assert!(r.min_height >= 3, "{r:?}");
    }
}

#[test]
fn n4_f1_equivocating_proposer() {
    scenario(4, &[(1, Behaviour::Equivocate)], faults(100, false, true), 1..4);
}

#[test]
fn n4_f1_double_voter_ends_up_as_evidence_on_chain() {
    for r in scenario(4, &[(2, Behaviour::DoubleVote)], faults(50, false, false), 1..4) {
        assert!(r.evidence_on_chain > 0, "{r:?}");
    }
}

#[test]
fn n4_f1_amnesia() {
    scenario(4, &[(0, Behaviour::Amnesia)], faults(100, false, true), 1..4);
}

#[test]
fn n4_f1_flooder_gets_one_proposal_per_round_executed_and_bounded_buffers() {
    for r in scenario(4, &[(3, Behaviour::Flood)], faults(50, false, false), 1..3) {
        assert!(r.refused > 0, "the flood's far-ahead and badly signed messages are refused: {r:?}");
        assert!(r.max_buffered <= credex_consensus::FUTURE_BYTES, "{r:?}");
    }
}

#[test]
fn n4_f1_proposer_of_invalid_blocks() {
    scenario(4, &[(1, Behaviour::InvalidBlocks)], faults(50, true, true), 1..4);
}

#[test]
fn n7_f2_double_voter_and_equivocating_proposer() {
    scenario(7, &[(2, Behaviour::DoubleVote), (5, Behaviour::Equivocate)], faults(100, true, true), 1..3);
}

#[test]
fn a_seed_replays_exactly() {
    let cfg = Config::random(7);
    assert_eq!(run(cfg.clone()).unwrap(), run(cfg).unwrap());
}
