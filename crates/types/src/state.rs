//! Entries of the authenticated state map (spec §6).
//!
//! ```text
//! key hash   = H("credex/state-key/v1",   encode(StateKey))
//! value hash = H("credex/state-value/v1", encode(StateValue))
//! ```
//!
//! Both go into the sparse Merkle map of `credex-merkle`; the root is the
//! header's `state_root`. An attestation's status lives under
//! `StateKey::Attestation(id)`; a subject's standing on a list under
//! `StateKey::Listing { list, subject }`, absent if it was never listed;
//! the lifecycle (spec §11) adds issuers changed by governance, subject
//! keys, cases and applied governance proposals.

use credex_crypto::{Hash32, PublicKey, domain, hash};

use crate::attestation::AttestationId;
use crate::ids::{AgencyId, SubjectId};
use crate::kinds::ListKind;
use crate::lifecycle::{CaseId, CaseRecord, IssuerRecord, SubjectKeyRecord};
use crate::time::Timestamp;

/// A typed state key.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum StateKey {
    /// Status of one anchored attestation.
    Attestation(AttestationId),
    /// A subject's standing on one list.
    Listing {
        /// The list.
        list: ListKind,
        /// The subject.
        subject: SubjectId,
    },
    /// Recorded equivocation of a validator at a height, round and step.
    Equivocation {
        /// Validator index.
        validator: u16,
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Step.
        kind: crate::chain::VoteKind,
    },
    /// An issuer changed by governance (genesis issuers are absent until then).
    Issuer(AgencyId),
    /// A subject's bound key.
    SubjectKey(SubjectId),
    /// A case opened by a subject act.
    Case(CaseId),
    /// An applied governance proposal (by proposal hash).
    Governance(Hash32),
    /// A node's latest anchored audit-log head (spec §12.4).
    AuditHead(AgencyId),
    /// The validator set in force from the next block on, once governance
    /// changed it (absent: the genesis set; spec §9.6).
    Validators,
    /// A subject's standing on every list at once, derived by the chain at
    /// the end of each block from its `Listing` records (spec §6, §11.1):
    /// one leaf, so one state proof covers every list.
    Standing(SubjectId),
    /// An authorization its subject withdrew (spec §12.3); keyed by the
    /// subject too, so no one can withdraw another subject's grant.
    AuthorizationRevoked {
        /// The subject that granted and withdrew it.
        subject: SubjectId,
        /// `Authorization::hash()`.
        authorization: Hash32,
    },
    /// A subject's registered name (spec §11.10).
    SubjectName(SubjectId),
}

impl StateKey {
    /// The 256-bit key in the map.
    pub fn hash(&self) -> Hash32 {
        hash(domain::STATE_KEY, &credex_codec::encode(self))
    }
}

/// What the chain records about an anchored attestation.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct AttestationRecord {
    /// The issuer key that signed it, as checked when anchored (keeps
    /// proofs verifiable after the issuer rotates keys).
    pub issuer_key: PublicKey,
    /// Height of the block that anchored it.
    pub anchored_height: u64,
    /// Current status.
    pub status: AttestationStatus,
}

/// The life of an anchored attestation.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum AttestationStatus {
    /// In force.
    Active,
    /// Withdrawn by its issuer.
    Revoked {
        /// Block height of the revocation.
        height: u64,
        /// Block time of the revocation.
        time: Timestamp,
    },
    /// Replaced by a newer attestation.
    Superseded {
        /// The replacement.
        by: AttestationId,
        /// Block height of the replacement.
        height: u64,
        /// Block time of the replacement.
        time: Timestamp,
    },
    /// Content destroyed; a signed tombstone was anchored.
    Erased {
        /// The tombstone attestation.
        tombstone: AttestationId,
        /// Block height of the erasure.
        height: u64,
        /// Block time of the erasure.
        time: Timestamp,
    },
}

/// A subject's standing on one list.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct ListingRecord {
    /// The listing in force, if the subject is on the list now.
    pub current: Option<Listing>,
    /// When the subject last left the list (block time), if ever.
    pub last_removed: Option<Timestamp>,
    /// How many times the subject was put on this list.
    pub times_listed: u32,
}

/// A listing in force.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Listing {
    /// Effective time of the listing decision.
    pub since: Timestamp,
    /// The listing attestation.
    pub by: AttestationId,
    /// The listing agency (only it may remove the listing).
    pub issuer: AgencyId,
    /// Set when the chain moved the subject here from another list (an
    /// abnormal-operation listing unresolved for three years); `by` is then
    /// that list's listing attestation.
    pub escalated_from: Option<ListKind>,
}

/// A typed state value.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateValue {
    /// Under [`StateKey::Attestation`].
    Attestation(AttestationRecord),
    /// Under [`StateKey::Listing`].
    Listing(ListingRecord),
    /// Under [`StateKey::Equivocation`]: the evidence transaction's hash and
    /// the height that recorded it (the evidence itself is in that block).
    Equivocation {
        /// Hash of the evidence transaction.
        evidence: Hash32,
        /// Height of the block that holds it.
        height: u64,
    },
    /// Under [`StateKey::Issuer`].
    Issuer(IssuerRecord),
    /// Under [`StateKey::SubjectKey`].
    SubjectKey(SubjectKeyRecord),
    /// Under [`StateKey::Case`].
    Case(CaseRecord),
    /// Under [`StateKey::Governance`]: the height that applied it.
    Governance {
        /// Height.
        height: u64,
    },
    /// Under [`StateKey::AuditHead`].
    AuditHead {
        /// Entries covered.
        seq: u64,
        /// Hash of entry `seq`.
        head: Hash32,
        /// Height of the anchoring block.
        height: u64,
    },
    /// Under [`StateKey::Validators`].
    Validators(crate::chain::ValidatorSet),
    /// Under [`StateKey::Standing`].
    Standing(StandingRecord),
    /// Under [`StateKey::AuthorizationRevoked`]: when.
    AuthorizationRevoked {
        /// Height of the block that recorded the withdrawal.
        height: u64,
        /// Its time.
        time: crate::Timestamp,
    },
    /// Under [`StateKey::SubjectName`].
    SubjectName(crate::lifecycle::SubjectNameRecord),
}

/// A subject's records on every list it was ever on, in [`ListKind::ALL`]
/// order (a list it was never on is absent).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct StandingRecord {
    /// `(list, record)`, lists strictly increasing.
    pub lists: Vec<(ListKind, ListingRecord)>,
}

impl StandingRecord {
    /// The record on `list`, if the subject was ever on it.
    pub fn on(&self, list: ListKind) -> Option<&ListingRecord> {
        self.lists.iter().find(|(l, _)| *l == list).map(|(_, r)| r)
    }
}

impl StateValue {
    /// The value hash in the map.
    pub fn hash(&self) -> Hash32 {
        hash(domain::STATE_VALUE, &credex_codec::encode(self))
    }
}
