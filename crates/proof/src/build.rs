//! Assembling credit proofs (spec §8): the claim for an attestation, a
//! list standing or a case, from any holder of the state map and values
//! ([`ProofSource`]). The node and the test fixtures build their proofs
//! here, so there is one way a proof is put together.

use credex_crypto::{Hash32, Signature};
use credex_merkle::smt::SmtProof;
use credex_types::attestation::{Attestation, AttestationError, AttestationHeader, AttestationId};
use credex_types::lifecycle::CaseId;
use credex_types::state::{StateKey, StateValue};
use credex_types::{FieldCode, ListKind, SubjectId};

use crate::{Anchor, Claim, CreditProof, PROOF_VERSION};

/// Where a proof's claim comes from: the state values and their map.
pub trait ProofSource {
    /// The value under `key` ([`BuildError::Unreadable`] if the source
    /// cannot be read).
    fn value(&self, key: &StateKey) -> Result<Option<StateValue>, BuildError>;
    /// The map proof of `key` against the root the anchor commits to
    /// ([`BuildError::NoRoot`] if the map is not at a committed root).
    fn map_proof(&self, key: &StateKey) -> Result<SmtProof, BuildError>;
}

/// Why a claim cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The attestation is not anchored.
    #[error("attestation {0} is not anchored")]
    NotAnchored(AttestationId),
    /// No such case on chain.
    #[error("case {0} is not on chain")]
    NoCase(CaseId),
    /// The map is not at a committed root (nothing committed yet).
    #[error("no committed state to prove against")]
    NoRoot,
    /// A field to disclose is not in the attestation.
    #[error("{0}")]
    Disclose(AttestationError),
    /// The state could not be read (the node's own storage failed).
    #[error("the state could not be read: {0}")]
    Unreadable(String),
}

fn proof_of(src: &impl ProofSource, key: &StateKey) -> Result<SmtProof, BuildError> {
    src.map_proof(key)
}

fn attestation_record(
    src: &impl ProofSource,
    id: AttestationId,
) -> Result<(credex_types::state::AttestationRecord, SmtProof), BuildError> {
    let key = StateKey::Attestation(id);
    let Some(StateValue::Attestation(record)) = src.value(&key)? else {
        return Err(BuildError::NotAnchored(id));
    };
    Ok((record, proof_of(src, &key)?))
}

/// The claim of an anchored attestation with its fields, disclosing `disclose`.
pub fn attestation_claim(
    src: &impl ProofSource,
    attestation: &Attestation,
    disclose: &[FieldCode],
) -> Result<Claim, BuildError> {
    let (record, proof) = attestation_record(src, attestation.id())?;
    let attestation = attestation.disclose(disclose).map_err(BuildError::Disclose)?;
    Ok(Claim::Attestation { attestation, record, proof })
}

/// The claim of an anchored attestation without its fields: header, claims
/// root and signature as anchored.
pub fn status_claim(
    src: &impl ProofSource,
    header: AttestationHeader,
    claims_root: Hash32,
    signature: Signature,
) -> Result<Claim, BuildError> {
    let id = AttestationId::compute(&header, &claims_root);
    let (record, proof) = attestation_record(src, id)?;
    Ok(Claim::Status { header, claims_root, signature, record, proof })
}

/// The claim of `subject`'s standing on `list` (membership or non-membership).
pub fn list_claim(src: &impl ProofSource, list: ListKind, subject: &SubjectId) -> Result<Claim, BuildError> {
    let key = StateKey::Listing { list, subject: subject.clone() };
    let record = match src.value(&key)? {
        Some(StateValue::Listing(r)) => Some(r),
        _ => None,
    };
    Ok(Claim::ListStatus { list, subject: subject.clone(), record, proof: proof_of(src, &key)? })
}

/// The claim of `subject`'s standing on every list (one state proof).
pub fn standing_claim(src: &impl ProofSource, subject: &SubjectId) -> Result<Claim, BuildError> {
    let key = StateKey::Standing(subject.clone());
    let record = match src.value(&key)? {
        Some(StateValue::Standing(r)) => Some(r),
        _ => None,
    };
    Ok(Claim::Standing { subject: subject.clone(), record, proof: proof_of(src, &key)? })
}

/// The claim of case `case`.
pub fn case_claim(src: &impl ProofSource, case: CaseId) -> Result<Claim, BuildError> {
    let key = StateKey::Case(case);
    let Some(StateValue::Case(record)) = src.value(&key)? else {
        return Err(BuildError::NoCase(case));
    };
    Ok(Claim::Case { case, record, proof: proof_of(src, &key)? })
}

/// The proof of `claim` under `anchor`.
pub fn proof(claim: Claim, anchor: Anchor) -> CreditProof {
    CreditProof { version: PROOF_VERSION, claim, anchor }
}
