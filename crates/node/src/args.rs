//! The options of `credex node` and `credex dev`, defined once: each is a
//! clap flag with its `CREDEX_*` environment variable, and a key of the
//! TOML config file (`--config`, keys as the flags in snake_case).
//! Precedence: flag, then environment, then the file, then the default.
//!
//! ```toml
//! genesis = "genesis/devnet.toml"
//! data = ".credex/devnet/validator-0"
//! http = "127.0.0.1:18650"
//! p2p_key = "genesis/devnet-keys/p2p-0.json"
//! listen = "/ip4/127.0.0.1/tcp/27650"
//! peers = ["/ip4/127.0.0.1/tcp/27651/p2p/12D3KooW…"]
//! validator_key = "genesis/devnet-keys/validator-0.json"
//! clients = "genesis/devnet-keys/clients-validator-0.toml"
//! log_format = "json"
//! ```
//!
//! `credex node --print-config` prints the resolved options and exits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::service::MempoolLimits;

/// The default floor of free disk below which a node refuses to start (MiB).
pub const DEFAULT_MIN_FREE_DISK_MB: u64 = 1024;

/// The default time a single validator lets submissions gather into a block (ms).
pub const DEFAULT_BLOCK_GATHER_MS: u64 = 20;

/// The default HTTP listen address.
pub const DEFAULT_HTTP: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8080));

/// The keys of a config file: the options' field names (a test checks
/// that this is exactly what [`NodeArgs`] serializes).
pub const CONFIG_KEYS: &[&str] = &[
    "genesis",
    "p2p_key",
    "listen",
    "peers",
    "validator_key",
    "clients",
    "state_sync",
    "data",
    "http",
    "log_format",
    "min_free_disk_mb",
    "mempool_max_txs",
    "mempool_max_mb",
    "block_gather_ms",
    "webhook_allow",
    "tls_cert",
    "tls_key",
    "webhook_ca",
];

/// Why the options do not make a node.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// The config file cannot be read.
    #[error("reading config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid.
    #[error("config {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong (unknown keys are refused).
        reason: String,
    },
    /// A required option is missing everywhere.
    #[error("no {flag}: pass --{flag}, set {env}, or put {key} in --config")]
    Missing {
        /// The flag.
        flag: &'static str,
        /// Its environment variable.
        env: &'static str,
        /// Its config key.
        key: &'static str,
    },
    /// Two options that go together were not given together.
    #[error("--tls-cert and --tls-key go together")]
    TlsHalf,
}

/// TLS of the API and of outgoing webhooks.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct TlsArgs {
    /// Serve the API over HTTPS with this PEM certificate chain (leaf first).
    #[arg(long, env = "CREDEX_TLS_CERT")]
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "CREDEX_TLS_KEY")]
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Trust exactly these PEM certificates for https:// webhooks (default:
    /// the Web PKI roots).
    #[arg(long, env = "CREDEX_WEBHOOK_CA")]
    #[serde(default)]
    pub webhook_ca: Option<PathBuf>,
}

impl TlsArgs {
    /// Both or neither of certificate and key.
    pub fn check(&self) -> Result<(), ArgsError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) | (None, Some(_)) => Err(ArgsError::TlsHalf),
            _ => Ok(()),
        }
    }

    fn or(self, other: TlsArgs) -> TlsArgs {
        TlsArgs {
            tls_cert: self.tls_cert.or(other.tls_cert),
            tls_key: self.tls_key.or(other.tls_key),
            webhook_ca: self.webhook_ca.or(other.webhook_ca),
        }
    }
}

