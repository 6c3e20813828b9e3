//! Domain-separated SHA-256 and the 32-byte hash type.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

/// The hash domains of credex, one per use. Each is hashed as
/// `u8(len) ‖ domain` in front of the data, so no input of one domain can be
/// read as an input of another.
pub mod domain {
    /// Attestation id: header encoding ‖ claims root.
    pub const ATTESTATION_ID: &str = "credex/attestation-id/v1";
    /// One claim field commitment: encoding of (code, value, salt).
    pub const CLAIM_FIELD: &str = "credex/claim-field/v1";
    /// Block id: header encoding.
    pub const BLOCK_HEADER: &str = "credex/block-header/v1";
    /// Validator set encoding.
    pub const VALIDATOR_SET: &str = "credex/validator-set/v1";
    /// Genesis encoding.
    pub const GENESIS: &str = "credex/genesis/v1";
    /// Label table encoding.
    pub const LABELS: &str = "credex/labels/v1";
    /// Transaction encoding.
    pub const TRANSACTION: &str = "credex/tx/v1";
    /// State-map key: encoding of the typed key.
    pub const STATE_KEY: &str = "credex/state-key/v1";
    /// State-map value: encoding of the typed value.
    pub const STATE_VALUE: &str = "credex/state-value/v1";
    /// Sparse Merkle tree leaf: key hash ‖ value hash.
    pub const SMT_LEAF: &str = "credex/smt-leaf/v1";
    /// Sparse Merkle tree inner node: left ‖ right.
    pub const SMT_NODE: &str = "credex/smt-node/v1";
    /// Batch-verification transcript (derives the random-looking weights).
    pub const BATCH_WEIGHTS: &str = "credex/batch-weights/v1";
    /// A subject's signed act (commitment, repair application, objection): its case id.
    pub const SUBJECT_ACT: &str = "credex/subject-act/v1";
    /// A subject-key binding.
    pub const SUBJECT_KEY: &str = "credex/subject-key/v1";
    /// A governance proposal.
    pub const GOVERNANCE: &str = "credex/governance/v1";
    /// A signed API request (v2: bound to the genesis hash and the node it is for).
    pub const REQUEST: &str = "credex/request/v2";
    /// A subject's data-access authorization.
    pub const AUTHORIZATION: &str = "credex/authorization/v1";
    /// An entry of a node's query audit log.
    pub const AUDIT_ENTRY: &str = "credex/audit-entry/v1";
    /// An audit log head anchored on chain.
    pub const AUDIT_ANCHOR: &str = "credex/audit-anchor/v1";
    /// A subject's registered name, as its registrar publishes it.
    pub const SUBJECT_NAME: &str = "credex/subject-name/v1";

    /// Every domain, for the distinctness check in tests and the spec.
    pub const ALL: &[&str] = &[
        ATTESTATION_ID,
        CLAIM_FIELD,
        BLOCK_HEADER,
        VALIDATOR_SET,
        GENESIS,
        LABELS,
        TRANSACTION,
        STATE_KEY,
        STATE_VALUE,
        SMT_LEAF,
        SMT_NODE,
        BATCH_WEIGHTS,
        SUBJECT_ACT,
        SUBJECT_KEY,
        GOVERNANCE,
        REQUEST,
        AUTHORIZATION,
        AUDIT_ENTRY,
        AUDIT_ANCHOR,
        SUBJECT_NAME,
    ];
}

/// A SHA-256 output. Shown and parsed as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// The all-zero value, used as "empty" where the spec says so.
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Bit `i` (0 = most significant bit of byte 0).
    pub fn bit(&self, i: usize) -> bool {
        match self.0.get(i / 8) {
            Some(b) => (b >> (7 - (i % 8))) & 1 == 1,
            None => false,
        }
    }

    /// SHA-256 of `data` with no domain: only for RFC 6962 trees, which carry
    /// their own one-byte leaf/node prefixes.
    pub fn sha256(parts: &[&[u8]]) -> Hash32 {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        Hash32(h.finalize().into())
    }
}

/// Why a hex string is not a [`Hash32`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 hex digits: {0}")]
pub struct HashError(String);

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", hex::encode(self.0))
    }
}

impl FromStr for Hash32 {
    type Err = HashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| HashError(e.to_string()))?;
        Ok(Hash32(out))
    }
}

impl serde::Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl credex_codec::Encode for Hash32 {
    fn encode<E: bincode::enc::Encoder>(&self, e: &mut E) -> Result<(), bincode::error::EncodeError> {
        self.0.encode(e)
    }
}

impl<C> credex_codec::Decode<C> for Hash32 {
    fn decode<D: bincode::de::Decoder<Context = C>>(d: &mut D) -> Result<Self, bincode::error::DecodeError> {
        Ok(Hash32(<[u8; 32]>::decode(d)?))
    }
}

bincode::impl_borrow_decode!(Hash32);

/// `H(domain, data) = SHA-256(u8(len(domain)) ‖ domain ‖ data)`.
pub fn hash(domain: &str, data: &[u8]) -> Hash32 {
    hash_parts(domain, &[data])
}

/// [`hash`] over the concatenation of `parts`.
pub fn hash_parts(domain: &str, parts: &[&[u8]]) -> Hash32 {
    let mut h = Sha256::new();
    // Domains are compile-time constants shorter than 256 bytes (checked in tests).
    let len = u8::try_from(domain.len()).unwrap_or(u8::MAX);
    h.update([len]);
    h.update(domain.as_bytes());
    for p in parts {
        h.update(p);
    }
    Hash32(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_distinct_and_short() {
        let mut seen = std::collections::BTreeSet::new();
        for d in domain::ALL {
            assert!(d.len() < 256);
            assert!(seen.insert(*d), "duplicate domain {d}");
        }
    }

    #[test]
    fn hash_is_prefix_of_length_and_domain() {
        // SHA-256(0x03 ‖ "abc" ‖ "xyz") computed independently of hash():
        let mut raw = vec![3u8];
        raw.extend_from_slice(b"abcxyz");
        assert_eq!(hash("abc", b"xyz"), Hash32::sha256(&[&raw]));
        assert_ne!(hash("abc", b"xyz"), hash("abcx", b"yz"));
    }

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 "abc"
        assert_eq!(
            Hash32::sha256(&[b"abc"]).to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let h = hash(domain::GENESIS, b"x");
        assert_eq!(h.to_string().parse::<Hash32>().unwrap(), h);
        assert!("zz".parse::<Hash32>().is_err());
        assert!("00".parse::<Hash32>().is_err());
    }

    #[test]
    fn bits_are_msb_first() {
        let mut b = [0u8; 32];
        b[0] = 0b1000_0001;
        let h = Hash32(b);
        assert!(h.bit(0));
        assert!(!h.bit(1));
        assert!(h.bit(7));
        assert!(!h.bit(256));
    }
}
