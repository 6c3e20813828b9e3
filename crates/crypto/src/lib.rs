//! Domain-separated SHA-256 hashing and purpose-tagged ed25519 signatures: the offline verification rule (single and batch) and the stricter admission rule for what goes on chain.
//!
//! Spec: `docs/spec/02-hashing-and-signing.md`. In short:
//!
//! * **Hashing.** `H(domain, data) = SHA-256(u8(len(domain)) ‖ domain ‖ data)`
//!   with the domains listed in [`domain`]; no two uses share a domain.
//! * **Signing.** A credex signature is a plain RFC 8032 Ed25519 signature
//!   over `M' = u8(len(tag)) ‖ tag ‖ M`, where `tag` is the purpose's tag
//!   ([`Purpose::tag`]). A signature made for one purpose can therefore never
//!   verify for another.
//! * **Verification** follows one rule, `credex-ed25519-v1`
//!   ([`verify`], [`verify_batch`]): canonical `S < ℓ`; canonical encodings of
//!   `A` and `R`; `A` not of small order; cofactored equation
//!   `[8]([S]B − R − [k]A) = 0`. Batch verification checks the cofactored
//!   batch equation, which accepts exactly the batches whose every member the
//!   single rule accepts (up to a 2⁻¹²⁸ chance), so the node, its batch path
//!   and the offline verifier agree on every input.
//! * **Admission** follows a stricter rule, `credex-ed25519-admit-v1`
//!   ([`admit`], spec §2.4): `R` not of small order and the cofactorless
//!   equation `[S]B = R + [k]A`, with keys in the prime-order subgroup
//!   ([`PublicKey::check_admissible`], checked when a key is registered).
//!   Whatever goes on chain then verifies under stock libraries too, which
//!   disagree on the torsion cases the offline rule accepts.
//!
//! ```
//! use credex_crypto::{Purpose, SecretKey};
//! let key = SecretKey::from_seed([7; 32]);
//! let sig = key.sign(Purpose::Attestation, b"hello");
//! assert!(credex_crypto::verify(&key.public(), Purpose::Attestation, b"hello", &sig).is_ok());
//! // the same signature does not verify as a vote
//! assert!(credex_crypto::verify(&key.public(), Purpose::Vote, b"hello", &sig).is_err());
//! ```

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod hash;
mod hmac;
mod sig;

pub use hash::{Hash32, HashError, domain, hash, hash_parts};
pub use hmac::{equal_in_constant_time, hmac_sha256};
pub use sig::{
    BatchItem, ParseError, PublicKey, Purpose, SecretKey, SigRule, Signature, SignatureError, admit, admit_raw,
    signing_input, verify, verify_batch, verify_raw,
};
