//! The state map kept in a node store: the compressed sparse Merkle map of
//! spec §3.2 with each subtree's node stored at its position, so that a
//! node neither holds the map in memory nor rebuilds it at start (ADR 0002,
//! issue #17). Roots and proofs are those of [`crate::smt::SparseMerkleMap`],
//! the reference this module is tested against.
//!
//! * A **position** is a depth `d` and the first `d` bits of the keys below
//!   it ([`Position`]); the root is at depth 0.
//! * At a position the store holds nothing (an empty subtree), a **leaf**
//!   `(key, value_hash)` (a subtree of one entry, at the highest position
//!   where it is alone, as the compressed form has it) or an **inner** node
//!   with its two children's hashes ([`StoredNode`]).
//! * [`update`] reads the nodes on the updated keys' paths through a
//!   [`NodeRead`] and returns the new root with the writes that make the
//!   store hold it ([`NodeWrites`]: a position set or cleared); it changes
//!   nothing, so a candidate block's root is computed beside readers and the
//!   writes are committed with the block in one batch.
//! * [`prove`] walks one path from the root: one read per level.
//!
//! Every node read below the root is checked against the hash its parent
//! holds, so a store altered on disk gives [`NodeError::Inconsistent`], never
//! a wrong root or a proof of something the map does not hold. Nothing here
//! does I/O; the caller's [`NodeRead`] does.

use std::collections::BTreeMap;

use credex_crypto::Hash32;

use crate::smt::{SmtProof, Terminal, leaf_hash, node_hash};

/// Where a subtree sits: its depth and the key bits leading to it (bits at
/// and past `depth` are zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    depth: u16,
    prefix: [u8; 32],
}

impl Position {
    /// The root.
    pub const ROOT: Position = Position { depth: 0, prefix: [0; 32] };

    /// The position at `depth` on `key`'s path (`depth` ≤ 256).
    pub fn of(key: &Hash32, depth: u16) -> Position {
        let depth = depth.min(256);
        let mut prefix = [0u8; 32];
        let d = usize::from(depth);
        for (i, b) in prefix.iter_mut().enumerate() {
            let keep = d.saturating_sub(i * 8).min(8);
            let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
            *b = key.0.get(i).copied().unwrap_or(0) & mask;
        }
        Position { depth, prefix }
    }

    /// The depth (0 = root).
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// The left (`false`) or right (`true`) child; `None` below depth 256.
    pub fn child(&self, right: bool) -> Option<Position> {
        if self.depth >= 256 {
            return None;
        }
        let d = usize::from(self.depth);
        let mut prefix = self.prefix;
        if right && let Some(b) = prefix.get_mut(d / 8) {
            *b |= 0x80 >> (d % 8);
        }
        Some(Position { depth: self.depth + 1, prefix })
    }

    /// Store key: the depth as two big-endian bytes, then the `⌈depth/8⌉`
    /// prefix bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = usize::from(self.depth).div_ceil(8);
        let mut out = Vec::with_capacity(2 + n);
        out.extend_from_slice(&self.depth.to_be_bytes());
        out.extend_from_slice(self.prefix.get(..n).unwrap_or(&self.prefix));
        out
    }
}

/// What the store holds at a non-empty position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredNode {
    /// A subtree of one entry.
    Leaf {
        /// The entry's key.
        key: Hash32,
        /// Its value hash.
        value: Hash32,
    },
    /// A subtree of two entries or more: its children's hashes (`0³²` for
    /// an empty child).
    Inner {
        /// The left child's hash.
        left: Hash32,
        /// The right child's hash.
        right: Hash32,
    },
}

impl StoredNode {
    /// The subtree's hash (spec §3.2).
    pub fn hash(&self) -> Hash32 {
        match self {
            StoredNode::Leaf { key, value } => leaf_hash(key, value),
            StoredNode::Inner { left, right } => node_hash(left, right),
        }
    }

