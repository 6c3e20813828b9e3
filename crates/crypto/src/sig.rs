//! Purpose-tagged ed25519 signatures and the `credex-ed25519-v1` verification rule.

use core::fmt;
use core::str::FromStr;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha512};

use crate::hash::{Hash32, domain, hash_parts};

/// What a signature is for. The tag is signed with the message, so a
/// signature for one purpose never verifies for another.
///
/// The tags are protocol constants (spec §2.3); new purposes are appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// An issuer signs an attestation id.
    Attestation,
    /// A validator signs a consensus vote.
    Vote,
    /// A proposer signs a block proposal.
    Proposal,
    /// A client signs an API request.
    Request,
    /// A subject signs a data-access authorization.
    Authorization,
    /// A subject signs a credit commitment, an objection or a repair application.
    SubjectAct,
    /// An issuer or validator signs a governance action.
    Governance,
    /// A registrar agency binds a subject's public key to the subject id.
    SubjectKey,
    /// A node anchors its audit log head.
    AuditAnchor,
    /// A registrar agency publishes a subject's registered name.
    SubjectName,
}

impl Purpose {
    /// Every purpose, in tag order.
    pub const ALL: [Purpose; 10] = [
        Purpose::Attestation,
        Purpose::Vote,
        Purpose::Proposal,
        Purpose::Request,
        Purpose::Authorization,
        Purpose::SubjectAct,
        Purpose::Governance,
        Purpose::SubjectKey,
        Purpose::AuditAnchor,
        Purpose::SubjectName,
    ];

    /// The tag prefixed to the message before signing.
    pub const fn tag(self) -> &'static str {
        match self {
            Purpose::Attestation => "credex-sig/attestation/v1",
            Purpose::Vote => "credex-sig/vote/v1",
            Purpose::Proposal => "credex-sig/proposal/v1",
            Purpose::Request => "credex-sig/request/v1",
            Purpose::Authorization => "credex-sig/authorization/v1",
            Purpose::SubjectAct => "credex-sig/subject-act/v1",
            Purpose::Governance => "credex-sig/governance/v1",
            Purpose::SubjectKey => "credex-sig/subject-key/v1",
            Purpose::AuditAnchor => "credex-sig/audit-anchor/v1",
            Purpose::SubjectName => "credex-sig/subject-name/v1",
        }
    }
}

/// `M' = u8(len(tag)) ‖ tag ‖ M`: the bytes Ed25519 actually signs.
pub fn signing_input(purpose: Purpose, msg: &[u8]) -> Vec<u8> {
    let tag = purpose.tag().as_bytes();
    let mut out = Vec::with_capacity(1 + tag.len() + msg.len());
    // Tags are constants shorter than 256 bytes (checked in tests).
    out.push(u8::try_from(tag.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(tag);
    out.extend_from_slice(msg);
    out
}

/// Why a key or signature was refused. One variant per clause of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `A` is not the canonical encoding of a curve point.
    #[error("public key is not a canonical point encoding")]
    NonCanonicalKey,
    /// `A` is a point of small order (it would verify forged signatures).
    #[error("public key has small order")]
    SmallOrderKey,
    /// `R` is not the canonical encoding of a curve point.
    #[error("signature R is not a canonical point encoding")]
    NonCanonicalR,
    /// `S ≥ ℓ`.
    #[error("signature S is not reduced modulo the group order")]
    NonCanonicalS,
    /// The equation does not hold.
    #[error("signature does not verify")]
    Invalid,
    /// Admission only: `A` has a torsion component (it is not in the
    /// prime-order subgroup); stock libraries may disagree on its signatures.
    #[error("public key has a torsion component (not in the prime-order subgroup)")]
    TorsionKey,
    /// Admission only: `R` has small order.
    #[error("signature R has small order")]
    SmallOrderR,
    /// Admission only: the cofactored equation holds, the cofactorless one
    /// does not (`R` has a torsion component): libraries that check
    /// `[S]B = R + [k]A` reject it.
    #[error("signature verifies only under the cofactored equation (R has a torsion component)")]
    MixedOrderR,
    /// A batch failed; `index` is its first member that fails alone.
    #[error("batch member {index} does not verify: {reason}")]
    BatchMember {
        /// Position in the batch.
        index: usize,
        /// Why that member fails.
        reason: &'static str,
    },
}

/// An ed25519 public key that passed the key clauses of the rule
/// (canonical encoding, not small order). Hex in text forms.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; 32],
    point: EdwardsPoint,
}

