//! The offline verifier (spec §8.3, steps cited inline).

use credex_crypto::{Hash32, Purpose};
use credex_merkle::smt::{self, SmtError};
use credex_types::attestation::{AttestationError, AttestationHeader, check_header};
use credex_types::chain::{CertificateError, Names, ValidatorSet, ValidatorSetError, verify_commit};
use credex_types::genesis::Genesis;
use credex_types::lifecycle::{CaseId, CaseKind, CaseStatus};
use credex_types::state::{AttestationRecord, AttestationStatus, StateKey, StateValue};
use credex_types::{
    AgencyId, AttestationId, AttestationKind, ChainId, FieldCode, Jurisdiction, ListKind, SubjectId, Timestamp,
};

use crate::{Claim, CreditProof, FormatError, PROOF_VERSION};

/// The maximum age of [`Policy::default`]: 90 days. A proof that old may
/// hide a revocation or a listing made since; the relying party asks for a
/// fresh one or turns the limit off knowingly (`--max-age none`).
pub const DEFAULT_MAX_AGE_MS: u64 = 90 * 86_400_000;

/// How far ahead of the verifier's clock a certified block's time may be
/// (spec §8.3 step 3): 5 minutes. Validators keep block times within 30 s
/// of their clocks (§10.5); the rest allows for a partner's clock.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60_000;

/// What the relying party requires beyond cryptographic validity. The
/// verdict names the policy it was reached under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// A proof whose block is older than this (milliseconds) is stale;
    /// `None`: no limit.
    pub max_age_ms: Option<u64>,
    /// Jurisdictions that must each have at least one signer in the certificate.
    pub required_jurisdictions: Vec<Jurisdiction>,
    /// If set, only attestations of these issuers are accepted.
    pub trusted_issuers: Option<Vec<AgencyId>>,
    /// Time-window check for list claims (spec §11.1): a subject not on the
    /// list is reported valid only if it also left the list (if ever) more
    /// than this many milliseconds before the anchor block, i.e. it was not
    /// listed at any time during `[block time − window, block time]`.
    pub clear_for_ms: Option<u64>,
}

impl Default for Policy {
    /// No requirement beyond validity, except freshness: [`DEFAULT_MAX_AGE_MS`].
    fn default() -> Self {
        Policy {
            max_age_ms: Some(DEFAULT_MAX_AGE_MS),
            required_jurisdictions: Vec::new(),
            trusted_issuers: None,
            clear_for_ms: None,
        }
    }
}

/// Why a proof is invalid. `code()` gives a stable machine-readable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Bytes or text are not a proof.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Unknown proof version.
    #[error("unsupported proof version {0}")]
    Version(u8),
    /// The genesis itself is unusable.
    #[error("genesis: {0}")]
    Genesis(ValidatorSetError),
    /// A header or attestation is for another chain.
    #[error("proof is for chain {found}, this genesis is for {expected}")]
    WrongChain {
        /// The genesis chain id.
        expected: ChainId,
        /// What the proof carries.
        found: ChainId,
    },
    /// A header names another genesis (the same chain id, another start).
    #[error("proof is for genesis {found}, not for this genesis {expected}")]
    WrongGenesis {
        /// This genesis's hash.
        expected: Hash32,
        /// What the header carries.
        found: Hash32,
    },
    /// The anchor block's time is ahead of the verifier's clock by more
    /// than [`MAX_CLOCK_SKEW_MS`].
    #[error("block time {block_time} is ahead of this verifier's clock ({now}) by more than 5 minutes")]
    FutureBlock {
        /// The header's time.
        block_time: Timestamp,
        /// The verifier's clock.
        now: Timestamp,
    },
    /// A validator-set change does not follow from the set before it.
    #[error("validator-set change {index}: {reason}")]
    SetChange {
        /// Position in `set_changes`.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The anchor block's certificate does not commit it.
    #[error("commit certificate: {0}")]
    Certificate(CertificateError),
    /// The attestation is malformed or its signature fails.
    #[error("attestation: {0}")]
    Attestation(AttestationError),
    /// The state proof does not match the header's state root.
    #[error("state proof: {0}")]
    StateProof(SmtError),
    /// The policy does not trust this issuer.
    #[error("issuer {0} is not trusted by the policy")]
    UntrustedIssuer(AgencyId),
    /// A required jurisdiction has no signer.
    #[error("no validator of jurisdiction {0} signed the block, as the policy requires")]
    MissingJurisdiction(Jurisdiction),
    /// The checkpoint given to the verifier does not follow from its genesis.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The proof's block is below the trusted checkpoint.
    #[error(
        "proof is anchored at height {height}, below the trusted checkpoint at {checkpoint}: ask for a fresh proof"
    )]
    BeforeCheckpoint {
        /// The proof's anchor height.
        height: u64,
        /// The checkpoint's height.
        checkpoint: u64,
    },
    /// A block at the checkpoint's height other than the checkpoint's.
    #[error("proof's block at height {0} is not the trusted checkpoint's block")]
    ConflictsCheckpoint(u64),
}

