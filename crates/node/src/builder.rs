//! Builds a running node from its options: storage, chain state, mempool,
//! engine, network, raw records, audit, warnings and metrics.
//!
//! Every channel between the parts is created here first, then the
//! [`Node`] with its ends ([`Wiring`]), then the tasks at the other ends:
//! nothing is plugged in after construction. The HTTP API is not part of
//! the node; the binary serves [`Running`] with `credex-api`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use credex_api_types::{Clients, KeyFile};
use credex_storage::signed::SignGuard;
use credex_types::Timestamp;
use credex_types::genesis::Genesis;

use crate::access::{Access, Rates};
use crate::args::{DevArgs, NodeArgs, ServeArgs};
use crate::service::{Node, SystemClock, Wiring};
use crate::warnings::{Warnings, WebhookPolicy};

/// The signed-state record of a validator, in its data directory beside
/// (not inside) the block store `db/` (`credex_storage::signed`).
pub const SIGNED_STATE: &str = "signed-state";

/// Where, under the data directory, the state snapshot served to syncing
/// nodes is made (spec §10.6); replaced as it is refreshed.
pub const SNAPSHOT_DIR: &str = "snapshot";

/// How often blocks are made by a single validator.
pub const SOLO_INTERVAL: Duration = Duration::from_millis(500);

/// A node with all its tasks running.
pub struct Running {
    /// The node.
    pub node: Arc<Node>,
    /// Who may call what; the audit log.
    pub access: Arc<Access>,
    /// The risk list and its webhooks.
    pub warnings: Arc<Warnings>,
    /// Block production (or a pending future for observers): ends only on failure.
    pub engine: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The free space of the data directory's disk against its floor: a node
/// with no chain yet refuses to start below it (nothing to serve, and
/// nothing is written first); one with a chain starts in read-only mode
/// (`true`) and serves what it holds.
pub fn check_disk(data: &Path, floor_mb: u64) -> anyhow::Result<bool> {
    match credex_storage::check_free_space(data, floor_mb) {
        Ok(free_mb) => {
            tracing::info!(target: "credex::node", free_mb, floor_mb, data = %data.display(), "free disk space");
            Ok(false)
        }
        Err(e @ credex_storage::StoreError::DiskFull { .. }) if data.join("db").exists() => {
            tracing::error!(target: "credex::node", error = %e, "starting read-only: reads and proofs are served, nothing is admitted until space returns");
            Ok(true)
        }
        Err(e) => Err(e.into()),
    }
}

/// How often the free space is checked.
const DISK_CHECK: Duration = Duration::from_secs(2);

/// Read-only mode follows the disk: entered when the data directory's free
/// space falls below `floor_mb`, left when it is back above.
async fn watch_disk(node: Arc<Node>, data: std::path::PathBuf, floor_mb: u64) {
    let mut tick = tokio::time::interval(DISK_CHECK);
    loop {
        tick.tick().await;
        let d = data.clone();
        let free = match tokio::task::spawn_blocking(move || credex_storage::free_space_mb(&d)).await {
            Ok(Ok(free)) => free,
            Ok(Err(e)) => {
                tracing::warn!(target: "credex::node", error = %e, "reading free disk space");
                continue;
            }
            Err(_) => continue,
        };
        let low = free < floor_mb;
        if node.set_read_only(low) {
            if low {
                tracing::error!(target: "credex::node", free_mb = free, floor_mb, "disk below its floor: read-only (reads and proofs served, nothing admitted)");
            } else {
                tracing::info!(target: "credex::node", free_mb = free, floor_mb, "disk space back above its floor: writing again");
            }
        }
    }
}

/// Reads a genesis file.
pub fn load_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading genesis {}", path.display()))?;
    Genesis::from_toml(&text).with_context(|| format!("genesis {}", path.display()))
}

fn webhook_policy(serve: &ServeArgs) -> anyhow::Result<WebhookPolicy> {
    Ok(WebhookPolicy {
        allow: serve.webhook_allow.clone(),
        tls: credex_api_types::client::tls_roots(serve.tls.webhook_ca.as_deref())?,
    })
}