    /// Store value: a tag (0 leaf, 1 inner) and two hashes, 65 bytes.
    pub fn to_bytes(&self) -> [u8; 65] {
        let (tag, a, b) = match self {
            StoredNode::Leaf { key, value } => (0u8, key, value),
            StoredNode::Inner { left, right } => (1u8, left, right),
        };
        let mut out = [0u8; 65];
        out[0] = tag;
        out[1..33].copy_from_slice(&a.0);
        out[33..].copy_from_slice(&b.0);
        out
    }

    /// Reads [`StoredNode::to_bytes`]; `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<StoredNode> {
        let (&tag, rest) = bytes.split_first()?;
        let (a, b) = (rest.get(..32)?, rest.get(32..)?);
        let (a, b) = (Hash32(a.try_into().ok()?), Hash32(b.try_into().ok()?));
        match tag {
            0 => Some(StoredNode::Leaf { key: a, value: b }),
            1 => Some(StoredNode::Inner { left: a, right: b }),
            _ => None,
        }
    }
}

/// Read access to the stored nodes (the node's store; a map in tests).
pub trait NodeRead {
    /// Why a read failed.
    type Error;
    /// The node at `at`, `None` for an empty position.
    fn node(&self, at: &Position) -> Result<Option<StoredNode>, Self::Error>;
}

/// Nodes in memory (tests, and a reference for stores).
impl NodeRead for BTreeMap<Position, StoredNode> {
    type Error = core::convert::Infallible;
    fn node(&self, at: &Position) -> Result<Option<StoredNode>, Self::Error> {
        Ok(self.get(at).copied())
    }
}

/// Positions to set (`Some`) or clear (`None`).
pub type NodeWrites = BTreeMap<Position, Option<StoredNode>>;

/// Applies `writes` to nodes held in memory.
pub fn apply(nodes: &mut BTreeMap<Position, StoredNode>, writes: &NodeWrites) {
    for (at, n) in writes {
        match n {
            Some(n) => nodes.insert(*at, *n),
            None => nodes.remove(at),
        };
    }
}

/// Why a stored map could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError<E> {
    /// The store failed.
    #[error("reading a node of the state map: {0}")]
    Read(E),
    /// The stored nodes do not form the map their hashes claim.
    #[error("the stored state map is inconsistent at depth {depth}: {what}")]
    Inconsistent {
        /// Where.
        depth: u16,
        /// What was wrong.
        what: &'static str,
    },
}

/// A new root and the writes that make the store hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The root after the updates.
    pub root: Hash32,
    /// What to write, with the block.
    pub writes: NodeWrites,
}

/// The stored map's root (`0³²` when empty).
pub fn root<R: NodeRead>(r: &R) -> Result<Hash32, NodeError<R::Error>> {
    Ok(r.node(&Position::ROOT).map_err(NodeError::Read)?.map_or(Hash32::ZERO, |n| n.hash()))
}

/// The node at `at`, which its parent says hashes to `hash` (non-zero).
fn read_checked<R: NodeRead>(r: &R, at: &Position, hash: &Hash32) -> Result<StoredNode, NodeError<R::Error>> {
    let inconsistent = |what| NodeError::Inconsistent { depth: at.depth, what };
    let node = r.node(at).map_err(NodeError::Read)?.ok_or(inconsistent("a node its parent names is missing"))?;
    if node.hash() != *hash {
        return Err(inconsistent("a node does not hash to what its parent holds"));
    }
    Ok(node)
}

/// The root the map would have with `updates` applied (`Some` sets a value
/// hash, `None` removes the key; a key named twice takes its last update),
/// and the writes that make it so. The store is only read.
pub fn update<R: NodeRead>(r: &R, updates: &[(Hash32, Option<Hash32>)]) -> Result<Update, NodeError<R::Error>> {
    let by_key: BTreeMap<Hash32, Option<Hash32>> = updates.iter().copied().collect();
    let sorted: Vec<(Hash32, Option<Hash32>)> = by_key.into_iter().collect();
    let mut writes = NodeWrites::new();
    let node = r.node(&Position::ROOT).map_err(NodeError::Read)?;
    let root = match walk(r, Position::ROOT, node, &sorted, &mut writes)? {
        Sub::Empty => Hash32::ZERO,
        Sub::Leaf(key, value) => {
            writes.insert(Position::ROOT, Some(StoredNode::Leaf { key, value }));
            leaf_hash(&key, &value)
        }
        Sub::Kept(h) | Sub::Inner(h) => h,
    };
    Ok(Update { root, writes })
}