/// What every serving node takes (`credex node` and `credex dev`).
#[derive(clap::Args, Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct ServeArgs {
    /// Data directory (required for `credex node`; `credex dev` defaults
    /// to ./.credex/dev).
    #[arg(long, env = "CREDEX_DATA")]
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// HTTP listen address (default 127.0.0.1:8080).
    #[arg(long, env = "CREDEX_HTTP")]
    #[serde(default)]
    pub http: Option<SocketAddr>,
    /// Log format: pretty or json (default pretty).
    #[arg(long, env = "CREDEX_LOG_FORMAT")]
    #[serde(default)]
    pub log_format: Option<String>,
    /// Refuse to start with less free disk than this, in MiB (default 1024).
    #[arg(long, env = "CREDEX_MIN_FREE_DISK_MB")]
    #[serde(default)]
    pub min_free_disk_mb: Option<u64>,
    /// Most transactions waiting for a block; beyond, submissions are
    /// refused with 503 `busy` and `Retry-After` (default 20000).
    #[arg(long, env = "CREDEX_MEMPOOL_MAX_TXS")]
    #[serde(default)]
    pub mempool_max_txs: Option<usize>,
    /// Most MiB of transactions waiting for a block (default 64).
    #[arg(long, env = "CREDEX_MEMPOOL_MAX_MB")]
    #[serde(default)]
    pub mempool_max_mb: Option<u64>,
    /// How long a single validator lets submissions gather before it makes
    /// a block, in ms (default 20; larger: fewer, fuller blocks).
    #[arg(long, env = "CREDEX_BLOCK_GATHER_MS")]
    #[serde(default)]
    pub block_gather_ms: Option<u64>,
    /// A webhook target allowed although it is not a public address,
    /// `host:port` or `host` (repeatable; comma-separated in the environment),
    /// e.g. 127.0.0.1:9000.
    #[arg(long = "webhook-allow", env = "CREDEX_WEBHOOK_ALLOW", value_delimiter = ',')]
    #[serde(default)]
    pub webhook_allow: Vec<String>,
    /// TLS.
    #[command(flatten)]
    #[serde(flatten)]
    pub tls: TlsArgs,
}

impl ServeArgs {
    fn or(self, other: ServeArgs) -> ServeArgs {
        ServeArgs {
            data: self.data.or(other.data),
            http: self.http.or(other.http),
            log_format: self.log_format.or(other.log_format),
            min_free_disk_mb: self.min_free_disk_mb.or(other.min_free_disk_mb),
            mempool_max_txs: self.mempool_max_txs.or(other.mempool_max_txs),
            mempool_max_mb: self.mempool_max_mb.or(other.mempool_max_mb),
            block_gather_ms: self.block_gather_ms.or(other.block_gather_ms),
            webhook_allow: if self.webhook_allow.is_empty() { other.webhook_allow } else { self.webhook_allow },
            tls: self.tls.or(other.tls),
        }
    }

    /// The HTTP address (default 127.0.0.1:8080).
    pub fn http(&self) -> SocketAddr {
        self.http.unwrap_or(DEFAULT_HTTP)
    }

    /// The log format (default pretty).
    pub fn log_format(&self) -> &str {
        self.log_format.as_deref().unwrap_or("pretty")
    }

    /// The free-disk floor in MiB (default 1024).
    pub fn min_free_disk_mb(&self) -> u64 {
        self.min_free_disk_mb.unwrap_or(DEFAULT_MIN_FREE_DISK_MB)
    }

    /// The mempool's bounds (defaults [`MempoolLimits::default`]); at least one transaction.
    pub fn mempool(&self) -> MempoolLimits {
        let d = MempoolLimits::default();
        MempoolLimits {
            txs: self.mempool_max_txs.unwrap_or(d.txs).max(1),
            bytes: self
                .mempool_max_mb
                .map_or(d.bytes, |mb| usize::try_from(mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX))
                .max(1 << 20),
        }
    }

    /// How long a single validator lets submissions gather (default 20 ms).
    pub fn block_gather(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.block_gather_ms.unwrap_or(DEFAULT_BLOCK_GATHER_MS))
    }
}

/// `credex dev`: the embedded single-validator development chain.
#[derive(clap::Args, Debug, Clone)]
pub struct DevArgs {
    /// Data directory (genesis, keys, database; default ./.credex/dev).
    #[command(flatten)]
    pub serve: ServeArgs,
}

impl DevArgs {
    /// The data directory (default `./.credex/dev`).
    pub fn data(&self) -> PathBuf {
        self.serve.data.clone().unwrap_or_else(|| PathBuf::from("./.credex/dev"))
    }
}

