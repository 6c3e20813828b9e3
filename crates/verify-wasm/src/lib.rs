//! The offline credit-proof verifier compiled to WebAssembly for browsers (the node's web UI and the self-contained verify page): same outcomes and texts as credex-verify; its module's bytes for the node to serve.
//!
//! One code with `credex-verify` and `credex verify`: a request names the
//! genesis (its TOML text), an optional checkpoint, the proof and the same
//! options as the command line ([`credex_verify::VerifyOptions`]); the
//! answer carries the exit code (spec §8.4: 0 valid, 1 another outcome,
//! 2 invalid, 3 nothing verified), the command's text in the reader's
//! language, and the API's typed answer ([`credex_verify::answer`], what
//! `POST /v1/verify` returns), so a page renders either the same way.
//!
//! # The module's interface (no wasm-bindgen, no imports)
//!
//! The module imports nothing and exports its `memory` and four functions:
//!
//! | export | meaning |
//! |--------|---------|
//! | `credex_input(len) -> ptr` | makes an input buffer of `len` bytes (at most [`MAX_REQUEST`]) and returns where to write it; 0 if too large |
//! | `credex_verify(request_len, proof_len) -> code` | verifies: the buffer holds the request (JSON, [`Request`]) followed by the proof bytes; returns the exit code |
//! | `credex_output() -> ptr` | where the answer (JSON, [`Answer`]) is |
//! | `credex_output_len() -> len` | its length in bytes |
//!
//! The browser supplies the clock (`now` in the request): the module has no
//! clock and no randomness (it is built with getrandom's `unsupported`
//! backend; nothing in verification draws random numbers).
//!
//! On a native build this crate also carries [`WASM`], the module's bytes,
//! built by `build.rs` (a nested `cargo` for `wasm32-unknown-unknown`,
//! profile `wasm`), so the node serves exactly what this source compiles to.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use credex_types::labels::Lang;
use credex_types::{Genesis, Timestamp};
use credex_verify::{EXIT_UNCHECKED, MaxAge, VerifyOptions};

#[cfg(target_arch = "wasm32")]
#[allow(unreachable_pub)] // exported from the module, not to Rust crates
mod exports;

/// The WebAssembly module (empty when this build had no
/// `wasm32-unknown-unknown` target: `build.rs` then warns, and the web UI
/// verifies through the node instead).
#[cfg(not(target_arch = "wasm32"))]
pub const WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/credex_verify.wasm"));

/// The JavaScript glue that loads [`WASM`] and calls it
/// (`CredexVerifier.load(source)` → `verify(request, proof)`).
pub const VERIFIER_JS: &str = include_str!("../js/verifier.js");

/// Largest request plus proof the module takes (a genesis of a few hundred
/// agencies and a proof of at most [`credex_verify::MAX_INPUT`]).
pub const MAX_REQUEST: usize = 4 << 20;

/// What to verify against and how: the command line's options, as text.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The genesis file's text (TOML).
    pub genesis: String,
    /// A checkpoint's text (`credex-checkpoint1:…`, spec §8.5), if trusted.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// The verifier's clock, RFC 3339 (the browser's `Date`).
    pub now: String,
    /// `--max-age`: a duration (`90d`) or `none`; absent means 90 days.
    #[serde(default)]
    pub max_age: Option<String>,
    /// `--clear-for`: a duration, for list proofs.
    #[serde(default)]
    pub clear_for: Option<String>,
    /// `--require-jurisdiction`, e.g. `RU`.
    #[serde(default)]
    pub require_jurisdiction: Vec<String>,
    /// `--trust-issuer`, agency ids.
    #[serde(default)]
    pub trust_issuer: Vec<String>,
    /// `zh`, `ru` or `en`; absent means `en`.
    #[serde(default)]
    pub lang: Option<String>,
    /// `--tz`: the zone times are shown in (`Asia/Shanghai`, `+09:00`);
    /// absent means the language's ([`credex_types::time::Zone::for_reader`]).
    #[serde(default)]
    pub tz: Option<String>,
}

