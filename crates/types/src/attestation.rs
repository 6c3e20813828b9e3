//! Attestations and selective disclosure (spec §4.3).
//!
//! ```text
//! commitment(field) = H("credex/claim-field/v1", encode((code, value, salt)))
//! claims_root       = MTH([commitment₀, …, commitmentₙ₋₁])   (RFC 6962, leaves in code order)
//! attestation id    = H("credex/attestation-id/v1", encode(header) ‖ claims_root)
//! signature         = Ed25519(issuer, "credex-sig/attestation/v1"-tagged id)
//! ```
//!
//! A holder discloses a subset of fields by replacing every other field by
//! its commitment ([`ClaimSlot::Hidden`]); the id, and so the signature and
//! the on-chain anchor, stay checkable, and the 128-bit salt keeps hidden
//! values from being guessed.
//!
//! ```
//! use credex_types::{attestation::*, *};
//! use credex_crypto::SecretKey;
//! let key = SecretKey::from_seed([5; 32]);
//! let header = AttestationHeader {
//!     version: ATTESTATION_VERSION,
//!     chain_id: "credex-devnet-1".parse().unwrap(),
//!     issuer: "cn-sfh-amr".parse().unwrap(),
//!     subject: "91350100M000100Y43".parse().unwrap(),
//!     kind: AttestationKind::AdministrativePenalty,
//!     effective_at: "2026-01-05T00:00:00Z".parse().unwrap(),
//!     expires_at: None,
//!     legal_basis: "cn-admin-penalty-law/art9".parse().unwrap(),
//!     supersedes: None,
//!     case: None,
//!     nonce: [1; 16],
//! };
//! let fields = vec![
//!     ClaimField::new("amount".parse().unwrap(), "5000".into(), [2; 16]),
//!     ClaimField::new("reason".parse().unwrap(), "late customs declaration".into(), [3; 16]),
//! ];
//! let att = Attestation::sign(header, fields, &key).unwrap();
//! let shown = att.disclose(&["amount".parse().unwrap()]).unwrap();
//! assert_eq!(shown.id().unwrap(), att.id());
//! assert!(shown.verify_signature(&key.public()).is_ok());
//! ```

use core::fmt;
use core::str::FromStr;

use credex_crypto::{Hash32, PublicKey, Purpose, SecretKey, Signature, SignatureError, domain, hash, hash_parts};
use credex_merkle::tree;

use crate::ids::{AgencyId, ChainId, FieldCode, LegalBasis, SubjectId};
use crate::kinds::AttestationKind;
use crate::labels::LabelTable;
use crate::time::Timestamp;

/// The only attestation header version this release reads and writes.
pub const ATTESTATION_VERSION: u8 = 1;
/// Most claim fields an attestation may carry.
pub const MAX_FIELDS: usize = 64;
/// Longest claim value, in bytes of UTF-8.
pub const MAX_VALUE_BYTES: usize = 1024;

/// An attestation's id: see the module docs. Hex in text forms.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct AttestationId(pub Hash32);

impl fmt::Display for AttestationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl fmt::Debug for AttestationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttestationId({})", self.0)
    }
}
impl FromStr for AttestationId {
    type Err = credex_crypto::HashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(AttestationId(s.parse()?))
    }
}
text_serde!(AttestationId);

/// The signed, always-visible part of an attestation.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct AttestationHeader {
    /// [`ATTESTATION_VERSION`].
    pub version: u8,
    /// The chain it is for (replay on another chain fails).
    pub chain_id: ChainId,
    /// The issuing agency.
    pub issuer: AgencyId,
    /// Whom it is about.
    pub subject: SubjectId,
    /// What it states.
    pub kind: AttestationKind,
    /// When the decision takes effect.
    pub effective_at: Timestamp,
    /// End of its publication window or validity, if any.
    pub expires_at: Option<Timestamp>,
    /// The legal basis code.
    pub legal_basis: LegalBasis,
    /// The attestation this one replaces (objection corrected, re-grading, …).
    pub supersedes: Option<AttestationId>,
    /// The subject's case this attestation answers (commitment accepted,
    /// repair approved, objection decided; spec §11).
    pub case: Option<crate::lifecycle::CaseId>,
    /// 128 random bits: makes ids unguessable and unique.
    #[serde(with = "hex::serde")]
    pub nonce: [u8; 16],
}

