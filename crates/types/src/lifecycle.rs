//! The credit lifecycle's own messages (spec §11): subject keys, subject
//! acts (credit commitments, repair applications, objections) and the cases
//! they open, and issuer governance.
//!
//! ```text
//! binding hash  = H("credex/subject-key/v1", encode(SubjectKeyBinding))
//!                 signed by the registrar (purpose subject-key) and by the subject key (purpose subject-act)
//! case id       = H("credex/subject-act/v1", encode(SubjectAct))
//!                 signed by the subject's bound key (purpose subject-act)
//! proposal hash = H("credex/governance/v1", encode(GovProposal))
//!                 signed by validators (purpose governance) holding more than 2/3 of the power
//! name hash     = H("credex/subject-name/v1", encode(SubjectName))
//!                 signed by the registrar (purpose subject-name)
//! ```
//!
//! A subject act opens a [`CaseRecord`] in the state; the agency it is
//! addressed to answers with attestations whose header names the case
//! (`case`), and the chain moves the case along the transitions of
//! [`CaseKind::next`] only.
//!
//! ```
//! use credex_types::lifecycle::*;
//! use credex_types::{AttestationKind as K};
//! assert_eq!(CaseKind::Commitment.next(CaseStatus::Pending, K::CreditCommitment, false), Some(CaseStatus::Accepted));
//! assert_eq!(CaseKind::Commitment.next(CaseStatus::Pending, K::CreditCommitmentBreached, false), None);
//! ```

use core::fmt;
use core::str::FromStr;

use credex_crypto::{Hash32, PublicKey, Purpose, SecretKey, Signature, domain, hash};

use crate::attestation::AttestationId;
use crate::chain::{CommitSig, Names, ValidatorSet};
use crate::genesis::Issuer;
use crate::ids::{AgencyId, ChainId, Jurisdiction, SubjectId};
use crate::kinds::{AttestationKind, ListEffect, ListKind};
use crate::time::Timestamp;

/// A case id: the hash of the subject act that opened it. Hex in text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct CaseId(pub Hash32);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({})", self.0)
    }
}
impl FromStr for CaseId {
    type Err = credex_crypto::HashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(CaseId(s.parse()?))
    }
}
text_serde!(CaseId);

/// A registrar agency's statement that `key` is the key of `subject`.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectKeyBinding {
    /// The chain.
    pub chain_id: ChainId,
    /// The subject.
    pub subject: SubjectId,
    /// Its key from now on (replaces any earlier one).
    pub key: PublicKey,
    /// The registrar (an issuer with the `subject-key-binding` permission).
    pub registrar: AgencyId,
    /// 128 random bits.
    #[serde(with = "hex::serde")]
    pub nonce: [u8; 16],
    /// Replacing a lost key without the old key's consent: the legal basis
    /// of the registrar's recorded decision (e.g. identity verified in
    /// person). Kept in the subject's record for the subject to see.
    #[serde(default)]
    pub recovery: Option<crate::LegalBasis>,
}

impl SubjectKeyBinding {
    /// `H("credex/subject-key/v1", encode(binding))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::SUBJECT_KEY, &credex_codec::encode(self))
    }

    /// Signs as registrar and as subject (proof of possession).
    pub fn sign(self, registrar: &SecretKey, subject: &SecretKey) -> SubjectKeyTx {
        let h = self.hash();
        SubjectKeyTx {
            registrar_signature: registrar.sign(Purpose::SubjectKey, &h.0),
            subject_signature: subject.sign(Purpose::SubjectAct, &h.0),
            consent: None,
            binding: self,
        }
    }
}

/// The transaction binding a subject key.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectKeyTx {
    /// The binding.
    pub binding: SubjectKeyBinding,
    /// Registrar signature (purpose `subject-key`) over the binding hash.
    pub registrar_signature: Signature,
    /// The bound key's signature (purpose `subject-act`) over the binding hash.
    pub subject_signature: Signature,
    /// Replacing a bound key: the **currently bound** key's signature
    /// (purpose `subject-act`) over the binding hash — the subject's consent.
    #[serde(default)]
    pub consent: Option<Signature>,
}

