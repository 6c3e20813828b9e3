//! The credex domain and chain data model: subject ids, attestations with selective disclosure, labels, blocks, votes, certificates, validator sets, genesis and state entries.
//!
//! Everything here has one canonical binary encoding (`credex-codec`) and,
//! where people read it, a text form (serde: JSON, TOML). Types that carry a
//! rule (subject ids, names, keys) check it when built, parsed or decoded, so
//! a value of the type is a valid value. The spec is `docs/spec/`; each
//! module cites its section.

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

/// Implements serde as the type's `Display` / `FromStr` text.
macro_rules! text_serde {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod access;
pub mod attestation;
pub mod chain;
pub mod demo;
pub mod genesis;
pub mod ids;
pub mod kinds;
pub mod labels;
pub mod lifecycle;
pub mod state;
pub mod time;

pub use attestation::{Attestation, AttestationHeader, AttestationId, ClaimField, ClaimSlot, DisclosedAttestation};
pub use chain::{BlockHeader, CommitCertificate, CommitSig, ValidatorSet, Vote, VoteKind};
pub use genesis::{ChainIdentity, Genesis};
pub use ids::{AgencyId, ChainId, FieldCode, IdError, Jurisdiction, LegalBasis, SubjectId};
pub use kinds::{AttestationKind, ListKind};
pub use time::Timestamp;
