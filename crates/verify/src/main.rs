//! `credex-verify`: checks a credit proof offline against a genesis file,
//! without the node (see the `credex_verify` crate for options and exit codes).

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command line tool

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "credex-verify",
    version,
    about = "Verifies a credex credit proof offline against a genesis file: exit 0 valid, 1 another outcome, 2 invalid, 3 not checked"
)]
struct Cli {
    #[command(flatten)]
    args: credex_verify::VerifyArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match credex_verify::run(&cli.args) {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(report.text.as_bytes()).and_then(|()| out.flush()).is_err() {
                return ExitCode::from(credex_verify::EXIT_UNCHECKED);
            }
            ExitCode::from(report.exit_code)
        }
        Err(e) => {
            eprintln!("credex-verify: {e}");
            ExitCode::from(credex_verify::EXIT_UNCHECKED)
        }
    }
}