impl SubjectKeyTx {
    /// Adds the currently bound key's consent to a rebinding.
    pub fn with_consent(mut self, old: &SecretKey) -> SubjectKeyTx {
        self.consent = Some(old.sign(Purpose::SubjectAct, &self.binding.hash().0));
        self
    }
}

/// Longest registered name, in bytes of UTF-8 (a Chinese enterprise name
/// is at most 50 characters, 150 bytes; Russian full names run longer).
pub const MAX_NAME_BYTES: usize = 300;

/// 企业名称: a subject's registered name, as its registrar (an issuer
/// with the `subject-key-binding` permission: the agency that registers
/// enterprises) publishes it on chain, in plain text (spec §11.10). Only
/// for legal entities ([`SubjectId::is_legal_entity`]): their names are
/// public by law, as published lists show them; a natural person's name
/// never goes on chain. A later record replaces an earlier one (a renamed
/// enterprise).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectName {
    /// The chain.
    pub chain_id: ChainId,
    /// The subject named.
    pub subject: SubjectId,
    /// The name as registered, in the registering jurisdiction's language
    /// (统一社会信用代码 holders: the Chinese name).
    pub name: String,
    /// The registered name in Latin letters (the English or transliterated
    /// name an enterprise registers for foreign dealings), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latin: Option<String>,
    /// The registrar.
    pub registrar: AgencyId,
    /// 128 random bits.
    #[serde(with = "hex::serde")]
    pub nonce: [u8; 16],
}

/// Why a registered name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Names of natural persons do not go on chain.
    #[error("{0} is not a legal entity's identifier: a natural person's name is not published")]
    NotLegalEntity(SubjectId),
    /// Empty, or only white space.
    #[error("the name is empty")]
    Empty,
    /// Over [`MAX_NAME_BYTES`].
    #[error("the name is {0} bytes long; at most {MAX_NAME_BYTES}")]
    TooLong(usize),
    /// A control character, or white space at either end.
    #[error("the name holds a control character or white space at either end")]
    BadCharacters,
    /// Starts with `=`, `+`, `-` or `@`: a spreadsheet opening an export
    /// would run it as a formula; no registered name starts so.
    #[error("the name starts with {0:?}, which a spreadsheet reads as a formula")]
    FormulaStart(char),
    /// The Latin-letter name holds letters of another script.
    #[error("the Latin-letter name holds characters outside printable ASCII")]
    NotLatin,
}

impl SubjectName {
    /// `H("credex/subject-name/v1", encode(record))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::SUBJECT_NAME, &credex_codec::encode(self))
    }

    /// The shape rules (spec §11.10): a legal entity; each name 1 to
    /// [`MAX_NAME_BYTES`] bytes, no control characters, no white space at
    /// either end, not starting with `=`, `+`, `-` or `@`; the Latin name
    /// printable ASCII.
    pub fn check(&self) -> Result<(), NameError> {
        if !self.subject.is_legal_entity() {
            return Err(NameError::NotLegalEntity(self.subject.clone()));
        }
        let shape = |n: &str| {
            if n.trim().is_empty() {
                return Err(NameError::Empty);
            }
            if n.len() > MAX_NAME_BYTES {
                return Err(NameError::TooLong(n.len()));
            }
            if n.chars().any(char::is_control) || n.trim() != n {
                return Err(NameError::BadCharacters);
            }
            if let Some(c) = n.chars().next().filter(|c| matches!(c, '=' | '+' | '-' | '@')) {
                return Err(NameError::FormulaStart(c));
            }
            Ok(())
        };
        shape(&self.name)?;
        if let Some(l) = &self.latin {
            shape(l)?;
            if !l.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(NameError::NotLatin);
            }
        }
        Ok(())
    }

    /// Signs as the registrar.
    pub fn sign(self, registrar: &SecretKey) -> SubjectNameTx {
        SubjectNameTx { signature: registrar.sign(Purpose::SubjectName, &self.hash().0), record: self }
    }
}

