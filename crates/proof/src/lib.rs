//! The credex credit-proof format and its offline verifier: needs only the genesis file, no network, no database.
//!
//! A [`CreditProof`] (spec §8) bundles
//!
//! 1. a **claim**: an attestation with selectively disclosed fields and
//!    its status record, a subject's standing on a list (present or absent),
//!    or a subject's case, each with a sparse-Merkle proof into a state root;
//! 2. an **anchor**: the block header carrying that state root, its commit
//!    certificate, and — if the validator set changed since genesis — the
//!    chain of certified set changes that leads from the genesis set to the
//!    set that signed the header.
//!
//! [`Verifier::verify`] checks all of it against the genesis and a
//! [`Policy`], and answers with a [`Verdict`] whose [`Outcome`] is one of
//! valid, listed, recently-listed (a time-window policy), revoked,
//! superseded, erased, expired or stale, or with a
//! [`ProofError`] saying why the proof is invalid. It does no I/O and reads
//! no clock: the caller passes `now`.
//!
//! Wire form: the canonical encoding (`credex-codec`, at most
//! [`MAX_PROOF_BYTES`]); text form: `credex1:` + unpadded base64url of it
//! ([`CreditProof::to_text`]), small enough for one QR code.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod build;
mod checkpoint;
mod verify;

pub use checkpoint::{CHECKPOINT_PREFIX, CHECKPOINT_VERSION, Checkpoint, MAX_CHECKPOINT_BYTES};

pub use verify::{
    CaseFacts, DEFAULT_MAX_AGE_MS, DisclosedField, Facts, MAX_CLOCK_SKEW_MS, Outcome, Policy, ProofError, SignerInfo,
    Verdict, Verifier,
};

use base64::Engine as _;
use credex_crypto::{Hash32, Signature};
use credex_merkle::smt::SmtProof;
use credex_types::attestation::AttestationHeader;
use credex_types::chain::{BlockHeader, CommitCertificate, ValidatorSet};
use credex_types::lifecycle::{CaseId, CaseRecord};
use credex_types::state::{AttestationRecord, ListingRecord, StandingRecord};
use credex_types::{DisclosedAttestation, ListKind, SubjectId};

/// The only proof version this release reads and writes.
pub const PROOF_VERSION: u8 = 1;
/// Largest encoded proof accepted.
pub const MAX_PROOF_BYTES: usize = 64 * 1024;
/// Prefix of the text form.
pub const TEXT_PREFIX: &str = "credex1:";

/// A self-contained, offline-verifiable credit proof.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct CreditProof {
    /// [`PROOF_VERSION`].
    pub version: u8,
    /// What is proven.
    pub claim: Claim,
    /// Where and by whom it was finalized.
    pub anchor: Anchor,
}

/// What a proof proves, with its state proof.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[allow(clippy::large_enum_variant)] // one claim per proof; boxing would only add an allocation
pub enum Claim {
    /// An anchored attestation and its status.
    Attestation {
        /// The attestation, some fields possibly hidden.
        attestation: DisclosedAttestation,
        /// Its state record.
        record: AttestationRecord,
        /// Membership proof of the record.
        proof: SmtProof,
    },
    /// A subject's standing on a list.
    ListStatus {
        /// The list.
        list: ListKind,
        /// The subject.
        subject: SubjectId,
        /// The record, or `None` for "never listed" (non-membership).
        record: Option<ListingRecord>,
        /// Membership or non-membership proof.
        proof: SmtProof,
    },
    /// An anchored attestation's status without any field: header, claims
    /// root and issuer signature as anchored on chain. What a node can still
    /// prove once the content is erased, or when it does not hold the fields.
    Status {
        /// The header.
        header: AttestationHeader,
        /// Root over the salted field commitments.
        claims_root: Hash32,
        /// Issuer signature over the id.
        signature: Signature,
        /// Its state record.
        record: AttestationRecord,
        /// Membership proof of the record.
        proof: SmtProof,
    },
    /// A subject's case (commitment, repair application, objection) and
    /// where it stands (spec §11).
    Case {
        /// The case id.
        case: CaseId,
        /// Its state record.
        record: CaseRecord,
        /// Membership proof of the record.
        proof: SmtProof,
    },
    /// A subject's standing on every list at once (spec §8.3): its
    /// `Standing` leaf, or `None` if it was never on any list.
    Standing {
        /// The subject.
        subject: SubjectId,
        /// Its records on the lists it was ever on.
        record: Option<StandingRecord>,
        /// Membership or non-membership proof.
        proof: SmtProof,
    },
}

/// The finalized block a claim is proven against.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
    /// Validator-set changes since genesis, oldest first.
    pub set_changes: Vec<SetChange>,
    /// The block header holding the state root.
    pub header: BlockHeader,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
}