impl AttestationHeader {
    /// A header with the defaults every issuer tool uses (the CLI's
    /// `attest`, CSV import, the load generator): current version, no
    /// supersession or case, the shortest publication window of the kind
    /// as expiry ([`AttestationKind::publication_window`]), and the kind's
    /// usual legal basis ([`AttestationKind::default_legal_basis`]).
    /// Callers override fields with struct-update syntax.
    pub fn new(
        chain_id: ChainId,
        issuer: AgencyId,
        subject: SubjectId,
        kind: AttestationKind,
        effective_at: Timestamp,
        nonce: [u8; 16],
    ) -> Result<AttestationHeader, crate::ids::NameError> {
        Ok(AttestationHeader {
            version: ATTESTATION_VERSION,
            chain_id,
            issuer,
            subject,
            kind,
            effective_at,
            expires_at: kind.publication_window().map(|(min, _)| effective_at.plus_ms(min)),
            legal_basis: kind.default_legal_basis().parse()?,
            supersedes: None,
            case: None,
            nonce,
        })
    }
}

/// One claim field with its salt.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct ClaimField {
    /// Field code (must be in the label table).
    pub code: FieldCode,
    /// Value, UTF-8, at most [`MAX_VALUE_BYTES`].
    pub value: String,
    /// 128-bit salt.
    #[serde(with = "hex::serde")]
    pub salt: [u8; 16],
}

impl ClaimField {
    /// A field with the given salt.
    pub fn new(code: FieldCode, value: String, salt: [u8; 16]) -> Self {
        ClaimField { code, value, salt }
    }

    /// A field with a fresh random salt.
    pub fn salted(code: FieldCode, value: String) -> Result<Self, getrandom::Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)?;
        Ok(ClaimField { code, value, salt })
    }

    /// `H("credex/claim-field/v1", encode((code, value, salt)))`.
    pub fn commitment(&self) -> Hash32 {
        hash(domain::CLAIM_FIELD, &credex_codec::encode(self))
    }
}

/// A field as a holder presents it: shown, or only its commitment.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimSlot {
    /// Shown with its salt.
    Disclosed(ClaimField),
    /// Hidden: only the commitment.
    Hidden(Hash32),
}

impl ClaimSlot {
    fn commitment(&self) -> Hash32 {
        match self {
            ClaimSlot::Disclosed(f) => f.commitment(),
            ClaimSlot::Hidden(h) => *h,
        }
    }
}

/// Why an attestation is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// Header version not supported.
    #[error("unsupported attestation version {0}")]
    Version(u8),
    /// Fields not in strictly increasing code order (or a code repeated).
    #[error("claim fields must be in strictly increasing code order without repeats (at {0:?})")]
    FieldOrder(String),
    /// More than [`MAX_FIELDS`] fields.
    #[error("{0} claim fields, at most {MAX_FIELDS} allowed")]
    TooManyFields(usize),
    /// A value longer than [`MAX_VALUE_BYTES`].
    #[error("value of field {0:?} exceeds {MAX_VALUE_BYTES} bytes")]
    ValueTooLong(String),
    /// A field code absent from the label table.
    #[error("unknown field code {0:?}")]
    UnknownField(String),
    /// Expiry not after the effective time.
    #[error("expires_at must be later than effective_at")]
    ExpiryBeforeEffective,
    /// A typed field whose value is not of its type (spec §4.3).
    #[error("field {field:?}: {value:?} is not {expected}")]
    BadValue {
        /// Field code.
        field: String,
        /// The value.
        value: String,
        /// What the field takes, in words.
        expected: &'static str,
    },
    /// A coded field whose value is not a code of its label category.
    #[error("field {field:?}: {value:?} is not a known code (see `credex labels show`)")]
    UnknownCode {
        /// Field code.
        field: String,
        /// The value.
        value: String,
    },
    /// A field asked to be disclosed is not in the attestation.
    #[error("no field {0:?} to disclose")]
    NoSuchField(String),
    /// The issuer signature does not verify.
    #[error("issuer signature: {0}")]
    Signature(#[from] SignatureError),
}

