//! The state's derived indexes: what the chain's escalation step and the
//! node's queries look up other than by key (ADR 0002). They are a function
//! of the state's values alone, defined once here: [`index_entries`] gives
//! the entries one `(key, value)` contributes, and a write replaces the old
//! value's entries by the new one's. [`crate::MemState`] keeps them in
//! memory; the node's store keeps them on disk, written in the block's batch.

use credex_types::state::{ListingRecord, StateKey, StateValue};
use credex_types::{AgencyId, ListKind, SubjectId, Timestamp};

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexEntry {
    /// An abnormal-operation listing in force, by the time it took effect
    /// (the escalation index, spec §11.2).
    Abnormal(Timestamp, SubjectId),
    /// An issuer whose registry entry governance changed (spec §11.8).
    Governed(AgencyId),
    /// A subject on a list now.
    Member(ListKind, SubjectId),
    /// A registered name (spec §11.10), both forms lower-cased and joined by
    /// a line break, for searching lists.
    Name(SubjectId, String),
}

/// The index entries `key ↦ value` contributes.
pub fn index_entries(key: &StateKey, value: &StateValue) -> Vec<IndexEntry> {
    match (key, value) {
        (StateKey::Issuer(agency), _) => vec![IndexEntry::Governed(agency.clone())],
        (StateKey::SubjectName(subject), StateValue::SubjectName(n)) => {
            let folded = format!("{}\n{}", n.name, n.latin.as_deref().unwrap_or("")).to_lowercase();
            vec![IndexEntry::Name(subject.clone(), folded)]
        }
        (StateKey::Listing { list, subject }, StateValue::Listing(ListingRecord { current: Some(l), .. })) => {
            let mut out = vec![IndexEntry::Member(*list, subject.clone())];
            if *list == ListKind::AbnormalOperation {
                out.push(IndexEntry::Abnormal(l.since, subject.clone()));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// What a write changes in the indexes: entries to remove (the old value's
/// that the new one lacks) and to add (the new value's that the old one
/// lacked).
pub fn index_changes(key: &StateKey, old: Option<&StateValue>, new: &StateValue) -> (Vec<IndexEntry>, Vec<IndexEntry>) {
    let before = old.map(|o| index_entries(key, o)).unwrap_or_default();
    let after = index_entries(key, new);
    let removed = before.iter().filter(|e| !after.contains(e)).cloned().collect();
    let added = after.into_iter().filter(|e| !before.contains(e)).collect();
    (removed, added)
}

/// Whether `query` (lower-cased) is part of the subject's text form or of
/// its folded registered name, case aside: the one search rule of lists.
pub fn matches(subject: &SubjectId, name: Option<&str>, query: &str) -> bool {
    subject.to_string().to_lowercase().contains(query) || name.is_some_and(|n| n.contains(query))
}
