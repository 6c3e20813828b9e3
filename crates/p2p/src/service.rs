//! The swarm task and its handle.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use credex_crypto::Hash32;
use futures::StreamExt as _;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{StreamProtocol, Swarm, allow_block_list, connection_limits, identify, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};

use crate::codec::Codec;
use crate::{Keypair, Multiaddr, PeerId};

/// Node configuration for the network.
pub struct Config {
    /// This node's libp2p identity.
    pub keypair: Keypair,
    /// Addresses to listen on, e.g. `/ip4/127.0.0.1/tcp/26656`.
    pub listen: Vec<Multiaddr>,
    /// Peers to keep dialing, each ending in `/p2p/<peer id>`.
    pub bootstrap: Vec<Multiaddr>,
    /// Peer ids allowed to connect (validators and observers of the genesis).
    pub allowed: Vec<PeerId>,
    /// The genesis hash every protocol name is bound to.
    pub genesis: Hash32,
    /// Largest gossip message or request/response frame, in bytes.
    pub max_message: usize,
}

/// Gossip topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Submitted transactions.
    Attestations,
    /// Consensus messages.
    Consensus,
}

impl Topic {
    const ALL: [Topic; 2] = [Topic::Attestations, Topic::Consensus];

    fn name(self) -> &'static str {
        match self {
            Topic::Attestations => "attestations",
            Topic::Consensus => "consensus",
        }
    }
}

/// Why a network operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The network task has stopped.
    #[error("network task stopped")]
    Stopped,
    /// Listening or configuration failed.
    #[error("network setup: {0}")]
    Setup(String),
    /// A publish failed (no peers, too large, duplicate).
    #[error("publish: {0}")]
    Publish(String),
    /// A request failed (peer unreachable, refused, timeout, oversize).
    #[error("request to {peer}: {reason}")]
    Request {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
    },
}

/// Where to send the answer to an inbound request.
pub struct ReplyHandle(ResponseChannel<Vec<u8>>);

impl std::fmt::Debug for ReplyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyHandle")
    }
}

/// What the network reports.
#[derive(Debug)]
pub enum Event {
    /// Listening on an address.
    Listening(Multiaddr),
    /// An allowed peer with our genesis connected.
    Connected(PeerId),
    /// A peer disconnected.
    Disconnected(PeerId),
    /// A connection was refused: peer not allowed, or another genesis.
    Refused {
        /// The peer, when known.
        peer: Option<PeerId>,
        /// Why.
        reason: String,
    },
    /// A gossip message. It is forwarded to other peers only after
    /// [`Handle::report`] accepts it (within the gossip cache's lifetime;
    /// unreported messages are dropped, not forwarded).
    Gossip {
        /// Topic.
        topic: Topic,
        /// The peer that signed it.
        source: PeerId,
        /// Payload.
        data: Vec<u8>,
        /// What [`Handle::report`] needs.
        id: GossipId,
    },
    /// An inbound request; answer with [`Handle::respond`].
    Request {
        /// Requesting peer.
        peer: PeerId,
        /// Payload.
        data: Vec<u8>,
        /// Where the answer goes.
        reply: ReplyHandle,
    },
}

/// Identifies a received gossip message for [`Handle::report`].
#[derive(Debug, Clone)]
pub struct GossipId {
    id: gossipsub::MessageId,
    from: PeerId,
}

impl GossipId {
    /// The peer that passed the message on to us (penalized on [`Verdict::Reject`]).
    pub fn propagation_source(&self) -> PeerId {
        self.from
    }
}

/// The application's verdict on a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Not wanted (stale, duplicate, too far ahead, queue full): drop it
    /// without forwarding and without penalty.
    Ignore,
    /// Provably invalid (malformed, bad signature, not from a member):
    /// drop it and penalize the peer that passed it on.
    Reject,
}

enum Command {
    Publish(Topic, Vec<u8>, oneshot::Sender<Result<(), NetError>>),
    Report(GossipId, Verdict),
    Request(PeerId, Vec<u8>, oneshot::Sender<Result<Vec<u8>, NetError>>),
    Respond(ReplyHandle, Vec<u8>),
    Peers(oneshot::Sender<Vec<PeerId>>),
}

/// Sends commands to the network task. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
    local: PeerId,
}

impl Handle {
    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local
    }

    /// Publishes `data` on `topic`.
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Publish(topic, data, tx)).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Sends a request and waits for its response.
    pub async fn request(&self, peer: PeerId, data: Vec<u8>) -> Result<Vec<u8>, NetError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Request(peer, data, tx)).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)?
    }

    /// Reports the verdict on a received gossip message: forward it, drop
    /// it, or drop it and penalize the peer that passed it on (gossipsub
    /// peer scoring: a peer that passes on invalid messages is first no
    /// longer gossiped to, then its messages are ignored; the penalty decays).
    pub async fn report(&self, id: GossipId, verdict: Verdict) {
        let _ = self.tx.send(Command::Report(id, verdict)).await;
    }

    /// Answers an inbound request.
    pub async fn respond(&self, reply: ReplyHandle, data: Vec<u8>) -> Result<(), NetError> {
        self.tx.send(Command::Respond(reply, data)).await.map_err(|_| NetError::Stopped)
    }

    /// Peers connected now (allowed, same genesis).
    pub async fn peers(&self) -> Result<Vec<PeerId>, NetError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Peers(tx)).await.map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    gossip: gossipsub::Behaviour,
    reqres: request_response::Behaviour<Codec>,
}