/// The transaction publishing a registered name.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectNameTx {
    /// The name.
    pub record: SubjectName,
    /// The registrar's signature (purpose `subject-name`) over its hash.
    pub signature: Signature,
}

/// A subject's registered name in the state (spec §6, §11.10).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectNameRecord {
    /// The name as registered.
    pub name: String,
    /// In Latin letters, if registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latin: Option<String>,
    /// Who published it.
    pub registrar: AgencyId,
    /// Height of the block that recorded it.
    pub height: u64,
    /// Hash of the record (a replayed one is refused).
    pub record: Hash32,
}

impl SubjectNameRecord {
    /// The name a reader of `lang` is shown: the registered name, or for a
    /// Russian or English reader the Latin-letter one beside it.
    pub fn display(&self, lang: crate::labels::Lang) -> String {
        match (&self.latin, lang) {
            (Some(l), crate::labels::Lang::Ru | crate::labels::Lang::En) if *l != self.name => {
                format!("{} ({l})", self.name)
            }
            _ => self.name.clone(),
        }
    }

    /// Whether `query` (already lower-cased) is part of either name.
    pub fn matches(&self, query: &str) -> bool {
        self.name.to_lowercase().contains(query)
            || self.latin.as_ref().is_some_and(|l| l.to_lowercase().contains(query))
    }
}

/// What a subject files.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "act")]
pub enum ActBody {
    /// 信用承诺: a commitment to `agency`, whose text hashes to `terms`.
    Commitment {
        /// The agency asked to accept it.
        agency: AgencyId,
        /// SHA-256 of the commitment text (the text stays with the parties).
        terms: Hash32,
        /// Deadline, if the commitment has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<Timestamp>,
    },
    /// 信用修复申请 against the subject's listing in force on `list`.
    RepairApplication {
        /// The list.
        list: ListKind,
        /// SHA-256 of the application documents.
        statement: Hash32,
    },
    /// 异议申请 against an attestation about the subject.
    Objection {
        /// The contested attestation.
        target: AttestationId,
        /// SHA-256 of the grounds.
        grounds: Hash32,
    },
    /// Withdraws an authorization the subject granted (spec §12.3), named
    /// by its hash: every record holder refuses it from the block on that
    /// records this. Opens no case.
    RevokeAuthorization {
        /// `Authorization::hash()` of the authorization withdrawn.
        authorization: Hash32,
    },
}

/// A subject's signed act.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectAct {
    /// The chain.
    pub chain_id: ChainId,
    /// The subject acting.
    pub subject: SubjectId,
    /// What it files.
    pub body: ActBody,
    /// 128 random bits.
    #[serde(with = "hex::serde")]
    pub nonce: [u8; 16],
}

impl SubjectAct {
    /// The id of the case this act opens.
    pub fn case_id(&self) -> CaseId {
        CaseId(hash(domain::SUBJECT_ACT, &credex_codec::encode(self)))
    }

    /// Signs with the subject's key.
    pub fn sign(self, key: &SecretKey) -> SubjectActTx {
        SubjectActTx { signature: key.sign(Purpose::SubjectAct, &self.case_id().0.0), act: self }
    }
}

/// The transaction filing a subject act.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectActTx {
    /// The act.
    pub act: SubjectAct,
    /// Subject signature (purpose `subject-act`) over the case id.
    pub signature: Signature,
}

/// What kind of case.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CaseKind {
    /// 信用承诺
    Commitment,
    /// 信用修复
    Repair,
    /// 异议
    Objection,
}