/// The module's answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The exit code `credex verify` gives (0, 1, 2 or 3).
    pub exit_code: u8,
    /// What `credex verify --lang …` prints (or why nothing was verified).
    pub text: String,
    /// The API's answer, as `POST /v1/verify` gives it; absent when nothing
    /// was verified (exit code 3).
    pub answer: Option<credex_api_types::types::VerifyAnswer>,
    /// The genesis hash checked against (hex), when the genesis was read.
    pub genesis: Option<String>,
}

/// Why nothing was verified (exit code 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The request is not the JSON of a [`Request`].
    #[error("the request is not valid: {0}")]
    Request(String),
    /// An option is not valid.
    #[error("option {option}: {reason}")]
    Option {
        /// Which (`max_age`, `now`, …).
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// The genesis is not a usable genesis file.
    #[error("genesis: {0}")]
    Genesis(String),
    /// The checkpoint is not one of this genesis.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

fn option<T, E: std::fmt::Display>(option: &'static str, r: Result<T, E>) -> Result<T, RequestError> {
    r.map_err(|e| RequestError::Option { option, reason: e.to_string() })
}

impl Request {
    /// The options this request asks for, with `now` parsed.
    pub fn options(&self) -> Result<(VerifyOptions, Timestamp), RequestError> {
        let now: Timestamp = option("now", self.now.parse())?;
        let max_age = match &self.max_age {
            Some(s) => option("max_age", s.parse::<MaxAge>())?,
            None => VerifyOptions::default().max_age,
        };
        let clear_for = match &self.clear_for {
            Some(s) => Some(option("clear_for", credex_verify::parse_duration(s))?),
            None => None,
        };
        let lang = match &self.lang {
            Some(s) => option("lang", s.parse::<Lang>())?,
            None => Lang::En,
        };
        let options = VerifyOptions {
            max_age,
            clear_for,
            require_jurisdiction: option(
                "require_jurisdiction",
                self.require_jurisdiction.iter().map(|j| j.parse()).collect::<Result<Vec<_>, _>>(),
            )?,
            trust_issuer: option(
                "trust_issuer",
                self.trust_issuer.iter().map(|a| a.parse()).collect::<Result<Vec<_>, _>>(),
            )?,
            now: Some(now),
            lang,
            tz: match &self.tz {
                Some(s) => Some(option("tz", s.parse::<credex_types::time::Zone>())?),
                None => None,
            },
            json: false,
        };
        Ok((options, now))
    }
}

/// Verifies `proof` as `request` asks: the module's whole function, also
/// callable natively (the tests compare it with `credex verify` on every
/// vector).
pub fn verify(request: &Request, proof: &[u8]) -> Answer {
    match checked(request, proof) {
        Ok(answer) => answer,
        Err((e, genesis)) => Answer { exit_code: EXIT_UNCHECKED, text: format!("{e}\n"), answer: None, genesis },
    }
}

fn checked(request: &Request, proof: &[u8]) -> Result<Answer, (RequestError, Option<String>)> {
    let (options, now) = request.options().map_err(|e| (e, None))?;
    let genesis = Genesis::from_toml(&request.genesis).map_err(|e| (RequestError::Genesis(e.to_string()), None))?;
    let hash = Some(genesis.hash().to_string());
    let checkpoint = match &request.checkpoint {
        Some(text) => Some(
            credex_verify::check_checkpoint(&genesis, text.as_bytes())
                .map_err(|reason| (RequestError::Checkpoint(reason), hash.clone()))?,
        ),
        None => None,
    };
    let result = credex_verify::verify_result(&genesis, checkpoint.as_ref(), proof, now, &options);
    let report = credex_verify::report(&genesis, &result, now, &options);
    Ok(Answer {
        exit_code: report.exit_code,
        text: report.text,
        answer: Some(credex_verify::answer(&genesis, &result, &options.reader())),
        genesis: hash,
    })
}

/// [`verify`] on the module's input: the request's JSON, then the proof.
pub fn verify_json(request: &[u8], proof: &[u8]) -> Answer {
    match serde_json::from_slice::<Request>(request) {
        Ok(r) => verify(&r, proof),
        Err(e) => Answer {
            exit_code: EXIT_UNCHECKED,
            text: format!("{}\n", RequestError::Request(e.to_string())),
            answer: None,
            genesis: None,
        },
    }
}
