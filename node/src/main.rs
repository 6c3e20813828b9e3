//! The credex binary: parses the command line and runs a node (credex-node with credex-api) or a command of credex-cli.

// `credex node --print-config` answers on standard output.
#![allow(clippy::print_stdout)]

mod launch;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory as _, Parser, Subcommand};

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
    let cli = Cli::try_parse().unwrap_or_else(|e| exit_with(e));
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

/// Exits with clap's error; a bad value that came from the environment
/// says which variable it came from.
fn exit_with(e: clap::Error) -> ! {
    if e.kind() == ErrorKind::ValueValidation
        && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
        && let Some(var) = env_of(arg)
        && let Some(ContextValue::String(value)) = e.get(ContextKind::InvalidValue)
        && std::env::var(&var).is_ok_and(|v| &v == value)
    {
        eprintln!("error: {var} (the environment's value for {arg}) is not valid:");
    }
    e.exit()
}

/// The environment variable of the flag `arg` (as clap names it: `--http <HTTP>`), in any subcommand.
fn env_of(arg: &str) -> Option<String> {
    let long = arg.trim_start_matches("--").split(' ').next()?;
    let cmd = Cli::command();
    cmd.get_subcommands()
        .flat_map(|c| c.get_arguments().collect::<Vec<_>>())
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
        .map(|v| v.to_string_lossy().into_owned())
}