impl PublicKey {
    /// Checks and wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, SignatureError> {
        let point = decompress_canonical(&bytes).ok_or(SignatureError::NonCanonicalKey)?;
        if point.is_small_order() {
            return Err(SignatureError::SmallOrderKey);
        }
        Ok(PublicKey { bytes, point })
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.bytes
    }

    /// The 32-byte encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The admission clause on keys (spec §2.4): `[ℓ]A = 0`, `A` in the
    /// prime-order subgroup. Checked when a key enters a registry (genesis,
    /// governance, subject-key binding), so [`admit`] need not repeat it.
    pub fn check_admissible(&self) -> Result<(), SignatureError> {
        if self.point.is_torsion_free() { Ok(()) } else { Err(SignatureError::TorsionKey) }
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl core::hash::Hash for PublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.bytes))
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.bytes))
    }
}

/// Why a text form is not a key or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not hex of the right length.
    #[error("bad hex: {0}")]
    Hex(String),
    /// Hex, but refused by the rule.
    #[error(transparent)]
    Rule(#[from] SignatureError),
}

impl FromStr for PublicKey {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b).map_err(|e| ParseError::Hex(e.to_string()))?;
        Ok(PublicKey::from_bytes(b)?)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl bincode::Encode for PublicKey {
    fn encode<E: bincode::enc::Encoder>(&self, e: &mut E) -> Result<(), bincode::error::EncodeError> {
        self.bytes.encode(e)
    }
}
impl<C> bincode::Decode<C> for PublicKey {
    fn decode<D: bincode::de::Decoder<Context = C>>(d: &mut D) -> Result<Self, bincode::error::DecodeError> {
        let bytes = <[u8; 32]>::decode(d)?;
        PublicKey::from_bytes(bytes).map_err(|e| bincode::error::DecodeError::OtherString(e.to_string()))
    }
}

/// A 64-byte ed25519 signature `R ‖ S`, unchecked until verified. Hex in text forms.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}
impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}
impl FromStr for Signature {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut b = [0u8; 64];
        hex::decode_to_slice(s, &mut b).map_err(|e| ParseError::Hex(e.to_string()))?;
        Ok(Signature(b))
    }
}
impl serde::Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> serde::Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
impl bincode::Encode for Signature {
    fn encode<E: bincode::enc::Encoder>(&self, e: &mut E) -> Result<(), bincode::error::EncodeError> {
        self.0.encode(e)
    }
}
impl<C> bincode::Decode<C> for Signature {
    fn decode<D: bincode::de::Decoder<Context = C>>(d: &mut D) -> Result<Self, bincode::error::DecodeError> {
        Ok(Signature(<[u8; 64]>::decode(d)?))
    }
}

bincode::impl_borrow_decode!(PublicKey);
bincode::impl_borrow_decode!(Signature);

/// An ed25519 signing key. Zeroized on drop; never printed.
pub struct SecretKey(ed25519_dalek::SigningKey);

impl SecretKey {
    /// The key whose RFC 8032 seed is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        Ok(Self::from_seed(seed))
    }

    /// The 32-byte seed (for key files).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key. An honestly generated key is never of small order.
    pub fn public(&self) -> PublicKey {
        let bytes = self.0.verifying_key().to_bytes();
        let point = decompress_canonical(&bytes).unwrap_or_default();
        PublicKey { bytes, point }
    }

    /// Signs `msg` for `purpose`.
    pub fn sign(&self, purpose: Purpose, msg: &[u8]) -> Signature {
        Signature(self.0.sign(&signing_input(purpose, msg)).to_bytes())
    }

    /// Signs `msg` with no purpose tag: only for RFC 8032 test vectors.
    pub fn sign_raw(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public={})", self.public())
    }
}