/// The tasks every node runs besides its engine; then the node is [`Running`].
fn finish(
    node: Arc<Node>,
    access: Arc<Access>,
    policy: WebhookPolicy,
    touched: tokio::sync::mpsc::UnboundedReceiver<Vec<credex_types::SubjectId>>,
    engine: tokio::task::JoinHandle<anyhow::Result<()>>,
) -> anyhow::Result<Running> {
    let warnings = Warnings::start(node.clone(), policy, touched)?;
    tokio::spawn(readmit(node.clone()));
    tokio::spawn(crate::access::anchor_loop(node.clone()));
    tokio::spawn(retry_purges(node.clone()));
    Ok(Running { node, access, warnings, engine })
}

/// `credex dev`: the embedded single-validator chain in `args.data()`,
/// created on first use.
pub async fn dev(args: &DevArgs) -> anyhow::Result<Running> {
    args.serve.tls.check()?;
    let data = args.data();
    let floor_mb = args.serve.min_free_disk_mb();
    let read_only = check_disk(&data, floor_mb)?;
    let policy = webhook_policy(&args.serve)?;
    let (genesis, key) = crate::dev::init_or_load(&data, Timestamp::system_now())?;
    let store = credex_storage::Store::open(&data.join("db"), genesis.hash())?;
    let identity =
        genesis.validators.first().map(|v| (v.agency.clone(), credex_crypto::SecretKey::from_seed(key.seed())));
    let (touched_tx, touched_rx) = tokio::sync::mpsc::unbounded_channel();
    let wiring = Wiring { identity, touched: Some(touched_tx), mempool: args.serve.mempool(), ..Wiring::solo() };
    let node = Arc::new(Node::open(genesis, store, Box::new(SystemClock), wiring)?);
    node.set_read_only(read_only);
    tokio::spawn(watch_disk(node.clone(), data.clone(), floor_mb));
    tracing::warn!(target: "credex::node", keys = %data.join("keys").display(), "{}", credex_api_types::DEV_WARNING);
    let clients = Clients::read(&data.join("clients.toml"))?;
    let access = Arc::new(Access::new(&node, clients, Rates::default())?);
    let guard = Arc::new(SignGuard::open(&data.join(SIGNED_STATE))?);
    let log = data.join(crate::bft::CONSENSUS_LOG);
    let timing = crate::service::SoloTiming { interval: SOLO_INTERVAL, gather: args.serve.block_gather() };
    let engine = tokio::spawn(crate::service::run_solo(node.clone(), key, guard, log, timing));
    finish(node, access, policy, touched_rx, engine)
}

