//! Blocks, votes, validator sets and commit certificates (spec §5).
//!
//! ```text
//! block id        = H("credex/block-header/v1", encode(header))
//! validators hash = H("credex/validator-set/v1", encode(set))
//! vote bytes      = encode(Vote { chain_id, height, round, kind, block })
//! vote signature  = Ed25519(validator, "credex-sig/vote/v1"-tagged vote bytes)
//! ```
//!
//! A commit certificate for header `h` is a round and a list of
//! `(validator index, signature)` in strictly increasing index order, each
//! signature a precommit for `Some(block id of h)` at `h.height` in that
//! round. It is valid for a validator set `V` iff `h.validators_hash` is
//! `V`'s hash, every signature verifies, and the signers' power `p`
//! satisfies `3p > 2·total` (i.e. at least 2f+1 of 3f+1 equal validators).
//! A repeated signer is an error, not a second vote.

use credex_crypto::{
    BatchItem, Hash32, PublicKey, Purpose, SigRule, Signature, SignatureError, domain, hash, verify_batch,
};

use crate::ids::{AgencyId, ChainId, Jurisdiction};
use crate::time::Timestamp;

/// Most validators a set may hold.
pub const MAX_VALIDATORS: usize = 1024;

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct BlockHeader {
    /// The chain.
    pub chain_id: ChainId,
    /// Hash of the genesis the chain started from (spec §7): two chains
    /// with the same id and keys still sign different headers.
    pub genesis: Hash32,
    /// Height, genesis block = 1.
    pub height: u64,
    /// Proposer's time, checked by validators against their clocks.
    pub time: Timestamp,
    /// Index of the proposer in the validator set.
    pub proposer: u16,
    /// Previous block id (zero at height 1).
    pub parent: Hash32,
    /// RFC 6962 root over the transactions' hashes.
    pub tx_root: Hash32,
    /// Sparse Merkle root of the state after this block.
    pub state_root: Hash32,
    /// Hash of the set that signs this block.
    pub validators_hash: Hash32,
    /// Hash of the set that signs the next block.
    pub next_validators_hash: Hash32,
}

impl BlockHeader {
    /// The block id.
    pub fn id(&self) -> Hash32 {
        hash(domain::BLOCK_HEADER, &credex_codec::encode(self))
    }
}

/// Prevote or precommit.
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
pub enum VoteKind {
    /// First voting step.
    Prevote,
    /// Second voting step; 2f+1 of them commit a block.
    Precommit,
}

/// A consensus vote; its canonical encoding is what validators sign.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Vote {
    /// The chain.
    pub chain_id: ChainId,
    /// Height voted on.
    pub height: u64,
    /// Round voted in.
    pub round: u32,
    /// Step.
    pub kind: VoteKind,
    /// Block id voted for, or nil.
    pub block: Option<Hash32>,
}

impl Vote {
    /// The bytes a validator signs (before the purpose tag).
    pub fn signing_bytes(&self) -> Vec<u8> {
        credex_codec::encode(self)
    }
}

/// Names in the three working languages.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Names {
    /// Chinese.
    pub zh: String,
    /// Russian.
    pub ru: String,
    /// English.
    pub en: String,
}

impl Names {
    /// The name in `lang`.
    pub fn get(&self, lang: crate::labels::Lang) -> &str {
        match lang {
            crate::labels::Lang::Zh => &self.zh,
            crate::labels::Lang::Ru => &self.ru,
            crate::labels::Lang::En => &self.en,
        }
    }
}

/// A member of a validator set.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Validator {
    /// Operating agency.
    pub agency: AgencyId,
    /// Display names.
    pub names: Names,
    /// Jurisdiction of the agency.
    pub jurisdiction: Jurisdiction,
    /// Consensus key.
    pub key: PublicKey,
    /// Voting power, ≥ 1.
    pub power: u64,
}

/// An ordered validator set; a validator's index is its position.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct ValidatorSet {
    /// Members.
    pub validators: Vec<Validator>,
}

/// Why a validator set is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators, or more than [`MAX_VALIDATORS`].
    #[error("a validator set needs 1 to {MAX_VALIDATORS} validators, got {0}")]
    Size(usize),
    /// Zero power.
    #[error("validator {0} has zero power")]
    ZeroPower(usize),
    /// Total power would overflow.
    #[error("total voting power overflows")]
    PowerOverflow,
    /// A key or agency listed twice.
    #[error("validator {0} repeats a key or agency of an earlier validator")]
    Duplicate(usize),
}

