//! The node-to-node messages of credex (compact proposals, block sync, state sync, transaction fetch, raw records) in their canonical encoding.
//!
//! Every message travels over `credex-p2p` (spec §10) as one canonical
//! encoding (`credex-codec`, spec §1), size-limited by the receiver before
//! it is decoded. On the consensus gossip topic, one [`ConsensusGossip`]:
//! a vote or a polka as the engine made it, or a proposal in its compact
//! form ([`CompactProposal`], spec §10.7): the header and the hashes of
//! the block's transactions, which every validator already holds from
//! transaction gossip. Over request-response:
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
//!   state sync (spec §10.6), a certified height's state in chunks;
//! * [`SyncRequest::Transactions`] → [`SyncResponse::Transactions`]: the
//!   transactions of a compact proposal that the asking node misses, by
//!   hash (spec §10.7).
//!
//! The types live in a library of their own so that the node, the tests
//! (which play hostile peers with them) and a partner's implementation
//! share one definition.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use credex_chain::{Block, MAX_BLOCK_TXS, Transaction};
use credex_consensus::ConsensusMsg;
use credex_crypto::{Hash32, PublicKey, Signature};
use credex_types::access::{Role, SignedAuthorization};
use credex_types::chain::{BlockHeader, CommitCertificate};
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
    /// The transactions with these hashes (`Transaction::hash`), for a
    /// compact proposal (spec §10.7); at most [`MAX_BLOCK_TXS`] hashes.
    Transactions(Vec<Hash32>),
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
    /// The answer to [`SyncRequest::Transactions`]: those of the asked
    /// transactions the peer holds, in the order asked, at most
    /// [`TRANSACTIONS_BYTES`] of them (the asker asks again for the rest).
    /// The asker keeps only those whose hash it asked for.
    Transactions(Vec<Transaction>),
}

/// The byte budget of one [`SyncResponse::Transactions`].
pub const TRANSACTIONS_BYTES: usize = 4 << 20;

/// One message on the consensus gossip topic (spec §10.7).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
#[allow(clippy::large_enum_variant)] // one message at a time
pub enum ConsensusGossip {
    /// A vote or a polka. A [`ConsensusMsg::Proposal`] here is malformed:
    /// proposals travel compact.
    Message(ConsensusMsg),
    /// A proposal, its block named by header and transaction hashes.
    Proposal(CompactProposal),
}

/// A proposal in its compact form (spec §10.7): everything of
/// [`ConsensusMsg::Proposal`] but the block's transactions, which it names
/// by their hashes in block order. The header's `tx_root` is the RFC 6962
/// root of exactly these hashes, and the proposer's signature covers the
/// header's id: the compact form binds the same block as the full one,
/// byte for byte. A receiver takes the transactions with those hashes from
/// its pool, fetches those it lacks ([`SyncRequest::Transactions`]) and
/// hands the engine the full proposal ([`CompactProposal::assemble`]).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct CompactProposal {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Proof-of-lock round.
    pub pol_round: Option<u32>,
    /// Proposer index.
    pub proposer: u16,
    /// The block's header.
    pub header: BlockHeader,
    /// The hashes of the block's transactions, in block order.
    pub txs: Vec<Hash32>,
    /// The proposer's signature over the proposal bytes (the header's id).
    pub signature: Signature,
}

/// Why a compact proposal or its transactions were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// More transactions than a block may hold.
    #[error("compact proposal names {0} transactions, at most {MAX_BLOCK_TXS} allowed")]
    TooManyTxs(usize),
    /// The header is for another height than the proposal.
    #[error("compact proposal for height {proposal} carries a header of height {header}")]
    Height {
        /// The proposal's height.
        proposal: u64,
        /// The header's.
        header: u64,
    },
    /// The hashes are not the ones the header commits to.
    #[error("the transaction hashes do not give the header's transaction root")]
    TxRoot,
    /// A transaction is not the one named at its position.
    #[error("transaction {index} is not the one the proposal names")]
    WrongTx {
        /// Position in the block.
        index: usize,
    },
    /// Fewer or more transactions than named.
    #[error("the proposal names {named} transactions, {given} given")]
    Count {
        /// Named.
        named: usize,
        /// Given.
        given: usize,
    },
}

impl CompactProposal {
    /// The compact form of a full proposal; `None` for a vote or a polka.
    pub fn of(msg: &ConsensusMsg) -> Option<CompactProposal> {
        match msg {
            ConsensusMsg::Proposal { height, round, pol_round, proposer, block, signature } => Some(CompactProposal {
                height: *height,
                round: *round,
                pol_round: *pol_round,
                proposer: *proposer,
                header: block.header.clone(),
                txs: block.txs.iter().map(Transaction::hash).collect(),
                signature: *signature,
            }),
            _ => None,
        }
    }

    /// The checks that need nothing but the message: at most
    /// [`MAX_BLOCK_TXS`] hashes, the header's height the proposal's, and
    /// the hashes' RFC 6962 root the header's `tx_root` (spec §10.7). The
    /// signature is the consensus verifier's.
    pub fn check(&self) -> Result<(), CompactError> {
        if self.txs.len() > MAX_BLOCK_TXS {
            return Err(CompactError::TooManyTxs(self.txs.len()));
        }
        if self.header.height != self.height {
            return Err(CompactError::Height { proposal: self.height, header: self.header.height });
        }
        if credex_chain::tx_root_of_hashes(&self.txs) != self.header.tx_root {
            return Err(CompactError::TxRoot);
        }
        Ok(())
    }

    /// The full proposal, from the transactions named, in block order:
    /// each must hash to the name at its position.
    pub fn assemble(self, txs: Vec<Transaction>) -> Result<ConsensusMsg, CompactError> {
        if txs.len() != self.txs.len() {
            return Err(CompactError::Count { named: self.txs.len(), given: txs.len() });
        }
        if let Some(index) = txs.iter().zip(&self.txs).position(|(t, h)| t.hash() != *h) {
            return Err(CompactError::WrongTx { index });
        }
        let CompactProposal { height, round, pol_round, proposer, header, signature, .. } = self;
        Ok(ConsensusMsg::Proposal { height, round, pol_round, proposer, block: Block { header, txs }, signature })
    }
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
