//! The node-to-node request and response messages of credex (block sync, state sync, raw records) in their canonical encoding.
//!
//! Every message travels over the request-response protocol of
//! `credex-p2p` (spec §10) as one canonical encoding (`credex-codec`,
//! spec §1), size-limited by the receiver before it is decoded:
//!
//! * [`SyncRequest::Status`] → [`SyncResponse::Status`]: the peer's height;
//! * [`SyncRequest::Blocks`] → [`SyncResponse::Blocks`]: consecutive blocks
//!   with their certificates;
//! * [`SyncRequest::RawRecord`] → [`SyncResponse::RawRecord`]: a raw
//!   record for a client of the asking node (spec §12.3). The request
//!   carries the caller's own signed request ([`ForwardedRequest`]); the
//!   holder trusts nothing the asking peer merely states about its caller;
//! * [`SyncRequest::Snapshot`] → [`SyncResponse::Snapshot`] and
//!   [`SyncRequest::SnapshotChunk`] → [`SyncResponse::SnapshotChunk`]:
//!   state sync (spec §10.6), a certified height's state in chunks.
//!
//! The types live in a library of their own so that the node, the tests
//! (which play hostile peers with them) and a partner's implementation
//! share one definition.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use credex_chain::Block;
use credex_crypto::{PublicKey, Signature};
use credex_types::access::{Role, SignedAuthorization};
use credex_types::chain::CommitCertificate;
use credex_types::{Attestation, AttestationId, LegalBasis, Timestamp};

/// The largest message a node sends or accepts over the network (gossip
/// and request-response alike), in bytes: receivers decode nothing larger.
pub const MAX_MESSAGE: usize = 8 << 20;

/// A sync request.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum SyncRequest {
    /// Your committed height?
    Status,
    /// Blocks `from..from+max` with certificates.
    Blocks {
        /// First height.
        from: u64,
        /// Most blocks wanted.
        max: u32,
    },
    /// A raw record, for a client of the asking node (spec §12.3).
    RawRecord(Box<RawRequest>),
    /// Your state snapshot (spec §10.6)?
    Snapshot,
    /// A part of the snapshot at `height`: the entries of `part` after the
    /// key `after` (from the first with `None`), in key order.
    SnapshotChunk {
        /// The snapshot's height (its offer's checkpoint height).
        height: u64,
        /// Which entries.
        part: SnapshotPart,
        /// The last key of the previous chunk.
        after: Option<Vec<u8>>,
    },
}

/// The two parts of a state snapshot (spec §10.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum SnapshotPart {
    /// The state's values: key = the state key's hash (32 bytes), value =
    /// `encode((StateKey, StateValue))`; checked all together against the
    /// checkpoint header's `state_root`.
    State,
    /// The anchored attestations: key = the attestation id (32 bytes),
    /// value = `encode((anchored_height, Attestation))`; each checked
    /// against its record in the checked state and its issuer signature.
    Attestations,
}

/// What a peer offers to a node that syncs from a snapshot (spec §10.6).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct SnapshotOffer {
    /// The certified block the snapshot is the state after: header,
    /// certificate, the set changes from genesis and the set in force
    /// after it — verified from the genesis like a partner's checkpoint
    /// (spec §8.5) before anything else is asked.
    pub checkpoint: credex_proof::Checkpoint,
    /// How many state values (for progress; not trusted).
    pub values: u64,
    /// How many anchored attestations (for progress; not trusted).
    pub attestations: u64,
}

/// One chunk of a snapshot part.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct SnapshotChunk {
    /// Entries in strictly increasing key order, all after the request's
    /// `after`; at most [`SNAPSHOT_CHUNK_BYTES`] of them in all.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether entries of the part follow this chunk.
    pub more: bool,
}

/// The byte budget of one snapshot chunk's entries (keys and values).
pub const SNAPSHOT_CHUNK_BYTES: usize = 4 << 20;

/// A sync response.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum SyncResponse {
    /// Committed height.
    Status {
        /// Height.
        height: u64,
    },
    /// Consecutive blocks from the requested height.
    Blocks(Vec<(Block, CommitCertificate)>),
    /// The request could not be served.
    Error(String),
    /// The answer to [`SyncRequest::RawRecord`].
    RawRecord(Box<RawAnswer>),
    /// The answer to [`SyncRequest::Snapshot`]: none when the peer has no
    /// block yet.
    Snapshot(Option<Box<SnapshotOffer>>),
    /// The answer to [`SyncRequest::SnapshotChunk`].
    SnapshotChunk(SnapshotChunk),
}

/// On what grounds a record is asked for.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The subject's authorization.
    Authorization(SignedAuthorization),
    /// A legal-basis code.
    LegalBasis(LegalBasis),
    /// Nothing (only a subject reading its own record).
    None,
}

/// A caller's signed `POST /v1/attestations/{id}/record` request (spec
/// §12.1), exactly as it reached the asking node: the holder re-checks the
/// signature itself and reads the basis from the signed body.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ForwardedRequest {
    /// `X-Credex-Client`: a subject id, an issuer agency id, or a client id registered at the asking node.
    pub client: String,
    /// `X-Credex-Time`.
    pub time: Timestamp,
    /// `X-Credex-Nonce`.
    pub nonce: [u8; 16],
    /// `X-Credex-Signature`, over `SignedRequest { method: "POST", path: "/v1/attestations/{id}/record", body: SHA-256(body), … }`.
    pub signature: Signature,
    /// The request body: `{"authorization": …}`, `{"legal_basis": "…"}` or `{}` (or empty).
    pub body: Vec<u8>,
}

/// A node asking its peers for a record on behalf of one of its callers.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct RawRequest {
    /// The attestation.
    pub id: AttestationId,
    /// The caller's own signed request.
    pub request: ForwardedRequest,
    /// For a client registered at the asking node (an official or a
    /// platform, whose key only that node knows): its role and key, vouched
    /// for by the asking node's agency. Subjects and issuers need none:
    /// the holder finds their keys on chain.
    pub vouched: Option<(Role, PublicKey)>,
}

/// The holder's answer.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum RawAnswer {
    /// The record.
    Served(Box<Attestation>),
    /// Refused, with a stable code and a reason.
    Refused {
        /// Code.
        code: String,
        /// Why.
        message: String,
    },
    /// This node does not hold it.
    NotHeld,
}