impl ValidatorSet {
    /// Checks size, powers and uniqueness.
    pub fn check(&self) -> Result<(), ValidatorSetError> {
        let n = self.validators.len();
        if n == 0 || n > MAX_VALIDATORS {
            return Err(ValidatorSetError::Size(n));
        }
        let mut total: u64 = 0;
        for (i, v) in self.validators.iter().enumerate() {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(i));
            }
            // Bounded so that 3·power never overflows in quorum arithmetic.
            total =
                total.checked_add(v.power).filter(|t| *t <= u64::MAX / 4).ok_or(ValidatorSetError::PowerOverflow)?;
            if self.validators[..i].iter().any(|w| w.key == v.key || w.agency == v.agency) {
                return Err(ValidatorSetError::Duplicate(i));
            }
        }
        Ok(())
    }

    /// `H("credex/validator-set/v1", encode(set))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::VALIDATOR_SET, &credex_codec::encode(self))
    }

    /// Sum of powers (saturating; a checked set never saturates).
    pub fn total_power(&self) -> u64 {
        self.validators.iter().fold(0u64, |a, v| a.saturating_add(v.power))
    }

    /// True if `power` is a commit quorum: `3·power > 2·total`.
    pub fn is_quorum(&self, power: u64) -> bool {
        u128::from(power) * 3 > u128::from(self.total_power()) * 2
    }

    /// The validator at `index`.
    pub fn get(&self, index: u16) -> Option<&Validator> {
        self.validators.get(usize::from(index))
    }
}

/// One validator's precommit signature in a certificate.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct CommitSig {
    /// Index in the validator set.
    pub validator: u16,
    /// Signature over the precommit.
    pub signature: Signature,
}

/// 2f+1 precommits for one block: the block's finality, checkable offline.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct CommitCertificate {
    /// Round in which the block was committed.
    pub round: u32,
    /// Signatures, strictly increasing by validator index.
    pub signatures: Vec<CommitSig>,
}

impl CommitCertificate {
    /// The certificate of `header` at `round` made of the precommits of
    /// `signers` (validator index and key, in increasing index order; spec
    /// §5.4): what a single validator signs for itself and what test
    /// fixtures sign for a whole set.
    pub fn signed(header: &BlockHeader, round: u32, signers: &[(u16, &credex_crypto::SecretKey)]) -> CommitCertificate {
        let vote = Vote {
            chain_id: header.chain_id.clone(),
            height: header.height,
            round,
            kind: VoteKind::Precommit,
            block: Some(header.id()),
        };
        let bytes = vote.signing_bytes();
        CommitCertificate {
            round,
            signatures: signers
                .iter()
                .map(|(validator, key)| CommitSig { validator: *validator, signature: key.sign(Purpose::Vote, &bytes) })
                .collect(),
        }
    }
}

/// Why a certificate does not commit a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The header names another validator set.
    #[error("header's validators hash is not the hash of the validator set in force")]
    WrongValidatorSet,
    /// Header chain id differs.
    #[error("header is for chain {found}, expected {expected}")]
    WrongChain {
        /// Expected chain.
        expected: String,
        /// Header's chain.
        found: String,
    },
    /// Indices not strictly increasing.
    #[error("signatures are not in strictly increasing validator order at validator {0}")]
    Unordered(u16),
    /// The same validator twice.
    #[error("validator {0} signs twice")]
    DuplicateSigner(u16),
    /// An index outside the set.
    #[error("validator index {0} is not in the set")]
    UnknownValidator(u16),
    /// A signature that does not verify.
    #[error("signature of validator {validator} does not verify: {error}")]
    BadSignature {
        /// Its index.
        validator: u16,
        /// Why.
        error: SignatureError,
    },
    /// Valid signatures, but not enough power.
    #[error("signers hold {signed} of {total} voting power; more than two thirds is needed")]
    InsufficientPower {
        /// Power that signed.
        signed: u64,
        /// Total power.
        total: u64,
    },
}

