//! Queries over the committed chain state (records, cases, keys, issuers,
//! lists), answered from memory under the read lock.

use super::*;

impl Node {
    /// The on-chain record of `id`.
    pub fn record(&self, id: &AttestationId) -> Option<AttestationRecord> {
        match self.chain.read().unwrap_or_else(lock_err).state.get(&StateKey::Attestation(*id)) {
            Some(StateValue::Attestation(r)) => Some(r),
            _ => None,
        }
    }

    /// The anchored header of `id` (read from the store: headers are not
    /// kept in memory).
    pub fn anchored_header(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StoreError> {
        Ok(self.store.anchor(id)?.map(|(_, tx)| tx.header))
    }

    /// The committed state value under `key`.
    pub fn state_value(&self, key: &StateKey) -> Option<StateValue> {
        self.chain.read().unwrap_or_else(lock_err).state.get(key)
    }

    /// A case.
    pub fn case(&self, id: &CaseId) -> Option<CaseRecord> {
        match self.state_value(&StateKey::Case(*id)) {
            Some(StateValue::Case(c)) => Some(c),
            _ => None,
        }
    }

    /// A subject's bound key.
    pub fn subject_key(&self, subject: &SubjectId) -> Option<SubjectKeyRecord> {
        match self.state_value(&StateKey::SubjectKey(subject.clone())) {
            Some(StateValue::SubjectKey(k)) => Some(k),
            _ => None,
        }
    }

    /// The registered name of `subject` (spec §11.10), if its registrar published one.
    pub fn subject_name(&self, subject: &SubjectId) -> Option<credex_types::lifecycle::SubjectNameRecord> {
        match self.state_value(&StateKey::SubjectName(subject.clone())) {
            Some(StateValue::SubjectName(n)) => Some(n),
            _ => None,
        }
    }

    /// The registry entry of `agency` (state, else genesis).
    pub fn issuer(&self, agency: &AgencyId) -> Option<IssuerRecord> {
        credex_chain::issuer(&self.state_of(&self.chain.read().unwrap_or_else(lock_err)), &self.genesis, agency)
    }

    /// The whole issuer registry: genesis issuers and those governance added.
    pub fn issuers(&self) -> Vec<(AgencyId, IssuerRecord)> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let mut ids: BTreeSet<AgencyId> = self.genesis.issuers.iter().map(|i| i.agency.clone()).collect();
        ids.extend(chain.state.governed_issuers().cloned());
        let view = self.state_of(&chain);
        ids.into_iter().filter_map(|a| credex_chain::issuer(&view, &self.genesis, &a).map(|r| (a, r))).collect()
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
        let attestations = headers
            .into_iter()
            .filter_map(|(id, header)| match chain.state.get(&StateKey::Attestation(id)) {
                Some(StateValue::Attestation(r)) => Some(credex_rules::Entry { header, status: r.status }),
                _ => None,
            })
            .collect();
        let listings = ListKind::ALL
            .iter()
            .filter_map(|l| match chain.state.get(&StateKey::Listing { list: *l, subject: subject.clone() }) {
                Some(StateValue::Listing(r)) => Some((*l, r)),
                _ => None,
            })
            .collect();
        let cases = cases
            .iter()
            .filter_map(|(id, _)| match chain.state.get(&StateKey::Case(*id)) {
                Some(StateValue::Case(c)) => Some(c),
                _ => None,
            })
            .collect();
        Ok(credex_rules::Record { attestations, listings, cases })
    }

    /// Subjects whose abnormal-operation listing took effect at or before `cutoff` (at most `limit`).
    pub fn abnormal_since(&self, cutoff: Timestamp, limit: usize) -> Vec<SubjectId> {
        self.chain.read().unwrap_or_else(lock_err).state.due_escalations(cutoff, limit)
    }

    /// Subjects on `list` now with their listings (see [`MemState::members`]):
    /// one page, how many match, and whether more follow.
    pub fn members(&self, list: ListKind, after: Option<&SubjectId>, query: Option<&str>, limit: usize) -> MembersPage {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        // one more than asked: whether a next page exists
        let mut ids = chain.state.members(list, after, query, limit.saturating_add(1));
        let more = ids.len() > limit;
        ids.truncate(limit);
        let entries = ids
            .into_iter()
            .filter_map(|s| match chain.state.get(&StateKey::Listing { list, subject: s.clone() }) {
                Some(StateValue::Listing(ListingRecord { current: Some(l), .. })) => Some((s, l)),
                _ => None,
            })
            .collect();
        MembersPage { entries, total: chain.state.member_count_matching(list, query), more }
    }

    /// A subject's record on `list` (None: never listed).
    pub fn listing(&self, list: ListKind, subject: &SubjectId) -> Option<ListingRecord> {
        match self
            .chain
            .read()
            .unwrap_or_else(lock_err)
            .state
            .get(&StateKey::Listing { list, subject: subject.clone() })
        {
            Some(StateValue::Listing(r)) => Some(r),
            _ => None,
        }
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
