//! `credex-sim`: runs the deterministic consensus simulation for many seeds
//! (on all cores; each seed's run is independent and deterministic) and
//! prints what it checked; a failing seed is printed with the command that
//! replays it.

#![allow(clippy::print_stdout)] // a command-line tool: its report goes to stdout

use std::time::Instant;

use clap::Parser;
use credex_sim::{Config, Report, run};

#[derive(Parser)]
#[command(
    about = "Deterministic simulation of credex consensus: safety, liveness and evidence under faults and byzantine validators"
)]
struct Args {
    /// How many seeds to run, starting at `--from`.
    #[arg(long, default_value_t = 200)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Run this one seed only and print its configuration and report
    /// (`CREDEX_SIM_TRACE=<validator>` prints that validator's inputs and actions).
    #[arg(long)]
    seed: Option<u64>,
    /// Threads (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
}

type Outcome = (u64, Config, Result<Report, (credex_sim::Violation, String)>);

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let seeds: Vec<u64> = match args.seed {
        Some(s) => vec![s],
        None => (args.from..args.from + args.seeds).collect(),
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let started = Instant::now();
    let chunks: Vec<Vec<u64>> = (0..jobs).map(|j| seeds.iter().copied().skip(j).step_by(jobs).collect()).collect();
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|seed| {
                            let cfg = Config::random(seed);
                            (seed, cfg.clone(), run(cfg))
                        })
                        .collect::<Vec<Outcome>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut outcomes = outcomes;
    outcomes.sort_by_key(|(seed, _, _)| *seed);
    if outcomes.len() != seeds.len() {
        anyhow::bail!("a simulation thread panicked; rerun seed by seed with --seed to find it");
    }
    let (mut heights, mut evidence, mut restarts, mut delivered, mut byzantine) = (0u64, 0usize, 0u32, 0u64, 0usize);
    for (seed, cfg, result) in outcomes {
        byzantine += cfg.byzantine.len();
        match result {
            Ok(r) => {
                if args.seed.is_some() {
                    println!("{cfg:?}\n{r:?}");
                }
                heights += r.min_height;
                evidence += r.evidence_on_chain;
                restarts += r.restarts;
                delivered += r.delivered;
            }
            Err((v, state)) => {
                eprintln!("seed {seed} FAILED: {v}");
                eprint!("{state}");
                eprintln!("  config: {cfg:?}");
                eprintln!("  replay: cargo run --release -p credex-sim -- --seed {seed}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "credex-sim: {} seeds passed in {:.1} s on {jobs} threads (safety, liveness after heal, evidence on chain, \
         bounded inputs): {heights} heights committed by the slowest honest validator of each seed, {byzantine} \
         byzantine validators, {restarts} crash-restarts, {evidence} evidence transactions on chain, {delivered} \
         messages delivered",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