/// Where a case stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CaseStatus {
    /// Filed, not decided.
    Pending,
    /// Commitment accepted by the agency.
    Accepted,
    /// Commitment fulfilled.
    Fulfilled,
    /// Commitment breached.
    Breached,
    /// Repair approved: the listing was removed.
    Approved,
    /// Refused (commitment not accepted, repair or objection rejected).
    Rejected,
    /// Objection upheld: the attestation was corrected (superseded).
    Corrected,
    /// Objection upheld: the attestation was revoked.
    Revoked,
    /// Objection upheld: the attestation was erased.
    Erased,
}

impl CaseKind {
    /// Kebab-case name, as in JSON and the label table (category `case`).
    pub const fn name(self) -> &'static str {
        match self {
            CaseKind::Commitment => "commitment",
            CaseKind::Repair => "repair",
            CaseKind::Objection => "objection",
        }
    }
}

impl CaseStatus {
    /// Kebab-case name, as in JSON and the label table.
    pub const fn name(self) -> &'static str {
        match self {
            CaseStatus::Pending => "pending",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Fulfilled => "fulfilled",
            CaseStatus::Breached => "breached",
            CaseStatus::Approved => "approved",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Corrected => "corrected",
            CaseStatus::Revoked => "revoked",
            CaseStatus::Erased => "erased",
        }
    }

    /// Every status.
    pub const ALL: [CaseStatus; 9] = [
        CaseStatus::Pending,
        CaseStatus::Accepted,
        CaseStatus::Fulfilled,
        CaseStatus::Breached,
        CaseStatus::Approved,
        CaseStatus::Rejected,
        CaseStatus::Corrected,
        CaseStatus::Revoked,
        CaseStatus::Erased,
    ];
}

impl CaseKind {
    /// The status an answering attestation of `kind` moves a case in
    /// `status` to, or `None` if the transition is forbidden.
    /// `supersedes_target` says whether the attestation supersedes the
    /// case's target (objections are upheld only that way).
    pub fn next(self, status: CaseStatus, kind: AttestationKind, supersedes_target: bool) -> Option<CaseStatus> {
        use AttestationKind as K;
        use CaseStatus as S;
        match (self, status) {
            (CaseKind::Commitment, S::Pending) => match kind {
                K::CreditCommitment => Some(S::Accepted),
                K::CreditCommitmentRejection => Some(S::Rejected),
                _ => None,
            },
            (CaseKind::Commitment, S::Accepted) => match kind {
                K::CreditCommitmentFulfilled => Some(S::Fulfilled),
                K::CreditCommitmentBreached => Some(S::Breached),
                _ => None,
            },
            (CaseKind::Repair, S::Pending) => match (kind, kind.list_effect()) {
                (_, Some(ListEffect::Leave(_))) => Some(S::Approved),
                (K::CreditRepairRejection, _) => Some(S::Rejected),
                _ => None,
            },
            (CaseKind::Objection, S::Pending) => match kind {
                K::ObjectionRejection => Some(S::Rejected),
                K::Revocation if supersedes_target => Some(S::Revoked),
                K::ErasureTombstone if supersedes_target => Some(S::Erased),
                _ if supersedes_target => Some(S::Corrected),
                _ => None,
            },
            _ => None,
        }
    }
}

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct CaseEvent {
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time: Timestamp,
    /// The status reached.
    pub status: CaseStatus,
    /// The agency attestation that moved it (none for the filing).
    pub by: Option<AttestationId>,
}

/// Longest case history kept in the state (a case has at most three steps).
pub const MAX_CASE_EVENTS: usize = 4;

/// A case in the state.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct CaseRecord {
    /// What kind.
    pub kind: CaseKind,
    /// The subject that filed it.
    pub subject: SubjectId,
    /// The agency that must decide (谁认定、谁修复).
    pub agency: AgencyId,
    /// The listing attestation (repair) or contested attestation (objection).
    pub target: Option<AttestationId>,
    /// The list (repair).
    pub list: Option<ListKind>,
    /// The filing, as signed (its hashes name the documents).
    pub act: ActBody,
    /// Commitment deadline.
    pub due: Option<Timestamp>,
    /// Current status.
    pub status: CaseStatus,
    /// Every step, oldest first (filing included).
    pub history: Vec<CaseEvent>,
}