impl ProofError {
    /// Stable machine-readable code (used in vectors, JSON output and the API).
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::Format(_) => "malformed",
            ProofError::Version(_) => "unsupported-version",
            ProofError::Genesis(_) => "bad-genesis",
            ProofError::WrongChain { .. } => "wrong-chain",
            ProofError::WrongGenesis { .. } => "wrong-genesis",
            ProofError::FutureBlock { .. } => "block-in-future",
            ProofError::SetChange { .. } => "bad-validator-set-change",
            ProofError::Certificate(CertificateError::InsufficientPower { .. }) => "insufficient-signatures",
            ProofError::Certificate(CertificateError::DuplicateSigner(_)) => "duplicate-signer",
            ProofError::Certificate(_) => "bad-certificate",
            ProofError::Attestation(AttestationError::Signature(_)) => "bad-issuer-signature",
            ProofError::Attestation(_) => "bad-attestation",
            ProofError::StateProof(_) => "bad-state-proof",
            ProofError::UntrustedIssuer(_) => "untrusted-issuer",
            ProofError::MissingJurisdiction(_) => "missing-jurisdiction",
            ProofError::Checkpoint(_) => "bad-checkpoint",
            ProofError::BeforeCheckpoint { .. } => "before-checkpoint",
            ProofError::ConflictsCheckpoint(_) => "conflicts-checkpoint",
        }
    }
}

/// A validator that signed the anchor block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignerInfo {
    /// Agency.
    pub agency: AgencyId,
    /// Jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// Names.
    pub names: Names,
}

/// What a valid proof establishes, whatever its outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Facts {
    /// Chain.
    pub chain_id: ChainId,
    /// Anchor block height.
    pub height: u64,
    /// Anchor block time.
    pub block_time: Timestamp,
    /// The proof's age when verified: verifier's clock − block time
    /// (milliseconds; 0 for a block up to [`MAX_CLOCK_SKEW_MS`] ahead).
    pub age_ms: u64,
    /// Anchor block id.
    pub block_id: Hash32,
    /// Who signed the anchor block.
    pub signers: Vec<SignerInfo>,
    /// Validator-set changes followed (from genesis, or from the checkpoint).
    pub set_changes: usize,
    /// The height of the trusted checkpoint the proof was checked from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u64>,
    /// The subject.
    pub subject: SubjectId,
    /// For attestation claims: the attestation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationId>,
    /// For attestation claims: issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<AgencyId>,
    /// For attestation claims: kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<AttestationKind>,
    /// For attestation claims: when it takes effect (the issuer's decision
    /// date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_at: Option<Timestamp>,
    /// For attestation claims: when it lapses, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// For attestation claims: the disclosed fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disclosed: Vec<DisclosedField>,
    /// For list claims: the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<ListKind>,
    /// For list claims: when the subject last left the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_removed: Option<Timestamp>,
    /// For list claims: how many times the subject was listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times_listed: Option<u32>,
    /// For list claims with a time-window policy: the window start checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clear_since: Option<Timestamp>,
    /// For case claims: the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseFacts>,
    /// For standing claims: the subject on every list, in list order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<ListFacts>,
    /// The names (zh / ru / en) of the agencies these facts mention
    /// (issuer, listing and deciding agencies), as the genesis gives them.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub names: std::collections::BTreeMap<AgencyId, Names>,
}

