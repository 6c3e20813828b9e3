//! What the API reads from the node beyond the chain state: the indexes,
//! blocks and audit log in storage, and the read policies (publication
//! windows, spec §11.1; block redaction, spec §12.2). The API talks to the node only through these and
//! the state queries of [`Node`]; it never sees the store.

use credex_chain::Block;
use credex_crypto::Hash32;
use credex_storage::StoreError;
use credex_types::access::{AuditEntry, Role};
use credex_types::attestation::{AttestationHeader, AttestationId};
use credex_types::chain::CommitCertificate;
use credex_types::lifecycle::{CaseId, CaseRecord};
use credex_types::state::AttestationRecord;
use credex_types::{AgencyId, SubjectId};

use crate::service::Node;

/// An attestation as a subject's profile shows it.
#[derive(Debug, Clone)]
pub struct ProfileEntry {
    /// Its id.
    pub id: AttestationId,
    /// The block that anchored it.
    pub height: u64,
    /// Its header.
    pub header: AttestationHeader,
    /// Its on-chain record (status).
    pub record: AttestationRecord,
}

/// A block as one caller may see it ([`Node::block_view`]).
#[derive(Debug, Clone)]
pub struct BlockView {
    /// The block.
    pub block: Block,
    /// Its certificate.
    pub certificate: CommitCertificate,
    /// Whether the transactions may be shown whole.
    pub whole: bool,
}

impl Node {
    /// The subject's anchored attestations in the order anchored, without
    /// penalties whose publication window has ended (spec §11.1), and how
    /// many were left out for that reason.
    pub fn profile_attestations(&self, subject: &SubjectId) -> Result<(Vec<ProfileEntry>, usize), StoreError> {
        let now = self.now();
        let mut withheld = 0usize;
        let mut out = Vec::new();
        for (id, height) in self.store().by_subject(subject)? {
            let (Some(header), Some(record)) = (self.anchored_header(&id)?, self.record(&id)?) else { continue };
            if header.kind.publication_window().is_some() && header.expires_at.is_some_and(|e| e <= now) {
                withheld += 1;
                continue;
            }
            out.push(ProfileEntry { id, height, header, record });
        }
        Ok((out, withheld))
    }

    /// The subject's cases (commitments, repair applications, objections).
    pub fn cases_of(&self, subject: &SubjectId) -> Result<Vec<(CaseId, CaseRecord)>, StoreError> {
        let mut out = Vec::new();
        for (id, _) in self.store().cases_of(subject)? {
            if let Some(c) = self.case(&id)? {
                out.push((id, c));
            }
        }
        Ok(out)
    }

    /// The risk list: each subject with the codes of the rules it meets.
    pub fn risk_list(&self) -> Result<Vec<(SubjectId, Vec<String>)>, StoreError> {
        self.store()
            .risk_list()?
            .into_iter()
            .map(|(subject, rules)| {
                let rules = serde_json::from_slice(&rules)
                    .map_err(|e| StoreError::CorruptJson { what: "risk-list entry", error: e.to_string() })?;
                Ok((subject, rules))
            })
            .collect()
    }

    /// Whether this node holds the fields (raw record) of `id`.
    pub fn holds_fields(&self, id: &AttestationId) -> Result<bool, StoreError> {
        Ok(self.store().raw(id)?.is_some())
    }

    /// A committed block and its certificate.
    pub fn block(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, StoreError> {
        match (self.store().block(height)?, self.store().certificate(height)?) {
            (Some(b), Some(c)) => Ok(Some((b, c))),
            _ => Ok(None),
        }
    }

    /// Block `height` as a caller of `role` may see it (spec §12.2):
    /// transactions name subjects, so without a role (the public) they are
    /// reduced to type, hash and id; the header, state root and certificate
    /// are enough to check the chain.
    pub fn block_view(&self, height: u64, role: Role) -> Result<Option<BlockView>, StoreError> {
        Ok(self.block(height)?.map(|(block, certificate)| BlockView {
            block,
            certificate,
            whole: role != Role::Public,
        }))
    }

    /// The audit log's length and head hash.
    pub fn audit_head(&self) -> Result<(u64, Hash32), StoreError> {
        self.store().audit_head()
    }

    /// Audit entries from `from`, at most `limit`.
    pub fn audit_entries(&self, from: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.store().audit_entries(from, limit)
    }

    /// Audit entries about `subject`, newest first, below `before`.
    pub fn audit_of(
        &self,
        subject: &SubjectId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.store().audit_of(subject, before, limit)
    }

    /// The audit heads `agency` anchored on chain: (sequence, head, height).
    pub fn audit_anchors(&self, agency: &AgencyId) -> Result<Vec<(u64, Hash32, u64)>, StoreError> {
        self.store().audit_anchors(agency)
    }

    /// Erasures whose record key is not yet destroyed.
    pub fn pending_purges(&self) -> Result<usize, StoreError> {
        self.store().pending_purges()
    }

    /// Destroys the keys of pending erasures; how many are still left.
    pub fn retry_purges(&self) -> Result<usize, StoreError> {
        self.store().retry_purges()
    }
}