fn claims_root(commitments: impl Iterator<Item = Hash32>) -> Hash32 {
    let leaves: Vec<Hash32> = commitments.map(|c| tree::leaf_hash(&c.0)).collect();
    tree::root(&leaves)
}

fn compute_id(header: &AttestationHeader, root: &Hash32) -> AttestationId {
    AttestationId::compute(header, root)
}

impl AttestationId {
    /// `H("credex/attestation-id/v1", encode(header) ‖ claims_root)`.
    pub fn compute(header: &AttestationHeader, claims_root: &Hash32) -> AttestationId {
        AttestationId(hash_parts(domain::ATTESTATION_ID, &[&credex_codec::encode(header), &claims_root.0]))
    }
}

/// Header checks: version, expiry after effective time.
pub fn check_header(h: &AttestationHeader) -> Result<(), AttestationError> {
    if h.version != ATTESTATION_VERSION {
        return Err(AttestationError::Version(h.version));
    }
    if h.expires_at.is_some_and(|e| e <= h.effective_at) {
        return Err(AttestationError::ExpiryBeforeEffective);
    }
    Ok(())
}

fn check_fields<'a>(codes: impl Iterator<Item = &'a ClaimField>) -> Result<(), AttestationError> {
    let mut prev: Option<&FieldCode> = None;
    for f in codes {
        if prev.is_some_and(|p| p >= &f.code) {
            return Err(AttestationError::FieldOrder(f.code.to_string()));
        }
        if f.value.len() > MAX_VALUE_BYTES {
            return Err(AttestationError::ValueTooLong(f.code.to_string()));
        }
        prev = Some(&f.code);
    }
    Ok(())
}

/// A complete attestation, as its issuer holds it.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Attestation {
    /// Header.
    pub header: AttestationHeader,
    /// Fields in strictly increasing code order.
    pub claims: Vec<ClaimField>,
    /// Issuer signature over the id.
    pub signature: Signature,
}

impl Attestation {
    /// Sorts `fields` by code, checks the result and signs it.
    pub fn sign(
        header: AttestationHeader,
        mut fields: Vec<ClaimField>,
        key: &SecretKey,
    ) -> Result<Attestation, AttestationError> {
        fields.sort_by(|a, b| a.code.cmp(&b.code));
        let unsigned = Attestation { header, claims: fields, signature: Signature([0; 64]) };
        unsigned.check_shape()?;
        let id = unsigned.id();
        Ok(Attestation { signature: key.sign(Purpose::Attestation, &id.0.0), ..unsigned })
    }

    /// Structure checks that need no key: version, field order, sizes, expiry.
    pub fn check_shape(&self) -> Result<(), AttestationError> {
        check_header(&self.header)?;
        if self.claims.len() > MAX_FIELDS {
            return Err(AttestationError::TooManyFields(self.claims.len()));
        }
        check_fields(self.claims.iter())
    }

