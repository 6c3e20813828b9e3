//! Credit proofs of the committed state (spec §8), assembled by
//! `credex_proof::build` from the state and its map.

use super::*;
use credex_proof::SetChange;

/// Why a proof cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// No such attestation on chain.
    #[error("attestation {0} is not anchored")]
    NotAnchored(AttestationId),
    /// Anchored, but this node does not hold its fields.
    #[error("this node does not hold the fields of attestation {0}; ask the issuer's node")]
    NoRawRecord(AttestationId),
    /// A field to disclose is absent.
    #[error("{0}")]
    Disclose(AttestationError),
    /// Nothing committed yet.
    #[error("no block committed yet")]
    NoBlock,
    /// No such case.
    #[error("case {0} is not on chain")]
    NoCase(CaseId),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The state could not be read.
    #[error("{0}")]
    Unreadable(String),
}

impl From<build::BuildError> for ProofError {
    fn from(e: build::BuildError) -> ProofError {
        match e {
            build::BuildError::NotAnchored(id) => ProofError::NotAnchored(id),
            build::BuildError::NoCase(id) => ProofError::NoCase(id),
            build::BuildError::NoRoot => ProofError::NoBlock,
            build::BuildError::Disclose(e) => ProofError::Disclose(e),
            build::BuildError::Unreadable(e) => ProofError::Unreadable(e),
        }
    }
}

/// Proofs are built from the committed state and its map on disk
/// ([`build`]), read under the chain lock, so no commit interleaves.
impl build::ProofSource for Chain {
    fn value(&self, key: &StateKey) -> Result<Option<StateValue>, build::BuildError> {
        self.store.state(key).map_err(|e| build::BuildError::Unreadable(e.to_string()))
    }

    fn map_proof(&self, key: &StateKey) -> Result<credex_merkle::smt::SmtProof, build::BuildError> {
        self.store.state_proof(key).map_err(|e| build::BuildError::Unreadable(e.to_string()))
    }
}

impl Node {
    /// A credit proof of case `id`.
    pub fn case_proof(&self, id: &CaseId) -> Result<CreditProof, ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = build::case_claim(&*chain, *id)?;
        Ok(build::proof(claim, self.anchor_of(&chain)?))
    }

    /// A checkpoint (spec §8.5) at the head: its header and certificate,
    /// the set changes before it, and the set in force after it — what a
    /// partner adds to its genesis so that retired keys no longer count.
    pub fn checkpoint(&self) -> Result<credex_proof::Checkpoint, ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let anchor = self.anchor_of(&chain)?;
        let next_set = chain.validators.clone();
        Ok(credex_proof::Checkpoint { version: credex_proof::CHECKPOINT_VERSION, anchor, next_set })
    }

    /// The anchor proofs are made against: the head header and its
    /// certificate, after the chain of validator-set changes from genesis
    /// (each changing block with its certificate by the set then in force,
    /// and the set it hands over to; spec §8.2) that an offline verifier
    /// follows from the genesis keys.
    pub(super) fn anchor_of(&self, chain: &Chain) -> Result<Anchor, ProofError> {
        let (header, certificate) = chain.head.clone().ok_or(ProofError::NoBlock)?;
        let mut set_changes = Vec::new();
        for (height, next_set) in self.store.set_changes_below(header.height)? {
            let (Some(block), Some(cert)) = (self.store.block(height)?, self.store.certificate(height)?) else {
                return Err(ProofError::Store(StoreError::Corrupt {
                    what: "set change block",
                    error: credex_codec::CodecError::Malformed(format!("block {height} missing")),
                }));
            };
            set_changes.push(SetChange { header: block.header, certificate: cert, next_set });
        }
        Ok(Anchor { set_changes, header, certificate })
    }

    /// A credit proof for attestation `id`, disclosing `disclose`. Without
    /// the fields (erased, or held by another node) and with nothing to
    /// disclose, a status proof: header, claims root, signature and status.
    pub fn attestation_proof(&self, id: &AttestationId, disclose: &[FieldCode]) -> Result<CreditProof, ProofError> {
        let raw = self.store.raw(id)?;
        let anchored = self.store.anchor(id)?;
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = match (raw, anchored) {
            (Some(raw), _) => build::attestation_claim(&*chain, &raw, disclose)?,
            (None, Some((_, a))) if disclose.is_empty() => {
                build::status_claim(&*chain, a.header, a.claims_root, a.signature)?
            }
            (None, Some(_)) => return Err(ProofError::NoRawRecord(*id)),
            (None, None) => return Err(ProofError::NotAnchored(*id)),
        };
        Ok(build::proof(claim, self.anchor_of(&chain)?))
    }

    /// A credit proof of `subject`'s standing on every list at once (one
    /// state proof of its `Standing` leaf).
    pub fn standing_proof(&self, subject: &SubjectId) -> Result<CreditProof, ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = build::standing_claim(&*chain, subject)?;
        Ok(build::proof(claim, self.anchor_of(&chain)?))
    }

    /// Every subject of `subjects` on every list at the head, at one height:
    /// the shared anchor and one standing claim each (spec §8.7; a bulk
    /// check for platforms). One read of the state, so all claims are
    /// against the anchor's state root.
    pub fn standing_batch(&self, subjects: &[SubjectId]) -> Result<(Anchor, Vec<Claim>), ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let anchor = self.anchor_of(&chain)?;
        let claims = subjects.iter().map(|s| build::standing_claim(&*chain, s)).collect::<Result<Vec<_>, _>>()?;
        Ok((anchor, claims))
    }

    /// A credit proof of `subject`'s standing on `list`.
    pub fn listing_proof(&self, list: ListKind, subject: &SubjectId) -> Result<CreditProof, ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = build::list_claim(&*chain, list, subject)?;
        Ok(build::proof(claim, self.anchor_of(&chain)?))
    }
}
