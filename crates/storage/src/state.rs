//! The chain state on disk (ADR 0002, amended for issue #17): the values in
//! `state`, the state map's nodes in `state_map` and the derived indexes in
//! `state_index`, all written in the block's one batch, so a node starts
//! without reading them and holds only RocksDB's bounded caches.
//!
//! * `state_map`: [`Position::to_bytes`] → [`StoredNode::to_bytes`] (the
//!   compressed sparse Merkle map of spec §3.2, `credex_merkle::stored`).
//! * `state_index` (the entries of [`credex_chain::index_entries`]):
//!   `a` ‖ since (u64 BE) ‖ subject → (): abnormal-operation listings in force;
//!   `g` ‖ encode(agency) → (): issuers governance changed;
//!   `m` ‖ list (u8, its place in `ListKind::ALL`) ‖ subject → (): members;
//!   `n` ‖ subject → the folded registered name (UTF-8);
//!   `c` ‖ list (u8) → member count (u64 BE).
//!   A subject in a key is its text form (spec §4.1), so members page in
//!   the order of their text form, as [`credex_chain::MemState`] does.
//!
//! [`Store`] is a [`StateRead`] (blocks execute on it under the node's chain
//! lock) and a [`NodeRead`] (roots and proofs).

use std::collections::BTreeMap;
use std::str::FromStr;

use credex_chain::{IndexEntry, StateError, StateRead, index_changes};
use credex_codec::CodecError;
use credex_crypto::Hash32;
use credex_merkle::stored::{self, NodeRead, NodeWrites, Position, StoredNode};
use credex_types::attestation::{AttestationHeader, AttestationId};
use credex_types::state::{StateKey, StateValue};
use credex_types::{AgencyId, ListKind, SubjectId, Timestamp};
use rocksdb::{Direction, IteratorMode, WriteBatch};

use crate::{AnchorRead, CF_STATE, Store, StoreError, decode};

pub(crate) const CF_STATE_MAP: &str = "state_map";
pub(crate) const CF_STATE_INDEX: &str = "state_index";
/// `meta` key set once the map's nodes and the indexes are complete.
pub(crate) const STATE_MAP_BUILT: &str = "state-map";

fn corrupt(what: &'static str, why: &str) -> StoreError {
    StoreError::Corrupt { what, error: CodecError::Malformed(why.into()) }
}

fn list_code(list: ListKind) -> u8 {
    ListKind::ALL.iter().position(|l| *l == list).and_then(|i| u8::try_from(i).ok()).unwrap_or(u8::MAX)
}

fn member_key(list: ListKind, subject: &str) -> Vec<u8> {
    let mut k = vec![b'm', list_code(list)];
    k.extend_from_slice(subject.as_bytes());
    k
}

fn count_key(list: ListKind) -> [u8; 2] {
    [b'c', list_code(list)]
}

fn name_key(subject: &SubjectId) -> Vec<u8> {
    let mut k = b"n".to_vec();
    k.extend_from_slice(subject.to_string().as_bytes());
    k
}

/// The store key of an index entry and its value.
fn entry_kv(e: &IndexEntry) -> (Vec<u8>, Vec<u8>) {
    match e {
        IndexEntry::Abnormal(t, s) => {
            let mut k = b"a".to_vec();
            k.extend_from_slice(&t.0.to_be_bytes());
            k.extend_from_slice(s.to_string().as_bytes());
            (k, Vec::new())
        }
        IndexEntry::Governed(a) => {
            let mut k = b"g".to_vec();
            k.extend_from_slice(&credex_codec::encode(a));
            (k, Vec::new())
        }
        IndexEntry::Member(l, s) => (member_key(*l, &s.to_string()), Vec::new()),
        IndexEntry::Name(s, n) => (name_key(s), n.as_bytes().to_vec()),
    }
}

fn subject_of(bytes: &[u8]) -> Result<SubjectId, StoreError> {
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt("state index", "subject not UTF-8"))?;
    SubjectId::from_str(text).map_err(|_| corrupt("state index", "not a subject id"))
}

impl Store {
    /// Adds to `b` a block's state `writes` (keys distinct, as execution
    /// gives them), the map nodes `nodes` computed for them
    /// ([`Store::state_update`]) and their index entries.
    pub(crate) fn state_batch(
        &self,
        b: &mut WriteBatch,
        writes: &[(StateKey, StateValue)],
        nodes: &NodeWrites,
    ) -> Result<(), StoreError> {
        put_nodes(self, b, nodes);
        let mut counts: BTreeMap<ListKind, i64> = BTreeMap::new();
        for (k, v) in writes {
            b.put_cf(self.cf(CF_STATE), k.hash().0, credex_codec::encode(&(k.clone(), v.clone())));
            let old = self.state(k)?;
            let (removed, added) = index_changes(k, old.as_ref(), v);
            for e in &removed {
                b.delete_cf(self.cf(CF_STATE_INDEX), entry_kv(e).0);
                if let IndexEntry::Member(l, _) = e {
                    *counts.entry(*l).or_default() -= 1;
                }
            }
            for e in &added {
                let (key, value) = entry_kv(e);
                b.put_cf(self.cf(CF_STATE_INDEX), key, value);
                if let IndexEntry::Member(l, _) = e {
                    *counts.entry(*l).or_default() += 1;
                }
            }
        }
        for (list, delta) in counts {
            let now = i64::try_from(self.member_count(list)?).unwrap_or(i64::MAX).saturating_add(delta);
            let now = u64::try_from(now).map_err(|_| corrupt("state index", "member count below zero"))?;
            b.put_cf(self.cf(CF_STATE_INDEX), count_key(list), now.to_be_bytes());
        }
        Ok(())
    }