/// An issuer as the state records it (genesis issuers until governance
/// first touches them).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct IssuerRecord {
    /// Names in zh / ru / en.
    pub names: Names,
    /// Jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// The key new attestations must be signed with.
    pub key: PublicKey,
    /// Kinds it may issue (and permissions such as `subject-key-binding`).
    pub kinds: Vec<AttestationKind>,
    /// False once removed by governance: nothing new is accepted from it.
    pub active: bool,
    /// Keys rotated out, with the height from which they stopped being accepted.
    pub retired_keys: Vec<(PublicKey, u64)>,
}

impl IssuerRecord {
    /// The record of a genesis issuer.
    pub fn from_genesis(i: &Issuer) -> IssuerRecord {
        IssuerRecord {
            names: i.names.clone(),
            jurisdiction: i.jurisdiction,
            key: i.key,
            kinds: i.kinds.clone(),
            active: true,
            retired_keys: Vec::new(),
        }
    }
}

/// A subject's bound key.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SubjectKeyRecord {
    /// The key.
    pub key: PublicKey,
    /// The registrar that bound it.
    pub registrar: AgencyId,
    /// Height of the binding.
    pub height: u64,
    /// Hash of the binding (a replayed binding is refused).
    pub binding: Hash32,
    /// The legal basis of a recovery without the old key's consent, if this binding was one.
    pub recovery: Option<crate::LegalBasis>,
    /// Earlier keys and the heights they were replaced at, oldest first (at most [`MAX_PREVIOUS_KEYS`]).
    pub previous: Vec<(PublicKey, u64)>,
}

/// Most earlier keys a subject-key record keeps.
pub const MAX_PREVIOUS_KEYS: usize = 16;

/// A change to the issuer registry.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum GovAction {
    /// Register a new issuer agency (or re-admit a removed one).
    AddIssuer(Issuer),
    /// Remove an issuer: nothing new is accepted from it; its attestations stay.
    RemoveIssuer {
        /// The agency.
        agency: AgencyId,
    },
    /// Replace the kinds an issuer may issue.
    SetKinds {
        /// The agency.
        agency: AgencyId,
        /// The new kinds.
        kinds: Vec<AttestationKind>,
    },
    /// Rotate an issuer's key.
    RotateKey {
        /// The agency.
        agency: AgencyId,
        /// The new key.
        key: PublicKey,
    },
    /// Add a validator (appended to the set); it votes from the block
    /// after the one that applies this (spec §9.6).
    AddValidator(crate::chain::Validator),
    /// Remove a validator; the indices of those after it shift down.
    RemoveValidator {
        /// The validator's agency.
        agency: AgencyId,
    },
    /// Change a validator's voting power (≥ 1).
    SetPower {
        /// The validator's agency.
        agency: AgencyId,
        /// The new power.
        power: u64,
    },
    /// Rotate a validator's consensus key (a compromised or retired key).
    RotateValidatorKey {
        /// The validator's agency.
        agency: AgencyId,
        /// The new key.
        key: PublicKey,
    },
}

impl GovAction {
    /// The key it registers, if any (issuer or validator, added or rotated):
    /// checked for admissibility before it enters a registry (spec §2.4).
    pub fn new_key(&self) -> Option<&PublicKey> {
        match self {
            GovAction::AddIssuer(i) => Some(&i.key),
            GovAction::AddValidator(v) => Some(&v.key),
            GovAction::RotateKey { key, .. } | GovAction::RotateValidatorKey { key, .. } => Some(key),
            GovAction::RemoveIssuer { .. }
            | GovAction::SetKinds { .. }
            | GovAction::RemoveValidator { .. }
            | GovAction::SetPower { .. } => None,
        }
    }

