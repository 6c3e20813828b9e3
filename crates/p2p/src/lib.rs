//! credex networking over libp2p: allow-listed, genesis-bound TCP+noise+yamux connections, gossip and size-limited request-response.
//!
//! # Protocol
//!
//! * Transport: TCP, noise (XX, ed25519 identities), yamux.
//! * **Allow-list.** Only peers whose ids are listed (the genesis validators
//!   and observers) may hold a connection; any other peer is refused right
//!   after the noise handshake proves its id, and the refusal is logged
//!   (`credex::p2p`) and reported as [`Event::Refused`].
//! * **Genesis binding.** Every protocol name carries the genesis hash:
//!   identify announces `/credex/1/<genesis hash>`, gossip topics are
//!   `/credex/<first 16 hex>/<topic>`, request-response is
//!   `/credex/<first 16 hex>/req/1`. A peer with another genesis (or chain
//!   id) shares no protocol with us; when its identify arrives it is
//!   disconnected and refused.
//! * **Gossip** (gossipsub, signed, strict validation): [`Topic::Attestations`]
//!   carries submitted transactions to every node (so the proposer sees
//!   them), [`Topic::Consensus`] the consensus messages. A received message
//!   is forwarded only once the node has checked it and reported
//!   [`Verdict::Accept`] ([`Handle::report`]); a [`Verdict::Reject`]
//!   penalizes the peer that passed it on (peer scoring on invalid
//!   messages only).
//! * **Request-response**: opaque request and response bytes, each framed by
//!   a 4-byte big-endian length; anything over the configured maximum is
//!   refused before it is read.
//!
//! Messages are opaque bytes here: their meaning and canonical decoding
//! belong to the node. Every limit is enforced on input, and nothing a peer
//! sends can panic the task.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod codec;
mod service;

pub use libp2p::identity::Keypair;
pub use libp2p::{Multiaddr, PeerId};
pub use service::{Config, Event, GossipId, Handle, NetError, ReplyHandle, Topic, Verdict, spawn};

/// The libp2p identity for an ed25519 seed.
pub fn keypair_from_seed(seed: [u8; 32]) -> Keypair {
    let mut bytes = seed;
    // `ed25519_from_bytes` only fails on a wrong length; 32 bytes is right.
    match Keypair::ed25519_from_bytes(&mut bytes) {
        Ok(k) => k,
        Err(_) => Keypair::generate_ed25519(),
    }
}

/// `addr` with `/p2p/<peer>` appended: a dialable bootstrap address.
pub fn with_peer(addr: Multiaddr, peer: PeerId) -> Multiaddr {
    addr.with(libp2p::multiaddr::Protocol::P2p(peer))
}