fn decompress_canonical(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    let point = CompressedEdwardsY(*bytes).decompress()?;
    (point.compress().to_bytes() == *bytes).then_some(point)
}

/// The parts of a signature that passed the encoding clauses.
struct Checked {
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

fn check_encodings(pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<Checked, SignatureError> {
    let mut r_bytes = [0u8; 32];
    let mut s_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&sig.0[..32]);
    s_bytes.copy_from_slice(&sig.0[32..]);
    let s: Option<Scalar> = Scalar::from_canonical_bytes(s_bytes).into();
    let s = s.ok_or(SignatureError::NonCanonicalS)?;
    let r = decompress_canonical(&r_bytes).ok_or(SignatureError::NonCanonicalR)?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(pk.bytes);
    h.update(msg);
    let digest: [u8; 64] = h.finalize().into();
    let k = Scalar::from_bytes_mod_order_wide(&digest);
    Ok(Checked { r, s, k })
}

/// The rule on an untagged message: used by [`verify`] and by the RFC 8032
/// and edge-case vectors. Protocol code calls [`verify`].
pub fn verify_raw(pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    let c = check_encodings(pk, msg, sig)?;
    // [S]B − [k]A − R, then multiply by the cofactor.
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&(-c.k), &pk.point, &c.s);
    if (sb_minus_ka - c.r).mul_by_cofactor().is_identity() { Ok(()) } else { Err(SignatureError::Invalid) }
}

/// Verifies `sig` by `pk` over `msg` for `purpose` under `credex-ed25519-v1`.
pub fn verify(pk: &PublicKey, purpose: Purpose, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    verify_raw(pk, &signing_input(purpose, msg), sig)
}

/// A signature rule, as a function: [`verify`] (offline) or [`admit`]
/// (admission), for checks that serve both.
pub type SigRule = fn(&PublicKey, Purpose, &[u8], &Signature) -> Result<(), SignatureError>;

/// The admission rule on an untagged message: see [`admit`].
pub fn admit_raw(pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    let c = check_encodings(pk, msg, sig)?;
    if c.r.is_small_order() {
        return Err(SignatureError::SmallOrderR);
    }
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&(-c.k), &pk.point, &c.s);
    if sb_minus_ka == c.r {
        return Ok(());
    }
    if (sb_minus_ka - c.r).mul_by_cofactor().is_identity() {
        Err(SignatureError::MixedOrderR)
    } else {
        Err(SignatureError::Invalid)
    }
}

/// Admits `sig` by `pk` over `msg` for `purpose` under
/// `credex-ed25519-admit-v1` (spec §2.4), the rule for anything that goes
/// on chain: `credex-ed25519-v1`'s encoding clauses, `R` not of small
/// order, and the cofactorless equation `[S]B = R + [k]A`. With a key that
/// passed [`PublicKey::check_admissible`] (every registered key did), `R`
/// is then in the prime-order subgroup too, so the signature verifies
/// under the cofactored rule and under every stock library (cofactorless,
/// with or without small-order checks). Offline verification keeps
/// [`verify`].
pub fn admit(pk: &PublicKey, purpose: Purpose, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    admit_raw(pk, &signing_input(purpose, msg), sig)
}

/// One member of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// Signer.
    pub key: &'a PublicKey,
    /// Purpose the message was signed for.
    pub purpose: Purpose,
    /// The message (without the purpose tag).
    pub msg: &'a [u8],
    /// The signature.
    pub sig: &'a Signature,
}