    /// The agency it changes.
    pub fn agency(&self) -> &AgencyId {
        match self {
            GovAction::AddIssuer(i) => &i.agency,
            GovAction::AddValidator(v) => &v.agency,
            GovAction::RemoveIssuer { agency }
            | GovAction::SetKinds { agency, .. }
            | GovAction::RotateKey { agency, .. }
            | GovAction::RemoveValidator { agency }
            | GovAction::SetPower { agency, .. }
            | GovAction::RotateValidatorKey { agency, .. } => agency,
        }
    }

    /// The validator set after this action applies to `set`, or `None` if
    /// the action is about issuers (spec §9.6). The result is checked
    /// (`ValidatorSet::check`): at least one validator, no zero power, no
    /// repeated agency or key.
    pub fn apply_to_set(
        &self,
        set: &crate::chain::ValidatorSet,
    ) -> Option<Result<crate::chain::ValidatorSet, ValidatorChangeError>> {
        let mut next = set.clone();
        let position = |agency: &AgencyId| {
            set.validators
                .iter()
                .position(|v| &v.agency == agency)
                .ok_or(ValidatorChangeError::NotAValidator(agency.clone()))
        };
        let changed = match self {
            GovAction::AddIssuer(_)
            | GovAction::RemoveIssuer { .. }
            | GovAction::SetKinds { .. }
            | GovAction::RotateKey { .. } => {
                return None;
            }
            GovAction::AddValidator(v) => {
                if set.validators.iter().any(|w| w.agency == v.agency) {
                    Err(ValidatorChangeError::AlreadyAValidator(v.agency.clone()))
                } else {
                    next.validators.push(v.clone());
                    Ok(())
                }
            }
            GovAction::RemoveValidator { agency } => position(agency).map(|i| {
                next.validators.remove(i);
            }),
            GovAction::SetPower { agency, power } => position(agency).and_then(|i| {
                if next.validators[i].power == *power {
                    return Err(ValidatorChangeError::Unchanged(agency.clone()));
                }
                next.validators[i].power = *power;
                Ok(())
            }),
            GovAction::RotateValidatorKey { agency, key } => position(agency).and_then(|i| {
                if next.validators[i].key == *key {
                    return Err(ValidatorChangeError::Unchanged(agency.clone()));
                }
                next.validators[i].key = *key;
                Ok(())
            }),
        };
        Some(changed.and_then(|()| next.check().map(|()| next).map_err(ValidatorChangeError::Set)))
    }
}

/// Why a validator-set change does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorChangeError {
    /// No validator of that agency.
    #[error("{0} is not a validator")]
    NotAValidator(AgencyId),
    /// The agency validates already.
    #[error("{0} is a validator already")]
    AlreadyAValidator(AgencyId),
    /// The change changes nothing.
    #[error("the change leaves validator {0} as it is")]
    Unchanged(AgencyId),
    /// The resulting set is not usable.
    #[error("the resulting validator set: {0}")]
    Set(crate::chain::ValidatorSetError),
}

/// A governance proposal, as validators sign it.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct GovProposal {
    /// The chain.
    pub chain_id: ChainId,
    /// The change.
    pub action: GovAction,
    /// 128 random bits (the same change can be proposed again later).
    #[serde(with = "hex::serde")]
    pub nonce: [u8; 16],
}

impl GovProposal {
    /// `H("credex/governance/v1", encode(proposal))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::GOVERNANCE, &credex_codec::encode(self))
    }
}

/// A governance proposal with its validator approvals.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct GovernanceTx {
    /// The proposal.
    pub proposal: GovProposal,
    /// Approvals (purpose `governance`, over the proposal hash), by increasing validator index.
    pub approvals: Vec<CommitSig>,
}

impl GovernanceTx {
    /// Adds (or replaces) validator `index`'s approval, keeping index order.
    pub fn approve(&mut self, index: u16, key: &SecretKey) {
        let signature = key.sign(Purpose::Governance, &self.proposal.hash().0);
        self.approvals.retain(|a| a.validator != index);
        self.approvals.push(CommitSig { validator: index, signature });
        self.approvals.sort_by_key(|a| a.validator);
    }
}