/// A proof for `key` (membership if present, else non-membership), the
/// same as [`crate::smt::SparseMerkleMap::prove`] gives for the same entries.
pub fn prove<R: NodeRead>(r: &R, key: &Hash32) -> Result<SmtProof, NodeError<R::Error>> {
    let mut siblings = Vec::new();
    let mut at = Position::ROOT;
    let mut node = r.node(&at).map_err(NodeError::Read)?;
    let terminal = loop {
        match node {
            None => break Terminal::Empty,
            Some(StoredNode::Leaf { key: k, value }) => {
                break if k == *key { Terminal::Found } else { Terminal::Other { key: k, value_hash: value } };
            }
            Some(StoredNode::Inner { left, right }) => {
                let bit = key.bit(usize::from(at.depth));
                let (next, sib) = if bit { (right, left) } else { (left, right) };
                siblings.push(sib);
                if next == Hash32::ZERO {
                    break Terminal::Empty;
                }
                at = at
                    .child(bit)
                    .ok_or(NodeError::Inconsistent { depth: at.depth, what: "an inner node at depth 256" })?;
                node = Some(read_checked(r, &at, &next)?);
            }
        }
    };
    Ok(SmtProof::compress(&siblings, terminal))
}

/// A subtree after the updates, as its parent sees it.
enum Sub {
    Empty,
    /// A lone entry, not yet placed (it rises to where it is alone).
    Leaf(Hash32, Hash32),
    /// Untouched and non-empty, stored at its position as it was.
    Kept(Hash32),
    /// An inner node written (or kept) at its position.
    Inner(Hash32),
}

impl Sub {
    fn hash(&self) -> Hash32 {
        match self {
            Sub::Empty => Hash32::ZERO,
            Sub::Leaf(k, v) => leaf_hash(k, v),
            Sub::Kept(h) | Sub::Inner(h) => *h,
        }
    }
}

/// The subtree at `at` (holding `node`) with `ups` (sorted, distinct, all
/// under `at`) applied. Post-condition: for `Inner`/`Kept` the store (with
/// `w`) holds the subtree at `at`; for `Empty`/`Leaf` it holds nothing at or
/// below `at`, and the caller places the leaf.
fn walk<R: NodeRead>(
    r: &R,
    at: Position,
    node: Option<StoredNode>,
    ups: &[(Hash32, Option<Hash32>)],
    w: &mut NodeWrites,
) -> Result<Sub, NodeError<R::Error>> {
    match node {
        None | Some(StoredNode::Leaf { .. }) => {
            let mut leaves: Vec<(Hash32, Hash32)> = ups.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            if let Some(StoredNode::Leaf { key, value }) = node {
                w.insert(at, None);
                if !ups.iter().any(|(k, _)| *k == key) {
                    let i = leaves.partition_point(|(k, _)| *k < key);
                    leaves.insert(i, (key, value));
                }
            }
            build(r, at, &leaves, w)
        }
        Some(StoredNode::Inner { left, right }) => {
            let cut = ups.partition_point(|(k, _)| !k.bit(usize::from(at.depth)));
            let (lu, ru) = ups.split_at(cut);
            let l = child(r, &at, false, left, lu, w)?;
            let rt = child(r, &at, true, right, ru, w)?;
            join(r, &at, l, rt, w)
        }
    }
}

fn child<R: NodeRead>(
    r: &R,
    at: &Position,
    right: bool,
    hash: Hash32,
    ups: &[(Hash32, Option<Hash32>)],
    w: &mut NodeWrites,
) -> Result<Sub, NodeError<R::Error>> {
    if ups.is_empty() {
        return Ok(if hash == Hash32::ZERO { Sub::Empty } else { Sub::Kept(hash) });
    }
    let c = at.child(right).ok_or(NodeError::Inconsistent { depth: at.depth, what: "an inner node at depth 256" })?;
    let node = if hash == Hash32::ZERO { None } else { Some(read_checked(r, &c, &hash)?) };
    walk(r, c, node, ups, w)
}

