//! The credex binary: parses the command line and runs a node (credex-node with credex-api) or a command of credex-cli.

// `credex node --print-config` answers on standard output.
#![allow(clippy::print_stdout)]

mod launch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "credex",
    version,
    about = "credex: issuer-signed credit attestations anchored in a permissioned BFT chain"
)]
struct Cli {
    #[command(flatten)]
    global: credex_cli::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the embedded single-validator development chain with its HTTP API.
    Dev(credex_node::args::DevArgs),
    /// Runs a node of a network described by a genesis file: the validator
    /// (with --validator-key) or an observer that follows and verifies the chain.
    Node(credex_node::args::NodeArgs),
    #[command(flatten)]
    Tool(credex_cli::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(args) => launch::dev(args),
        Command::Node(args) => launch::node(args),
        Command::Tool(command) => credex_cli::run(cli.global, command),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        credex_cli::exit_code(&e)
    })
}
