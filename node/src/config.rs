//! `credex node` configuration: flags, then environment, then a TOML file,
//! then defaults.
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

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::NodeArgs;

/// Every option of `credex node`, each possibly unset.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Genesis file.
    pub genesis: Option<PathBuf>,
    /// Data directory.
    pub data: Option<PathBuf>,
    /// HTTP listen address.
    pub http: Option<std::net::SocketAddr>,
    /// Network key file.
    pub p2p_key: Option<PathBuf>,
    /// libp2p listen address.
    #[serde(default, deserialize_with = "de_opt_multiaddr")]
    pub listen: Option<credex_p2p::Multiaddr>,
    /// Peers.
    #[serde(default, deserialize_with = "de_multiaddrs")]
    pub peers: Vec<credex_p2p::Multiaddr>,
    /// Validator key file.
    pub validator_key: Option<PathBuf>,
    /// Clients file.
    pub clients: Option<PathBuf>,
    /// pretty or json.
    pub log_format: Option<String>,
    /// Refuse to start with less free disk than this (MiB).
    pub min_free_disk_mb: Option<u64>,
    /// Webhook targets allowed although not public (`host:port` or `host`).
    #[serde(default)]
    pub webhook_allow: Vec<String>,
    /// API certificate (PEM).
    pub tls_cert: Option<PathBuf>,
    /// API key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Roots for https:// webhooks (PEM).
    pub webhook_ca: Option<PathBuf>,
}

fn de_opt_multiaddr<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<credex_p2p::Multiaddr>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    s.map(|s| s.parse().map_err(serde::de::Error::custom)).transpose()
}

fn de_multiaddrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<credex_p2p::Multiaddr>, D::Error> {
    let s: Vec<String> = serde::Deserialize::deserialize(d)?;
    s.iter().map(|s| s.parse().map_err(serde::de::Error::custom)).collect()
}

fn parsed<T: std::str::FromStr>(env: &dyn Fn(&str) -> Option<String>, key: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    env(key).map(|v| v.parse::<T>().map_err(|e| anyhow::anyhow!("{key}={v:?}: {e}"))).transpose()
}

/// The options from the environment (`CREDEX_*`).
fn from_env(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<NodeConfig> {
    let peers = match env("CREDEX_PEERS") {
        Some(v) => v
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| p.trim().parse().map_err(|e| anyhow::anyhow!("CREDEX_PEERS: {p:?}: {e}")))
            .collect::<anyhow::Result<_>>()?,
        None => Vec::new(),
    };
    Ok(NodeConfig {
        genesis: env("CREDEX_GENESIS").map(PathBuf::from),
        data: env("CREDEX_DATA").map(PathBuf::from),
        http: parsed(env, "CREDEX_HTTP")?,
        p2p_key: env("CREDEX_P2P_KEY").map(PathBuf::from),
        listen: parsed(env, "CREDEX_LISTEN")?,
        peers,
        validator_key: env("CREDEX_VALIDATOR_KEY").map(PathBuf::from),
        clients: env("CREDEX_CLIENTS").map(PathBuf::from),
        log_format: env("CREDEX_LOG_FORMAT"),
        min_free_disk_mb: parsed(env, "CREDEX_MIN_FREE_DISK_MB")?,
        webhook_allow: env("CREDEX_WEBHOOK_ALLOW")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
        tls_cert: env("CREDEX_TLS_CERT").map(PathBuf::from),
        tls_key: env("CREDEX_TLS_KEY").map(PathBuf::from),
        webhook_ca: env("CREDEX_WEBHOOK_CA").map(PathBuf::from),
    })
}

/// `a`, else `b`, else `c`.
fn first<T>(a: Option<T>, b: Option<T>, c: Option<T>) -> Option<T> {
    a.or(b).or(c)
}