/// One certified change of the validator set: a block signed by the set in
/// force whose `next_validators_hash` names `next_set`.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SetChange {
    /// The block that changes the set.
    pub header: BlockHeader,
    /// Its certificate by the set in force.
    pub certificate: CommitCertificate,
    /// The set from the next block on.
    pub next_set: ValidatorSet,
}

/// Why bytes or text are not a proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Canonical decoding failed.
    #[error("proof encoding: {0}")]
    Codec(#[from] credex_codec::CodecError),
    /// Text lacks the prefix or is not base64url.
    #[error("proof text: {0}")]
    Text(String),
}

impl CreditProof {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        credex_codec::encode(self)
    }

    /// Decodes canonical bytes (size-limited, no trailing bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<CreditProof, FormatError> {
        Ok(credex_codec::decode(bytes, MAX_PROOF_BYTES)?)
    }

    /// `credex1:` + unpadded base64url of the canonical bytes.
    pub fn to_text(&self) -> String {
        armor(TEXT_PREFIX, &self.to_bytes())
    }

    /// Parses the text form (whitespace after the prefix ignored).
    pub fn from_text(text: &str) -> Result<CreditProof, FormatError> {
        Self::from_bytes(&dearmor(TEXT_PREFIX, text, MAX_PROOF_BYTES)?)
    }

    /// The proof of one entry of a bulk answer (spec §8.7): the claim and the
    /// shared anchor, each as unpadded base64url of its canonical bytes. The
    /// proof's bytes are `u8(PROOF_VERSION) ‖ claim ‖ anchor`, its fields in
    /// order (§1), so this is the proof the node would have made for that
    /// subject alone at that height.
    pub fn from_parts(claim_b64: &str, anchor_b64: &str) -> Result<CreditProof, FormatError> {
        let part = |what: &str, b64: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .map_err(|e| FormatError::Text(format!("{what} is not unpadded base64url: {e}")))
        };
        let mut bytes = vec![PROOF_VERSION];
        bytes.extend(part("the claim", claim_b64)?);
        bytes.extend(part("the anchor", anchor_b64)?);
        Self::from_bytes(&bytes)
    }

    /// Reads either form: text if it starts with the prefix, bytes otherwise.
    pub fn from_any(data: &[u8]) -> Result<CreditProof, FormatError> {
        match core::str::from_utf8(data) {
            Ok(t) if t.trim_start().starts_with(TEXT_PREFIX) => Self::from_text(t),
            _ => Self::from_bytes(data),
        }
    }
}

impl Claim {
    /// As a bulk answer carries it ([`CreditProof::from_parts`]): unpadded
    /// base64url of its canonical bytes.
    pub fn to_part(&self) -> String {
        armor("", &credex_codec::encode(self))
    }
}

impl Anchor {
    /// As a bulk answer carries it ([`CreditProof::from_parts`]): unpadded
    /// base64url of its canonical bytes.
    pub fn to_part(&self) -> String {
        armor("", &credex_codec::encode(self))
    }
}

/// `prefix` + unpadded base64url of `bytes` (spec §8.1).
pub(crate) fn armor(prefix: &str, bytes: &[u8]) -> String {
    let mut s = String::from(prefix);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut s);
    s
}

/// The bytes of `prefix` + base64url text, refused before decoding when
/// longer than `max` bytes could need. ASCII whitespace anywhere after the
/// prefix is ignored (spec §13.2): a proof pasted from an e-mail or a
/// scanned page arrives broken over lines, and base64url has no
/// whitespace of its own, so nothing else can be meant.
pub(crate) fn dearmor(prefix: &str, text: &str, max: usize) -> Result<Vec<u8>, FormatError> {
    let body =
        text.trim().strip_prefix(prefix).ok_or_else(|| FormatError::Text(format!("does not start with {prefix}")))?;
    // base64 expands 3 bytes to 4 characters; refuse oversize text before
    // copying or decoding it (room for a line break every 16 characters)
    let too_large =
        |len: usize| FormatError::Codec(credex_codec::CodecError::TooLarge { len: len / 4 * 3, limit: max });
    if body.len() > (max / 3 * 4 + 4) * 2 {
        return Err(too_large(body.len()));
    }
    let body: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if body.len() > max / 3 * 4 + 4 {
        return Err(too_large(body.len()));
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&body).map_err(|e| match e {
        base64::DecodeError::InvalidByte(at, b) => FormatError::Text(format!(
            "character {:?} at position {at} is not base64url (A–Z, a–z, 0–9, - and _): the proof is damaged",
            char::from(b)
        )),
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidLastSymbol { .. } => {
            FormatError::Text("the text ends mid-character: the proof is cut short or damaged".to_string())
        }
        other => FormatError::Text(other.to_string()),
    })
}
