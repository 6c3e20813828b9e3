//! The credex binary: the node (storage, chain, consensus seam, HTTP API), the embedded dev chain, and command-line tools for issuers and verifiers.
//!
//! Exit codes are part of the interface:
//! * `credex id check`: 0 valid, 1 invalid (reason on stderr);
//! * `credex verify`: 0 valid, 1 a well-formed negative outcome (listed,
//!   revoked, superseded, erased, expired, stale), 2 invalid or malformed;
//! * `credex attest`, `revoke`, `proof`: 0 done, 1 refused by the node
//!   (its error code and message on stderr), 2 other errors;
//! * usage errors: 2.

#![allow(clippy::print_stdout)]

mod access;
mod access_cmd;
mod api;
mod bft;
mod client;
mod config;
mod csv_cmd;
mod dev;
mod genesis_cmd;
mod keys;
mod lifecycle_cmd;
mod load;
mod metrics;
mod net;
mod records;
mod render;
mod service;
mod tls;
mod warnings;

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use credex_proof::{Outcome, Policy, Verifier};
use credex_types::genesis::Genesis;
use credex_types::labels::{LabelTable, Lang};
use credex_types::time::parse_duration_ms;
use credex_types::{AgencyId, Jurisdiction, SubjectId, Timestamp};

#[derive(Parser)]
#[command(
    name = "credex",
    version,
    about = "credex: issuer-signed credit attestations anchored in a permissioned BFT chain"
)]
struct Cli {
    /// Sign API requests with this key file (an official's, platform's,
    /// issuer's or subject's); also `CREDEX_AUTH`. Commands that take a
    /// `--key` sign with that key.
    #[arg(long, global = true)]
    auth: Option<PathBuf>,
    /// Trust exactly the certificates in this PEM file for `https://` node
    /// URLs (a partner's private CA); also `CREDEX_CA`. Default: the Web PKI roots.
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// TLS of the API and of outgoing webhooks (`crate::tls`).
#[derive(clap::Args, Debug, Clone, Default, serde::Deserialize)]
pub struct TlsArgs {
    /// Serve the API over HTTPS with this PEM certificate chain (leaf first;
    /// `CREDEX_TLS_CERT`).
    #[arg(long, requires = "tls_key")]
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (`CREDEX_TLS_KEY`).
    #[arg(long, requires = "tls_cert")]
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Trust exactly these PEM certificates for https:// webhooks
    /// (`CREDEX_WEBHOOK_CA`; default: the Web PKI roots).
    #[arg(long)]
    #[serde(default)]
    pub webhook_ca: Option<PathBuf>,
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
    /// Credit proofs: fetch from a node, or inspect a file.
    Proof {
        #[command(subcommand)]
        command: ProofCommand,
    },
    /// Checks equivocation evidence (JSON, as in a block's evidence
    /// transaction) against a genesis, offline.
    Evidence {
        /// Evidence JSON file (`{"first": …, "second": …}`); `-` reads stdin.
        file: PathBuf,
        /// The genesis file to trust.
        #[arg(long)]
        genesis: PathBuf,
    },
    /// Runs the embedded single-validator development chain with its HTTP API.
    Dev {
        /// Data directory (genesis, keys, database).
        #[arg(long, default_value = "./.credex/dev")]
        data: PathBuf,
        /// HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: std::net::SocketAddr,
        /// Log format: pretty or json.
        #[arg(long, default_value = "pretty")]
        log_format: String,
        /// Refuse to start with less free disk than this, in MiB.
        #[arg(long, default_value_t = DEFAULT_MIN_FREE_DISK_MB)]
        min_free_disk_mb: u64,
        /// A webhook target allowed although it is not a public address,
        /// `host:port` or `host` (repeatable), e.g. 127.0.0.1:9000.
        #[arg(long = "webhook-allow")]
        webhook_allow: Vec<String>,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Runs a node of a network described by a genesis file: the validator
    /// (with --validator-key) or an observer that follows and verifies the chain.
    Node {
        /// A TOML config file with any of the options below (keys as the
        /// flags, snake_case; `peers` a list). Precedence: flag, then
        /// environment (`CREDEX_GENESIS`, `CREDEX_DATA`, `CREDEX_HTTP`,
        /// `CREDEX_P2P_KEY`, `CREDEX_LISTEN`, `CREDEX_PEERS` comma-separated,
        /// `CREDEX_VALIDATOR_KEY`, `CREDEX_CLIENTS`, `CREDEX_LOG_FORMAT`),
        /// then the file, then the defaults.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Genesis file.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Data directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// HTTP listen address (default 127.0.0.1:8080).
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
        /// Network key file (its peer id must be in the genesis).
        #[arg(long)]
        p2p_key: Option<PathBuf>,
        /// libp2p listen address, e.g. /ip4/127.0.0.1/tcp/26656.
        #[arg(long)]
        listen: Option<credex_p2p::Multiaddr>,
        /// A peer to keep connected, /ip4/…/tcp/…/p2p/<peer id> (repeatable).
        #[arg(long = "peer")]
        peers: Vec<credex_p2p::Multiaddr>,
        /// Consensus key file: runs as this validator.
        #[arg(long)]
        validator_key: Option<PathBuf>,
        /// Registered API clients (officials, platforms): a clients.toml file.
        #[arg(long)]
        clients: Option<PathBuf>,
        /// Log format: pretty or json (default pretty).
        #[arg(long)]
        log_format: Option<String>,
        /// Refuse to start with less free disk than this, in MiB (default 1024;
        /// `CREDEX_MIN_FREE_DISK_MB`).
        #[arg(long)]
        min_free_disk_mb: Option<u64>,
        /// A webhook target allowed although it is not a public address,
        /// `host:port` or `host` (repeatable; `CREDEX_WEBHOOK_ALLOW` comma-separated).
        #[arg(long = "webhook-allow")]
        webhook_allow: Vec<String>,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Signs an attestation with an issuer key and submits it to a node.
    Attest {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// Subject id.
        #[arg(long)]
        subject: SubjectId,
        /// Kind, e.g. abnormal-operation-listing.
        #[arg(long)]
        kind: credex_types::AttestationKind,
        /// A claim field CODE=VALUE (repeatable).
        #[arg(long = "field")]
        fields: Vec<String>,
        /// The attestation this one replaces.
        #[arg(long)]
        supersedes: Option<credex_types::AttestationId>,
        /// The subject's case (commitment, repair application, objection) this answers.
        #[arg(long)]
        case: Option<credex_types::lifecycle::CaseId>,
        /// Legal basis code (default depends on the kind).
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
        /// Effective time (RFC 3339; default now).
        #[arg(long)]
        effective: Option<Timestamp>,
        /// Expiry / end of publication window (RFC 3339). Penalties must
        /// have one (ordinary 90–365 days, serious 182–1,096 days after the
        /// effective time); the default is the shortest.
        #[arg(long)]
        expires: Option<Timestamp>,
        /// Wait until anchored and print the height.
        #[arg(long)]
        wait: bool,
    },
    /// Revokes an attestation (signed by the same issuer).
    Revoke {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// Attestation id.
        id: credex_types::AttestationId,
        /// Wait until anchored.
        #[arg(long)]
        wait: bool,
    },
    /// Load generator: submits many attestations, reports attestations/s and submit-to-final latency.
    Load {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file (its agency must be allowed administrative-licence).
        #[arg(long)]
        key: PathBuf,
        /// How many attestations.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Concurrent submitters.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Generates a key file.
    Keygen {
        /// Agency id (issuer, validator, p2p, official and platform keys).
        #[arg(long, required_unless_present = "subject")]
        agency: Option<AgencyId>,
        /// Client id of an official or platform key (as registered in clients.toml).
        #[arg(long)]
        client: Option<String>,
        /// Subject id (subject keys: `--role subject`).
        #[arg(long, conflicts_with = "agency")]
        subject: Option<SubjectId>,
        /// issuer, validator, p2p (network identity), official, platform or subject.
        #[arg(long, default_value = "issuer")]
        role: String,
        /// Output file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
        /// Mark the key file as an insecure development key.
        #[arg(long)]
        dev_warning: bool,
    },
    #[command(flatten)]
    Lifecycle(lifecycle_cmd::LifecycleCommand),
    #[command(flatten)]
    Access(access_cmd::AccessCommand),
    /// Imports an agency's list (CSV) as signed attestations, with a progress
    /// bar; deduplicates and merges repeated rows, reports rejected rows by
    /// line, and is safe to re-run. Exit 1 if any row was rejected.
    Import {
        /// The CSV file: `subject`, optional `effective_at` / `expires_at`, then field codes.
        file: PathBuf,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// The kind of every row, e.g. abnormal-operation-listing.
        #[arg(long)]
        kind: credex_types::AttestationKind,
        /// Effective time of rows without `effective_at` (RFC 3339).
        #[arg(long)]
        effective: Option<Timestamp>,
        /// Legal basis code (default depends on the kind).
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
    },
    /// Writes who is on a list now, as CSV (or JSON).
    Export {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// The list.
        #[arg(long)]
        list: credex_types::ListKind,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes a subject's printable credit report (HTML with QR status proofs).
    Report {
        /// Subject id.
        subject: SubjectId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// zh, ru or en.
        #[arg(long, default_value = "en")]
        lang: Lang,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
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
    /// For list proofs: report `recently-listed` unless the subject was off
    /// the list during the whole window before the block, e.g. 3y
    /// ("no serious-violation listing in the last three years").
    #[arg(long, value_parser = parse_max_age)]
    clear_for: Option<u64>,
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
    /// Writes a new genesis with no validators yet.
    New {
        /// Chain id.
        #[arg(long)]
        chain_id: credex_types::ChainId,
        /// Genesis time (RFC 3339; default now).
        #[arg(long)]
        time: Option<Timestamp>,
        /// Output file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Adds a validator (agency from its key file).
    AddValidator {
        /// Genesis file to edit.
        file: PathBuf,
        /// Consensus key file.
        #[arg(long)]
        key: PathBuf,
        /// Network (libp2p) key file.
        #[arg(long)]
        p2p_key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction, e.g. CN.
        #[arg(long)]
        jurisdiction: Jurisdiction,
        /// Voting power.
        #[arg(long, default_value_t = 1)]
        power: u64,
    },
    /// Adds an observer (agency from its key file).
    AddObserver {
        /// Genesis file to edit.
        file: PathBuf,
        /// Network (libp2p) key file.
        #[arg(long)]
        p2p_key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction.
        #[arg(long)]
        jurisdiction: Jurisdiction,
    },
    /// Adds an issuer (agency from its key file).
    AddIssuer {
        /// Genesis file to edit.
        file: PathBuf,
        /// Issuer key file.
        #[arg(long)]
        key: PathBuf,
        /// Names as "中文|Русский|English".
        #[arg(long)]
        names: String,
        /// Jurisdiction.
        #[arg(long)]
        jurisdiction: Jurisdiction,
        /// Kinds it may issue, comma-separated.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<credex_types::AttestationKind>,
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
    /// Fetches the proof of an attestation from a node.
    Attestation {
        /// Attestation id.
        id: credex_types::AttestationId,
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Field codes to disclose, comma-separated (the subject and the
        /// attestation's issuer may; others need --legal-basis).
        #[arg(long, value_delimiter = ',')]
        disclose: Vec<credex_types::FieldCode>,
        /// A legal basis of your role for the disclosure, e.g. cn-admin-inspection.
        #[arg(long)]
        legal_basis: Option<credex_types::LegalBasis>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Fetches a subject's list-status proof from a node.
    Status {
        /// Node URL.
        #[arg(long)]
        node: String,
        /// Subject id.
        #[arg(long)]
        subject: SubjectId,
        /// List, e.g. abnormal-operation.
        #[arg(long)]
        list: credex_types::ListKind,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(ca) = cli.ca.clone().or_else(|| std::env::var_os("CREDEX_CA").map(PathBuf::from))
        && let Err(e) = client::set_default_ca(&ca)
    {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    if let Some(path) = &cli.auth {
        client::set_default_auth(path.clone());
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<client::Refused>().is_some() { ExitCode::from(1) } else { ExitCode::from(2) }
        }
    }
}

fn print_json(v: &serde_json::Value) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(ExitCode::SUCCESS)
}

fn init_logging(format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDEX_LOG")
        // libp2p's gossipsub logs whole messages at WARN when a peer's queue
        // is full; under load that floods the disk, so it is kept to errors.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,libp2p_gossipsub=error"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        "json" => builder.json().init(),
        "pretty" => builder.init(),
        other => anyhow::bail!("--log-format {other:?}: use pretty or json"),
    }
    Ok(())
}

/// The default floor of free disk below which a node refuses to start (MiB).
pub const DEFAULT_MIN_FREE_DISK_MB: u64 = 1024;

/// Refuses to start on a nearly full disk (the data directory's filesystem).
fn check_disk(data: &std::path::Path, floor_mb: u64) -> anyhow::Result<()> {
    let free_mb = credex_storage::check_free_space(data, floor_mb)?;
    tracing::info!(target: "credex::node", free_mb, floor_mb, data = %data.display(), "free disk space");
    Ok(())
}

fn run_dev(
    data: &std::path::Path,
    http: std::net::SocketAddr,
    log_format: &str,
    min_free_disk_mb: u64,
    serving: Serving,
) -> anyhow::Result<ExitCode> {
    init_logging(log_format)?;
    check_disk(data, min_free_disk_mb)?;
    let now = system_now();
    let (genesis, key) = dev::init_or_load(data, now)?;
    let store = credex_storage::Store::open(&data.join("db"), genesis.hash())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let node = std::sync::Arc::new(service::Node::open(genesis, store, Box::new(service::SystemClock))?);
        let listener = tokio::net::TcpListener::bind(http).await.with_context(|| format!("binding {http}"))?;
        tracing::info!(target: "credex::node", %http, data = %data.display(), chain = %node.genesis().chain_id,
            genesis = %node.genesis_hash(), height = node.height(), "credex dev node listening");
        tracing::warn!(target: "credex::node", keys = %data.join("keys").display(), "{}", keys::DEV_WARNING);
        if let Some(v) = node.genesis().validators.first() {
            node.set_identity(v.agency.clone(), credex_crypto::SecretKey::from_seed(key.seed()));
        }
        let clients = access::Clients::read(&data.join("clients.toml"))?;
        let access = std::sync::Arc::new(access::Access::new(&node, clients, access::Rates::default())?);
        let engine = tokio::spawn(service::run_solo(node.clone(), key, std::time::Duration::from_millis(500)));
        serve(node, listener, access, engine, serving).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Serves the API while `engine` (block production, or a pending future
/// for observers) runs, until SIGTERM / Ctrl-C or until the engine fails.
async fn serve(
    node: std::sync::Arc<service::Node>,
    listener: tokio::net::TcpListener,
    access: std::sync::Arc<access::Access>,
    engine: tokio::task::JoinHandle<anyhow::Result<()>>,
    serving: Serving,
) -> anyhow::Result<()> {
    let warnings = warnings::Warnings::start(node.clone(), serving.webhooks)?;
    tokio::spawn(access::anchor_loop(node.clone()));
    tokio::spawn(retry_purges(node.clone()));
    let app = api::router(node.clone(), warnings, access);
    let server = api::server::serve(listener, app, serving.tls, shutdown_signal());
    tokio::select! {
        r = server => r.context("http server")?,
        r = engine => match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.context("block production stopped")),
            Err(e) => anyhow::bail!("block production task: {e}"),
        },
    }
    tracing::info!(target: "credex::node", height = node.height(), "stopped");
    Ok(())
}

/// How the API is served: TLS (if configured) and the webhook policy.
struct Serving {
    tls: Option<tokio_rustls::TlsAcceptor>,
    webhooks: warnings::WebhookPolicy,
}

impl Serving {
    fn new(tls: &TlsArgs, webhook_allow: Vec<String>) -> anyhow::Result<Serving> {
        let acceptor = match (&tls.tls_cert, &tls.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::acceptor(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("--tls-cert and --tls-key go together"),
        };
        let webhooks = warnings::WebhookPolicy {
            allow: webhook_allow,
            tls: crate::tls::client_config(tls.webhook_ca.as_deref())?,
        };
        Ok(Serving { tls: acceptor, webhooks })
    }
}

/// Erasures whose key could not be destroyed at commit are retried every
/// minute until they succeed (`credex_erasure_purges_pending` in `/metrics`).
async fn retry_purges(node: std::sync::Arc<service::Node>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let n = node.clone();
        match tokio::task::spawn_blocking(move || n.store().retry_purges()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(left)) => tracing::error!(target: "credex::storage", left, "record keys still not destroyed"),
            Ok(Err(e)) => tracing::error!(target: "credex::storage", error = %e, "retrying key destruction"),
            Err(e) => tracing::error!(target: "credex::storage", error = %e, "key destruction task"),
        }
    }
}

/// The resolved options of `credex node`.
pub struct NodeArgs {
    /// Genesis file.
    pub genesis: PathBuf,
    /// Data directory.
    pub data: PathBuf,
    /// HTTP listen address.
    pub http: std::net::SocketAddr,
    /// Network key file.
    pub p2p_key: PathBuf,
    /// libp2p listen address.
    pub listen: credex_p2p::Multiaddr,
    /// Peers to keep connected.
    pub peers: Vec<credex_p2p::Multiaddr>,
    /// Validator key file.
    pub validator_key: Option<PathBuf>,
    /// Clients file.
    pub clients: Option<PathBuf>,
    /// Free-disk floor at start (MiB).
    pub min_free_disk_mb: u64,
    /// Webhook targets allowed although not public.
    pub webhook_allow: Vec<String>,
    /// TLS certificate, key and webhook CA.
    pub tls: TlsArgs,
}

fn run_node(a: NodeArgs, log_format: &str) -> anyhow::Result<ExitCode> {
    init_logging(log_format)?;
    check_disk(&a.data, a.min_free_disk_mb)?;
    let serving = Serving::new(&a.tls, a.webhook_allow.clone())?;
    let genesis = load_genesis(&a.genesis)?;
    let (_, p2p) = keys::KeyFile::read(&a.p2p_key)?;
    let keypair = credex_p2p::keypair_from_seed(p2p.seed());
    let me = keypair.public().to_peer_id();
    let mut allowed = Vec::new();
    for id in genesis
        .validators
        .iter()
        .filter_map(|v| v.peer_id.clone())
        .chain(genesis.observers.iter().map(|o| o.peer_id.clone()))
    {
        allowed.push(id.parse::<credex_p2p::PeerId>().with_context(|| format!("genesis peer id {id}"))?);
    }
    if !allowed.contains(&me) {
        tracing::warn!(target: "credex::node", peer = %me, "this node's peer id is not in the genesis: other nodes will refuse it");
    }
    let validator = match &a.validator_key {
        Some(path) => {
            let (_, key) = keys::KeyFile::read(path)?;
            anyhow::ensure!(
                genesis.validators.iter().any(|v| v.key == key.public()),
                "{}: not a validator key of this genesis",
                path.display()
            );
            Some(key)
        }
        None => None,
    };
    let clients = match &a.clients {
        Some(path) => access::Clients::read(path)?,
        None => access::Clients::default(),
    };
    // Who this node is: its validator key's agency, or its peer id's agency.
    let identity = match &validator {
        Some(key) => genesis
            .validators
            .iter()
            .find(|v| v.key == key.public())
            .map(|v| (v.agency.clone(), credex_crypto::SecretKey::from_seed(key.seed()))),
        None => genesis
            .observers
            .iter()
            .find(|o| o.peer_id == me.to_string())
            .map(|o| (o.agency.clone(), credex_crypto::SecretKey::from_seed(p2p.seed()))),
    };
    let store = credex_storage::Store::open(&a.data.join("db"), genesis.hash())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let node = std::sync::Arc::new(service::Node::open(genesis, store, Box::new(service::SystemClock))?);
        if let Some((agency, key)) = identity {
            node.set_identity(agency, key);
        }
        let config = credex_p2p::Config {
            keypair,
            listen: vec![a.listen.clone()],
            bootstrap: a.peers.clone(),
            allowed,
            genesis: node.genesis_hash(),
            max_message: net::MAX_MESSAGE,
        };
        node.set_role(if validator.is_some() { "validator" } else { "observer" });
        let solo = validator.is_some() && node.genesis().validators.len() == 1;
        let (consensus_tx, consensus_rx) = tokio::sync::mpsc::channel(10_000);
        let wants_consensus = validator.is_some() && !solo;
        let access = std::sync::Arc::new(access::Access::new(&node, clients, access::Rates::default())?);
        let network =
            net::start(node.clone(), access.clone(), config, !solo, wants_consensus.then_some(consensus_tx))?;
        let listener = tokio::net::TcpListener::bind(a.http).await.with_context(|| format!("binding {}", a.http))?;
        tracing::info!(target: "credex::node", http = %a.http, p2p = %a.listen, peer = %me, role = if validator.is_some() { "validator" } else { "observer" },
            chain = %node.genesis().chain_id, height = node.height(), "credex node running");
        let engine = match validator {
            Some(key) if solo => tokio::spawn(service::run_solo(node.clone(), key, std::time::Duration::from_millis(500))),
            Some(key) => tokio::spawn(bft::run(node.clone(), network.clone(), consensus_rx, key)),
            None => tokio::spawn(std::future::pending::<anyhow::Result<()>>()),
        };
        node.set_net(network.clone());
        let _network = network;
        serve(node, listener, access, engine, serving).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!(target: "credex::node", "shutting down");
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
        Command::Genesis { command: GenesisCommand::New { chain_id, time, out } } => {
            genesis_cmd::new(&out, chain_id, time.unwrap_or_else(system_now))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis {
            command: GenesisCommand::AddValidator { file, key, p2p_key, names, jurisdiction, power },
        } => {
            genesis_cmd::add_validator(&file, &key, &p2p_key, genesis_cmd::parse_names(&names)?, jurisdiction, power)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis { command: GenesisCommand::AddObserver { file, p2p_key, names, jurisdiction } } => {
            genesis_cmd::add_observer(&file, &p2p_key, genesis_cmd::parse_names(&names)?, jurisdiction)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Genesis { command: GenesisCommand::AddIssuer { file, key, names, jurisdiction, kinds } } => {
            anyhow::ensure!(!kinds.is_empty(), "--kinds: name at least one kind");
            genesis_cmd::add_issuer(&file, &key, genesis_cmd::parse_names(&names)?, jurisdiction, kinds)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Node {
            config,
            genesis,
            data,
            http,
            p2p_key,
            listen,
            peers,
            validator_key,
            clients,
            log_format,
            min_free_disk_mb,
            webhook_allow,
            tls,
        } => {
            let flags = config::NodeConfig {
                genesis,
                data,
                http,
                p2p_key,
                listen,
                peers,
                validator_key,
                clients,
                log_format,
                min_free_disk_mb,
                webhook_allow,
                tls_cert: tls.tls_cert,
                tls_key: tls.tls_key,
                webhook_ca: tls.webhook_ca,
            };
            let (args, log_format) = config::resolve(flags, config.as_deref(), &|k| std::env::var(k).ok())?;
            run_node(args, &log_format)
        }
        Command::Labels { command } => {
            let table = LabelTable::builtin();
            match command {
                LabelsCommand::Hash => println!("{}", table.hash()),
                LabelsCommand::Show { json: true } => println!("{}", serde_json::to_string_pretty(&table)?),
                LabelsCommand::Show { json: false } => {
                    for e in &table.entries {
                        let cat = e.category.name();
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
        Command::Proof { command: ProofCommand::Attestation { id, node, disclose, legal_basis, out } } => print_json(
            &client::proof_attestation(&client::Client::new(&node), id, &disclose, legal_basis.as_ref(), &out)?,
        ),
        Command::Proof { command: ProofCommand::Status { node, subject, list, out } } => {
            print_json(&client::proof_status(&client::Client::new(&node), &subject, list, &out)?)
        }
        Command::Dev { data, http, log_format, min_free_disk_mb, webhook_allow, tls } => {
            let serving = Serving::new(&tls, webhook_allow)?;
            run_dev(&data, http, &log_format, min_free_disk_mb, serving)
        }
        Command::Evidence { file, genesis } => {
            let genesis = load_genesis(&genesis)?;
            let ev: credex_types::chain::Evidence =
                serde_json::from_slice(&read_input(&file)?).context("evidence JSON")?;
            match ev.verify(&genesis.validator_set(), &genesis.chain_id) {
                Ok(i) => {
                    let v = &ev.first.vote;
                    let agency =
                        genesis.validators.get(usize::from(i)).map(|v| v.agency.to_string()).unwrap_or_default();
                    println!(
                        "EQUIVOCATION by validator {i} ({agency}) at height {} round {} ({:?})",
                        v.height, v.round, v.kind
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("INVALID evidence: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Attest {
            node,
            key,
            subject,
            kind,
            fields,
            supersedes,
            case,
            legal_basis,
            effective,
            expires,
            wait,
        } => {
            let args = client::AttestArgs {
                subject,
                kind,
                fields: &fields,
                supersedes,
                case,
                legal_basis,
                effective_at: effective.unwrap_or_else(system_now),
                expires_at: expires,
            };
            print_json(&client::attest(&client::Client::with_key(&node, &key)?, &key, args, wait)?)
        }
        Command::Revoke { node, key, id, wait } => {
            print_json(&client::revoke(&client::Client::with_key(&node, &key)?, &key, id, system_now(), wait)?)
        }
        Command::Load { node, key, count, concurrency } => {
            let report = load::run(&node, &key, count, concurrency, system_now())?;
            print_json(&serde_json::to_value(report)?)
        }
        Command::Keygen { agency, client, subject, role, out, dev_warning } => {
            anyhow::ensure!(!out.exists(), "{} exists; refusing to overwrite a key", out.display());
            let warning = dev_warning.then_some(keys::DEV_WARNING);
            match (role.as_str(), agency, subject) {
                ("subject", _, Some(subject)) => {
                    let (file, _) = keys::SubjectKeyFile::generate(subject, warning)?;
                    file.write(&out)?;
                    print_json(&serde_json::json!({
                        "subject": file.subject, "role": file.role, "public_key": file.public_key,
                        "out": out.display().to_string(),
                    }))
                }
                ("subject", _, None) => anyhow::bail!("--role subject needs --subject"),
                ("issuer" | "validator" | "p2p", Some(agency), None) => {
                    let (file, key) = keys::KeyFile::generate(agency, &role, warning)?;
                    file.write(&out)?;
                    let peer_id = credex_p2p::keypair_from_seed(key.seed()).public().to_peer_id().to_string();
                    print_json(&serde_json::json!({
                        "agency": file.agency, "role": file.role, "public_key": file.public_key,
                        "peer_id": peer_id, "out": out.display().to_string(),
                    }))
                }
                ("official" | "platform", Some(agency), None) => {
                    let id = client.ok_or_else(|| anyhow::anyhow!("--role {role} needs --client ID"))?;
                    let (mut file, _) = keys::KeyFile::generate(agency, &role, warning)?;
                    file.client = Some(id);
                    file.write(&out)?;
                    print_json(&serde_json::json!({
                        "agency": file.agency, "role": file.role, "client": file.client,
                        "public_key": file.public_key, "out": out.display().to_string(),
                    }))
                }
                ("issuer" | "validator" | "p2p" | "official" | "platform", _, _) => {
                    anyhow::bail!("--role {role} needs --agency")
                }
                _ => anyhow::bail!("--role must be issuer, validator, p2p, official, platform or subject"),
            }
        }
        Command::Lifecycle(c) => lifecycle_cmd::run(c, system_now()),
        Command::Access(c) => access_cmd::run(c),
        Command::Import { file, node, key, kind, effective, legal_basis } => {
            let (report, ok) = csv_cmd::import(&node, &key, &file, kind, effective, legal_basis)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Export { node, list, format, out } => {
            anyhow::ensure!(matches!(format.as_str(), "csv" | "json"), "--format csv or json");
            let n = match &out {
                Some(path) => {
                    let mut f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                    csv_cmd::export(&node, list, format == "json", &mut f)?
                }
                None => csv_cmd::export(&node, list, format == "json", &mut std::io::stdout())?,
            };
            eprintln!("{n} subjects on the {list} list");
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { subject, node, lang, out } => {
            let html = client::Client::new(&node).get_text(&format!("/report/{subject}?lang={lang}"))?;
            std::fs::write(&out, html).with_context(|| format!("writing {}", out.display()))?;
            print_json(
                &serde_json::json!({ "subject": subject, "lang": lang.to_string(), "out": out.display().to_string() }),
            )
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
        clear_for_ms: args.clear_for,
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