/// Verifies that `cert` commits `header` under `set` (see module docs).
/// Returns the signers' indices. The offline rule (`credex-ed25519-v1`,
/// batch-verified); a node taking a certificate from a peer uses
/// [`admit_commit`].
pub fn verify_commit(
    set: &ValidatorSet,
    header: &BlockHeader,
    cert: &CommitCertificate,
) -> Result<Vec<u16>, CertificateError> {
    let (msg, pairs) = commit_items(set, header, cert)?;
    let items: Vec<BatchItem<'_>> =
        pairs.iter().map(|(key, sig)| BatchItem { key, purpose: Purpose::Vote, msg: &msg, sig }).collect();
    verify_batch(&items).map_err(|e| match e {
        SignatureError::BatchMember { index, .. } => {
            let validator = cert.signatures.get(index).map_or(u16::MAX, |s| s.validator);
            let error = match cert.signatures.get(index).and_then(|s| set.get(s.validator).map(|v| (s, v))) {
                Some((s, v)) => credex_crypto::verify(&v.key, Purpose::Vote, &msg, &s.signature)
                    .err()
                    .unwrap_or(SignatureError::Invalid),
                None => SignatureError::Invalid,
            };
            CertificateError::BadSignature { validator, error }
        }
        error => CertificateError::BadSignature { validator: u16::MAX, error },
    })?;
    Ok(cert.signatures.iter().map(|s| s.validator).collect())
}

/// [`verify_commit`] under the admission rule (`credex-ed25519-admit-v1`,
/// spec §2.4), signature by signature: what a node stores and serves in
/// proofs verifies under stock Ed25519 libraries too.
pub fn admit_commit(
    set: &ValidatorSet,
    header: &BlockHeader,
    cert: &CommitCertificate,
) -> Result<Vec<u16>, CertificateError> {
    let (msg, _) = commit_items(set, header, cert)?;
    for s in &cert.signatures {
        let v = set.get(s.validator).ok_or(CertificateError::UnknownValidator(s.validator))?;
        credex_crypto::admit(&v.key, Purpose::Vote, &msg, &s.signature)
            .map_err(|error| CertificateError::BadSignature { validator: s.validator, error })?;
    }
    Ok(cert.signatures.iter().map(|s| s.validator).collect())
}

/// A signer's key and its signature in a certificate.
type Signer<'a> = (&'a PublicKey, &'a Signature);

/// The certificate's structure (set, order, duplicates, power) checked; the
/// precommit's signing bytes and each signer's key with its signature.
fn commit_items<'a>(
    set: &'a ValidatorSet,
    header: &BlockHeader,
    cert: &'a CommitCertificate,
) -> Result<(Vec<u8>, Vec<Signer<'a>>), CertificateError> {
    if header.validators_hash != set.hash() {
        return Err(CertificateError::WrongValidatorSet);
    }
    let vote = Vote {
        chain_id: header.chain_id.clone(),
        height: header.height,
        round: cert.round,
        kind: VoteKind::Precommit,
        block: Some(header.id()),
    };
    let msg = vote.signing_bytes();
    let mut prev: Option<u16> = None;
    let mut signed: u64 = 0;
    let mut items = Vec::with_capacity(cert.signatures.len());
    for s in &cert.signatures {
        match prev {
            Some(p) if p == s.validator => return Err(CertificateError::DuplicateSigner(s.validator)),
            Some(p) if p > s.validator => return Err(CertificateError::Unordered(s.validator)),
            _ => {}
        }
        prev = Some(s.validator);
        let v = set.get(s.validator).ok_or(CertificateError::UnknownValidator(s.validator))?;
        signed = signed.saturating_add(v.power);
        items.push((&v.key, &s.signature));
    }
    if !set.is_quorum(signed) {
        return Err(CertificateError::InsufficientPower { signed, total: set.total_power() });
    }
    Ok((msg, items))
}

/// A vote with its signer and signature, as gossiped.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// Signer's index in the validator set.
    pub validator: u16,
    /// Signature over the vote bytes, purpose `vote`.
    pub signature: Signature,
}

/// Two conflicting votes by one validator for the same height, round and
/// step: proof of equivocation, checkable with the validator set alone.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// The vote whose encoding sorts first.
    pub first: SignedVote,
    /// The other vote.
    pub second: SignedVote,
}

/// Why evidence does not prove equivocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The votes do not conflict (different signer, height, round, step, or the same block).
    #[error("votes do not conflict: {0}")]
    NotConflicting(&'static str),
    /// Another chain.
    #[error("evidence is for another chain")]
    WrongChain,
    /// Not in canonical order.
    #[error("votes must be in canonical (encoding) order")]
    Unordered,
    /// Signer not in the set.
    #[error("validator {0} is not in the set")]
    UnknownValidator(u16),
    /// A signature fails.
    #[error("a vote signature does not verify")]
    BadSignature,
}