/// Resolves the options: `flags`, then the environment, then `file`, then defaults.
pub fn resolve(
    flags: NodeConfig,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(NodeArgs, String)> {
    let file = match file {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str::<NodeConfig>(&text).with_context(|| format!("config {}", p.display()))?
        }
        None => NodeConfig::default(),
    };
    let env = from_env(env)?;
    let need = |v: Option<PathBuf>, what: &str| {
        v.ok_or_else(|| {
            anyhow::anyhow!(
                "no {what}: pass --{what}, set CREDEX_{}, or put it in --config",
                what.to_uppercase().replace('-', "_")
            )
        })
    };
    let peers = [flags.peers, env.peers, file.peers].into_iter().find(|p| !p.is_empty()).unwrap_or_default();
    let args = NodeArgs {
        genesis: need(first(flags.genesis, env.genesis, file.genesis), "genesis")?,
        data: need(first(flags.data, env.data, file.data), "data")?,
        http: first(flags.http, env.http, file.http)
            .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
        p2p_key: need(first(flags.p2p_key, env.p2p_key, file.p2p_key), "p2p-key")?,
        listen: first(flags.listen, env.listen, file.listen).ok_or_else(|| {
            anyhow::anyhow!("no listen address: pass --listen, set CREDEX_LISTEN, or put it in --config")
        })?,
        peers,
        validator_key: first(flags.validator_key, env.validator_key, file.validator_key),
        clients: first(flags.clients, env.clients, file.clients),
        min_free_disk_mb: first(flags.min_free_disk_mb, env.min_free_disk_mb, file.min_free_disk_mb)
            .unwrap_or(crate::DEFAULT_MIN_FREE_DISK_MB),
        webhook_allow: [flags.webhook_allow, env.webhook_allow, file.webhook_allow]
            .into_iter()
            .find(|w| !w.is_empty())
            .unwrap_or_default(),
        tls: crate::TlsArgs {
            tls_cert: first(flags.tls_cert, env.tls_cert, file.tls_cert),
            tls_key: first(flags.tls_key, env.tls_key, file.tls_key),
            webhook_ca: first(flags.webhook_ca, env.webhook_ca, file.webhook_ca),
        },
    };
    let log = first(flags.log_format, env.log_format, file.log_format).unwrap_or_else(|| "pretty".into());
    Ok((args, log))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_beat_environment_beats_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(
            &file,
            "genesis = \"g-file.toml\"\ndata = \"d-file\"\nhttp = \"127.0.0.1:9001\"\np2p_key = \"k-file.json\"\nlisten = \"/ip4/127.0.0.1/tcp/1\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "CREDEX_DATA" => Some("d-env".to_string()),
            "CREDEX_HTTP" => Some("127.0.0.1:9002".to_string()),
            _ => None,
        };
        let flags = NodeConfig { http: Some("127.0.0.1:9003".parse().unwrap()), ..NodeConfig::default() };
        let (a, log) = resolve(flags, Some(&file), &env).unwrap();
        assert_eq!(a.genesis, PathBuf::from("g-file.toml"), "from the file");
        assert_eq!(a.data, PathBuf::from("d-env"), "the environment beats the file");
        assert_eq!(a.http.port(), 9003, "the flag beats the environment");
        assert_eq!(log, "json");
        // defaults, and clear errors for what has none
        let e = resolve(NodeConfig::default(), None, &|_| None).err().unwrap().to_string();
        assert!(e.contains("no genesis"), "{e}");
        std::fs::write(&file, "genesis = \"g\"\nshoe_size = 42\n").unwrap();
        let e = format!("{:#}", resolve(NodeConfig::default(), Some(&file), &|_| None).err().unwrap());
        assert!(e.contains("shoe_size"), "unknown keys are refused: {e}");
        let e =
            resolve(NodeConfig::default(), None, &|k| (k == "CREDEX_HTTP").then(|| "nowhere".into())).err().unwrap();
        assert!(e.to_string().contains("CREDEX_HTTP"));
    }
}
