//! The offline credit-proof verifier a partner runs without the node: the `credex-verify` binary and the `credex verify` command (same options, outcomes, texts and exit codes); no RocksDB, libp2p or tokio.
//!
//! `credex-verify` (this crate's binary, for partners who do not run a
//! node) and `credex verify` (the node's command line) are one code.
//!
//! It reads a genesis file and a proof (`credex1:` text, as scanned from a
//! QR code or pasted, or canonical bytes), verifies it with
//! [`credex_proof::Verifier`] (spec §8.3) under a [`Policy`] built from
//! the options, and prints the verdict as text or JSON.
//!
//! Exit codes (spec §8.4):
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | the proof is valid and its outcome is `valid` (for a list: not listed) |
//! | 1 | the proof is valid, its outcome is another one (listed, revoked, stale, …) |
//! | 2 | the proof is invalid (forged, cut, for another chain or genesis, …) |
//! | 3 | nothing was verified: the genesis, checkpoint or proof file could not be read, or the checkpoint does not follow from the genesis |
//!
//! Defaults a relying party should know: a proof older than 90 days is
//! `stale` unless `--max-age` says otherwise (`--max-age none` turns the
//! limit off); a block more than 5 minutes ahead of the verifier's clock is
//! refused; labels are shown only if the genesis pins the label table this
//! verifier carries (otherwise the codes are shown, and the text says so).
//! It depends on the verifier crates only (checked by `scripts/check.sh`),
//! so it builds in a minute or two.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod answer;
mod render;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use credex_crypto::Hash32;
use credex_proof::{Checkpoint, Outcome, Policy, ProofError, Verdict, Verifier};
use credex_types::labels::Lang;
use credex_types::{AgencyId, Genesis, Jurisdiction, Timestamp};

pub use answer::answer;
pub use render::{Reader, headline, reason, sentence, verdict_text};

/// Largest input read: a proof is at most 64 KiB, its text form a third more.
pub const MAX_INPUT: u64 = 1 << 20;

/// `--max-age`: a duration (`90d`, `12h`, `3y`) or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxAge(pub Option<u64>);

impl std::str::FromStr for MaxAge {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("none") {
            return Ok(MaxAge(None));
        }
        parse_duration(s).map(|ms| MaxAge(Some(ms)))
    }
}

/// A duration option: `30s`, `15m`, `12h`, `90d`, `3y` (spec §8.4).
pub fn parse_duration(s: &str) -> Result<u64, String> {
    credex_types::time::parse_duration_ms(s)
        .ok_or_else(|| format!("invalid duration {s:?}: use e.g. 30s, 15m, 12h, 90d, 3y"))
}

/// The command line of `credex verify` and `credex-verify`: the files, and
/// the [`VerifyOptions`] every front end (also the in-browser verifier)
/// shares.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Proof file (`credex1:` text or canonical bytes); `-` reads stdin.
    pub file: PathBuf,
    /// The genesis file to trust.
    #[arg(long)]
    pub genesis: PathBuf,
    /// A checkpoint to trust as well (`credex checkpoint`, spec §8.5):
    /// proofs are then checked from its validator set, and proofs anchored
    /// below it are refused.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The policy, clock and output.
    #[command(flatten)]
    pub options: VerifyOptions,
}