fn short(genesis: &Hash32) -> String {
    genesis.to_string()[..16].to_string()
}

/// Starts the network task. Returns its handle and its events.
pub fn spawn(config: Config) -> Result<(Handle, mpsc::Receiver<Event>), NetError> {
    let setup = |e: &dyn std::fmt::Display| NetError::Setup(e.to_string());
    let local = config.keypair.public().to_peer_id();
    let version = format!("/credex/1/{}", config.genesis);
    let g = short(&config.genesis);
    let protocol = StreamProtocol::try_from_owned(format!("/credex/{g}/req/1")).map_err(|e| setup(&e))?;
    let max = config.max_message;
    let id_version = version.clone();
    let mut swarm: Swarm<Behaviour> = libp2p::SwarmBuilder::with_existing_identity(config.keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| setup(&e))?
        .with_behaviour(|key| {
            let gossip_config = gossipsub::ConfigBuilder::default()
                .validation_mode(ValidationMode::Strict)
                .validate_messages()
                .max_transmit_size(max)
                .heartbeat_interval(Duration::from_millis(500))
                .build()
                .map_err(|e| e.to_string())?;
            let mut allow = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
            for p in &config.allowed {
                allow.allow_peer(*p);
            }
            Ok(Behaviour {
                allow,
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established_per_peer(Some(2))
                        .with_max_pending_incoming(Some(64)),
                ),
                identify: identify::Behaviour::new(
                    // No address learning: peers are dialed only at the addresses the
                    // operator configured (a permissioned network has a fixed topology).
                    identify::Config::new(id_version, key.public()).with_cache_size(0),
                ),
                gossip: gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gossip_config)?,
                reqres: request_response::Behaviour::with_codec(
                    Codec { max },
                    [(protocol, ProtocolSupport::Full)],
                    request_response::Config::default().with_request_timeout(Duration::from_secs(10)),
                ),
            })
        })
        .map_err(|e| setup(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    let mut topics = HashMap::new();
    let mut score = gossipsub::PeerScoreParams::default();
    for t in Topic::ALL {
        let topic = IdentTopic::new(format!("/credex/{g}/{}", t.name()));
        swarm.behaviour_mut().gossip.subscribe(&topic).map_err(|e| setup(&e))?;
        score.topics.insert(topic.hash(), invalid_only_score());
        topics.insert(topic.hash(), t);
    }
    swarm
        .behaviour_mut()
        .gossip
        .with_peer_score(score, gossipsub::PeerScoreThresholds::default())
        .map_err(|e| setup(&e))?;
    for addr in &config.listen {
        swarm.listen_on(addr.clone()).map_err(|e| setup(&e))?;
    }
    let (cmd_tx, cmd_rx) = mpsc::channel(1024);
    let (ev_tx, ev_rx) = mpsc::channel(4096);
    let task = Task {
        swarm,
        version,
        g,
        topics,
        bootstrap: config.bootstrap,
        pending: HashMap::new(),
        connected: HashSet::new(),
        events: ev_tx,
    };
    tokio::spawn(task.run(cmd_rx));
    Ok((Handle { tx: cmd_tx, local }, ev_rx))
}

/// Peer scoring that counts only invalid messages (gossipsub's P4): in a
/// permissioned network of a few nodes, the mesh-delivery terms would
/// penalize an honest but slow or restarting peer. One rejected message
/// puts the peer below the gossip and publish thresholds (score −50), two
/// below the graylist (−200: its messages are ignored); the count decays
/// by 0.9 a second.
fn invalid_only_score() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: 0.5,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.9,
        ..gossipsub::TopicScoreParams::default()
    }
}

struct Task {
    swarm: Swarm<Behaviour>,
    version: String,
    g: String,
    topics: HashMap<gossipsub::TopicHash, Topic>,
    bootstrap: Vec<Multiaddr>,
    pending: HashMap<OutboundRequestId, oneshot::Sender<Result<Vec<u8>, NetError>>>,
    connected: HashSet<PeerId>,
    events: mpsc::Sender<Event>,
}

fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

impl Task {
    async fn emit(&mut self, e: Event) {
        // The node may have stopped listening; dropping events then is fine.
        let _ = self.events.send(e).await;
    }