/// A subject's standing on one list, as a standing proof shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListFacts {
    /// The list.
    pub list: ListKind,
    /// The listing in force, if any: since when, by which attestation and agency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed: Option<credex_types::state::Listing>,
    /// When the subject last left the list, if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_removed: Option<Timestamp>,
    /// How many times it was put on the list.
    pub times_listed: u32,
}

/// What a case proof establishes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseFacts {
    /// Case id.
    pub id: CaseId,
    /// Kind.
    pub kind: CaseKind,
    /// Status.
    pub status: CaseStatus,
    /// The deciding agency.
    pub agency: AgencyId,
    /// The contested or listing attestation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<AttestationId>,
    /// History: (height, status).
    pub history: Vec<(u64, CaseStatus)>,
}

/// A disclosed claim field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DisclosedField {
    /// Field code.
    pub code: FieldCode,
    /// Value as signed.
    pub value: String,
}

/// The result of a cryptographically valid proof.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Outcome {
    /// The attestation is in force, or the subject is not on the list.
    Valid,
    /// The subject is not on the list now, but was during the policy's
    /// time window.
    RecentlyListed {
        /// When it left the list.
        last_removed: Timestamp,
        /// The window start.
        window_start: Timestamp,
    },
    /// The subject is on the list.
    Listed {
        /// Effective time of the listing.
        since: Timestamp,
        /// The listing attestation.
        by: AttestationId,
        /// The listing agency.
        issuer: AgencyId,
    },
    /// The attestation was revoked.
    Revoked {
        /// Height of the revocation.
        height: u64,
        /// Time of the revocation.
        time: Timestamp,
    },
    /// The attestation was replaced.
    Superseded {
        /// The replacement.
        by: AttestationId,
        /// Height of the replacement.
        height: u64,
    },
    /// The attestation's content was erased.
    Erased {
        /// The tombstone.
        tombstone: AttestationId,
        /// Height of the erasure.
        height: u64,
    },
    /// The attestation's validity or publication window has ended.
    Expired {
        /// When it ended.
        at: Timestamp,
    },
    /// The proof is older than the policy allows; its status is not reported.
    Stale {
        /// Age of the anchor block, milliseconds.
        age_ms: u64,
        /// The policy's limit, milliseconds.
        max_age_ms: u64,
    },
}

impl Outcome {
    /// `valid`, `listed`, `revoked`, … as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Listed { .. } => "listed",
            Outcome::RecentlyListed { .. } => "recently-listed",
            Outcome::Revoked { .. } => "revoked",
            Outcome::Superseded { .. } => "superseded",
            Outcome::Erased { .. } => "erased",
            Outcome::Expired { .. } => "expired",
            Outcome::Stale { .. } => "stale",
        }
    }
}

/// Outcome plus the facts it rests on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// What the proof established.
    pub facts: Facts,
    /// The policy the outcome was reached under.
    pub policy: Policy,
}

fn fill_attestation(facts: &mut Facts, id: AttestationId, h: &AttestationHeader) {
    facts.attestation = Some(id);
    facts.issuer = Some(h.issuer.clone());
    facts.kind = Some(h.kind);
    facts.effective_at = Some(h.effective_at);
    facts.expires_at = h.expires_at;
}