/// A fresh subtree at `at` holding `leaves` (sorted, distinct).
fn build<R: NodeRead>(
    r: &R,
    at: Position,
    leaves: &[(Hash32, Hash32)],
    w: &mut NodeWrites,
) -> Result<Sub, NodeError<R::Error>> {
    match leaves {
        [] => Ok(Sub::Empty),
        [(k, v)] => Ok(Sub::Leaf(*k, *v)),
        _ => {
            let too_deep = || NodeError::Inconsistent { depth: at.depth, what: "two keys share all 256 bits" };
            let (lp, rp) = (at.child(false).ok_or_else(too_deep)?, at.child(true).ok_or_else(too_deep)?);
            let cut = leaves.partition_point(|(k, _)| !k.bit(usize::from(at.depth)));
            let (l, rt) = leaves.split_at(cut);
            let l = build(r, lp, l, w)?;
            let rt = build(r, rp, rt, w)?;
            join(r, &at, l, rt, w)
        }
    }
}

/// The subtree at `at` with children `l` and `rt` (see [`walk`]).
fn join<R: NodeRead>(r: &R, at: &Position, l: Sub, rt: Sub, w: &mut NodeWrites) -> Result<Sub, NodeError<R::Error>> {
    let too_deep = || NodeError::Inconsistent { depth: at.depth, what: "an inner node at depth 256" };
    match (l, rt) {
        (Sub::Empty, Sub::Empty) => {
            w.insert(*at, None);
            Ok(Sub::Empty)
        }
        (Sub::Leaf(k, v), Sub::Empty) | (Sub::Empty, Sub::Leaf(k, v)) => {
            w.insert(*at, None);
            Ok(Sub::Leaf(k, v))
        }
        (Sub::Kept(h), Sub::Empty) => keep_alone(r, at, false, h, w),
        (Sub::Empty, Sub::Kept(h)) => keep_alone(r, at, true, h, w),
        (l, rt) => {
            for (sub, right) in [(&l, false), (&rt, true)] {
                if let Sub::Leaf(key, value) = sub {
                    w.insert(
                        at.child(right).ok_or_else(too_deep)?,
                        Some(StoredNode::Leaf { key: *key, value: *value }),
                    );
                }
            }
            let node = StoredNode::Inner { left: l.hash(), right: rt.hash() };
            w.insert(*at, Some(node));
            Ok(Sub::Inner(node.hash()))
        }
    }
}

