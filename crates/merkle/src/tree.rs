//! The RFC 6962 Merkle tree hash and inclusion proofs (RFC 9162 §2.1).
//!
//! `MTH({}) = SHA-256()`, `MTH({d}) = SHA-256(0x00 ‖ d)`,
//! `MTH(D[n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))` with `k` the
//! largest power of two smaller than `n`.
//!
//! ```
//! use credex_merkle::tree::{leaf_hash, root, inclusion_proof, verify_inclusion};
//! let leaves: Vec<_> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
//! let r = root(&leaves);
//! let path = inclusion_proof(&leaves, 3).unwrap();
//! assert!(verify_inclusion(&r, &leaves[3], 3, 5, &path).is_ok());
//! assert!(verify_inclusion(&r, &leaves[2], 3, 5, &path).is_err());
//! ```

use credex_crypto::Hash32;

/// Why an inclusion proof failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InclusionError {
    /// `index ≥ size`.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// Claimed index.
        index: u64,
        /// Claimed size.
        size: u64,
    },
    /// The path has the wrong number of nodes for this index and size.
    #[error("audit path has the wrong length")]
    WrongPathLength,
    /// The path leads to another root.
    #[error("audit path does not lead to the root")]
    RootMismatch,
}

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    Hash32::sha256(&[&[0x00], data])
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32::sha256(&[&[0x01], &left.0, &right.0])
}

fn split(n: usize) -> usize {
    // largest power of two strictly smaller than n (n ≥ 2)
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The tree hash over already-hashed leaves.
pub fn root(leaves: &[Hash32]) -> Hash32 {
    match leaves {
        [] => Hash32::sha256(&[]),
        [one] => *one,
        _ => {
            let (l, r) = leaves.split_at(split(leaves.len()));
            node_hash(&root(l), &root(r))
        }
    }
}

/// The audit path for leaf `index`, bottom-up; `None` if out of range.
pub fn inclusion_proof(leaves: &[Hash32], index: usize) -> Option<Vec<Hash32>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    path_rec(leaves, index, &mut path);
    Some(path)
}

fn path_rec(leaves: &[Hash32], index: usize, out: &mut Vec<Hash32>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    let (l, r) = leaves.split_at(k);
    if index < k {
        path_rec(l, index, out);
        out.push(root(r));
    } else {
        path_rec(r, index - k, out);
        out.push(root(l));
    }
}

/// Recomputes the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion(leaf: &Hash32, index: u64, size: u64, path: &[Hash32]) -> Result<Hash32, InclusionError> {
    if index >= size {
        return Err(InclusionError::IndexOutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return Err(InclusionError::WrongPathLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(InclusionError::WrongPathLength);
    }
    Ok(r)
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    root: &Hash32,
    leaf: &Hash32,
    index: u64,
    size: u64,
    path: &[Hash32],
) -> Result<(), InclusionError> {
    if root_from_inclusion(leaf, index, size, path)? == *root { Ok(()) } else { Err(InclusionError::RootMismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_and_single() {
        assert_eq!(root(&[]).to_string(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let l = leaf_hash(b"");
        // RFC 6962 leaf hash of the empty string: SHA-256(0x00)
        assert_eq!(l.to_string(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(root(&[l]), l);
    }

    #[test]
    fn three_leaves_shape() {
        let ls: Vec<_> = [b"a", b"b", b"c"].iter().map(|d| leaf_hash(*d)).collect();
        let expect = node_hash(&node_hash(&ls[0], &ls[1]), &ls[2]);
        assert_eq!(root(&ls), expect);
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_no_other(n in 1usize..40, pick in any::<usize>(), wrong in any::<usize>()) {
            let leaves: Vec<_> = (0..n).map(|i| leaf_hash(&(i as u64).to_le_bytes())).collect();
            let r = root(&leaves);
            let i = pick % n;
            let path = inclusion_proof(&leaves, i).unwrap();
            prop_assert!(verify_inclusion(&r, &leaves[i], i as u64, n as u64, &path).is_ok());
            let j = wrong % n;
            if j != i {
                prop_assert!(verify_inclusion(&r, &leaves[j], i as u64, n as u64, &path).is_err());
                prop_assert!(verify_inclusion(&r, &leaves[i], j as u64, n as u64, &path).is_err());
            }
            let mut longer = path.clone();
            longer.push(r);
            prop_assert!(verify_inclusion(&r, &leaves[i], i as u64, n as u64, &longer).is_err());
        }
    }
}