/// Verifies credit proofs against one genesis and policy.
#[derive(Debug, Clone)]
pub struct Verifier {
    genesis: Genesis,
    genesis_hash: Hash32,
    genesis_set: ValidatorSet,
    policy: Policy,
    trusted: Option<Trusted>,
}

/// What a checkpoint fixes: its block, the set that signed it and the set
/// in force after it.
#[derive(Debug, Clone)]
struct Trusted {
    height: u64,
    block_id: Hash32,
    signing_set: ValidatorSet,
    next_set: ValidatorSet,
}

impl Verifier {
    /// A verifier trusting `genesis`, applying `policy`.
    pub fn new(genesis: Genesis, policy: Policy) -> Result<Self, ProofError> {
        let genesis_set = genesis.validator_set();
        genesis_set.check().map_err(ProofError::Genesis)?;
        Ok(Verifier { genesis_hash: genesis.hash(), genesis, genesis_set, policy, trusted: None })
    }

    /// This verifier, trusting `checkpoint` (spec §8.5): it must follow from
    /// the genesis (chain, genesis hash, certified set changes, certificate,
    /// next set); afterwards proofs are checked from the checkpoint's set.
    pub fn with_checkpoint(mut self, checkpoint: &crate::Checkpoint) -> Result<Self, ProofError> {
        let fail = |e: ProofError| ProofError::Checkpoint(e.to_string());
        if checkpoint.version != crate::CHECKPOINT_VERSION {
            return Err(ProofError::Checkpoint(format!("unsupported version {}", checkpoint.version)));
        }
        let a = &checkpoint.anchor;
        let (set, last) = self.follow(self.genesis_set.clone(), 0, &a.set_changes).map_err(fail)?;
        self.check_header_chain(&a.header).map_err(fail)?;
        if a.header.height <= last {
            return Err(ProofError::Checkpoint("header is not after its last set change".into()));
        }
        verify_commit(&set, &a.header, &a.certificate).map_err(|e| fail(ProofError::Certificate(e)))?;
        checkpoint.next_set.check().map_err(|e| ProofError::Checkpoint(format!("next set: {e}")))?;
        if checkpoint.next_set.hash() != a.header.next_validators_hash {
            return Err(ProofError::Checkpoint("next set does not match the header's next validators hash".into()));
        }
        self.trusted = Some(Trusted {
            height: a.header.height,
            block_id: a.header.id(),
            signing_set: set,
            next_set: checkpoint.next_set.clone(),
        });
        Ok(self)
    }

    /// Follows certified set changes from `set` in force after height
    /// `from`; changes at or below `from` are skipped (a checkpoint already
    /// covers them). The set reached and the height of the last change.
    fn follow(
        &self,
        mut set: ValidatorSet,
        from: u64,
        changes: &[crate::SetChange],
    ) -> Result<(ValidatorSet, u64), ProofError> {
        let mut last_change = from;
        for (index, ch) in changes.iter().enumerate() {
            if ch.header.height <= from {
                continue;
            }
            let fail = |reason: String| ProofError::SetChange { index, reason };
            self.check_header_chain(&ch.header)?;
            if ch.header.height <= last_change {
                return Err(fail("heights must increase".into()));
            }
            verify_commit(&set, &ch.header, &ch.certificate).map_err(|e| fail(e.to_string()))?;
            ch.next_set.check().map_err(|e| fail(e.to_string()))?;
            let next_hash = ch.next_set.hash();
            if ch.header.next_validators_hash != next_hash {
                return Err(fail("header's next validators hash does not match the new set".into()));
            }
            if next_hash == set.hash() {
                return Err(fail("the set does not change".into()));
            }
            set = ch.next_set.clone();
            last_change = ch.header.height;
        }
        Ok((set, last_change))
    }

    /// Decodes (text or bytes) and verifies.
    pub fn verify_any(&self, data: &[u8], now: Timestamp) -> Result<Verdict, ProofError> {
        self.verify(&CreditProof::from_any(data)?, now)
    }

