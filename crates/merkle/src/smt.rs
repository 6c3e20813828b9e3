//! The compressed sparse Merkle map (spec §3.2).
//!
//! Keys and value hashes are 32 bytes. Key bits are read most significant
//! first; bit `d` chooses the child at depth `d` (0 = left).
//!
//! * empty subtree: `0³²` ([`Hash32::ZERO`]);
//! * a subtree holding exactly one entry `(k, v)`:
//!   `leaf(k, v) = H("credex/smt-leaf/v1", k ‖ v)`, wherever that subtree sits;
//! * any other subtree: `H("credex/smt-node/v1", left ‖ right)`.
//!
//! The shape is therefore a function of the key set alone, and a proof is
//! the list of sibling hashes from the root down to where the key's path
//! ends: at its own leaf (membership), at an empty subtree, or at the leaf
//! of another key that shares the path so far (non-membership).
//!
//! ```
//! use credex_crypto::Hash32;
//! use credex_merkle::smt::{SparseMerkleMap, verify};
//! let mut map = SparseMerkleMap::new();
//! let (k1, v1) = (Hash32([1; 32]), Hash32([9; 32]));
//! map.insert(k1, v1);
//! let root = map.root();
//! let present = map.prove(&k1);
//! assert!(verify(&root, &k1, Some(&v1), &present).is_ok());
//! let absent_key = Hash32([0x80; 32]);
//! let absent = map.prove(&absent_key);
//! assert!(verify(&root, &absent_key, None, &absent).is_ok());
//! assert!(verify(&root, &absent_key, Some(&v1), &absent).is_err());
//! ```

use credex_crypto::{Hash32, domain, hash_parts};

/// `H("credex/smt-leaf/v1", key ‖ value_hash)`.
pub fn leaf_hash(key: &Hash32, value_hash: &Hash32) -> Hash32 {
    hash_parts(domain::SMT_LEAF, &[&key.0, &value_hash.0])
}

/// `H("credex/smt-node/v1", left ‖ right)`.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    hash_parts(domain::SMT_NODE, &[&left.0, &right.0])
}

/// Where a proof's path ends.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Terminal {
    /// At the queried key's own leaf; the value comes from the claim.
    Found,
    /// At an empty subtree: no key has this path prefix.
    Empty,
    /// At the leaf of another key with the same path prefix.
    Other {
        /// That key.
        key: Hash32,
        /// Its value hash.
        value_hash: Hash32,
    },
}