/// Why approvals do not authorize a proposal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// Not by increasing validator index, or repeated.
    #[error("approvals must be by strictly increasing validator index (at {0})")]
    Order(u16),
    /// Index outside the set.
    #[error("no validator {0}")]
    UnknownValidator(u16),
    /// A signature fails.
    #[error("approval of validator {0} does not verify")]
    BadSignature(u16),
    /// Not more than 2/3 of the power.
    #[error("approvals carry power {have} of {total}; more than two thirds is needed")]
    Insufficient {
        /// Approving power.
        have: u64,
        /// Total power.
        total: u64,
    },
}

/// Checks that `approvals` over `proposal` carry more than 2/3 of `set`'s
/// power, each under the admission rule (spec §2.4: approvals go on
/// chain), one at a time (governance is rare).
pub fn verify_approvals(set: &ValidatorSet, proposal: &Hash32, approvals: &[CommitSig]) -> Result<(), ApprovalError> {
    let mut prev: Option<u16> = None;
    let mut have = 0u64;
    for a in approvals {
        if prev.is_some_and(|p| p >= a.validator) {
            return Err(ApprovalError::Order(a.validator));
        }
        prev = Some(a.validator);
        let v = set.get(a.validator).ok_or(ApprovalError::UnknownValidator(a.validator))?;
        credex_crypto::admit(&v.key, Purpose::Governance, &proposal.0, &a.signature)
            .map_err(|_| ApprovalError::BadSignature(a.validator))?;
        have = have.saturating_add(v.power);
    }
    if set.is_quorum(have) { Ok(()) } else { Err(ApprovalError::Insufficient { have, total: set.total_power() }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttestationKind as K;

    #[test]
    fn every_case_transition_is_listed() {
        use CaseStatus as S;
        let allowed = [
            (CaseKind::Commitment, S::Pending, K::CreditCommitment, false, S::Accepted),
            (CaseKind::Commitment, S::Pending, K::CreditCommitmentRejection, false, S::Rejected),
            (CaseKind::Commitment, S::Accepted, K::CreditCommitmentFulfilled, false, S::Fulfilled),
            (CaseKind::Commitment, S::Accepted, K::CreditCommitmentBreached, false, S::Breached),
            (CaseKind::Repair, S::Pending, K::AbnormalOperationRemoval, false, S::Approved),
            (CaseKind::Repair, S::Pending, K::CreditRepairRejection, false, S::Rejected),
            (CaseKind::Objection, S::Pending, K::ObjectionRejection, false, S::Rejected),
            (CaseKind::Objection, S::Pending, K::AdministrativePenalty, true, S::Corrected),
            (CaseKind::Objection, S::Pending, K::Revocation, true, S::Revoked),
            (CaseKind::Objection, S::Pending, K::ErasureTombstone, true, S::Erased),
        ];
        let mut count = 0;
        for case in [CaseKind::Commitment, CaseKind::Repair, CaseKind::Objection] {
            for status in CaseStatus::ALL {
                for kind in AttestationKind::ALL {
                    for sup in [false, true] {
                        if let Some(to) = case.next(status, *kind, sup) {
                            count += 1;
                            let listed = allowed.iter().any(|(c, s, k, _, t)| {
                                *c == case
                                    && *s == status
                                    && *t == to
                                    && (k == kind || (to == S::Approved || to == S::Corrected))
                            });
                            assert!(listed, "{case:?} {status:?} {kind} {sup} -> {to:?}");
                        }
                    }
                }
            }
        }
        assert!(count >= allowed.len());
        // final states accept nothing
        for s in [S::Fulfilled, S::Breached, S::Approved, S::Rejected, S::Corrected, S::Revoked, S::Erased] {
            for kind in AttestationKind::ALL {
                assert_eq!(CaseKind::Commitment.next(s, *kind, true), None);
                assert_eq!(CaseKind::Repair.next(s, *kind, true), None);
                assert_eq!(CaseKind::Objection.next(s, *kind, true), None);
            }
        }
    }
}