    fn check_chain(&self, found: &ChainId) -> Result<(), ProofError> {
        if *found == self.genesis.chain_id {
            Ok(())
        } else {
            Err(ProofError::WrongChain { expected: self.genesis.chain_id.clone(), found: found.clone() })
        }
    }

    /// A block header's chain: its id, then its genesis hash.
    fn check_header_chain(&self, h: &credex_types::BlockHeader) -> Result<(), ProofError> {
        self.check_chain(&h.chain_id)?;
        if h.genesis == self.genesis_hash {
            Ok(())
        } else {
            Err(ProofError::WrongGenesis { expected: self.genesis_hash, found: h.genesis })
        }
    }

    /// Steps shared by attestation and status claims: chain, state proof,
    /// issuer signature (under the key the record says was checked at
    /// anchoring), policy, and the outcome the status gives.
    #[allow(clippy::too_many_arguments)]
    fn anchored(
        &self,
        h: &AttestationHeader,
        id: AttestationId,
        record: &AttestationRecord,
        smt_proof: &credex_merkle::smt::SmtProof,
        root: &Hash32,
        now: Timestamp,
        verify_sig: impl FnOnce(&credex_crypto::PublicKey) -> Result<(), AttestationError>,
    ) -> Result<Outcome, ProofError> {
        self.check_chain(&h.chain_id)?;
        let key = StateKey::Attestation(id).hash();
        let value = StateValue::Attestation(record.clone()).hash();
        smt::verify(root, &key, Some(&value), smt_proof).map_err(ProofError::StateProof)?;
        verify_sig(&record.issuer_key).map_err(ProofError::Attestation)?;
        if self.policy.trusted_issuers.as_ref().is_some_and(|t| !t.contains(&h.issuer)) {
            return Err(ProofError::UntrustedIssuer(h.issuer.clone()));
        }
        Ok(match &record.status {
            AttestationStatus::Active => match h.expires_at {
                Some(at) if at <= now => Outcome::Expired { at },
                _ => Outcome::Valid,
            },
            AttestationStatus::Revoked { height, time } => Outcome::Revoked { height: *height, time: *time },
            AttestationStatus::Superseded { by, height, .. } => Outcome::Superseded { by: *by, height: *height },
            AttestationStatus::Erased { tombstone, height, .. } => {
                Outcome::Erased { tombstone: *tombstone, height: *height }
            }
        })
    }

