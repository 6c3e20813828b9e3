//! The credex binary: command-line tools now (identifier checks, offline proof verification, genesis and label hashes), the node in later issues.
//!
//! Exit codes are part of the interface:
//! * `credex id check`: 0 valid, 1 invalid (reason on stderr);
//! * `credex verify`: 0 valid, 1 a well-formed negative outcome (listed,
//!   revoked, superseded, erased, expired, stale), 2 invalid or malformed;
//! * usage errors: 2.

#![allow(clippy::print_stdout)]

mod render;

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use credex_proof::{Outcome, Policy, Verifier};
use credex_types::genesis::Genesis;
use credex_types::labels::{Category, LabelTable, Lang};
use credex_types::time::parse_duration_ms;
use credex_types::{AgencyId, Jurisdiction, SubjectId, Timestamp};

#[derive(Parser)]
#[command(
    name = "credex",
    version,
    about = "credex: issuer-signed credit attestations anchored in a permissioned BFT chain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Subject identifiers.
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// Verifies a credit proof offline against a genesis file.
    Verify(VerifyArgs),
    /// Genesis files.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// The zh / ru / en label table.
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// Credit proofs.
    Proof {
        #[command(subcommand)]
        command: ProofCommand,
    },
}

#[derive(Subcommand)]
enum IdCommand {
    /// Validates an identifier; prints its canonical form, jurisdiction and scheme.
    Check {
        /// e.g. 91350100M000100Y43, ru-inn:7707083893, jp-cn:7000012050002, mn-reg:2081237
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// Proof file (`credex1:` text or canonical bytes); `-` reads stdin.
    file: PathBuf,
    /// The genesis file to trust.
    #[arg(long)]
    genesis: PathBuf,
    /// Report stale if the block is older than this (e.g. 90d, 12h).
    #[arg(long, value_parser = parse_max_age)]
    max_age: Option<u64>,
    /// Require a signer of this jurisdiction (repeatable), e.g. RU.
    #[arg(long = "require-jurisdiction")]
    require_jurisdiction: Vec<Jurisdiction>,
    /// Accept only attestations of these issuers (repeatable).
    #[arg(long = "trust-issuer")]
    trust_issuer: Vec<AgencyId>,
    /// Verify as of this time (RFC 3339) instead of the system clock.
    #[arg(long)]
    now: Option<Timestamp>,
    /// Label language: zh, ru or en.
    #[arg(long, default_value = "en")]
    lang: Lang,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_max_age(s: &str) -> Result<u64, String> {
    parse_duration_ms(s).ok_or_else(|| format!("invalid duration {s:?}: use e.g. 30s, 15m, 12h, 90d, 3y"))
}

#[derive(Subcommand)]
enum GenesisCommand {
    /// Prints the genesis hash (over the canonical encoding, not the text).
    Hash {
        /// Genesis TOML file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum LabelsCommand {
    /// Prints the hash of the built-in label table (what genesis pins).
    Hash,
    /// Prints the label table.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProofCommand {
    /// Prints a proof as JSON without verifying it.
    Inspect {
        /// Proof file; `-` reads stdin.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().take(1 << 20).read_to_end(&mut buf).context("reading stdin")?;
        return Ok(buf);
    }
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(meta.len() <= 1 << 20, "{} is larger than 1 MiB; not a credit proof", path.display());
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn load_genesis(path: &PathBuf) -> anyhow::Result<Genesis> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading genesis {}", path.display()))?;
    Genesis::from_toml(&text).with_context(|| format!("genesis {}", path.display()))
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Id { command: IdCommand::Check { id, json } } => Ok(id_check(&id, json)),
        Command::Verify(args) => verify(args),
        Command::Genesis { command: GenesisCommand::Hash { file } } => {
            println!("{}", load_genesis(&file)?.hash());
            Ok(ExitCode::SUCCESS)
        }
        Command::Labels { command } => {
            let table = LabelTable::builtin();
            match command {
                LabelsCommand::Hash => println!("{}", table.hash()),
                LabelsCommand::Show { json: true } => println!("{}", serde_json::to_string_pretty(&table)?),
                LabelsCommand::Show { json: false } => {
                    for e in &table.entries {
                        let cat = match e.category {
                            Category::Kind => "kind",
                            Category::List => "list",
                            Category::Field => "field",
                            Category::Reason => "reason",
                        };
                        println!("{cat}\t{}\t{}\t{}\t{}", e.code, e.zh, e.ru, e.en);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Proof { command: ProofCommand::Inspect { file } } => {
            let proof = credex_proof::CreditProof::from_any(&read_input(&file)?)?;
            println!("{}", serde_json::to_string_pretty(&proof)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn id_check(input: &str, json: bool) -> ExitCode {
    match input.parse::<SubjectId>() {
        Ok(id) => {
            if json {
                let v = serde_json::json!({
                    "valid": true,
                    "canonical": id.to_string(),
                    "jurisdiction": id.jurisdiction().to_string(),
                    "scheme": id.scheme_name(),
                });
                println!("{v}");
            } else {
                println!("{id}\njurisdiction: {}\nscheme: {}", id.jurisdiction(), id.scheme_name());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                println!("{}", serde_json::json!({ "valid": false, "input": input, "error": e.to_string() }));
            }
            eprintln!("invalid subject id {input:?}: {e}");
            ExitCode::from(1)
        }
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let genesis = load_genesis(&args.genesis)?;
    let genesis_hash = genesis.hash();
    let policy = Policy {
        max_age_ms: args.max_age,
        required_jurisdictions: args.require_jurisdiction,
        trusted_issuers: (!args.trust_issuer.is_empty()).then_some(args.trust_issuer),
    };
    let verifier = Verifier::new(genesis, policy)?;
    let data = read_input(&args.file)?;
    let now = args.now.unwrap_or_else(system_now);
    let result = verifier.verify_any(&data, now);
    let code = match &result {
        Ok(v) if v.outcome == Outcome::Valid => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(_) => ExitCode::from(2),
    };
    if args.json {
        let v = match &result {
            Ok(verdict) => {
                serde_json::json!({ "verdict": verdict, "genesis": genesis_hash.to_string(), "verified_at": now })
            }
            Err(e) => {
                serde_json::json!({ "outcome": "invalid", "error": { "code": e.code(), "message": e.to_string() }, "genesis": genesis_hash.to_string() })
            }
        };
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", render::verdict_text(&result, &genesis_hash, now, args.lang));
    }
    Ok(code)
}

fn system_now() -> Timestamp {
    let ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
}