/// Verifies every member of `items` under the same rule as [`verify`].
///
/// Checks `[8]( −[Σ zᵢSᵢ]B + Σ [zᵢ]Rᵢ + Σ [zᵢkᵢ]Aᵢ ) = 0` with 128-bit weights
/// `zᵢ` derived by hashing the whole batch (so the check is deterministic and
/// needs no RNG, yet no signer can choose signatures after seeing the
/// weights). On failure, members are re-checked one by one and the first
/// failing index is reported.
pub fn verify_batch(items: &[BatchItem<'_>]) -> Result<(), SignatureError> {
    if items.is_empty() {
        return Ok(());
    }
    let inputs: Vec<Vec<u8>> = items.iter().map(|i| signing_input(i.purpose, i.msg)).collect();
    let mut checked = Vec::with_capacity(items.len());
    for (index, (item, input)) in items.iter().zip(&inputs).enumerate() {
        let c = check_encodings(item.key, input, item.sig).map_err(|e| member_error(index, e))?;
        checked.push(c);
    }
    // Transcript: n ‖ for each member (R ‖ S ‖ A ‖ SHA-256(M')).
    let mut transcript = Vec::with_capacity(8 + items.len() * 160);
    transcript.extend_from_slice(&(items.len() as u64).to_le_bytes());
    for (item, input) in items.iter().zip(&inputs) {
        transcript.extend_from_slice(&item.sig.0);
        transcript.extend_from_slice(&item.key.bytes);
        transcript.extend_from_slice(&Hash32::sha256(&[input]).0);
    }
    let seed = hash_parts(domain::BATCH_WEIGHTS, &[&transcript]);
    let mut scalars = Vec::with_capacity(2 * items.len() + 1);
    let mut points = Vec::with_capacity(2 * items.len() + 1);
    let mut s_sum = Scalar::ZERO;
    for (i, (item, c)) in items.iter().zip(&checked).enumerate() {
        let zi = hash_parts(domain::BATCH_WEIGHTS, &[&seed.0, &(i as u64).to_le_bytes()]);
        let mut wide = [0u8; 32];
        wide[..16].copy_from_slice(&zi.0[..16]);
        let z = Scalar::from_bytes_mod_order(wide);
        s_sum += z * c.s;
        scalars.push(z);
        points.push(c.r);
        scalars.push(z * c.k);
        points.push(item.key.point);
    }
    scalars.push(-s_sum);
    points.push(curve25519_dalek::constants::ED25519_BASEPOINT_POINT);
    let sum = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points);
    if sum.mul_by_cofactor().is_identity() {
        return Ok(());
    }
    for (index, (item, input)) in items.iter().zip(&inputs).enumerate() {
        verify_raw(item.key, input, item.sig).map_err(|e| member_error(index, e))?;
    }
    // Every member verified alone, yet the batch failed: impossible under
    // the cofactored equations; report the batch as invalid rather than guess.
    Err(SignatureError::Invalid)
}