/// The subtree at `at` whose only non-empty child, on the `right` side or
/// the left, is untouched with hash `h`: a lone leaf rises, an inner node
/// stays where it is under a rewritten parent.
fn keep_alone<R: NodeRead>(
    r: &R,
    at: &Position,
    right: bool,
    h: Hash32,
    w: &mut NodeWrites,
) -> Result<Sub, NodeError<R::Error>> {
    let c = at.child(right).ok_or(NodeError::Inconsistent { depth: at.depth, what: "an inner node at depth 256" })?;
    match read_checked(r, &c, &h)? {
        StoredNode::Leaf { key, value } => {
            w.insert(c, None);
            w.insert(*at, None);
            Ok(Sub::Leaf(key, value))
        }
        StoredNode::Inner { .. } => {
            let node = if right {
                StoredNode::Inner { left: Hash32::ZERO, right: h }
            } else {
                StoredNode::Inner { left: h, right: Hash32::ZERO }
            };
            w.insert(*at, Some(node));
            Ok(Sub::Inner(node.hash()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smt::{SparseMerkleMap, verify};
    use credex_crypto::hash_parts;
    use proptest::prelude::*;

    fn h(i: u64) -> Hash32 {
        hash_parts("test", &[&i.to_le_bytes()])
    }

    type Nodes = BTreeMap<Position, StoredNode>;

    fn fresh(entries: &BTreeMap<Hash32, Hash32>) -> Nodes {
        let ups: Vec<_> = entries.iter().map(|(k, v)| (*k, Some(*v))).collect();
        let mut nodes = Nodes::new();
        let writes = update(&nodes, &ups).unwrap().writes;
        apply(&mut nodes, &writes);
        nodes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        /// Batches of sets and removals give the reference map's root and
        /// proofs, and leave exactly the nodes a fresh build of the final
        /// entries has (nothing stale, nothing missing).
        #[test]
        fn batches_give_the_reference_roots_proofs_and_canonical_nodes(
            batches in proptest::collection::vec(
                proptest::collection::vec((0u64..70, proptest::option::weighted(0.7, 0u64..5)), 0..25), 1..8),
            probes in proptest::collection::vec(0u64..90, 1..12),
        ) {
            let mut nodes = Nodes::new();
            let mut reference = SparseMerkleMap::new();
            let mut model = BTreeMap::new();
            for batch in &batches {
                let ups: Vec<_> = batch.iter().map(|(k, v)| (h(*k), v.map(|v| h(1000 + v)))).collect();
                let before = root(&nodes).unwrap();
                let up = update(&nodes, &ups).unwrap();
                prop_assert_eq!(root(&nodes).unwrap(), before, "update only reads");
                apply(&mut nodes, &up.writes);
                for (k, v) in &ups {
                    match v {
                        Some(v) => { reference.insert(*k, *v); model.insert(*k, *v); }
                        None => { reference.remove(k); model.remove(k); }
                    }
                }
                prop_assert_eq!(up.root, reference.root());
                prop_assert_eq!(root(&nodes).unwrap(), up.root);
            }
            prop_assert_eq!(&nodes, &fresh(&model));
            let r = root(&nodes).unwrap();
            for p in probes {
                let key = h(p);
                let proof = prove(&nodes, &key).unwrap();
                prop_assert_eq!(&proof, &reference.prove(&key));
                prop_assert!(verify(&r, &key, model.get(&key), &proof).is_ok());
            }
        }
    }

    #[test]
    fn an_empty_store_has_the_zero_root_and_proves_absence() {
        let nodes = Nodes::new();
        assert_eq!(root(&nodes).unwrap(), Hash32::ZERO);
        let p = prove(&nodes, &h(1)).unwrap();
        assert_eq!(p.terminal, Terminal::Empty);
        let up = update(&nodes, &[(h(1), None)]).unwrap();
        assert_eq!(up.root, Hash32::ZERO);
    }

    #[test]
    fn a_node_altered_on_disk_is_found_out() {
        let model: BTreeMap<_, _> = (0..40).map(|i| (h(i), h(i + 500))).collect();
        let mut nodes = fresh(&model);
        // a leaf below the root with another value: its parent's hash no longer matches
        let (at, key) = nodes
            .iter()
            .find_map(|(at, n)| match n {
                StoredNode::Leaf { key, .. } if at.depth() > 0 => Some((*at, *key)),
                _ => None,
            })
            .unwrap();
        nodes.insert(at, StoredNode::Leaf { key, value: h(9) });
        assert!(matches!(prove(&nodes, &key), Err(NodeError::Inconsistent { .. })));
        assert!(matches!(update(&nodes, &[(key, Some(h(10)))]), Err(NodeError::Inconsistent { .. })));
        // a node its parent names, gone
        nodes.remove(&at);
        assert!(matches!(prove(&nodes, &key), Err(NodeError::Inconsistent { .. })));
    }

    #[test]
    fn positions_and_nodes_encode_as_documented() {
        let key = Hash32([0xff; 32]);
        let at = Position::of(&key, 9);
        assert_eq!(at.to_bytes(), vec![0, 9, 0xff, 0x80]);
        assert_eq!(Position::ROOT.to_bytes(), vec![0, 0]);
        assert_eq!(Position::ROOT.child(true).unwrap().to_bytes(), vec![0, 1, 0x80]);
        assert_eq!(Position::of(&key, 256).child(false), None);
        let n = StoredNode::Inner { left: h(1), right: h(2) };
        assert_eq!(StoredNode::from_bytes(&n.to_bytes()), Some(n));
        assert_eq!(StoredNode::from_bytes(&[2; 65]), None);
        assert_eq!(StoredNode::from_bytes(&[0; 64]), None);
    }
}