/// What a relying party decides besides the files: the policy, the clock,
/// the language and the output form.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyOptions {
    /// Report stale if the block is older than this (e.g. 90d, 12h), or
    /// `none` for no limit.
    #[arg(long, default_value = "90d")]
    pub max_age: MaxAge,
    /// For list proofs: report `recently-listed` unless the subject was off
    /// the list during the whole window before the block, e.g. 3y
    /// ("no serious-violation listing in the last three years").
    #[arg(long, value_parser = parse_duration)]
    pub clear_for: Option<u64>,
    /// Require a signer of this jurisdiction (repeatable), e.g. RU.
    #[arg(long = "require-jurisdiction")]
    pub require_jurisdiction: Vec<Jurisdiction>,
    /// Accept only attestations of these issuers (repeatable).
    #[arg(long = "trust-issuer")]
    pub trust_issuer: Vec<AgencyId>,
    /// Verify as of this time (RFC 3339) instead of the system clock.
    #[arg(long)]
    pub now: Option<Timestamp>,
    /// Label language: zh, ru or en.
    #[arg(long, default_value = "en")]
    pub lang: Lang,
    /// Show times in this zone (Asia/Shanghai, Asia/Vladivostok, UTC, an
    /// offset such as +09:00); by default the language's: Beijing time for
    /// zh, Vladivostok time for ru, UTC for en.
    #[arg(long)]
    pub tz: Option<credex_types::time::Zone>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Default for VerifyOptions {
    /// The command line's defaults: 90 days' max age, no other requirement,
    /// the system clock, English text.
    fn default() -> Self {
        VerifyOptions {
            max_age: MaxAge(Policy::default().max_age_ms),
            clear_for: None,
            require_jurisdiction: Vec::new(),
            trust_issuer: Vec::new(),
            now: None,
            lang: Lang::En,
            tz: None,
            json: false,
        }
    }
}

impl VerifyOptions {
    /// The options that ask for `policy`, as of `now`, in `lang` (the
    /// inverse of [`VerifyOptions::policy`]).
    pub fn from_policy(policy: &Policy, now: Option<Timestamp>, lang: Lang, json: bool) -> VerifyOptions {
        VerifyOptions {
            max_age: MaxAge(policy.max_age_ms),
            clear_for: policy.clear_for_ms,
            require_jurisdiction: policy.required_jurisdictions.clone(),
            trust_issuer: policy.trusted_issuers.clone().unwrap_or_default(),
            now,
            lang,
            tz: None,
            json,
        }
    }

    /// The reader these options describe: the language, and the zone
    /// chosen or the language's default.
    pub fn reader(&self) -> Reader {
        let mut r = Reader::new(self.lang);
        if let Some(z) = &self.tz {
            r.zone = z.clone();
        }
        r
    }

    /// The policy these options ask for.
    pub fn policy(&self) -> Policy {
        Policy {
            max_age_ms: self.max_age.0,
            required_jurisdictions: self.require_jurisdiction.clone(),
            trusted_issuers: (!self.trust_issuer.is_empty()).then(|| self.trust_issuer.clone()),
            clear_for_ms: self.clear_for,
        }
    }
}

/// Nothing was verified (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file (`-` for stdin).
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The input is larger than any proof.
    #[error("{path} is larger than {MAX_INPUT} bytes; not a credit proof")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The checkpoint file is not a checkpoint of this genesis.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The genesis file is not a usable genesis.
    #[error("genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// What a verification printed and how the process should exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Standard output.
    pub text: String,
    /// 0, 1 or 2 (see the crate documentation).
    pub exit_code: u8,
}

/// Exit code when nothing was verified.
pub const EXIT_UNCHECKED: u8 = 3;

/// Reads the genesis and the proof named by `args` and verifies.
pub fn run(args: &VerifyArgs) -> Result<Report, VerifyError> {
    let genesis = load_genesis(&args.genesis)?;
    let checkpoint = match &args.checkpoint {
        Some(path) => Some(load_checkpoint(&genesis, path)?),
        None => None,
    };
    let data = read_input(&args.file)?;
    let now = args.options.now.unwrap_or_else(Timestamp::system_now);
    Ok(verify_bytes(genesis, checkpoint.as_ref(), &data, now, &args.options))
}

/// Reads a checkpoint and checks that it follows from `genesis`.
pub fn load_checkpoint(genesis: &Genesis, path: &Path) -> Result<Checkpoint, VerifyError> {
    let name = path.display().to_string();
    let bytes = read_input(path)?;
    check_checkpoint(genesis, &bytes).map_err(|reason| VerifyError::Checkpoint { path: name, reason })
}