/// `credex node`: a validator (with a validator key) or an observer of the
/// network of `args.genesis`. `args` must be resolved ([`NodeArgs::resolve`]).
pub async fn node(args: &NodeArgs) -> anyhow::Result<Running> {
    let need = |v: &Option<std::path::PathBuf>, what: &str| {
        v.clone().ok_or_else(|| anyhow::anyhow!("no {what} (resolve the options first)"))
    };
    let data = need(&args.serve.data, "data directory")?;
    let floor_mb = args.serve.min_free_disk_mb();
    let read_only = check_disk(&data, floor_mb)?;
    let policy = webhook_policy(&args.serve)?;
    let genesis = load_genesis(&need(&args.genesis, "genesis")?)?;
    let (_, p2p) = KeyFile::read(&need(&args.p2p_key, "p2p key")?)?;
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
    // A validator key of the genesis, or — after governance rotated a key
    // or added a validator — a key of an agency the genesis knows; whether
    // it votes is decided against the set in force once the chain is loaded.
    let validator = match &args.validator_key {
        Some(path) => {
            let (file, key) = KeyFile::read(path)?;
            let in_genesis = genesis.validators.iter().any(|v| v.key == key.public());
            let known = in_genesis
                || genesis.validators.iter().any(|v| v.agency == file.agency)
                || genesis.observers.iter().any(|o| o.agency == file.agency);
            anyhow::ensure!(
                known,
                "{}: neither a validator key of this genesis nor a key of one of its agencies",
                path.display()
            );
            if !in_genesis {
                tracing::info!(target: "credex::node", agency = %file.agency,
                    "validator key not in the genesis set (rotated or added by governance): it votes if the set in force holds it");
            }
            Some((file.agency, key))
        }
        None => None,
    };
    let clients = match &args.clients {
        Some(path) => Clients::read(path)?,
        None => Clients::default(),
    };
    // Who this node is: its validator key's agency, or its peer id's agency.
    let identity = match &validator {
        Some((agency, key)) => Some((agency.clone(), credex_crypto::SecretKey::from_seed(key.seed()))),
        None => genesis
            .observers
            .iter()
            .find(|o| o.peer_id == me.to_string())
            .map(|o| (o.agency.clone(), credex_crypto::SecretKey::from_seed(p2p.seed()))),
    };
    let listen = args.listen.clone().ok_or_else(|| anyhow::anyhow!("no listen address (resolve the options first)"))?;
    let store = credex_storage::Store::open(&data.join("db"), genesis.hash())?;
    // a snapshot a stopped process served holds disk and nothing else
    let snapshot_dir = data.join(SNAPSHOT_DIR);
    if snapshot_dir.exists() {
        std::fs::remove_dir_all(&snapshot_dir).with_context(|| format!("removing {}", snapshot_dir.display()))?;
    }
    let role = if validator.is_some() { "validator" } else { "observer" };
    // The channels first ...
    let (handle, events) = credex_p2p::spawn(credex_p2p::Config {
        keypair,
        listen: vec![listen.clone()],
        bootstrap: args.peers.clone(),
        allowed,
        genesis: genesis.hash(),
        max_message: crate::net::MAX_MESSAGE,
    })?;
    // A node with no block may start from a peer's snapshot (spec §10.6)
    // before it is opened on the store.
    let (store, events) = if args.state_sync && store.height()? == 0 {
        crate::statesync::from_peers(&handle, events, store, &genesis, &data, floor_mb).await?
    } else {
        (store, events)
    };
    let (gossip_tx, gossip_rx) = tokio::sync::mpsc::unbounded_channel();
    let (touched_tx, touched_rx) = tokio::sync::mpsc::unbounded_channel();
    let (peers_tx, peers_rx) = tokio::sync::watch::channel(0);
    let (consensus_tx, consensus_rx) = tokio::sync::mpsc::channel(10_000);
    // ... then the node with its ends ...
    let wiring = Wiring {
        role,
        identity,
        gossip: Some(gossip_tx),
        touched: Some(touched_tx),
        peers: Some(peers_rx),
        net: Some(handle.clone()),
        mempool: args.serve.mempool(),
        snapshot_dir: Some(snapshot_dir),
    };
    let node = Arc::new(Node::open(genesis, store, Box::new(SystemClock), wiring)?);
    // One validator in the set in force (not the genesis: governance may
    // have changed it) runs the single-validator engine.
    let solo = validator.is_some() && node.validator_set().validators.len() == 1;
    let wants_consensus = validator.is_some() && !solo;
    node.set_read_only(read_only);
    tokio::spawn(watch_disk(node.clone(), data.clone(), floor_mb));
    let access = Arc::new(Access::new(&node, clients, Rates::default())?);
    // ... then the tasks at the other ends.
    let ports = crate::net::NetPorts {
        handle: handle.clone(),
        events,
        gossip: gossip_rx,
        peers: peers_tx,
        consensus: wants_consensus.then_some(consensus_tx),
    };
    crate::net::start(node.clone(), access.clone(), ports, !solo);
    tracing::info!(target: "credex::node", p2p = %listen, peer = %me, role, chain = %node.genesis().chain_id,
        height = node.height(), "credex node running");
    let guard = match &validator {
        Some(_) => Some(Arc::new(SignGuard::open(&data.join(SIGNED_STATE))?)),
        None => None,
    };
    let engine = match (validator, guard) {
        (Some((_, key)), Some(guard)) if solo => {
            let log = data.join(crate::bft::CONSENSUS_LOG);
            let timing = crate::service::SoloTiming { interval: SOLO_INTERVAL, gather: args.serve.block_gather() };
            tokio::spawn(crate::service::run_solo(node.clone(), key, guard, log, timing))
        }
        (Some((_, key)), Some(guard)) => {
            let path = data.join(crate::bft::CONSENSUS_LOG);
            tokio::spawn(crate::bft::run(node.clone(), handle, consensus_rx, key, guard, path))
        }
        _ => tokio::spawn(std::future::pending::<anyhow::Result<()>>()),
    };
    finish(node, access, policy, touched_rx, engine)
}