    /// Checks every field code against `labels`, and the values of coded
    /// fields (`reason-code`, `grade`, `sector`) against their label category.
    pub fn check_labels(&self, labels: &LabelTable) -> Result<(), AttestationError> {
        use crate::labels::Category;
        if let Some(f) = self.claims.iter().find(|f| !labels.has_field(f.code.as_str())) {
            return Err(AttestationError::UnknownField(f.code.to_string()));
        }
        for f in &self.claims {
            let category = match f.code.as_str() {
                "reason-code" => Category::Reason,
                "grade" => Category::Grade,
                "sector" => Category::Sector,
                _ => continue,
            };
            if labels.get(category, &f.value).is_none() {
                return Err(AttestationError::UnknownCode { field: f.code.to_string(), value: f.value.clone() });
            }
        }
        for f in &self.claims {
            if let Some(expected) = value_type_error(f.code.as_str(), &f.value) {
                return Err(AttestationError::BadValue { field: f.code.to_string(), value: f.value.clone(), expected });
            }
        }
        Ok(())
    }

    /// The claims root.
    pub fn claims_root(&self) -> Hash32 {
        claims_root(self.claims.iter().map(ClaimField::commitment))
    }

    /// The attestation id.
    pub fn id(&self) -> AttestationId {
        compute_id(&self.header, &self.claims_root())
    }

    /// Checks the issuer signature.
    pub fn verify_signature(&self, issuer_key: &PublicKey) -> Result<(), AttestationError> {
        credex_crypto::verify(issuer_key, Purpose::Attestation, &self.id().0.0, &self.signature)?;
        Ok(())
    }

    /// The holder's view showing only the fields named in `codes`.
    pub fn disclose(&self, codes: &[FieldCode]) -> Result<DisclosedAttestation, AttestationError> {
        if let Some(c) = codes.iter().find(|c| !self.claims.iter().any(|f| &f.code == *c)) {
            return Err(AttestationError::NoSuchField(c.to_string()));
        }
        let claims = self
            .claims
            .iter()
            .map(|f| {
                if codes.contains(&f.code) {
                    ClaimSlot::Disclosed(f.clone())
                } else {
                    ClaimSlot::Hidden(f.commitment())
                }
            })
            .collect();
        Ok(DisclosedAttestation { header: self.header.clone(), claims, signature: self.signature })
    }
}

/// An attestation with some fields hidden: what a credit proof carries.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct DisclosedAttestation {
    /// Header.
    pub header: AttestationHeader,
    /// Every field, in order, shown or hidden.
    pub claims: Vec<ClaimSlot>,
    /// Issuer signature over the id.
    pub signature: Signature,
}

impl DisclosedAttestation {
    /// Shape checks, then the id.
    pub fn id(&self) -> Result<AttestationId, AttestationError> {
        check_header(&self.header)?;
        if self.claims.len() > MAX_FIELDS {
            return Err(AttestationError::TooManyFields(self.claims.len()));
        }
        check_fields(self.disclosed())?;
        Ok(compute_id(&self.header, &claims_root(self.claims.iter().map(ClaimSlot::commitment))))
    }

    /// The disclosed fields, in order.
    pub fn disclosed(&self) -> impl Iterator<Item = &ClaimField> {
        self.claims.iter().filter_map(|s| match s {
            ClaimSlot::Disclosed(f) => Some(f),
            ClaimSlot::Hidden(_) => None,
        })
    }

    /// Checks the issuer signature (and the shape).
    pub fn verify_signature(&self, issuer_key: &PublicKey) -> Result<AttestationId, AttestationError> {
        let id = self.id()?;
        credex_crypto::verify(issuer_key, Purpose::Attestation, &id.0.0, &self.signature)?;
        Ok(id)
    }
}