    /// Verifies `proof` as of `now` (spec §8.3).
    pub fn verify(&self, proof: &CreditProof, now: Timestamp) -> Result<Verdict, ProofError> {
        // 1. version
        if proof.version != PROOF_VERSION {
            return Err(ProofError::Version(proof.version));
        }
        let anchor = &proof.anchor;
        let header = &anchor.header;
        // 2. follow validator-set changes from genesis, or from the
        //    trusted checkpoint (§8.5): nothing below it is accepted
        let (set, last_change) = match &self.trusted {
            Some(t) if header.height < t.height => {
                return Err(ProofError::BeforeCheckpoint { height: header.height, checkpoint: t.height });
            }
            Some(t) if header.height == t.height => {
                self.check_header_chain(header)?;
                if header.id() != t.block_id {
                    return Err(ProofError::ConflictsCheckpoint(header.height));
                }
                (t.signing_set.clone(), t.height.saturating_sub(1))
            }
            Some(t) => self.follow(t.next_set.clone(), t.height, &anchor.set_changes)?,
            None => self.follow(self.genesis_set.clone(), 0, &anchor.set_changes)?,
        };
        // 3. the anchor header and its certificate
        self.check_header_chain(header)?;
        if header.height <= last_change {
            return Err(ProofError::SetChange {
                index: anchor.set_changes.len(),
                reason: "anchor block is not after the last set change".into(),
            });
        }
        let signer_idx = verify_commit(&set, header, &anchor.certificate).map_err(ProofError::Certificate)?;
        // a certified time the verifier's clock has not reached: a wrong
        // clock on one side, or validators that signed a time to come
        if header.time.0 > now.0.saturating_add(MAX_CLOCK_SKEW_MS) {
            return Err(ProofError::FutureBlock { block_time: header.time, now });
        }
        let signers: Vec<SignerInfo> = signer_idx
            .iter()
            .filter_map(|i| set.get(*i))
            .map(|v| SignerInfo { agency: v.agency.clone(), jurisdiction: v.jurisdiction, names: v.names.clone() })
            .collect();
        // 4. policy: required jurisdictions among the signers
        if let Some(j) =
            self.policy.required_jurisdictions.iter().find(|j| !signers.iter().any(|s| s.jurisdiction == **j))
        {
            return Err(ProofError::MissingJurisdiction(*j));
        }
        let mut facts = Facts {
            chain_id: header.chain_id.clone(),
            height: header.height,
            block_time: header.time,
            age_ms: now.since(header.time),
            block_id: header.id(),
            signers,
            set_changes: anchor
                .set_changes
                .iter()
                .filter(|c| self.trusted.as_ref().is_none_or(|t| c.header.height > t.height))
                .count(),
            checkpoint: self.trusted.as_ref().map(|t| t.height),
            subject: match &proof.claim {
                Claim::Attestation { attestation, .. } => attestation.header.subject.clone(),
                Claim::ListStatus { subject, .. } => subject.clone(),
                Claim::Case { record, .. } => record.subject.clone(),
                Claim::Standing { subject, .. } => subject.clone(),
                Claim::Status { header, .. } => header.subject.clone(),
            },
            attestation: None,
            issuer: None,
            kind: None,
            effective_at: None,
            expires_at: None,
            disclosed: Vec::new(),
            list: None,
            last_removed: None,
            times_listed: None,
            clear_since: None,
            case: None,
            lists: Vec::new(),
            names: std::collections::BTreeMap::new(),
        };
        // 5. the claim against the state root
        let status_outcome = match &proof.claim {
            Claim::Attestation { attestation, record, proof: smt_proof } => {
                let id = attestation.id().map_err(ProofError::Attestation)?;
                let h = &attestation.header;
                let outcome = self.anchored(h, id, record, smt_proof, &header.state_root, now, |key| {
                    attestation.verify_signature(key).map(|_| ())
                })?;
                facts.disclosed = attestation
                    .disclosed()
                    .map(|f| DisclosedField { code: f.code.clone(), value: f.value.clone() })
                    .collect();
                fill_attestation(&mut facts, id, h);
                outcome
            }
            Claim::Status { header: h, claims_root, signature, record, proof: smt_proof } => {
                check_header(h).map_err(ProofError::Attestation)?;
                let id = AttestationId::compute(h, claims_root);
                let outcome = self.anchored(h, id, record, smt_proof, &header.state_root, now, |key| {
                    credex_crypto::verify(key, Purpose::Attestation, &id.0.0, signature)
                        .map_err(AttestationError::Signature)
                })?;
                fill_attestation(&mut facts, id, h);
                outcome
            }
            Claim::ListStatus { list, subject, record, proof: smt_proof } => {
                let key = StateKey::Listing { list: *list, subject: subject.clone() }.hash();
                let value = record.as_ref().map(|r| StateValue::Listing(r.clone()).hash());
                smt::verify(&header.state_root, &key, value.as_ref(), smt_proof).map_err(ProofError::StateProof)?;
                facts.list = Some(*list);
                facts.last_removed = record.as_ref().and_then(|r| r.last_removed);
                facts.times_listed = Some(record.as_ref().map_or(0, |r| r.times_listed));
                let window_start = self.policy.clear_for_ms.map(|w| Timestamp(header.time.0.saturating_sub(w)));
                facts.clear_since = window_start;
                match (record.as_ref().and_then(|r| r.current.as_ref()), facts.last_removed, window_start) {
                    (Some(l), _, _) => Outcome::Listed { since: l.since, by: l.by, issuer: l.issuer.clone() },
                    (None, Some(last_removed), Some(window_start)) if last_removed >= window_start => {
                        Outcome::RecentlyListed { last_removed, window_start }
                    }
                    (None, _, _) => Outcome::Valid,
                }
            }
            Claim::Standing { subject, record, proof: smt_proof } => {
                let key = StateKey::Standing(subject.clone()).hash();
                let value = record.as_ref().map(|r| StateValue::Standing(r.clone()).hash());
                smt::verify(&header.state_root, &key, value.as_ref(), smt_proof).map_err(ProofError::StateProof)?;
                let window_start = self.policy.clear_for_ms.map(|w| Timestamp(header.time.0.saturating_sub(w)));
                facts.clear_since = window_start;
                facts.lists = ListKind::ALL
                    .iter()
                    .map(|list| {
                        let r = record.as_ref().and_then(|r| r.on(*list));
                        ListFacts {
                            list: *list,
                            listed: r.and_then(|r| r.current.clone()),
                            last_removed: r.and_then(|r| r.last_removed),
                            times_listed: r.map_or(0, |r| r.times_listed),
                        }
                    })
                    .collect();
                // the first list in list order that holds the subject decides
                let listed = facts.lists.iter().find_map(|l| l.listed.as_ref().map(|c| (l.list, c)));
                let recent = facts
                    .lists
                    .iter()
                    .filter_map(|l| l.last_removed.map(|r| (l.list, r)))
                    .find(|(_, r)| window_start.is_some_and(|w| *r >= w));
                match (listed, recent, window_start) {
                    (Some((list, l)), _, _) => {
                        facts.list = Some(list);
                        Outcome::Listed { since: l.since, by: l.by, issuer: l.issuer.clone() }
                    }
                    (None, Some((list, last_removed)), Some(window_start)) => {
                        facts.list = Some(list);
                        facts.last_removed = Some(last_removed);
                        Outcome::RecentlyListed { last_removed, window_start }
                    }
                    _ => Outcome::Valid,
                }
            }
            Claim::Case { case, record, proof: smt_proof } => {
                let key = StateKey::Case(*case).hash();
                let value = StateValue::Case(record.clone()).hash();
                smt::verify(&header.state_root, &key, Some(&value), smt_proof).map_err(ProofError::StateProof)?;
                facts.case = Some(CaseFacts {
                    id: *case,
                    kind: record.kind,
                    status: record.status,
                    agency: record.agency.clone(),
                    target: record.target,
                    history: record.history.iter().map(|e| (e.height, e.status)).collect(),
                });
                Outcome::Valid
            }
        };
        // 6. freshness last: a stale proof reports no status
        let outcome = match self.policy.max_age_ms {
            Some(max_age_ms) if now.since(header.time) > max_age_ms => {
                Outcome::Stale { age_ms: now.since(header.time), max_age_ms }
            }
            _ => status_outcome,
        };
        // names of the agencies mentioned, from the genesis (an agency added
        // later by governance is shown by its id)
        let mut mentioned: Vec<&AgencyId> = facts.issuer.iter().collect();
        mentioned.extend(facts.lists.iter().filter_map(|l| l.listed.as_ref().map(|c| &c.issuer)));
        mentioned.extend(facts.case.iter().map(|c| &c.agency));
        if let Outcome::Listed { issuer, .. } = &outcome {
            mentioned.push(issuer);
        }
        let names = mentioned
            .into_iter()
            .filter_map(|a| self.genesis.issuer(a).map(|i| (a.clone(), i.names.clone())))
            .collect();
        facts.names = names;
        Ok(Verdict { outcome, facts, policy: self.policy.clone() })
    }
}
