//! The one canonical binary encoding of credex: bincode 2 in a fixed configuration, size-limited, trailing-byte-free, re-encoding byte-exactly.
//!
//! # The encoding (spec: `docs/spec/01-encoding.md`)
//!
//! Every byte string that is hashed, signed, stored or exchanged by credex is
//! produced by [`encode`], which is bincode 2 with this configuration and no
//! other:
//!
//! * little-endian;
//! * variable-length integers (LEB-like bincode varint: `< 251` is one byte,
//!   `251` + u16, `252` + u32, `253` + u64);
//! * sequences and strings are prefixed by their length as a varint;
//! * enums are a varint variant index followed by the variant's fields;
//! * `Option` is a `0`/`1` byte; `bool` is a `0`/`1` byte;
//! * fixed arrays (`[u8; N]`) are their `N` bytes with no prefix.
//!
//! [`decode`] is the only way in. It enforces, in order:
//!
//! 1. the input is at most the caller's byte limit ([`CodecError::TooLarge`]),
//!    and no length prefix may claim more than that limit
//!    ([`CodecError::Malformed`], before anything is allocated);
//! 2. the bytes decode (unknown enum tags, invalid UTF-8, bad bools, truncated
//!    input are all [`CodecError::Malformed`]);
//! 3. every input byte was consumed ([`CodecError::TrailingBytes`]);
//! 4. re-encoding the value gives back exactly the input
//!    ([`CodecError::NonCanonical`]): this rejects over-long varints and any
//!    other second spelling of the same value, so that one value has exactly
//!    one encoding and hashes of encodings are hashes of values.
//!
//! The decoder never panics: every failure is a [`CodecError`].
//!
//! ```
//! let bytes = credex_codec::encode(&(7u32, String::from("абв")));
//! let back: (u32, String) = credex_codec::decode(&bytes, 64).unwrap();
//! assert_eq!(back, (7, "абв".to_string()));
//! // a trailing byte is refused
//! let mut longer = bytes.clone();
//! longer.push(0);
//! assert!(credex_codec::decode::<(u32, String)>(&longer, 64).is_err());
//! ```

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub use bincode::{Decode, Encode};

/// Upper bound used when a caller has no tighter one: 1 MiB.
pub const DEFAULT_LIMIT: usize = 1 << 20;

/// Why a byte string was refused by [`decode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input is longer than the limit the caller allows.
    #[error("input of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not an encoding of the expected type.
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// The bytes end before the value does: cut short in transit or copy.
    #[error("the data ends {missing} byte(s) before the encoded value does: it was cut short")]
    Truncated {
        /// Bytes the decoder still needed (at least).
        missing: usize,
    },
    /// The value ended before the input did.
    #[error("{0} trailing bytes after the encoded value")]
    TrailingBytes(usize),
    /// The bytes decode, but are not the canonical encoding of that value.
    #[error("non-canonical encoding (re-encoding differs)")]
    NonCanonical,
}

/// Hard ceiling on what any length prefix may make the decoder allocate,
/// whatever the caller's byte limit: 16 MiB.
const ALLOC_CEILING: usize = 16 << 20;

type Config = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<ALLOC_CEILING>,
>;

const fn config() -> Config {
    bincode::config::standard().with_little_endian().with_variable_int_encoding().with_limit::<ALLOC_CEILING>()
}

/// Encodes `value` canonically.
///
/// Encoding into a `Vec` cannot fail for the types credex defines (they hold
/// no maps with fallible ordering and no custom fallible encoders); should a
/// future type make it fail, the failure is reported as an empty vector,
/// which every decoder refuses, rather than as a panic.
pub fn encode<T: Encode>(value: &T) -> Vec<u8> {
    bincode::encode_to_vec(value, config()).unwrap_or_default()
}

/// Decodes the canonical encoding of a `T` from exactly `bytes`, refusing
/// anything longer than `limit` bytes, with trailing bytes, or not canonical.
pub fn decode<T: Decode<()> + Encode>(bytes: &[u8], limit: usize) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge { len: bytes.len(), limit });
    }
    let (value, consumed): (T, usize) = bincode::decode_from_slice(bytes, config()).map_err(|e| match e {
        bincode::error::DecodeError::UnexpectedEnd { additional } => CodecError::Truncated { missing: additional },
        e => CodecError::Malformed(e.to_string()),
    })?;
    if consumed != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len().saturating_sub(consumed)));
    }
    if encode(&value) != bytes {
        return Err(CodecError::NonCanonical);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
    enum Shape {
        Dot,
        Line { len: u64, label: String },
        Many(Vec<[u8; 4]>),
    }

    #[test]
    fn overlong_varint_is_non_canonical() {
        // 5 encoded minimally is [5]; as "251 + u16" it is [251, 5, 0].
        assert_eq!(encode(&5u64), vec![5]);
        assert_eq!(decode::<u64>(&[251, 5, 0], 16), Err(CodecError::NonCanonical));
    }

    #[test]
    fn unknown_enum_tag_is_malformed() {
        assert!(matches!(decode::<Shape>(&[3], 16), Err(CodecError::Malformed(_))));
    }

    #[test]
    fn cut_short_input_says_so() {
        let bytes = encode(&(7u64, String::from("credex")));
        let e = decode::<(u64, String)>(&bytes[..bytes.len() - 2], 64).unwrap_err();
        assert_eq!(e, CodecError::Truncated { missing: 2 });
        assert!(e.to_string().contains("cut short"), "{e}");
    }

    #[test]
    fn bad_bool_and_bad_utf8_are_malformed() {
        assert!(matches!(decode::<bool>(&[2], 16), Err(CodecError::Malformed(_))));
        assert!(matches!(decode::<String>(&[1, 0xff], 16), Err(CodecError::Malformed(_))));
    }

    #[test]
    fn huge_length_prefix_does_not_allocate() {
        // A Vec<[u8;4]> claiming 2^64-1 elements in 9 bytes.
        let mut bytes = vec![2u8, 253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(decode::<Shape>(&bytes, 64), Err(CodecError::Malformed(_))));
    }

    #[test]
    fn limit_is_enforced_before_decoding() {
        let bytes = encode(&Shape::Many(vec![[1; 4]; 100]));
        assert_eq!(decode::<Shape>(&bytes, 10), Err(CodecError::TooLarge { len: bytes.len(), limit: 10 }));
    }

    fn shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            Just(Shape::Dot),
            (any::<u64>(), ".{0,40}").prop_map(|(len, label)| Shape::Line { len, label }),
            proptest::collection::vec(any::<[u8; 4]>(), 0..20).prop_map(Shape::Many),
        ]
    }

    proptest! {
        #[test]
        fn round_trip_is_byte_exact(s in shape()) {
            let bytes = encode(&s);
            let back: Shape = decode(&bytes, DEFAULT_LIMIT).unwrap();
            prop_assert_eq!(&back, &s);
            prop_assert_eq!(encode(&back), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            // Either a canonical value or a typed error; if it decodes, it is canonical.
            if let Ok(v) = decode::<Shape>(&bytes, DEFAULT_LIMIT) {
                prop_assert_eq!(encode(&v), bytes);
            }
        }

        #[test]
        fn trailing_bytes_are_refused(s in shape(), extra in proptest::collection::vec(any::<u8>(), 1..8)) {
            let mut bytes = encode(&s);
            bytes.extend_from_slice(&extra);
            prop_assert!(decode::<Shape>(&bytes, DEFAULT_LIMIT).is_err());
        }
    }
}