    /// The committed state map's root.
    pub fn state_root(&self) -> Result<Hash32, StoreError> {
        stored::root(self).map_err(map_err)
    }

    /// The root the state map would have after `writes` and the node
    /// writes that make it so, without writing: computed once for a block
    /// (its header's root) and committed with it ([`crate::BlockCommit::map`]).
    pub fn state_update(&self, writes: &[(StateKey, StateValue)]) -> Result<stored::Update, StoreError> {
        let updates: Vec<(Hash32, Option<Hash32>)> = writes.iter().map(|(k, v)| (k.hash(), Some(v.hash()))).collect();
        stored::update(self, &updates).map_err(map_err)
    }

    /// A proof of `key`'s value (or absence) against [`Store::state_root`].
    pub fn state_proof(&self, key: &StateKey) -> Result<credex_merkle::smt::SmtProof, StoreError> {
        stored::prove(self, &key.hash()).map_err(map_err)
    }

    /// How many subjects are on `list` now.
    pub fn member_count(&self, list: ListKind) -> Result<usize, StoreError> {
        match self.db.get_cf(self.cf(CF_STATE_INDEX), count_key(list))? {
            None => Ok(0),
            Some(v) => {
                let n = <[u8; 8]>::try_from(&*v).map_err(|_| corrupt("state index", "count not 8 bytes"))?;
                Ok(usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX))
            }
        }
    }

    /// The folded registered name of `subject` ([`IndexEntry::Name`]).
    fn folded_name(&self, subject: &SubjectId) -> Result<Option<String>, StoreError> {
        match self.db.get_cf(self.cf(CF_STATE_INDEX), name_key(subject))? {
            None => Ok(None),
            Some(v) => Ok(Some(String::from_utf8(v).map_err(|_| corrupt("state index", "name not UTF-8"))?)),
        }
    }

    /// Subjects on `list` now, in the order of their text form, after
    /// `after`, matching `query` ([`credex_chain::matches`]), at most `limit`.
    pub fn members(
        &self,
        list: ListKind,
        after: Option<&SubjectId>,
        query: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SubjectId>, StoreError> {
        let prefix = [b'm', list_code(list)];
        let start = match after {
            Some(a) => {
                let mut k = member_key(list, &a.to_string());
                k.push(0); // strictly after
                k
            }
            None => prefix.to_vec(),
        };
        let query = query.map(str::to_lowercase);
        let mut out = Vec::new();
        let it = self.db.iterator_cf(self.cf(CF_STATE_INDEX), IteratorMode::From(&start, Direction::Forward));
        for item in it {
            if out.len() >= limit {
                break;
            }
            let (k, _) = item?;
            let Some(rest) = k.strip_prefix(&prefix) else { break };
            let subject = subject_of(rest)?;
            let hit = match &query {
                None => true,
                Some(q) => credex_chain::matches(&subject, self.folded_name(&subject)?.as_deref(), q),
            };
            if hit {
                out.push(subject);
            }
        }
        Ok(out)
    }

    /// How many subjects on `list` match `query`, or all of them without
    /// one (a search reads every member of the list).
    pub fn member_count_matching(&self, list: ListKind, query: Option<&str>) -> Result<usize, StoreError> {
        match query {
            None => self.member_count(list),
            Some(q) => self.count_matching(list, &q.to_lowercase()),
        }
    }

    fn count_matching(&self, list: ListKind, query: &str) -> Result<usize, StoreError> {
        let prefix = [b'm', list_code(list)];
        let mut n = 0;
        for item in self.db.iterator_cf(self.cf(CF_STATE_INDEX), IteratorMode::From(&prefix, Direction::Forward)) {
            let (k, _) = item?;
            let Some(rest) = k.strip_prefix(&prefix) else { break };
            let subject = subject_of(rest)?;
            if credex_chain::matches(&subject, self.folded_name(&subject)?.as_deref(), query) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Issuers whose registry entry governance changed.
    pub fn governed_issuers(&self) -> Result<Vec<AgencyId>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_STATE_INDEX), IteratorMode::From(b"g", Direction::Forward)) {
            let (k, _) = item?;
            let Some(rest) = k.strip_prefix(b"g") else { break };
            out.push(decode("state index", rest)?);
        }
        Ok(out)
    }

    /// Subjects whose abnormal-operation listing in force took effect at or
    /// before `cutoff`, oldest first, at most `limit`.
    pub fn abnormal_since(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_STATE_INDEX), IteratorMode::From(b"a", Direction::Forward)) {
            if out.len() >= limit {
                break;
            }
            let (k, _) = item?;
            let Some(rest) = k.strip_prefix(b"a") else { break };
            let (t, s) = rest.split_at_checked(8).ok_or_else(|| corrupt("state index", "short escalation key"))?;
            let t = u64::from_be_bytes(t.try_into().map_err(|_| corrupt("state index", "short escalation key"))?);
            if t > cutoff.0 {
                break;
            }
            out.push(subject_of(s)?);
        }
        Ok(out)
    }

    /// Builds the state map's nodes and the indexes from the values (once,
    /// for a store of an earlier version that kept them in memory); returns
    /// how many values it read.
    pub(crate) fn build_state_map_and_indexes(&self) -> Result<usize, StoreError> {
        const CHUNK: usize = 50_000;
        // whatever an interrupted build left goes first
        let mut b = WriteBatch::default();
        b.delete_range_cf(self.cf(CF_STATE_MAP), [0u8].as_slice(), [0xffu8; 4].as_slice());
        b.delete_range_cf(self.cf(CF_STATE_INDEX), [0u8].as_slice(), [0xffu8; 4].as_slice());
        self.db.write(b)?;
        let mut n = 0;
        let mut chunk: Vec<(StateKey, StateValue)> = Vec::with_capacity(CHUNK);
        let flush = |chunk: &mut Vec<(StateKey, StateValue)>| -> Result<(), StoreError> {
            let mut b = WriteBatch::default();
            let updates: Vec<_> = chunk.iter().map(|(k, v)| (k.hash(), Some(v.hash()))).collect();
            put_nodes(self, &mut b, &stored::update(self, &updates).map_err(map_err)?.writes);
            let mut counts: BTreeMap<ListKind, u64> = BTreeMap::new();
            for (k, v) in chunk.drain(..) {
                for e in credex_chain::index_entries(&k, &v) {
                    let (key, value) = entry_kv(&e);
                    b.put_cf(self.cf(CF_STATE_INDEX), key, value);
                    if let IndexEntry::Member(l, _) = e {
                        *counts.entry(l).or_default() += 1;
                    }
                }
            }
            for (list, add) in counts {
                let now = u64::try_from(self.member_count(list)?).unwrap_or(u64::MAX).saturating_add(add);
                b.put_cf(self.cf(CF_STATE_INDEX), count_key(list), now.to_be_bytes());
            }
            self.db.write(b)?;
            Ok(())
        };
        for item in self.db.iterator_cf(self.cf(CF_STATE), IteratorMode::Start) {
            let (k, v) = item?;
            let (key, value): (StateKey, StateValue) = decode("state entry", &v)?;
            if key.hash().0.as_slice() != &*k {
                return Err(corrupt("state entry", "key does not match its hash"));
            }
            chunk.push((key, value));
            n += 1;
            if chunk.len() == CHUNK {
                flush(&mut chunk)?;
            }
        }
        flush(&mut chunk)?;
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(crate::CF_META), STATE_MAP_BUILT.as_bytes(), [1]);
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(b, &wo)?;
        Ok(n)
    }
}