/// Decodes a checkpoint (text or bytes) and checks that it follows from
/// `genesis`; the reason in words if not.
pub fn check_checkpoint(genesis: &Genesis, bytes: &[u8]) -> Result<Checkpoint, String> {
    let cp = Checkpoint::from_any(bytes).map_err(|e| e.to_string())?;
    Verifier::new(genesis.clone(), Policy::default())
        .and_then(|v| v.with_checkpoint(&cp))
        .map_err(|e| format!("{} ({})", e, e.code()))?;
    Ok(cp)
}

/// Verifies `data` against `genesis` (and `checkpoint`, if given) as of
/// `now` with `options` (whose own `now` is not read: the caller chose).
pub fn verify_bytes(
    genesis: Genesis,
    checkpoint: Option<&Checkpoint>,
    data: &[u8],
    now: Timestamp,
    options: &VerifyOptions,
) -> Report {
    let result = verify_result(&genesis, checkpoint, data, now, options);
    report(&genesis, &result, now, options)
}

/// The verdict on `data`, as [`verify_bytes`] computes it.
pub fn verify_result(
    genesis: &Genesis,
    checkpoint: Option<&Checkpoint>,
    data: &[u8],
    now: Timestamp,
    options: &VerifyOptions,
) -> Result<Verdict, ProofError> {
    Verifier::new(genesis.clone(), options.policy())
        .and_then(|v| match checkpoint {
            Some(cp) => v.with_checkpoint(cp),
            None => Ok(v),
        })
        .and_then(|v| v.verify_any(data, now))
}

/// What the command prints for `result` (text in `options.lang`, or JSON)
/// and its exit code.
pub fn report(
    genesis: &Genesis,
    result: &Result<Verdict, ProofError>,
    now: Timestamp,
    options: &VerifyOptions,
) -> Report {
    let genesis_hash = genesis.hash();
    let pins_labels = genesis.pins_labels(&credex_types::labels::LabelTable::builtin());
    let text = if options.json {
        json_text(result, &genesis_hash, now, pins_labels)
    } else {
        verdict_text(result, &genesis_hash, now, &options.reader(), pins_labels)
    };
    Report { text, exit_code: exit_code(result) }
}

/// 0 for `valid`, 1 for another outcome, 2 for an invalid proof, 3 when
/// the checkpoint to start from is refused (nothing was checked).
pub fn exit_code(result: &Result<Verdict, ProofError>) -> u8 {
    match result {
        Ok(v) if v.outcome == Outcome::Valid => 0,
        Ok(_) => 1,
        Err(ProofError::Checkpoint(_)) => EXIT_UNCHECKED,
        Err(_) => 2,
    }
}

fn json_text(result: &Result<Verdict, ProofError>, genesis: &Hash32, now: Timestamp, pins_labels: bool) -> String {
    let v = match result {
        Ok(verdict) => serde_json::json!({
            "verdict": verdict,
            "genesis": genesis.to_string(),
            "verified_at": now,
            "labels_pinned": pins_labels,
        }),
        Err(e) => serde_json::json!({
            "outcome": "invalid",
            "error": { "code": e.code(), "message": e.to_string() },
            "genesis": genesis.to_string(),
            "verified_at": now,
        }),
    };
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Reads a proof file (or stdin for `-`), at most [`MAX_INPUT`] bytes.
pub fn read_input(path: &Path) -> Result<Vec<u8>, VerifyError> {
    let name = path.display().to_string();
    let read = |source| VerifyError::Read { path: name.clone(), source };
    let mut buf = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut buf).map_err(read)?;
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut buf)).map_err(read)?;
    }
    if buf.len() as u64 > MAX_INPUT {
        return Err(VerifyError::TooLarge { path: name });
    }
    Ok(buf)
}

/// Reads and checks a genesis file.
pub fn load_genesis(path: &Path) -> Result<Genesis, VerifyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| VerifyError::Read { path: name.clone(), source })?;
    Genesis::from_toml(&text).map_err(|e| VerifyError::Genesis { path: name, reason: e.to_string() })
}