    fn redial(&mut self) {
        for addr in self.bootstrap.clone() {
            if peer_of(&addr).is_some_and(|p| !self.swarm.is_connected(&p))
                && let Err(e) = self.swarm.dial(addr.clone())
            {
                tracing::debug!(target: "credex::p2p", %addr, error = %e, "dial failed");
            }
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut redial = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(c) => self.command(c),
                    None => break,
                },
                ev = self.swarm.select_next_some() => self.event(ev).await,
                _ = redial.tick() => self.redial(),
            }
        }
        tracing::info!(target: "credex::p2p", "network task stopped");
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Publish(topic, data, reply) => {
                let t = IdentTopic::new(format!("/credex/{}/{}", self.g, topic.name()));
                let r = self
                    .swarm
                    .behaviour_mut()
                    .gossip
                    .publish(t, data)
                    .map(|_| ())
                    .map_err(|e| NetError::Publish(e.to_string()));
                let _ = reply.send(r);
            }
            Command::Report(GossipId { id, from }, verdict) => {
                let acceptance = match verdict {
                    Verdict::Accept => gossipsub::MessageAcceptance::Accept,
                    Verdict::Ignore => gossipsub::MessageAcceptance::Ignore,
                    Verdict::Reject => {
                        tracing::warn!(target: "credex::p2p", peer = %from, "invalid gossip message; peer penalized");
                        gossipsub::MessageAcceptance::Reject
                    }
                };
                self.swarm.behaviour_mut().gossip.report_message_validation_result(&id, &from, acceptance);
            }
            Command::Request(peer, data, reply) => {
                let id = self.swarm.behaviour_mut().reqres.send_request(&peer, data);
                self.pending.insert(id, reply);
            }
            Command::Respond(ReplyHandle(channel), data) => {
                if self.swarm.behaviour_mut().reqres.send_response(channel, data).is_err() {
                    tracing::debug!(target: "credex::p2p", "response not sent: requester gone");
                }
            }
            Command::Peers(reply) => {
                let _ = reply.send(self.connected.iter().copied().collect());
            }
        }
    }

    async fn event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(target: "credex::p2p", %address, peer = %self.swarm.local_peer_id(), "listening");
                self.emit(Event::Listening(address)).await;
            }
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                tracing::debug!(target: "credex::p2p", peer = %peer_id, "connection established");
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if self.connected.remove(&peer_id) => {
                tracing::info!(target: "credex::p2p", peer = %peer_id, "peer disconnected");
                self.emit(Event::Disconnected(peer_id)).await;
            }
            SwarmEvent::IncomingConnectionError { error, send_back_addr, .. } => {
                let reason = error.to_string();
                tracing::warn!(target: "credex::p2p", from = %send_back_addr, %reason, "incoming connection refused");
                self.emit(Event::Refused { peer: None, reason: format!("incoming from {send_back_addr}: {reason}") })
                    .await;
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(target: "credex::p2p", peer = ?peer_id, error = %error, "outgoing connection failed");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                if info.protocol_version != self.version {
                    tracing::warn!(target: "credex::p2p", peer = %peer_id, theirs = %info.protocol_version, ours = %self.version,
                        "peer runs another genesis; disconnecting");
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    self.emit(Event::Refused {
                        peer: Some(peer_id),
                        reason: format!("another genesis: {}", info.protocol_version),
                    })
                    .await;
                } else if self.connected.insert(peer_id) {
                    tracing::info!(target: "credex::p2p", peer = %peer_id, "peer connected");
                    self.emit(Event::Connected(peer_id)).await;
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossip(gossipsub::Event::Message {
                message,
                message_id,
                propagation_source,
            })) => {
                let id = GossipId { id: message_id, from: propagation_source };
                let (Some(topic), Some(source)) = (self.topics.get(&message.topic).copied(), message.source) else {
                    self.swarm.behaviour_mut().gossip.report_message_validation_result(
                        &id.id,
                        &id.from,
                        gossipsub::MessageAcceptance::Reject,
                    );
                    return;
                };
                self.emit(Event::Gossip { topic, source, data: message.data, id }).await;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Reqres(request_response::Event::Message {
                peer, message, ..
            })) => match message {
                request_response::Message::Request { request, channel, .. } => {
                    self.emit(Event::Request { peer, data: request, reply: ReplyHandle(channel) }).await;
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(tx) = self.pending.remove(&request_id) {
                        let _ = tx.send(Ok(response));
                    }
                }
            },
            SwarmEvent::Behaviour(BehaviourEvent::Reqres(request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            })) => {
                if let Some(tx) = self.pending.remove(&request_id) {
                    let _ = tx.send(Err(NetError::Request { peer, reason: error.to_string() }));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Reqres(request_response::Event::InboundFailure {
                peer,
                error,
                ..
            })) => {
                tracing::debug!(target: "credex::p2p", %peer, %error, "inbound request failed");
            }
            _ => {}
        }
    }
}