/// `credex node`: a node of a network described by a genesis file.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct NodeArgs {
    /// A TOML config file with any of the options below (keys as the flags,
    /// snake_case; `peers` a list).
    #[arg(long, env = "CREDEX_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Print the resolved options (TOML) and exit.
    #[arg(long)]
    #[serde(skip)]
    pub print_config: bool,
    /// Genesis file.
    #[arg(long, env = "CREDEX_GENESIS")]
    #[serde(default)]
    pub genesis: Option<PathBuf>,
    /// Network key file (its peer id must be in the genesis).
    #[arg(long, env = "CREDEX_P2P_KEY")]
    #[serde(default)]
    pub p2p_key: Option<PathBuf>,
    /// libp2p listen address, e.g. /ip4/127.0.0.1/tcp/26656.
    #[arg(long, env = "CREDEX_LISTEN")]
    #[serde(default, with = "opt_multiaddr")]
    pub listen: Option<credex_p2p::Multiaddr>,
    /// A peer to keep connected, /ip4/…/tcp/…/p2p/PEER-ID (repeatable;
    /// comma-separated in the environment).
    #[arg(long = "peer", env = "CREDEX_PEERS", value_delimiter = ',')]
    #[serde(default, with = "multiaddrs")]
    pub peers: Vec<credex_p2p::Multiaddr>,
    /// Consensus key file: runs as this validator.
    #[arg(long, env = "CREDEX_VALIDATOR_KEY")]
    #[serde(default)]
    pub validator_key: Option<PathBuf>,
    /// Registered API clients (officials, platforms): a clients.toml file.
    #[arg(long, env = "CREDEX_CLIENTS")]
    #[serde(default)]
    pub clients: Option<PathBuf>,
    /// Start from a peer's state snapshot (spec §10.6) when this node has
    /// no block yet, instead of replaying every block from genesis; the
    /// snapshot is verified from the genesis before anything is kept.
    /// Blocks below the snapshot's height are then not held here.
    #[arg(long, env = "CREDEX_STATE_SYNC")]
    #[serde(default)]
    pub state_sync: bool,
    /// What every serving node takes.
    #[command(flatten)]
    #[serde(flatten)]
    pub serve: ServeArgs,
}

impl NodeArgs {
    /// Fills what the flags and environment left unset from the config
    /// file, checks what is required, and returns the options to run with.
    pub fn resolve(self) -> Result<NodeArgs, ArgsError> {
        let file = match &self.config {
            Some(p) => NodeArgs::read(p)?,
            None => NodeArgs::default(),
        };
        let merged = NodeArgs {
            config: self.config,
            print_config: self.print_config,
            genesis: self.genesis.or(file.genesis),
            p2p_key: self.p2p_key.or(file.p2p_key),
            listen: self.listen.or(file.listen),
            peers: if self.peers.is_empty() { file.peers } else { self.peers },
            validator_key: self.validator_key.or(file.validator_key),
            clients: self.clients.or(file.clients),
            state_sync: self.state_sync || file.state_sync,
            serve: self.serve.or(file.serve),
        };
        for (present, flag, env, key) in [
            (merged.genesis.is_some(), "genesis", "CREDEX_GENESIS", "genesis"),
            (merged.serve.data.is_some(), "data", "CREDEX_DATA", "data"),
            (merged.p2p_key.is_some(), "p2p-key", "CREDEX_P2P_KEY", "p2p_key"),
            (merged.listen.is_some(), "listen", "CREDEX_LISTEN", "listen"),
        ] {
            if !present {
                return Err(ArgsError::Missing { flag, env, key });
            }
        }
        merged.serve.tls.check()?;
        Ok(merged)
    }