fn put_nodes(store: &Store, b: &mut WriteBatch, writes: &NodeWrites) {
    for (at, node) in writes {
        match node {
            Some(n) => b.put_cf(store.cf(CF_STATE_MAP), at.to_bytes(), n.to_bytes()),
            None => b.delete_cf(store.cf(CF_STATE_MAP), at.to_bytes()),
        }
    }
}

fn map_err(e: stored::NodeError<StoreError>) -> StoreError {
    match e {
        stored::NodeError::Read(e) => e,
        stored::NodeError::Inconsistent { .. } => {
            StoreError::Corrupt { what: "state map", error: CodecError::Malformed(e.to_string()) }
        }
    }
}

impl NodeRead for Store {
    type Error = StoreError;
    fn node(&self, at: &Position) -> Result<Option<StoredNode>, StoreError> {
        match self.db.get_pinned_cf(self.cf(CF_STATE_MAP), at.to_bytes())? {
            None => Ok(None),
            Some(v) => StoredNode::from_bytes(&v).map(Some).ok_or_else(|| corrupt("state map", "not a map node")),
        }
    }
}

/// Blocks execute on the committed state as the store holds it (the node
/// reads it under its chain lock, so no commit interleaves).
impl StateRead for Store {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StateError> {
        self.state(key).map_err(|e| StateError(e.to_string()))
    }
    fn anchored(&self, id: &AttestationId) -> Result<Option<AttestationHeader>, StateError> {
        AnchorRead::anchored(self, id)
    }
    fn due_escalations(&self, cutoff: Timestamp, limit: usize) -> Result<Vec<SubjectId>, StateError> {
        self.abnormal_since(cutoff, limit).map_err(|e| StateError(e.to_string()))
    }
}