/// Whether `value` is of the type field `code` takes (spec §4.3); what it
/// takes, in words, if not. Amounts are yuan, non-negative, at most two
/// decimals; scores whole numbers (the grade model's 100 plus its lines,
/// so below 0 or above 100 too); dates a calendar date
/// (`2025-06-18`) or an RFC 3339 time; a related attestation its id (64
/// hex digits). Single-line fields hold no control characters; `note`,
/// `commitment-text`, `conditions`, `reason`, `licence-scope` and
/// `scoring-inputs` may hold line breaks. Checked where the values are
/// (the issuer's node, at submission): the chain sees only their hashes.
pub fn value_type_error(code: &str, value: &str) -> Option<&'static str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match code {
        "amount" => {
            let (int, frac) = value.split_once('.').unwrap_or((value, "0"));
            let ok = digits(int)
                && int.len() <= 15
                && (int == "0" || !int.starts_with('0'))
                && digits(frac)
                && frac.len() <= 2;
            (!ok).then_some("an amount in yuan: digits, at most two decimals, not negative (e.g. 5000 or 1250.50)")
        }
        "score" => {
            let n = value.strip_prefix('-').unwrap_or(value);
            let ok = digits(n) && (n == "0" || !n.starts_with('0')) && n.len() <= 4 && value != "-0";
            (!ok).then_some("a score: a whole number from -9999 to 9999 (the grade model's 100 plus its lines)")
        }
        "decision-date" | "valid-until" => {
            let date = value.len() == 10
                && format!("{value}T00:00:00Z")
                    .parse::<crate::Timestamp>()
                    .is_ok_and(|t| t.to_string().starts_with(value));
            (!date && value.parse::<crate::Timestamp>().is_err())
                .then_some("a date (2025-06-18) or an RFC 3339 time (2025-06-18T09:30:00Z)")
        }
        "target-attestation" => {
            let ok = value.len() == 64 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            (!ok).then_some("an attestation id: 64 lowercase hex digits")
        }
        "note" | "commitment-text" | "conditions" | "reason" | "licence-scope" | "scoring-inputs" => value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            .then_some("text without control characters"),
        _ => value.chars().any(char::is_control).then_some("one line of text without control characters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> AttestationHeader {
        AttestationHeader {
            version: ATTESTATION_VERSION,
            chain_id: "credex-test".parse().unwrap(),
            issuer: "cn-sfh-amr".parse().unwrap(),
            subject: "91350100M000100Y43".parse().unwrap(),
            kind: AttestationKind::AbnormalOperationListing,
            effective_at: Timestamp(1_700_000_000_000),
            expires_at: None,
            legal_basis: "cn-saic-2014-1/art4".parse().unwrap(),
            supersedes: None,
            case: None,
            nonce: [9; 16],
        }
    }

    fn field(code: &str, v: &str, s: u8) -> ClaimField {
        ClaimField::new(code.parse().unwrap(), v.into(), [s; 16])
    }

    #[test]
    fn typed_fields_refuse_values_of_another_type() {
        let bad = |c: &str, v: &str| value_type_error(c, v).is_some();
        for ok in ["0", "5000", "1250.5", "1250.50", "999999999999999"] {
            assert!(!bad("amount", ok), "{ok}");
        }
        for no in ["-5", "5,000", "1.234", "01", "", "1e3", "5000元", ".5", "5."] {
            assert!(bad("amount", no), "{no}");
        }
        assert!(!bad("score", "0") && !bad("score", "125") && !bad("score", "-20"));
        assert!(bad("score", "12.5") && bad("score", "abc") && bad("score", "-0") && bad("score", "007"));
        assert!(!bad("decision-date", "2025-06-18") && !bad("decision-date", "2025-06-18T09:30:00Z"));
        assert!(bad("decision-date", "2025-02-30") && bad("decision-date", "18.06.2025") && bad("valid-until", "soon"));
        assert!(!bad("target-attestation", &"ab".repeat(32)) && bad("target-attestation", &"AB".repeat(32)));
        assert!(
            !bad("note", "line one\nline two")
                && bad("decision-no", "绥市监\n17号")
                && !bad("decision-no", "绥市监〔2025〕17号")
        );
    }

    #[test]
    fn every_header_field_and_every_claim_changes_the_id() {
        let key = SecretKey::from_seed([1; 32]);
        let base = Attestation::sign(header(), vec![field("reason-code", "annual-report", 1)], &key).unwrap();
        let mut variants = vec![];
        let mut h = header();
        h.chain_id = "credex-other".parse().unwrap();
        variants.push((h, base.claims.clone()));
        let mut h = header();
        h.nonce[0] ^= 1;
        variants.push((h, base.claims.clone()));
        let mut h = header();
        h.expires_at = Some(Timestamp(1_800_000_000_000));
        variants.push((h, base.claims.clone()));
        variants.push((header(), vec![field("reason-code", "annual-report", 2)]));
        variants.push((header(), vec![field("reason-code", "annual-reporT", 1)]));
        variants.push((header(), vec![]));
        for (h, c) in variants {
            let other = Attestation::sign(h, c, &key).unwrap();
            assert_ne!(other.id(), base.id());
        }
    }

    #[test]
    fn shape_errors() {
        let key = SecretKey::from_seed([1; 32]);
        let mut h = header();
        h.version = 2;
        assert_eq!(Attestation::sign(h, vec![], &key), Err(AttestationError::Version(2)));
        let dup = vec![field("note", "a", 1), field("note", "b", 2)];
        assert!(matches!(Attestation::sign(header(), dup, &key), Err(AttestationError::FieldOrder(_))));
        let long = vec![field("note", &"x".repeat(MAX_VALUE_BYTES + 1), 1)];
        assert!(matches!(Attestation::sign(header(), long, &key), Err(AttestationError::ValueTooLong(_))));
        let mut h = header();
        h.expires_at = Some(h.effective_at);
        assert_eq!(Attestation::sign(h, vec![], &key), Err(AttestationError::ExpiryBeforeEffective));
        let bad_reason = Attestation::sign(header(), vec![field("reason-code", "too-rich", 1)], &key).unwrap();
        assert!(matches!(
            bad_reason.check_labels(&LabelTable::builtin()),
            Err(AttestationError::UnknownCode { ref field, .. }) if field == "reason-code"
        ));
        let good_reason = Attestation::sign(header(), vec![field("reason-code", "annual-report", 1)], &key).unwrap();
        assert_eq!(good_reason.check_labels(&LabelTable::builtin()), Ok(()));
        let unknown = Attestation::sign(header(), vec![field("shoe-size", "42", 1)], &key).unwrap();
        assert_eq!(
            unknown.check_labels(&LabelTable::builtin()),
            Err(AttestationError::UnknownField("shoe-size".into()))
        );
    }

    #[test]
    fn tampered_disclosure_fails_signature() {
        let key = SecretKey::from_seed([1; 32]);
        let att = Attestation::sign(header(), vec![field("amount", "100", 1), field("reason", "r", 2)], &key).unwrap();
        let mut shown = att.disclose(&["amount".parse().unwrap()]).unwrap();
        if let ClaimSlot::Disclosed(f) = &mut shown.claims[0] {
            f.value = "1".into();
        }
        assert!(shown.verify_signature(&key.public()).is_err());
        assert!(matches!(att.disclose(&["grade".parse().unwrap()]), Err(AttestationError::NoSuchField(_))));
    }

    proptest! {
        #[test]
        fn any_disclosure_subset_keeps_the_id(mask in any::<u8>(), values in proptest::collection::vec(".{0,20}", 5)) {
            let key = SecretKey::from_seed([3; 32]);
            let codes = ["amount", "decision-no", "note", "reason", "sector"];
            let fields: Vec<_> = codes.iter().zip(&values).enumerate()
                .map(|(i, (c, v))| field(c, v, u8::try_from(i).unwrap())).collect();
            let att = Attestation::sign(header(), fields, &key).unwrap();
            let chosen: Vec<FieldCode> = codes.iter().enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| c.parse().unwrap()).collect();
            let shown = att.disclose(&chosen).unwrap();
            prop_assert_eq!(shown.verify_signature(&key.public()).unwrap(), att.id());
            prop_assert_eq!(shown.disclosed().count(), chosen.len());
            let bytes = credex_codec::encode(&att);
            prop_assert_eq!(credex_codec::decode::<Attestation>(&bytes, 1 << 16).unwrap(), att);
        }
    }
}