/// A membership or non-membership proof.
///
/// Canonical form (checked by [`verify`]): `bitmap` has `⌈depth/8⌉` bytes,
/// bit `i` (MSB first) set iff the sibling at depth `i` is non-empty, no bit
/// at or past `depth`; `siblings` holds exactly the non-empty siblings,
/// top-down, none of them zero.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SmtProof {
    /// Number of levels from the root to the terminal.
    pub depth: u16,
    /// Which siblings are non-empty.
    #[serde(with = "hex::serde")]
    pub bitmap: Vec<u8>,
    /// The non-empty siblings, root side first.
    pub siblings: Vec<Hash32>,
    /// Where the path ends.
    pub terminal: Terminal,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtError {
    /// Depth above 256 or bitmap/sibling counts inconsistent.
    #[error("proof is not in canonical form: {0}")]
    Malformed(&'static str),
    /// A membership claim with a non-membership proof or the reverse.
    #[error("proof terminal does not match the claim: {0}")]
    WrongTerminal(&'static str),
    /// The other key in a non-membership proof is not on the queried path.
    #[error("the other leaf does not share the queried key's path")]
    OtherKeyOffPath,
    /// The proof leads to another root.
    #[error("proof does not lead to the state root")]
    RootMismatch,
}

impl SmtProof {
    fn expand(&self) -> Result<Vec<Hash32>, SmtError> {
        let depth = usize::from(self.depth);
        if depth > 256 {
            return Err(SmtError::Malformed("depth above 256"));
        }
        if self.bitmap.len() != depth.div_ceil(8) {
            return Err(SmtError::Malformed("bitmap length"));
        }
        let mut out = Vec::with_capacity(depth);
        let mut it = self.siblings.iter();
        for i in 0..self.bitmap.len() * 8 {
            let set = self.bitmap.get(i / 8).is_some_and(|b| (b >> (7 - i % 8)) & 1 == 1);
            if i >= depth {
                if set {
                    return Err(SmtError::Malformed("bitmap bit past depth"));
                }
                continue;
            }
            if set {
                let h = it.next().ok_or(SmtError::Malformed("too few siblings"))?;
                if *h == Hash32::ZERO {
                    return Err(SmtError::Malformed("explicit empty sibling"));
                }
                out.push(*h);
            } else {
                out.push(Hash32::ZERO);
            }
        }
        if it.next().is_some() {
            return Err(SmtError::Malformed("too many siblings"));
        }
        Ok(out)
    }

    pub(crate) fn compress(siblings: &[Hash32], terminal: Terminal) -> SmtProof {
        let mut bitmap = vec![0u8; siblings.len().div_ceil(8)];
        let mut hashes = Vec::new();
        for (i, s) in siblings.iter().enumerate() {
            if *s != Hash32::ZERO {
                if let Some(b) = bitmap.get_mut(i / 8) {
                    *b |= 1 << (7 - i % 8);
                }
                hashes.push(*s);
            }
        }
        SmtProof { depth: u16::try_from(siblings.len()).unwrap_or(u16::MAX), bitmap, siblings: hashes, terminal }
    }
}

/// Verifies a claim about `key` against `root`: `Some(v)` claims `key ↦ v`,
/// `None` claims `key` is absent.
pub fn verify(root: &Hash32, key: &Hash32, value_hash: Option<&Hash32>, proof: &SmtProof) -> Result<(), SmtError> {
    let siblings = proof.expand()?;
    let depth = siblings.len();
    let mut cur = match (&proof.terminal, value_hash) {
        (Terminal::Found, Some(v)) => leaf_hash(key, v),
        (Terminal::Found, None) => return Err(SmtError::WrongTerminal("absence claimed, proof shows presence")),
        (_, Some(_)) => return Err(SmtError::WrongTerminal("presence claimed, proof shows absence")),
        (Terminal::Empty, None) => Hash32::ZERO,
        (Terminal::Other { key: other, value_hash: ov }, None) => {
            if other == key || (0..depth).any(|i| other.bit(i) != key.bit(i)) {
                return Err(SmtError::OtherKeyOffPath);
            }
            leaf_hash(other, ov)
        }
    };
    for (i, sib) in siblings.iter().enumerate().rev() {
        cur = if key.bit(i) { node_hash(sib, &cur) } else { node_hash(&cur, sib) };
    }
    if cur == *root { Ok(()) } else { Err(SmtError::RootMismatch) }
}

#[derive(Debug, Clone, Default)]
enum Node {
    #[default]
    Empty,
    Leaf {
        key: Hash32,
        value: Hash32,
    },
    Inner {
        left: Box<Node>,
        right: Box<Node>,
        /// `None` while a descendant changed since the last [`SparseMerkleMap::root`].
        hash: Option<Hash32>,
    },
}

impl Node {
    fn hash_clean(&self) -> Hash32 {
        match self {
            Node::Empty => Hash32::ZERO,
            Node::Leaf { key, value } => leaf_hash(key, value),
            Node::Inner { hash, .. } => hash.unwrap_or(Hash32::ZERO),
        }
    }

    fn rehash(&mut self) -> Hash32 {
        match self {
            Node::Empty => Hash32::ZERO,
            Node::Leaf { key, value } => leaf_hash(key, value),
            Node::Inner { left, right, hash } => {
                if let Some(h) = hash {
                    return *h;
                }
                let h = node_hash(&left.rehash(), &right.rehash());
                *hash = Some(h);
                h
            }
        }
    }
}

/// An in-memory compressed sparse Merkle map: the reference implementation
/// of the state map's root and proofs (a persistent store must give the same
/// roots and proofs).
#[derive(Debug, Clone, Default)]
pub struct SparseMerkleMap {
    root: Node,
    len: usize,
}

impl SparseMerkleMap {
    /// An empty map (root `0³²`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets `key ↦ value_hash`; returns the previous value hash.
    pub fn insert(&mut self, key: Hash32, value_hash: Hash32) -> Option<Hash32> {
        let prev = insert_at(&mut self.root, 0, key, value_hash);
        if prev.is_none() {
            self.len += 1;
        }
        prev
    }

    /// Removes `key`; returns its value hash.
    pub fn remove(&mut self, key: &Hash32) -> Option<Hash32> {
        let prev = remove_at(&mut self.root, 0, key);
        if prev.is_some() {
            self.len -= 1;
        }
        prev
    }

    /// The value hash stored under `key`.
    pub fn get(&self, key: &Hash32) -> Option<Hash32> {
        let mut node = &self.root;
        let mut depth = 0;
        loop {
            match node {
                Node::Empty => return None,
                Node::Leaf { key: k, value } => return (k == key).then_some(*value),
                Node::Inner { left, right, .. } => {
                    node = if key.bit(depth) { right } else { left };
                    depth += 1;
                }
            }
        }
    }

    /// The root hash (rehashing what changed since the last call).
    pub fn root(&mut self) -> Hash32 {
        self.root.rehash()
    }

    /// The root the map would have with `updates` applied (`Some` sets a
    /// value hash, `None` removes the key; a key named twice takes its last
    /// update), computed without changing the map, so readers sharing it
    /// are never blocked while a candidate block's state root is computed.
    /// `None` if the map changed since the last [`SparseMerkleMap::root`].
    pub fn root_with(&self, updates: &[(Hash32, Option<Hash32>)]) -> Option<Hash32> {
        if matches!(&self.root, Node::Inner { hash: None, .. }) {
            return None;
        }
        let mut sorted: Vec<(Hash32, Option<Hash32>)> = Vec::with_capacity(updates.len());
        let mut by_key: std::collections::BTreeMap<Hash32, Option<Hash32>> = std::collections::BTreeMap::new();
        for (k, v) in updates {
            by_key.insert(*k, *v);
        }
        sorted.extend(by_key);
        Some(shape_with(&self.root, 0, &sorted).hash())
    }

    /// A proof for `key`: membership if present, non-membership otherwise.
    pub fn prove(&mut self, key: &Hash32) -> SmtProof {
        self.root.rehash();
        self.proof_clean(key)
    }

    /// As [`SparseMerkleMap::prove`] without rehashing, for readers sharing
    /// the map: `None` if the map changed since the last [`SparseMerkleMap::root`].
    pub fn proof(&self, key: &Hash32) -> Option<SmtProof> {
        match &self.root {
            Node::Inner { hash: None, .. } => None,
            _ => Some(self.proof_clean(key)),
        }
    }

    fn proof_clean(&self, key: &Hash32) -> SmtProof {
        let mut siblings = Vec::new();
        let mut node = &self.root;
        let mut depth = 0;
        let terminal = loop {
            match node {
                Node::Empty => break Terminal::Empty,
                Node::Leaf { key: k, value } => {
                    break if k == key { Terminal::Found } else { Terminal::Other { key: *k, value_hash: *value } };
                }
                Node::Inner { left, right, .. } => {
                    let (next, sib) = if key.bit(depth) { (right, left) } else { (left, right) };
                    siblings.push(sib.hash_clean());
                    node = next;
                    depth += 1;
                }
            }
        };
        SmtProof::compress(&siblings, terminal)
    }
}

/// A subtree as its parent sees it: a lone leaf rises to the highest
/// position (the compressed form), anything larger is an inner hash.
#[derive(Clone, Copy)]
enum Shape {
    Empty,
    Leaf(Hash32, Hash32),
    Inner(Hash32),
}

impl Shape {
    fn hash(self) -> Hash32 {
        match self {
            Shape::Empty => Hash32::ZERO,
            Shape::Leaf(k, v) => leaf_hash(&k, &v),
            Shape::Inner(h) => h,
        }
    }

    fn join(left: Shape, right: Shape) -> Shape {
        match (left, right) {
            (Shape::Empty, Shape::Empty) => Shape::Empty,
            (leaf @ Shape::Leaf(..), Shape::Empty) | (Shape::Empty, leaf @ Shape::Leaf(..)) => leaf,
            (l, r) => Shape::Inner(node_hash(&l.hash(), &r.hash())),
        }
    }
}

/// The shape of the subtree of `leaves` (sorted, distinct keys) at `depth`.
fn shape_of(leaves: &[(Hash32, Hash32)], depth: usize) -> Shape {
    match leaves {
        [] => Shape::Empty,
        [(k, v)] => Shape::Leaf(*k, *v),
        _ if depth >= 256 => Shape::Empty, // distinct keys differ before depth 256
        _ => {
            let cut = leaves.partition_point(|(k, _)| !k.bit(depth));
            let (l, r) = leaves.split_at(cut);
            Shape::join(shape_of(l, depth + 1), shape_of(r, depth + 1))
        }
    }
}

/// The shape of `node` at `depth` with `updates` (sorted, distinct keys, all
/// under this node's prefix) applied; `node` itself is left as it is.
fn shape_with(node: &Node, depth: usize, updates: &[(Hash32, Option<Hash32>)]) -> Shape {
    if updates.is_empty() {
        return match node {
            Node::Empty => Shape::Empty,
            Node::Leaf { key, value } => Shape::Leaf(*key, *value),
            Node::Inner { .. } => Shape::Inner(node.hash_clean()),
        };
    }
    match node {
        Node::Empty => {
            let leaves: Vec<(Hash32, Hash32)> = updates.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            shape_of(&leaves, depth)
        }
        Node::Leaf { key, value } => {
            let mut leaves: Vec<(Hash32, Hash32)> = updates.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            if !updates.iter().any(|(k, _)| k == key) {
                let at = leaves.partition_point(|(k, _)| k < key);
                leaves.insert(at, (*key, *value));
            }
            shape_of(&leaves, depth)
        }
        Node::Inner { left, right, .. } => {
            if depth >= 256 {
                return Shape::Inner(node.hash_clean());
            }
            let cut = updates.partition_point(|(k, _)| !k.bit(depth));
            let (l, r) = updates.split_at(cut);
            Shape::join(shape_with(left, depth + 1, l), shape_with(right, depth + 1, r))
        }
    }
}

fn insert_at(node: &mut Node, depth: usize, key: Hash32, value: Hash32) -> Option<Hash32> {
    match node {
        Node::Empty => {
            *node = Node::Leaf { key, value };
            None
        }
        Node::Leaf { key: k, value: v } if *k == key => Some(core::mem::replace(v, value)),
        Node::Leaf { .. } => {
            let old = core::mem::take(node);
            *node = split_leaf(old, depth, key, value);
            None
        }
        Node::Inner { left, right, hash } => {
            *hash = None;
            let child = if key.bit(depth) { right } else { left };
            insert_at(child, depth + 1, key, value)
        }
    }
}

/// Replaces a one-leaf subtree at `depth` by the subtree holding both leaves.
fn split_leaf(old: Node, depth: usize, key: Hash32, value: Hash32) -> Node {
    let Node::Leaf { key: ok, .. } = &old else {
        return old;
    };
    if depth >= 256 {
        // Two distinct 256-bit keys always differ before depth 256.
        return old;
    }
    let new = Node::Leaf { key, value };
    let (l, r) = match (ok.bit(depth), key.bit(depth)) {
        (false, true) => (old, new),
        (true, false) => (new, old),
        (false, false) => (split_leaf(old, depth + 1, key, value), Node::Empty),
        (true, true) => (Node::Empty, split_leaf(old, depth + 1, key, value)),
    };
    Node::Inner { left: Box::new(l), right: Box::new(r), hash: None }
}

fn remove_at(node: &mut Node, depth: usize, key: &Hash32) -> Option<Hash32> {
    match node {
        Node::Empty => None,
        Node::Leaf { key: k, value } => {
            if k != key {
                return None;
            }
            let v = *value;
            *node = Node::Empty;
            Some(v)
        }
        Node::Inner { left, right, hash } => {
            let child = if key.bit(depth) { &mut **right } else { &mut **left };
            let removed = remove_at(child, depth + 1, key)?;
            *hash = None;
            // Keep the shape canonical: a subtree left with one leaf becomes that leaf.
            let collapse = match (&**left, &**right) {
                (Node::Empty, Node::Empty) => Some(Node::Empty),
                (Node::Empty, Node::Leaf { .. }) => Some(core::mem::take(&mut **right)),
                (Node::Leaf { .. }, Node::Empty) => Some(core::mem::take(&mut **left)),
                _ => None,
            };
            if let Some(n) = collapse {
                *node = n;
            }
            Some(removed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn h(i: u64) -> Hash32 {
        hash_parts("test", &[&i.to_le_bytes()])
    }

    /// Root computed from scratch over a sorted key set: the spec's definition.
    fn reference_root(entries: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
        match entries {
            [] => Hash32::ZERO,
            [(k, v)] => leaf_hash(k, v),
            _ => {
                let cut = entries.partition_point(|(k, _)| !k.bit(depth));
                let (l, r) = entries.split_at(cut);
                node_hash(&reference_root(l, depth + 1), &reference_root(r, depth + 1))
            }
        }
    }

    proptest! {
        #[test]
        fn root_with_is_the_root_after_the_updates(
            base in proptest::collection::vec((0u64..64, 0u64..4), 0..40),
            updates in proptest::collection::vec((0u64..80, proptest::option::of(0u64..4)), 0..30),
        ) {
            let mut m = SparseMerkleMap::new();
            for (k, v) in &base {
                m.insert(h(*k), h(1000 + v));
            }
            let before = m.root();
            let ups: Vec<(Hash32, Option<Hash32>)> =
                updates.iter().map(|(k, v)| (h(*k), v.map(|v| h(1000 + v)))).collect();
            let predicted = m.root_with(&ups);
            prop_assert_eq!(m.root(), before, "the map is unchanged");
            let mut applied = m.clone();
            for (k, v) in &ups {
                match v {
                    Some(v) => { applied.insert(*k, *v); }
                    None => { applied.remove(k); }
                }
            }
            prop_assert_eq!(predicted, Some(applied.root()));
        }
    }

    #[test]
    fn root_with_needs_a_clean_map() {
        let mut m = SparseMerkleMap::new();
        m.insert(h(1), h(2));
        m.insert(h(3), h(4));
        assert_eq!(m.root_with(&[]), None, "changed since the last root()");
        let r = m.root();
        assert_eq!(m.root_with(&[]), Some(r));
    }

    #[test]
    fn empty_map_root_is_zero_and_proves_absence() {
        let mut m = SparseMerkleMap::new();
        assert_eq!(m.root(), Hash32::ZERO);
        let p = m.prove(&h(1));
        assert_eq!(p.terminal, Terminal::Empty);
        assert_eq!(p.depth, 0);
        assert!(verify(&Hash32::ZERO, &h(1), None, &p).is_ok());
    }

    #[test]
    fn single_entry_root_is_its_leaf() {
        let mut m = SparseMerkleMap::new();
        m.insert(h(1), h(2));
        assert_eq!(m.root(), leaf_hash(&h(1), &h(2)));
    }

    #[test]
    fn non_canonical_proofs_are_refused() {
        let mut m = SparseMerkleMap::new();
        for i in 0..50 {
            m.insert(h(i), h(i + 1000));
        }
        let root = m.root();
        let p = m.prove(&h(7));
        assert!(verify(&root, &h(7), Some(&h(1007)), &p).is_ok());
        let mut bad = p.clone();
        bad.bitmap.push(0);
        assert!(matches!(verify(&root, &h(7), Some(&h(1007)), &bad), Err(SmtError::Malformed(_))));
        let mut bad = p.clone();
        bad.siblings.push(h(3));
        assert!(matches!(verify(&root, &h(7), Some(&h(1007)), &bad), Err(SmtError::Malformed(_))));
        let mut bad = p.clone();
        bad.depth = 300;
        assert!(matches!(verify(&root, &h(7), Some(&h(1007)), &bad), Err(SmtError::Malformed(_))));
        assert_eq!(
            verify(&root, &h(7), None, &p),
            Err(SmtError::WrongTerminal("absence claimed, proof shows presence"))
        );
    }

    #[test]
    fn other_leaf_must_share_the_path() {
        let mut m = SparseMerkleMap::new();
        m.insert(h(1), h(2));
        let root = m.root();
        // Absent key whose path ends at h(1)'s leaf (depth 0: the root is that leaf).
        let p = m.prove(&h(5));
        assert!(verify(&root, &h(5), None, &p).is_ok());
        // The present key cannot be shown absent with its own leaf.
        let forged = SmtProof {
            depth: 0,
            bitmap: vec![],
            siblings: vec![],
            terminal: Terminal::Other { key: h(1), value_hash: h(2) },
        };
        assert_eq!(verify(&root, &h(1), None, &forged), Err(SmtError::OtherKeyOffPath));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn matches_reference_and_proves_everything(
            ops in proptest::collection::vec((0u64..60, any::<bool>(), 0u64..1000), 0..120),
            probes in proptest::collection::vec(0u64..80, 1..10),
        ) {
            let mut m = SparseMerkleMap::new();
            let mut model = BTreeMap::new();
            for (k, del, v) in ops {
                if del {
                    prop_assert_eq!(m.remove(&h(k)), model.remove(&h(k)));
                } else {
                    prop_assert_eq!(m.insert(h(k), h(v)), model.insert(h(k), h(v)));
                }
            }
            prop_assert_eq!(m.len(), model.len());
            let entries: Vec<_> = model.iter().map(|(k, v)| (*k, *v)).collect();
            let root = m.root();
            prop_assert_eq!(root, reference_root(&entries, 0));
            for p in probes {
                let key = h(p);
                let proof = m.prove(&key);
                match model.get(&key) {
                    Some(v) => {
                        prop_assert!(verify(&root, &key, Some(v), &proof).is_ok());
                        prop_assert!(verify(&root, &key, Some(&h(99_999)), &proof).is_err());
                        prop_assert!(verify(&root, &key, None, &proof).is_err());
                    }
                    None => {
                        prop_assert!(verify(&root, &key, None, &proof).is_ok());
                        prop_assert!(verify(&root, &key, Some(&h(1)), &proof).is_err());
                    }
                }
            }
        }
    }
}
