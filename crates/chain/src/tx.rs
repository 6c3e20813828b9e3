//! Transactions and blocks.

use credex_crypto::{Hash32, Signature, domain, hash};
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId};
use credex_types::chain::BlockHeader;

/// Largest encoded transaction accepted.
pub const MAX_TX_BYTES: usize = 16 * 1024;
/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 10_000;

/// What goes on chain for an attestation: its header, the claims root (the
/// field values stay with the issuer) and the issuer signature.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct AnchorTx {
    /// The attestation header.
    pub header: AttestationHeader,
    /// Root over the salted field commitments.
    pub claims_root: Hash32,
    /// Issuer signature over the id.
    pub signature: Signature,
}

impl AnchorTx {
    /// The anchor of a full attestation.
    pub fn of(att: &Attestation) -> AnchorTx {
        AnchorTx { header: att.header.clone(), claims_root: att.claims_root(), signature: att.signature }
    }

    /// The attestation id.
    pub fn id(&self) -> AttestationId {
        AttestationId::compute(&self.header, &self.claims_root)
    }
}

/// A chain transaction. Append-only enum.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Transaction {
    /// Anchor an attestation (listing changes, revocations and supersessions
    /// are attestations too).
    Anchor(AnchorTx),
    /// Record a validator's equivocation.
    Evidence(credex_types::chain::Evidence),
    /// Bind a subject's key (registrar and subject sign).
    SubjectKey(credex_types::lifecycle::SubjectKeyTx),
    /// A subject files a commitment, a repair application or an objection.
    SubjectAct(credex_types::lifecycle::SubjectActTx),
    /// Change the issuer registry with 2f+1 validator approvals.
    Governance(credex_types::lifecycle::GovernanceTx),
    /// A node anchors its audit-log head.
    AuditAnchor(credex_types::access::AuditAnchorTx),
    /// A registrar publishes a subject's registered name (spec §11.10).
    SubjectName(credex_types::lifecycle::SubjectNameTx),
}

impl Transaction {
    /// The id the mempool and APIs know the transaction by: the attestation
    /// id for an anchor, the case id for a subject act, the transaction hash
    /// otherwise.
    pub fn id(&self) -> AttestationId {
        match self {
            Transaction::Anchor(a) => a.id(),
            Transaction::SubjectAct(a) => AttestationId(a.act.case_id().0),
            Transaction::Evidence(_)
            | Transaction::SubjectKey(_)
            | Transaction::Governance(_)
            | Transaction::AuditAnchor(_)
            | Transaction::SubjectName(_) => AttestationId(self.hash()),
        }
    }

    /// Short name of the variant (logs, metrics).
    pub fn type_name(&self) -> &'static str {
        match self {
            Transaction::Anchor(_) => "anchor",
            Transaction::Evidence(_) => "evidence",
            Transaction::SubjectKey(_) => "subject-key",
            Transaction::SubjectAct(_) => "subject-act",
            Transaction::Governance(_) => "governance",
            Transaction::AuditAnchor(_) => "audit-anchor",
            Transaction::SubjectName(_) => "subject-name",
        }
    }

    /// `H("credex/tx/v1", encode(tx))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::TRANSACTION, &credex_codec::encode(self))
    }
}

/// RFC 6962 root over the transactions' hashes, in block order.
pub fn tx_root(txs: &[Transaction]) -> Hash32 {
    let hashes: Vec<Hash32> = txs.iter().map(Transaction::hash).collect();
    tx_root_of_hashes(&hashes)
}

/// [`tx_root`] from the transactions' hashes ([`Transaction::hash`]), in
/// block order: what a compact proposal is checked against (spec §10.7).
pub fn tx_root_of_hashes(hashes: &[Hash32]) -> Hash32 {
    let leaves: Vec<Hash32> = hashes.iter().map(|h| credex_merkle::tree::leaf_hash(&h.0)).collect();
    credex_merkle::tree::root(&leaves)
}

/// A block: header and transactions. Its certificate is stored beside it.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Block {
    /// Header.
    pub header: BlockHeader,
    /// Transactions, in execution order.
    pub txs: Vec<Transaction>,
}
