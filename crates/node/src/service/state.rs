//! Queries over the committed chain state (records, cases, keys, issuers,
//! lists), answered from memory under the read lock.

use super::*;

impl Node {
    /// The on-chain record of `id`.
    pub fn record(&self, id: &AttestationId) -> Result<Option<AttestationRecord>, StoreError> {
        Ok(match self.state_value(&StateKey::Attestation(*id))? {
            Some(StateValue::Attestation(r)) => Some(r),
            _ => None,
        })
    }

    /// The anchored header of `id` (read from the store: headers are not
    /// kept in memory).
    pub fn anchored_header(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StoreError> {
        Ok(self.store.anchor(id)?.map(|(_, tx)| tx.header))
    }

    /// The committed state value under `key` (read under the chain lock:
    /// never half a commit).
    pub fn state_value(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        self.chain.read().unwrap_or_else(lock_err).store.state(key)
    }

    /// A case.
    pub fn case(&self, id: &CaseId) -> Result<Option<CaseRecord>, StoreError> {
        Ok(match self.state_value(&StateKey::Case(*id))? {
            Some(StateValue::Case(c)) => Some(c),
            _ => None,
        })
    }

    /// A subject's bound key.
    pub fn subject_key(&self, subject: &SubjectId) -> Result<Option<SubjectKeyRecord>, StoreError> {
        Ok(match self.state_value(&StateKey::SubjectKey(subject.clone()))? {
            Some(StateValue::SubjectKey(k)) => Some(k),
            _ => None,
        })
    }

    /// The registered name of `subject` (spec §11.10), if its registrar published one.
    pub fn subject_name(
        &self,
        subject: &SubjectId,
    ) -> Result<Option<credex_types::lifecycle::SubjectNameRecord>, StoreError> {
        Ok(match self.state_value(&StateKey::SubjectName(subject.clone()))? {
            Some(StateValue::SubjectName(n)) => Some(n),
            _ => None,
        })
    }

    /// The registry entry of `agency` (state, else genesis).
    pub fn issuer(&self, agency: &AgencyId) -> Result<Option<IssuerRecord>, StoreError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        credex_chain::issuer(self.state_of(&chain), &self.genesis, agency).map_err(StoreError::State)
    }

    /// The whole issuer registry: genesis issuers and those governance added.
    pub fn issuers(&self) -> Result<Vec<(AgencyId, IssuerRecord)>, StoreError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let mut ids: BTreeSet<AgencyId> = self.genesis.issuers.iter().map(|i| i.agency.clone()).collect();
        ids.extend(chain.store.governed_issuers()?);
        let mut out = Vec::new();
        for a in ids {
            if let Some(r) =
                credex_chain::issuer(self.state_of(&chain), &self.genesis, &a).map_err(StoreError::State)?
            {
                out.push((a, r));
            }
        }
        Ok(out)
    }

    /// What the chain knows about `subject`, as the grading and warning rules read it.
    pub fn subject_record(&self, subject: &SubjectId) -> Result<credex_rules::Record, StoreError> {
        let ids = self.store.by_subject(subject)?;
        let cases = self.store.cases_of(subject)?;
        let mut headers = Vec::with_capacity(ids.len());
        for (id, _) in &ids {
            if let Some(h) = self.anchored_header(id)? {
                headers.push((*id, h));
            }
        }
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let mut attestations = Vec::new();
        for (id, header) in headers {
            if let Some(StateValue::Attestation(r)) = chain.store.state(&StateKey::Attestation(id))? {
                attestations.push(credex_rules::Entry { header, status: r.status });
            }
        }
        let mut listings = Vec::new();
        for l in ListKind::ALL {
            if let Some(StateValue::Listing(r)) =
                chain.store.state(&StateKey::Listing { list: *l, subject: subject.clone() })?
            {
                listings.push((*l, r));
            }
        }
        let mut records = Vec::new();
        for (id, _) in &cases {
            if let Some(StateValue::Case(c)) = chain.store.state(&StateKey::Case(*id))? {
                records.push(c);
            }
        }
        Ok(credex_rules::Record { attestations, listings, cases: records })
    }

    /// Subjects whose abnormal-operation listing took effect at or before `cutoff` (at most `limit`).
    pub fn abnormal_since(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, StoreError> {
        self.chain.read().unwrap_or_else(lock_err).store.abnormal_since(cutoff, limit)
    }

    /// Subjects on `list` now with their listings, in the order of their
    /// text form (see [`Store::members`]): one page, how many match, and
    /// whether more follow.
    pub fn members(
        &self,
        list: ListKind,
        after: Option<&SubjectId>,
        query: Option<&str>,
        limit: usize,
    ) -> Result<MembersPage, StoreError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        // one more than asked: whether a next page exists
        let mut ids = chain.store.members(list, after, query, limit.saturating_add(1))?;
        let more = ids.len() > limit;
        ids.truncate(limit);
        let mut entries = Vec::with_capacity(ids.len());
        for s in ids {
            if let Some(StateValue::Listing(ListingRecord { current: Some(l), .. })) =
                chain.store.state(&StateKey::Listing { list, subject: s.clone() })?
            {
                entries.push((s, l));
            }
        }
        Ok(MembersPage { entries, total: chain.store.member_count_matching(list, query)?, more })
    }

    /// A subject's record on `list` (None: never listed).
    pub fn listing(&self, list: ListKind, subject: &SubjectId) -> Result<Option<ListingRecord>, StoreError> {
        Ok(match self.state_value(&StateKey::Listing { list, subject: subject.clone() })? {
            Some(StateValue::Listing(r)) => Some(r),
            _ => None,
        })
    }
}

/// One page of a list's members ([`Node::members`]).
#[derive(Debug, Clone)]
pub struct MembersPage {
    /// The subjects and their listings, in id order.
    pub entries: Vec<(SubjectId, credex_types::state::Listing)>,
    /// How many subjects match (the search, if any; else the whole list).
    pub total: usize,
    /// Whether a page follows this one.
    pub more: bool,
}