fn member_error(index: usize, e: SignatureError) -> SignatureError {
    let reason = match e {
        SignatureError::NonCanonicalKey => "public key is not a canonical point encoding",
        SignatureError::SmallOrderKey => "public key has small order",
        SignatureError::NonCanonicalR => "signature R is not a canonical point encoding",
        SignatureError::NonCanonicalS => "signature S is not reduced",
        SignatureError::TorsionKey => "public key has a torsion component",
        SignatureError::SmallOrderR => "signature R has small order",
        SignatureError::MixedOrderR => "signature verifies only under the cofactored equation",
        SignatureError::Invalid | SignatureError::BatchMember { .. } => "signature does not verify",
    };
    SignatureError::BatchMember { index, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hexb<const N: usize>(s: &str) -> [u8; N] {
        let mut b = [0u8; N];
        hex::decode_to_slice(s, &mut b).unwrap();
        b
    }

    /// RFC 8032 §7.1, TEST 1–3 and TEST SHA(abc).
    const RFC8032: &[(&str, &str, &str, &str)] = &[
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];

    #[test]
    fn rfc8032_vectors_sign_and_verify() {
        for (sk, pk, msg, sig) in RFC8032 {
            let key = SecretKey::from_seed(hexb(sk));
            assert_eq!(hex::encode(key.public().to_bytes()), *pk);
            let msg = hex::decode(msg).unwrap();
            let s = key.sign_raw(&msg);
            assert_eq!(hex::encode(s.0), *sig);
            let pk = PublicKey::from_bytes(hexb(pk)).unwrap();
            assert_eq!(verify_raw(&pk, &msg, &s), Ok(()));
            let mut bad = s;
            bad.0[0] ^= 1;
            assert!(verify_raw(&pk, &msg, &bad).is_err());
        }
    }

    #[test]
    fn purposes_have_distinct_tags() {
        let tags: std::collections::BTreeSet<_> = Purpose::ALL.iter().map(|p| p.tag()).collect();
        assert_eq!(tags.len(), Purpose::ALL.len());
        assert!(tags.iter().all(|t| t.len() < 256));
    }

    #[test]
    fn signature_for_one_purpose_fails_for_every_other() {
        let key = SecretKey::from_seed([1; 32]);
        for p in Purpose::ALL {
            let sig = key.sign(p, b"m");
            for q in Purpose::ALL {
                assert_eq!(verify(&key.public(), q, b"m", &sig).is_ok(), p == q);
            }
        }
    }

    #[test]
    fn small_order_and_non_canonical_keys_are_refused() {
        // identity point (small order)
        let mut id = [0u8; 32];
        id[0] = 1;
        assert_eq!(PublicKey::from_bytes(id), Err(SignatureError::SmallOrderKey));
        // y = p (non-canonical encoding of y = 0)
        let p = hexb::<32>("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        assert_eq!(PublicKey::from_bytes(p), Err(SignatureError::NonCanonicalKey));
    }

    #[test]
    fn non_canonical_s_is_refused() {
        let key = SecretKey::from_seed([2; 32]);
        let mut sig = key.sign(Purpose::Vote, b"x");
        // add ℓ to S: same value mod ℓ, different (non-reduced) encoding
        let l = hexb::<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        let mut carry = 0u16;
        for (byte, add) in sig.0[32..].iter_mut().zip(l) {
            let v = u16::from(*byte) + u16::from(add) + carry;
            *byte = u8::try_from(v & 0xff).unwrap();
            carry = v >> 8;
        }
        assert_eq!(verify(&key.public(), Purpose::Vote, b"x", &sig), Err(SignatureError::NonCanonicalS));
    }

    #[test]
    fn batch_reports_first_bad_member() {
        let keys: Vec<_> = (0..5u8).map(|i| SecretKey::from_seed([i + 10; 32])).collect();
        let pks: Vec<_> = keys.iter().map(|k| k.public()).collect();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3]).collect();
        let mut sigs: Vec<_> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(Purpose::Vote, m)).collect();
        let items = |sigs: &[Signature]| -> Vec<(usize, Signature)> { sigs.iter().copied().enumerate().collect() };
        let run = |sigs: &[Signature]| {
            let owned = items(sigs);
            let batch: Vec<BatchItem<'_>> = owned
                .iter()
                .map(|(i, s)| BatchItem { key: &pks[*i], purpose: Purpose::Vote, msg: &msgs[*i], sig: s })
                .collect();
            verify_batch(&batch)
        };
        assert_eq!(run(&sigs), Ok(()));
        sigs[3] = keys[3].sign(Purpose::Vote, b"other");
        assert_eq!(run(&sigs), Err(SignatureError::BatchMember { index: 3, reason: "signature does not verify" }));
    }

    proptest! {
        #[test]
        fn batch_agrees_with_single(seeds in proptest::collection::vec(any::<[u8; 32]>(), 1..6),
                                    flip in any::<Option<(usize, usize)>>()) {
            let keys: Vec<_> = seeds.iter().map(|s| SecretKey::from_seed(*s)).collect();
            let pks: Vec<_> = keys.iter().map(|k| k.public()).collect();
            let mut sigs: Vec<_> = keys.iter().map(|k| k.sign(Purpose::Request, b"msg")).collect();
            if let Some((i, b)) = flip {
                let i = i % sigs.len();
                sigs[i].0[b % 64] ^= 0x20;
            }
            let single_ok = pks.iter().zip(&sigs).all(|(p, s)| verify(p, Purpose::Request, b"msg", s).is_ok());
            let batch: Vec<_> = pks.iter().zip(&sigs)
                .map(|(key, sig)| BatchItem { key, purpose: Purpose::Request, msg: b"msg", sig })
                .collect();
            prop_assert_eq!(verify_batch(&batch).is_ok(), single_ok);
        }
    }
}
