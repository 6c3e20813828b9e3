//! Access control and audit (spec §12): signed API requests, subject
//! authorizations for raw-record access, and the hash-chained query audit
//! log whose heads are anchored on chain.
//!
//! ```text
//! request hash  = H("credex/request/v2", encode(SignedRequest))        signed, purpose request
//! authorization = H("credex/authorization/v1", encode(Authorization))  signed by the subject, purpose authorization
//! entry hash    = H("credex/audit-entry/v1", encode(AuditEntry))       entry.prev = previous entry's hash (zero first)
//! anchor        = H("credex/audit-anchor/v1", encode(AuditAnchor))     signed by the node, purpose audit-anchor
//! ```
//!
//! ```
//! use credex_types::access::*;
//! let first = AuditEntry {
//!     seq: 1, prev: credex_crypto::Hash32::ZERO, time: credex_types::Timestamp(1),
//!     client: "officer-1".into(), role: Role::Official, action: "GET /v1/subjects/x".into(),
//!     subject: None, basis: None, result: "200".into(),
//! };
//! let second = AuditEntry { seq: 2, prev: first.hash(), ..first.clone() };
//! assert_eq!(verify_chain(&[first.clone(), second.clone()]), Ok(second.hash()));
//! let mut edited = first.clone();
//! edited.client = "someone-else".into();
//! assert_eq!(verify_chain(&[edited, second]), Err(ChainBreak { seq: 1 }));
//! ```

use core::fmt;
use core::str::FromStr;

use credex_crypto::{Hash32, PublicKey, Purpose, SecretKey, Signature, domain, hash};

use crate::attestation::AttestationId;
use crate::ids::{AgencyId, ChainId, SubjectId};
use crate::kinds::AttestationKind;
use crate::time::Timestamp;

/// Who a caller is to the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub enum Role {
    /// No credentials.
    Public,
    /// A trader, with its bound subject key.
    Subject,
    /// A cross-border e-commerce platform.
    Platform,
    /// A government official (customs, FTZ, partner agency).
    Official,
    /// An issuer agency, with its registry key.
    Issuer,
}

impl Role {
    /// Kebab-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Subject => "subject",
            Role::Platform => "platform",
            Role::Official => "official",
            Role::Issuer => "issuer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Role::Public, Role::Subject, Role::Platform, Role::Official, Role::Issuer]
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown role {s:?}: public, subject, platform, official or issuer"))
    }
}
text_serde!(Role);

/// Whom a request is for: one chain, named by its id **and** its genesis
/// hash (two chains may share an id), and one node of it, named by the
/// node's agency (`""` for a node without one). A request signed for one
/// node is void at every other (spec §12.1).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Audience {
    /// The chain id.
    pub chain_id: ChainId,
    /// The genesis hash.
    pub genesis: Hash32,
    /// The node's agency, as its `GET /v1/status` shows it (`""` when none).
    pub node: String,
}

/// What a client signs for one API request.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct SignedRequest {
    /// The chain and the node the request is for.
    pub audience: Audience,
    /// The client id (`X-Credex-Client`): a registered client, an issuer agency or a subject id.
    pub client: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// SHA-256 of the body (of nothing for an empty body).
    pub body: Hash32,
    /// Client time.
    pub time: Timestamp,
    /// 128 random bits; a repeat within the time window is a replay.
    pub nonce: [u8; 16],
}

impl SignedRequest {
    /// `H("credex/request/v2", encode(request))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::REQUEST, &credex_codec::encode(self))
    }

    /// The client's signature.
    pub fn sign(&self, key: &SecretKey) -> Signature {
        key.sign(Purpose::Request, &self.hash().0)
    }
}

/// What an authorization covers.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "scope", content = "of")]
pub enum Scope {
    /// These attestations.
    Attestations(Vec<AttestationId>),
    /// Attestations of these kinds.
    Kinds(Vec<AttestationKind>),
    /// Every attestation about the subject.
    All,
}

impl Scope {
    /// True if an attestation `id` of `kind` is covered.
    pub fn covers(&self, id: &AttestationId, kind: AttestationKind) -> bool {
        match self {
            Scope::Attestations(ids) => ids.contains(id),
            Scope::Kinds(kinds) => kinds.contains(&kind),
            Scope::All => true,
        }
    }
}

/// A subject's consent that an agency may read its raw records (数据授权).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Authorization {
    /// The chain.
    pub chain_id: ChainId,
    /// The subject granting.
    pub subject: SubjectId,
    /// The agency granted (its nodes and officials).
    pub grantee: AgencyId,
    /// What it covers.
    pub scope: Scope,
    /// Not valid at or after this time.
    pub expires: Timestamp,
    /// 128 random bits.
    #[serde(with = "hex::serde")]
    pub nonce: [u8; 16],
}