impl Evidence {
    /// Evidence from two votes in either order.
    pub fn new(a: SignedVote, b: SignedVote) -> Evidence {
        if credex_codec::encode(&a) <= credex_codec::encode(&b) {
            Evidence { first: a, second: b }
        } else {
            Evidence { first: b, second: a }
        }
    }

    /// Checks the evidence against `set` on `chain` (offline rule); returns
    /// the equivocator's index.
    pub fn verify(&self, set: &ValidatorSet, chain: &ChainId) -> Result<u16, EvidenceError> {
        self.check(set, chain, credex_crypto::verify)
    }

    /// [`Evidence::verify`] under the admission rule (spec §2.4), for
    /// evidence that goes on chain.
    pub fn admit(&self, set: &ValidatorSet, chain: &ChainId) -> Result<u16, EvidenceError> {
        self.check(set, chain, credex_crypto::admit)
    }

    fn check(&self, set: &ValidatorSet, chain: &ChainId, rule: SigRule) -> Result<u16, EvidenceError> {
        let (a, b) = (&self.first, &self.second);
        if a.validator != b.validator {
            return Err(EvidenceError::NotConflicting("different validators"));
        }
        if a.vote.chain_id != *chain || b.vote.chain_id != *chain {
            return Err(EvidenceError::WrongChain);
        }
        if (a.vote.height, a.vote.round, a.vote.kind) != (b.vote.height, b.vote.round, b.vote.kind) {
            return Err(EvidenceError::NotConflicting("different height, round or step"));
        }
        if a.vote.block == b.vote.block {
            return Err(EvidenceError::NotConflicting("same block"));
        }
        if credex_codec::encode(a) >= credex_codec::encode(b) {
            return Err(EvidenceError::Unordered);
        }
        let v = set.get(a.validator).ok_or(EvidenceError::UnknownValidator(a.validator))?;
        for sv in [a, b] {
            rule(&v.key, Purpose::Vote, &sv.vote.signing_bytes(), &sv.signature)
                .map_err(|_| EvidenceError::BadSignature)?;
        }
        Ok(a.validator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credex_crypto::SecretKey;

    fn set(n: u8) -> (Vec<SecretKey>, ValidatorSet) {
        let keys: Vec<_> = (0..n).map(|i| SecretKey::from_seed([i + 1; 32])).collect();
        let validators = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Validator {
                agency: format!("agency-{i}").parse().unwrap(),
                names: Names { zh: "机构".into(), ru: "Агентство".into(), en: "Agency".into() },
                jurisdiction: "CN".parse().unwrap(),
                key: k.public(),
                power: 1,
            })
            .collect();
        (keys, ValidatorSet { validators })
    }

    fn header(set: &ValidatorSet) -> BlockHeader {
        BlockHeader {
            chain_id: "credex-test".parse().unwrap(),
            genesis: Hash32([9; 32]),
            height: 7,
            time: Timestamp(1),
            proposer: 0,
            parent: Hash32([1; 32]),
            tx_root: Hash32([2; 32]),
            state_root: Hash32([3; 32]),
            validators_hash: set.hash(),
            next_validators_hash: set.hash(),
        }
    }

    fn sign(keys: &[SecretKey], who: &[u16], h: &BlockHeader, round: u32) -> CommitCertificate {
        let vote = Vote {
            chain_id: h.chain_id.clone(),
            height: h.height,
            round,
            kind: VoteKind::Precommit,
            block: Some(h.id()),
        };
        CommitCertificate {
            round,
            signatures: who
                .iter()
                .map(|i| CommitSig {
                    validator: *i,
                    signature: keys[usize::from(*i)].sign(Purpose::Vote, &vote.signing_bytes()),
                })
                .collect(),
        }
    }

    #[test]
    fn quorum_is_more_than_two_thirds() {
        let (keys, vs) = set(4);
        let h = header(&vs);
        assert_eq!(verify_commit(&vs, &h, &sign(&keys, &[0, 1, 3], &h, 2)), Ok(vec![0, 1, 3]));
        assert_eq!(
            verify_commit(&vs, &h, &sign(&keys, &[0, 1], &h, 2)),
            Err(CertificateError::InsufficientPower { signed: 2, total: 4 })
        );
        assert!(vs.is_quorum(3) && !vs.is_quorum(2));
        let (_, seven) = set(7);
        assert!(seven.is_quorum(5) && !seven.is_quorum(4));
    }

    #[test]
    fn duplicates_order_and_unknown_are_refused() {
        let (keys, vs) = set(4);
        let h = header(&vs);
        assert_eq!(
            verify_commit(&vs, &h, &sign(&keys, &[0, 1, 1, 2], &h, 0)),
            Err(CertificateError::DuplicateSigner(1))
        );
        assert_eq!(verify_commit(&vs, &h, &sign(&keys, &[0, 2, 1], &h, 0)), Err(CertificateError::Unordered(1)));
        let mut c = sign(&keys, &[0, 1, 2], &h, 0);
        c.signatures.push(CommitSig { validator: 9, signature: c.signatures[0].signature });
        assert_eq!(verify_commit(&vs, &h, &c), Err(CertificateError::UnknownValidator(9)));
    }

    #[test]
    fn a_signature_for_another_round_or_block_fails() {
        let (keys, vs) = set(4);
        let h = header(&vs);
        let mut c = sign(&keys, &[0, 1, 2], &h, 0);
        c.round = 1;
        assert!(matches!(verify_commit(&vs, &h, &c), Err(CertificateError::BadSignature { validator: 0, .. })));
        let mut other = h.clone();
        other.state_root = Hash32([4; 32]);
        let c = sign(&keys, &[0, 1, 2], &h, 0);
        assert!(matches!(verify_commit(&vs, &other, &c), Err(CertificateError::BadSignature { .. })));
        // an extra, bad signature beyond the quorum still fails the certificate
        let mut c = sign(&keys, &[0, 1, 2, 3], &h, 0);
        c.signatures[3].signature.0[5] ^= 1;
        assert!(matches!(verify_commit(&vs, &h, &c), Err(CertificateError::BadSignature { validator: 3, .. })));
    }

    #[test]
    fn set_checks() {
        let (_, mut vs) = set(3);
        assert_eq!(vs.check(), Ok(()));
        vs.validators[2].key = vs.validators[0].key;
        assert_eq!(vs.check(), Err(ValidatorSetError::Duplicate(2)));
        let (_, mut vs) = set(2);
        vs.validators[1].power = 0;
        assert_eq!(vs.check(), Err(ValidatorSetError::ZeroPower(1)));
        assert_eq!(ValidatorSet { validators: vec![] }.check(), Err(ValidatorSetError::Size(0)));
    }

    #[test]
    fn evidence_of_equivocation() {
        let (keys, vs) = set(4);
        let chain: ChainId = "credex-test".parse().unwrap();
        let vote = |block: Option<Hash32>, round: u32| Vote {
            chain_id: chain.clone(),
            height: 9,
            round,
            kind: VoteKind::Precommit,
            block,
        };
        let signed = |v: Vote, i: u16| SignedVote {
            signature: keys[usize::from(i)].sign(Purpose::Vote, &v.signing_bytes()),
            vote: v,
            validator: i,
        };
        let a = signed(vote(Some(Hash32([1; 32])), 0), 2);
        let b = signed(vote(Some(Hash32([2; 32])), 0), 2);
        let e = Evidence::new(b.clone(), a.clone());
        assert_eq!(e.verify(&vs, &chain), Ok(2));
        assert_eq!(
            Evidence { first: e.second.clone(), second: e.first.clone() }.verify(&vs, &chain),
            Err(EvidenceError::Unordered)
        );
        assert!(matches!(
            Evidence::new(a.clone(), a.clone()).verify(&vs, &chain),
            Err(EvidenceError::NotConflicting(_))
        ));
        let other_round = signed(vote(Some(Hash32([2; 32])), 1), 2);
        assert!(matches!(
            Evidence::new(a.clone(), other_round).verify(&vs, &chain),
            Err(EvidenceError::NotConflicting(_))
        ));
        let by_other = signed(vote(Some(Hash32([2; 32])), 0), 1);
        assert!(matches!(
            Evidence::new(a.clone(), by_other).verify(&vs, &chain),
            Err(EvidenceError::NotConflicting(_))
        ));
        let mut forged = b.clone();
        forged.signature = keys[1].sign(Purpose::Vote, &forged.vote.signing_bytes());
        assert_eq!(Evidence::new(a, forged).verify(&vs, &chain), Err(EvidenceError::BadSignature));
    }
}