/// Attestations this node answered "admitted" (their raw records are
/// durable before that answer) but that no block anchored before it
/// stopped — a crash between admission and commit — go back into the pool
/// at start: an acknowledged submission is not lost with the memory pool.
/// Admission is bounded by the pool, so at most about a pool's worth waits
/// on disk (twice the pool is read); what does not fit yet (the pool's
/// bounds were lowered) goes in as blocks make room.
async fn readmit(node: Arc<Node>) {
    // Not while read-only: they wait on disk until the node writes again.
    while node.read_only() {
        tokio::time::sleep(DISK_CHECK).await;
    }
    let n = node.clone();
    let cap = node.mempool_limits().txs.saturating_mul(2);
    let result = async move {
        let m = n.clone();
        let mut pending = tokio::task::spawn_blocking(move || m.store().unanchored_raws(cap)).await??;
        let total = pending.len();
        let mut back = 0;
        let mut height = n.height();
        while !pending.is_empty() {
            let m = n.clone();
            let batch = std::mem::take(&mut pending);
            let (admitted, busy) = tokio::task::spawn_blocking(move || {
                let answers = m.submit_many(&batch);
                use crate::service::SubmitError;
                let (mut busy, mut refused) = (Vec::new(), Vec::new());
                let mut admitted = 0;
                for (att, answer) in batch.into_iter().zip(answers) {
                    match answer {
                        Ok(_) => admitted += 1,
                        Err(SubmitError::Busy { .. }) => busy.push(att),
                        Err(e) => {
                            tracing::warn!(target: "credex::node", id = %att.id(), error = %e, "accepted attestation not re-admitted");
                            // refused for what it is (not for the node's state): not again at every start
                            if !matches!(e, SubmitError::ReadOnly | SubmitError::Store(_) | SubmitError::State(_) | SubmitError::RawWrite(_)) {
                                refused.push(att.id());
                            }
                        }
                    }
                }
                m.store().forget_unanchored(&refused).map(|()| (admitted, busy))
            })
            .await??;
            back += admitted;
            pending = busy;
            if !pending.is_empty() {
                // wait for a block to make room
                while n.height() == height {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                height = n.height();
            }
        }
        anyhow::Ok((back, total))
    }
    .await;
    match result {
        Ok((0, 0)) => {}
        Ok((back, total)) => {
            tracing::info!(target: "credex::node", back, total, "re-admitted attestations accepted but not anchored before the node stopped")
        }
        Err(e) => {
            tracing::error!(target: "credex::node", error = %format!("{e:#}"), "re-admitting unanchored raw records")
        }
    }
}

/// Erasures whose key could not be destroyed at commit are retried every
/// minute until they succeed (`credex_erasure_purges_pending` in `/metrics`).
async fn retry_purges(node: Arc<Node>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let n = node.clone();
        match tokio::task::spawn_blocking(move || n.retry_purges()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(left)) => tracing::error!(target: "credex::storage", left, "record keys still not destroyed"),
            Ok(Err(e)) => tracing::error!(target: "credex::storage", error = %e, "retrying key destruction"),
            Err(e) => tracing::error!(target: "credex::storage", error = %e, "key destruction task"),
        }
    }
}