    /// Reads a config file (unknown keys are refused).
    pub fn read(path: &Path) -> Result<NodeArgs, ArgsError> {
        let invalid = |reason: String| ArgsError::Invalid { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path)
            .map_err(|source| ArgsError::Read { path: path.display().to_string(), source })?;
        // serde cannot refuse unknown keys through `flatten`: checked here.
        let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if let Some(k) = table.keys().find(|k| !CONFIG_KEYS.contains(&k.as_str())) {
            return Err(invalid(format!("unknown key {k:?}; the keys are {}", CONFIG_KEYS.join(", "))));
        }
        toml::from_str(&text).map_err(|e| invalid(e.to_string()))
    }

    /// The resolved options as a config file.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot show the options: {e}\n"))
    }
}

mod opt_multiaddr {
    use credex_p2p::Multiaddr;

    pub(super) fn serialize<S: serde::Serializer>(v: &Option<Multiaddr>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_some(&a.to_string()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Multiaddr>, D::Error> {
        let s: Option<String> = serde::Deserialize::deserialize(d)?;
        s.map(|s| s.parse().map_err(serde::de::Error::custom)).transpose()
    }
}

mod multiaddrs {
    use credex_p2p::Multiaddr;

    pub(super) fn serialize<S: serde::Serializer>(v: &[Multiaddr], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(ToString::to_string))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Multiaddr>, D::Error> {
        let s: Vec<String> = serde::Deserialize::deserialize(d)?;
        s.iter().map(|s| s.parse().map_err(serde::de::Error::custom)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        node: NodeArgs,
    }

    // Precedence (flag, environment, file, default) is tested against the
    // binary: `tests/scenarios/cli.rs`, `node_options_flag_then_environment_then_file_then_default`.
    #[test]
    fn options_read_back_refuse_what_is_missing_and_name_every_config_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(&file, "genesis = \"g\"\np2p_key = \"k\"\nlisten = \"/ip4/127.0.0.1/tcp/1\"\n").unwrap();
        let cli = Cli::try_parse_from(["credex", "--config", file.to_str().unwrap(), "--data", "d"]).unwrap();
        let a = cli.node.resolve().unwrap();
        assert_eq!(a.serve.min_free_disk_mb(), DEFAULT_MIN_FREE_DISK_MB, "the default");
        assert_eq!(a.serve.http(), DEFAULT_HTTP, "the default");
        assert_eq!(a.serve.mempool(), MempoolLimits::default(), "the default");
        // what was resolved reads back as the same options
        let again: NodeArgs = toml::from_str(&a.to_toml()).unwrap();
        assert_eq!(NodeArgs { config: a.config.clone(), print_config: a.print_config, ..again }, a);
        // clear errors for what has no default
        let e = Cli::try_parse_from(["credex"]).unwrap().node.resolve().err().unwrap().to_string();
        assert!(e.contains("no genesis") && e.contains("CREDEX_GENESIS"), "{e}");
        let full = NodeArgs {
            genesis: Some("g".into()),
            p2p_key: Some("k".into()),
            listen: Some("/ip4/127.0.0.1/tcp/1".parse().unwrap()),
            peers: vec!["/ip4/127.0.0.1/tcp/2".parse().unwrap()],
            validator_key: Some("v".into()),
            clients: Some("c".into()),
            state_sync: true,
            serve: ServeArgs {
                data: Some("d".into()),
                http: Some(DEFAULT_HTTP),
                log_format: Some("json".into()),
                min_free_disk_mb: Some(1),
                mempool_max_txs: Some(10),
                mempool_max_mb: Some(2),
                block_gather_ms: Some(30),
                webhook_allow: vec!["x:1".into()],
                tls: TlsArgs { tls_cert: Some("a".into()), tls_key: Some("b".into()), webhook_ca: Some("c".into()) },
            },
            ..NodeArgs::default()
        };
        let table: toml::Table = toml::from_str(&full.to_toml()).unwrap();
        let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
        let mut known = CONFIG_KEYS.to_vec();
        keys.sort_unstable();
        known.sort_unstable();
        assert_eq!(keys, known, "CONFIG_KEYS are exactly the options");
        let half = TlsArgs { tls_cert: Some("c.pem".into()), ..TlsArgs::default() };
        assert!(matches!(half.check(), Err(ArgsError::TlsHalf)));
    }
}