impl Authorization {
    /// `H("credex/authorization/v1", encode(authorization))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::AUTHORIZATION, &credex_codec::encode(self))
    }

    /// Signs with the subject's key.
    pub fn sign(self, key: &SecretKey) -> SignedAuthorization {
        SignedAuthorization { signature: key.sign(Purpose::Authorization, &self.hash().0), authorization: self }
    }
}

/// An authorization with the subject's signature.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct SignedAuthorization {
    /// The authorization.
    pub authorization: Authorization,
    /// Subject signature (purpose `authorization`).
    pub signature: Signature,
}

/// Why an authorization does not let `grantee` read a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// Another chain.
    #[error("authorization is for another chain")]
    WrongChain,
    /// Another subject.
    #[error("authorization is by {0}, not by the record's subject")]
    WrongSubject(SubjectId),
    /// Another grantee.
    #[error("authorization grants {0}, not the requesting agency")]
    WrongGrantee(AgencyId),
    /// Expired.
    #[error("authorization expired at {0}")]
    Expired(Timestamp),
    /// Not in scope.
    #[error("authorization does not cover this attestation")]
    OutOfScope,
    /// Signature fails under the subject's bound key (or it has none).
    #[error("authorization signature does not verify under the subject's bound key")]
    BadSignature,
    /// The subject withdrew it (on chain, at this height).
    #[error("the subject withdrew this authorization (block {0})")]
    Revoked(u64),
}

impl AuthorizationError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthorizationError::WrongChain => "wrong-chain",
            AuthorizationError::WrongSubject(_) => "wrong-subject",
            AuthorizationError::WrongGrantee(_) => "wrong-grantee",
            AuthorizationError::Expired(_) => "authorization-expired",
            AuthorizationError::OutOfScope => "out-of-scope",
            AuthorizationError::BadSignature => "bad-authorization-signature",
            AuthorizationError::Revoked(_) => "authorization-revoked",
        }
    }
}

/// What a record holder needs to know to check an authorization.
pub struct RecordFacts<'a> {
    /// The chain.
    pub chain_id: &'a ChainId,
    /// The record's attestation.
    pub id: &'a AttestationId,
    /// Its kind.
    pub kind: AttestationKind,
    /// Its subject.
    pub subject: &'a SubjectId,
    /// The subject's bound key, if any.
    pub subject_key: Option<&'a PublicKey>,
    /// The height at which the subject withdrew the authorization checked,
    /// if it did (from the state: `StateKey::AuthorizationRevoked`).
    pub revoked_at: Option<u64>,
}

impl SignedAuthorization {
    /// Checks that this lets `grantee` read the record at `now`.
    pub fn check(
        &self,
        record: &RecordFacts<'_>,
        grantee: &AgencyId,
        now: Timestamp,
    ) -> Result<(), AuthorizationError> {
        let a = &self.authorization;
        if &a.chain_id != record.chain_id {
            return Err(AuthorizationError::WrongChain);
        }
        if &a.subject != record.subject {
            return Err(AuthorizationError::WrongSubject(a.subject.clone()));
        }
        let key = record.subject_key.ok_or(AuthorizationError::BadSignature)?;
        credex_crypto::verify(key, Purpose::Authorization, &a.hash().0, &self.signature)
            .map_err(|_| AuthorizationError::BadSignature)?;
        if &a.grantee != grantee {
            return Err(AuthorizationError::WrongGrantee(a.grantee.clone()));
        }
        if let Some(height) = record.revoked_at {
            return Err(AuthorizationError::Revoked(height));
        }
        if now >= a.expires {
            return Err(AuthorizationError::Expired(a.expires));
        }
        if !a.scope.covers(record.id, record.kind) {
            return Err(AuthorizationError::OutOfScope);
        }
        Ok(())
    }
}

/// One entry of a node's query audit log (信息查询使用登记).
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Position, from 1.
    pub seq: u64,
    /// Hash of the previous entry (zero for the first).
    pub prev: Hash32,
    /// Node time.
    pub time: Timestamp,
    /// Who: client id (for a cross-node fetch, `agency/client`).
    pub client: String,
    /// In which role.
    pub role: Role,
    /// What: method and path, or `raw-record <id>`.
    pub action: String,
    /// Whose data, if a subject's.
    pub subject: Option<SubjectId>,
    /// Legal basis code or `authorization:<hash>`.
    pub basis: Option<String>,
    /// HTTP status, or `served` / `refused:<code>`.
    pub result: String,
}

impl AuditEntry {
    /// `H("credex/audit-entry/v1", encode(entry))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::AUDIT_ENTRY, &credex_codec::encode(self))
    }
}

/// Where a log's hash chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq} was altered, removed or reordered: the log's hash chain breaks there")]
pub struct ChainBreak {
    /// The first entry that no longer matches the chain: its hash differs
    /// from what the next entry records, or its number or link is wrong.
    pub seq: u64,
}

/// Checks that `entries` (from seq 1, in order) form one hash chain; returns the head.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<Hash32, ChainBreak> {
    let mut prev = Hash32::ZERO;
    for (i, e) in entries.iter().enumerate() {
        let want = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        if e.seq != want {
            return Err(ChainBreak { seq: want });
        }
        if e.prev != prev {
            // the previous entry's content no longer hashes to what this one recorded
            return Err(ChainBreak { seq: want.saturating_sub(1).max(1) });
        }
        prev = e.hash();
    }
    Ok(prev)
}

/// A node's statement of its audit log head, anchored on chain.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct AuditAnchor {
    /// The chain.
    pub chain_id: ChainId,
    /// The node's agency (a genesis validator or observer).
    pub node: AgencyId,
    /// Entries so far.
    pub seq: u64,
    /// Hash of entry `seq`.
    pub head: Hash32,
}

impl AuditAnchor {
    /// `H("credex/audit-anchor/v1", encode(anchor))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::AUDIT_ANCHOR, &credex_codec::encode(self))
    }
}

/// The transaction anchoring an audit head.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct AuditAnchorTx {
    /// The anchor.
    pub anchor: AuditAnchor,
    /// The node key: the validator's consensus key, or the ed25519 key of its genesis peer id.
    pub key: PublicKey,
    /// Signature (purpose `audit-anchor`) over the anchor hash.
    pub signature: Signature,
}

/// The libp2p peer id (base58btc text) of an ed25519 public key: the
/// identity multihash of its protobuf encoding. Lets the chain recognise an
/// observer's key from its genesis `peer_id` without libp2p.
pub fn ed25519_peer_id(key: &PublicKey) -> String {
    // protobuf PublicKey { Type = Ed25519 (1), Data = 32 bytes }, in an identity multihash
    let mut bytes = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    bytes.extend_from_slice(key.as_bytes());
    base58btc(&bytes)
}

fn base58btc(input: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new(); // base-58 digits, least significant first
    for &byte in input {
        let mut carry = u32::from(byte);
        for d in &mut digits {
            carry += u32::from(*d) << 8;
            *d = u8::try_from(carry % 58).unwrap_or(0);
            carry /= 58;
        }
        while carry > 0 {
            digits.push(u8::try_from(carry % 58).unwrap_or(0));
            carry /= 58;
        }
    }
    let zeros = input.iter().take_while(|b| **b == 0).count();
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|d| char::from(ALPHABET[usize::from(*d)])));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base58_matches_known_values() {
        assert_eq!(base58btc(b""), "");
        assert_eq!(base58btc(&[0, 0, 1]), "112");
        assert_eq!(base58btc(b"hello world"), "StV1DL6CwTryKyV");
    }

    #[test]
    fn authorization_checks_each_condition() {
        let key = SecretKey::from_seed([4; 32]);
        let chain: ChainId = "credex-test".parse().unwrap();
        let subject: SubjectId = "91350100M000100Y43".parse().unwrap();
        let grantee: AgencyId = "cn-sfh-customs".parse().unwrap();
        let id = AttestationId(Hash32([1; 32]));
        let a = Authorization {
            chain_id: chain.clone(),
            subject: subject.clone(),
            grantee: grantee.clone(),
            scope: Scope::Kinds(vec![AttestationKind::AdministrativePenalty]),
            expires: Timestamp(1_000),
            nonce: [0; 16],
        }
        .sign(&key);
        let pk = key.public();
        let facts = |kind| RecordFacts {
            chain_id: &chain,
            id: &id,
            kind,
            subject: &subject,
            subject_key: Some(&pk),
            revoked_at: None,
        };
        assert_eq!(a.check(&facts(AttestationKind::AdministrativePenalty), &grantee, Timestamp(999)), Ok(()));
        let e = |r: Result<(), AuthorizationError>| r.unwrap_err().code();
        assert_eq!(
            e(a.check(&facts(AttestationKind::AdministrativePenalty), &grantee, Timestamp(1_000))),
            "authorization-expired"
        );
        assert_eq!(e(a.check(&facts(AttestationKind::AdministrativeLicence), &grantee, Timestamp(5))), "out-of-scope");
        let other: AgencyId = "cn-sfh-tax".parse().unwrap();
        assert_eq!(e(a.check(&facts(AttestationKind::AdministrativePenalty), &other, Timestamp(5))), "wrong-grantee");
        let stranger = SecretKey::from_seed([5; 32]).public();
        let f = RecordFacts { subject_key: Some(&stranger), ..facts(AttestationKind::AdministrativePenalty) };
        assert_eq!(e(a.check(&f, &grantee, Timestamp(5))), "bad-authorization-signature");
        let f = RecordFacts { subject_key: None, ..facts(AttestationKind::AdministrativePenalty) };
        assert_eq!(e(a.check(&f, &grantee, Timestamp(5))), "bad-authorization-signature");
        let f = RecordFacts { revoked_at: Some(7), ..facts(AttestationKind::AdministrativePenalty) };
        assert_eq!(e(a.check(&f, &grantee, Timestamp(5))), "authorization-revoked");
    }
}
