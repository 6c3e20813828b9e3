//! Subject identifiers and the other validated names of credex (spec §4.1).
//!
//! A subject id has one canonical text form `SCHEME:VALUE`:
//!
//! | scheme | jurisdiction | value |
//! |---|---|---|
//! | `cn-uscc` | CN | unified social credit code, GB 32100-2015: 18 chars of `0-9A-HJ-NP-RTUWXY`, check character `31 − (Σ cᵢ·3ⁱ⁻¹ mod 31) mod 31` |
//! | `ru-inn` | RU | ИНН: 10 digits (legal entity) or 12 digits (individual), check digits `(Σ wᵢdᵢ mod 11) mod 10` |
//! | `ru-ogrn` | RU | ОГРН: 13 digits, check `(first 12 mod 11) mod 10` |
//! | `ru-ogrnip` | RU | ОГРНИП: 15 digits, check `(first 14 mod 13) mod 10` |
//! | `jp-cn` | JP | 法人番号: 13 digits, leading check digit `9 − (Σ Pₙ·Qₙ mod 9)` |
//! | `cc-scheme` | CC | any other: ISO 3166 alpha-2 `cc`, scheme `[a-z0-9]{1,16}`, value `[A-Z0-9-]{1,64}` |
//!
//! Parsing accepts lower-case letters in values and bare values where the
//! length makes the scheme unambiguous (18 chars: USCC; 10 or 12 digits: INN;
//! 15 digits: OGRNIP). Thirteen bare digits are refused as ambiguous
//! (OGRN or Japanese corporate number).
//!
//! ```
//! use credex_types::SubjectId;
//! let id: SubjectId = "91350100M000100Y43".parse().unwrap();
//! assert_eq!(id.to_string(), "cn-uscc:91350100M000100Y43");
//! assert_eq!(id.jurisdiction().as_str(), "CN");
//! let err = "ru-inn:7707083894".parse::<SubjectId>().unwrap_err();
//! assert_eq!(err.to_string(), "ru-inn: check digit at position 10 is 4, expected 3");
//! ```

use core::fmt;
use core::str::FromStr;

/// Why a text is not a valid subject id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Nothing given.
    #[error("empty identifier")]
    Empty,
    /// `SCHEME:` names no scheme we know and is not `cc-scheme`.
    #[error(
        "unknown scheme {0:?} (known: cn-uscc, ru-inn, ru-ogrn, ru-ogrnip, jp-cn, or cc-scheme for other jurisdictions)"
    )]
    UnknownScheme(String),
    /// Bare value whose scheme cannot be told from its shape.
    #[error("{0}; prefix the scheme, e.g. ru-ogrn:… or jp-cn:…")]
    Ambiguous(String),
    /// Wrong number of characters.
    #[error("{scheme}: length is {found}, expected {expected}")]
    Length {
        /// Scheme name.
        scheme: String,
        /// What the scheme allows.
        expected: &'static str,
        /// What was given.
        found: usize,
    },
    /// A character outside the scheme's alphabet.
    #[error("{scheme}: character {found:?} at position {position} is not allowed ({allowed})")]
    Character {
        /// Scheme name.
        scheme: String,
        /// 1-based position.
        position: usize,
        /// The character.
        found: char,
        /// The alphabet.
        allowed: &'static str,
    },
    /// The check character does not match.
    #[error("{scheme}: check digit at position {position} is {found}, expected {expected}")]
    CheckDigit {
        /// Scheme name.
        scheme: String,
        /// 1-based position of the check character.
        position: usize,
        /// What was given.
        found: char,
        /// What the other characters require.
        expected: char,
    },
}

/// A two-letter jurisdiction (ISO 3166-1 alpha-2, upper case), e.g. `CN`, `RU`.
/// Any two letters are accepted (the ISO list is not checked: a code
/// assigned later must not need a new verifier); decoders refuse bytes
/// other than `A`–`Z` (spec §4.1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode)]
pub struct Jurisdiction([u8; 2]);

impl<C> bincode::Decode<C> for Jurisdiction {
    fn decode<D: bincode::de::Decoder<Context = C>>(d: &mut D) -> Result<Self, bincode::error::DecodeError> {
        let b = <[u8; 2]>::decode(d)?;
        if b.iter().all(u8::is_ascii_uppercase) {
            Ok(Jurisdiction(b))
        } else {
            Err(bincode::error::DecodeError::OtherString(format!(
                "invalid jurisdiction bytes {b:02x?}: must be two upper-case ASCII letters"
            )))
        }
    }
}
bincode::impl_borrow_decode!(Jurisdiction);

impl Jurisdiction {
    /// Checks two ASCII letters and upper-cases them.
    pub fn new(s: &str) -> Result<Self, NameError> {
        let b = s.as_bytes();
        match b {
            [x, y] if x.is_ascii_alphabetic() && y.is_ascii_alphabetic() => {
                Ok(Jurisdiction([x.to_ascii_uppercase(), y.to_ascii_uppercase()]))
            }
            _ => Err(NameError {
                what: "jurisdiction",
                value: s.to_string(),
                rule: "two ASCII letters (ISO 3166-1 alpha-2)",
            }),
        }
    }

    /// The upper-case code.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl FromStr for Jurisdiction {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Jurisdiction::new(s)
    }
}
text_serde!(Jurisdiction);

/// Why a name (agency id, chain id, code, jurisdiction) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: must be {rule}")]
pub struct NameError {
    /// What kind of name.
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// The rule it broke.
    pub rule: &'static str,
}

macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal, $rule:literal, $extra:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks the text against the rule.
            pub fn new(s: &str) -> Result<Self, NameError> {
                let extra: fn(u8) -> bool = $extra;
                let ok = !s.is_empty()
                    && s.len() <= $max
                    && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || extra(c))
                    && !s.starts_with('-')
                    && !s.ends_with('-');
                if ok {
                    Ok($name(s.to_string()))
                } else {
                    Err(NameError { what: $what, value: s.to_string(), rule: $rule })
                }
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }
        impl bincode::Encode for $name {
            fn encode<E: bincode::enc::Encoder>(&self, e: &mut E) -> Result<(), bincode::error::EncodeError> {
                self.0.encode(e)
            }
        }
        impl<C> bincode::Decode<C> for $name {
            fn decode<D: bincode::de::Decoder<Context = C>>(d: &mut D) -> Result<Self, bincode::error::DecodeError> {
                let s = String::decode(d)?;
                $name::new(&s).map_err(|e| bincode::error::DecodeError::OtherString(e.to_string()))
            }
        }
        bincode::impl_borrow_decode!($name);
        text_serde!($name);
    };
}

validated_name!(
    /// An agency (issuer, validator or observer operator), e.g. `cn-sfh-amr`.
    AgencyId, "agency id", 48, "1–48 chars of a-z 0-9 '-', not starting or ending with '-'", |_| false
);
validated_name!(
    /// The chain's name, e.g. `credex-devnet-1`; it is part of every signed header.
    ChainId, "chain id", 48, "1–48 chars of a-z 0-9 '-', not starting or ending with '-'", |_| false
);
validated_name!(
    /// A claim field code, e.g. `penalty-amount`.
    FieldCode, "field code", 32, "1–32 chars of a-z 0-9 '-', not starting or ending with '-'", |_| false
);
validated_name!(
    /// A legal-basis code, e.g. `cn-saic-2014-1/art4`.
    LegalBasis, "legal basis code", 64, "1–64 chars of a-z 0-9 '-' '.' '/' ':', not starting or ending with '-'",
    |c| c == b'.' || c == b'/' || c == b':'
);

const USCC_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The known schemes; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub enum Scheme {
    /// `cn-uscc`
    CnUscc,
    /// `ru-inn`
    RuInn,
    /// `ru-ogrn`
    RuOgrn,
    /// `ru-ogrnip`
    RuOgrnip,
    /// `jp-cn`
    JpCn,
}

impl Scheme {
    /// The scheme's name in the text form.
    pub const fn name(self) -> &'static str {
        match self {
            Scheme::CnUscc => "cn-uscc",
            Scheme::RuInn => "ru-inn",
            Scheme::RuOgrn => "ru-ogrn",
            Scheme::RuOgrnip => "ru-ogrnip",
            Scheme::JpCn => "jp-cn",
        }
    }

    const fn jurisdiction(self) -> [u8; 2] {
        match self {
            Scheme::CnUscc => *b"CN",
            Scheme::RuInn | Scheme::RuOgrn | Scheme::RuOgrnip => *b"RU",
            Scheme::JpCn => *b"JP",
        }
    }

    fn from_name(s: &str) -> Option<Scheme> {
        [Scheme::CnUscc, Scheme::RuInn, Scheme::RuOgrn, Scheme::RuOgrnip, Scheme::JpCn]
            .into_iter()
            .find(|k| k.name() == s)
    }

    /// Checks a value (already upper-cased) against the scheme.
    fn check(self, v: &str) -> Result<(), IdError> {
        let scheme = self.name().to_string();
        let len_err = |expected| IdError::Length { scheme: scheme.clone(), expected, found: v.chars().count() };
        match self {
            Scheme::CnUscc => {
                if v.chars().count() != 18 {
                    return Err(len_err("18"));
                }
                let mut vals = [0u32; 18];
                for (i, c) in v.bytes().enumerate() {
                    let pos = USCC_ALPHABET.iter().position(|a| *a == c).ok_or_else(|| IdError::Character {
                        scheme: scheme.clone(),
                        position: i + 1,
                        found: char::from(c),
                        allowed: "0-9 and A-Z except I, O, S, V, Z",
                    })?;
                    if let Some(slot) = vals.get_mut(i) {
                        *slot = u32::try_from(pos).unwrap_or(u32::MAX);
                    }
                }
                let sum: u32 = vals.iter().zip(USCC_WEIGHTS).map(|(c, w)| c * w).sum();
                let check = (31 - sum % 31) % 31;
                let expected = char::from(USCC_ALPHABET.get(check as usize).copied().unwrap_or(b'?'));
                let found = char::from(v.as_bytes().get(17).copied().unwrap_or(b'?'));
                if found != expected {
                    return Err(IdError::CheckDigit { scheme, position: 18, found, expected });
                }
                Ok(())
            }
            Scheme::RuInn => {
                let d = digits(&scheme, v)?;
                match d.len() {
                    10 => check_digit(&scheme, &d, 9, inn_check(&d[..9], &[2, 4, 10, 3, 5, 9, 4, 6, 8])),
                    12 => {
                        check_digit(&scheme, &d, 10, inn_check(&d[..10], &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))?;
                        check_digit(&scheme, &d, 11, inn_check(&d[..11], &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))
                    }
                    _ => Err(len_err("10 or 12")),
                }
            }
            Scheme::RuOgrn | Scheme::RuOgrnip => {
                let (len, modulus, expected) = if self == Scheme::RuOgrn { (13, 11, "13") } else { (15, 13, "15") };
                let d = digits(&scheme, v)?;
                if d.len() != len {
                    return Err(len_err(expected));
                }
                let n = d[..len - 1].iter().fold(0u64, |acc, x| (acc * 10 + u64::from(*x)) % modulus);
                check_digit(&scheme, &d, len - 1, (n % 10) as u8)
            }
            Scheme::JpCn => {
                let d = digits(&scheme, v)?;
                if d.len() != 13 {
                    return Err(len_err("13"));
                }
                // Pₙ is the n-th digit of the 12-digit base counted from the right; Qₙ = 1 (odd n) or 2 (even n).
                let sum: u32 =
                    d[1..].iter().rev().enumerate().map(|(i, p)| u32::from(*p) * if i % 2 == 0 { 1 } else { 2 }).sum();
                check_digit(&scheme, &d, 0, small(9 - sum % 9))
            }
        }
    }
}

fn digits(scheme: &str, v: &str) -> Result<Vec<u8>, IdError> {
    v.chars()
        .enumerate()
        .map(|(i, c)| {
            c.to_digit(10).map(small).ok_or_else(|| IdError::Character {
                scheme: scheme.to_string(),
                position: i + 1,
                found: c,
                allowed: "0-9",
            })
        })
        .collect()
}

/// A value known to be below 256 (digits, residues).
fn small(x: u32) -> u8 {
    u8::try_from(x).unwrap_or(u8::MAX)
}

fn inn_check(d: &[u8], w: &[u32]) -> u8 {
    let s: u32 = d.iter().zip(w).map(|(a, b)| u32::from(*a) * b).sum();
    (s % 11 % 10) as u8
}

fn check_digit(scheme: &str, d: &[u8], at: usize, expected: u8) -> Result<(), IdError> {
    let found = d.get(at).copied().unwrap_or(u8::MAX);
    if found == expected {
        Ok(())
    } else {
        Err(IdError::CheckDigit {
            scheme: scheme.to_string(),
            position: at + 1,
            found: char::from(b'0' + found.min(9)),
            expected: char::from(b'0' + expected),
        })
    }
}

/// A validated subject identifier. See the module docs for schemes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectId {
    /// A known scheme and its canonical value.
    Known {
        /// The scheme.
        scheme: Scheme,
        /// Canonical (upper-case) value.
        value: String,
    },
    /// Another jurisdiction's scheme.
    Other {
        /// ISO 3166-1 alpha-2.
        country: Jurisdiction,
        /// `[a-z0-9]{1,16}`.
        scheme: String,
        /// `[A-Z0-9-]{1,64}`.
        value: String,
    },
}

impl SubjectId {
    /// The jurisdiction that issued the identifier.
    pub fn jurisdiction(&self) -> Jurisdiction {
        match self {
            SubjectId::Known { scheme, .. } => Jurisdiction(scheme.jurisdiction()),
            SubjectId::Other { country, .. } => *country,
        }
    }

    /// The scheme part of the text form, e.g. `cn-uscc`, `mn-reg`.
    pub fn scheme_name(&self) -> String {
        match self {
            SubjectId::Known { scheme, .. } => scheme.name().to_string(),
            SubjectId::Other { country, scheme, .. } => {
                format!("{}-{scheme}", country.as_str().to_ascii_lowercase())
            }
        }
    }

    /// True for identifiers of legal entities (and China's registered
    /// 个体工商户, which carry a unified social credit code): those whose
    /// registered names are public (spec §11.10). False for natural persons
    /// (a 12-digit Russian INN, an OGRNIP) and for other jurisdictions'
    /// schemes, whose kind this code cannot tell.
    pub fn is_legal_entity(&self) -> bool {
        match self {
            SubjectId::Known { scheme: Scheme::CnUscc | Scheme::RuOgrn | Scheme::JpCn, .. } => true,
            SubjectId::Known { scheme: Scheme::RuInn, value } => value.len() == 10,
            SubjectId::Known { scheme: Scheme::RuOgrnip, .. } | SubjectId::Other { .. } => false,
        }
    }

    /// The value part of the text form.
    pub fn value(&self) -> &str {
        match self {
            SubjectId::Known { value, .. } | SubjectId::Other { value, .. } => value,
        }
    }

    fn known(scheme: Scheme, value: &str) -> Result<Self, IdError> {
        let value = value.to_ascii_uppercase();
        scheme.check(&value)?;
        Ok(SubjectId::Known { scheme, value })
    }

    fn other(cc: &str, scheme: &str, value: &str) -> Result<Self, IdError> {
        let name = format!("{cc}-{scheme}");
        let country = Jurisdiction::new(cc).map_err(|_| IdError::UnknownScheme(name.clone()))?;
        if cc.bytes().any(|c| c.is_ascii_uppercase())
            || scheme.is_empty()
            || scheme.len() > 16
            || !scheme.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(IdError::UnknownScheme(name));
        }
        // A known scheme's name must go through its own rules.
        if Scheme::from_name(&name).is_some() {
            return Err(IdError::UnknownScheme(name));
        }
        let value = value.to_ascii_uppercase();
        let n = value.chars().count();
        if n == 0 || n > 64 {
            return Err(IdError::Length { scheme: name, expected: "1 to 64", found: n });
        }
        if let Some((i, c)) =
            value.chars().enumerate().find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(IdError::Character { scheme: name, position: i + 1, found: c, allowed: "A-Z 0-9 '-'" });
        }
        Ok(SubjectId::Other { country, scheme: scheme.to_string(), value })
    }
}

impl FromStr for SubjectId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if let Some((scheme, value)) = s.split_once(':') {
            if let Some(k) = Scheme::from_name(scheme) {
                return SubjectId::known(k, value);
            }
            return match scheme.split_once('-') {
                Some((cc, rest)) if cc.len() == 2 => SubjectId::other(cc, rest, value),
                _ => Err(IdError::UnknownScheme(scheme.to_string())),
            };
        }
        let all_digits = s.bytes().all(|c| c.is_ascii_digit());
        match (s.chars().count(), all_digits) {
            (18, _) => SubjectId::known(Scheme::CnUscc, s),
            (10 | 12, true) => SubjectId::known(Scheme::RuInn, s),
            (15, true) => SubjectId::known(Scheme::RuOgrnip, s),
            (13, true) => {
                Err(IdError::Ambiguous("13 digits may be a Russian OGRN or a Japanese corporate number".to_string()))
            }
            (n, _) => Err(IdError::Ambiguous(format!(
                "a bare value of {n} characters matches no scheme (18 chars: cn-uscc; 10 or 12 digits: ru-inn; 15 digits: ru-ogrnip)"
            ))),
        }
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme_name(), self.value())
    }
}
impl fmt::Debug for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectId({self})")
    }
}
text_serde!(SubjectId);

#[derive(bincode::Encode, bincode::Decode)]
enum SubjectWire {
    Known(Scheme, String),
    Other(Jurisdiction, String, String),
}

impl bincode::Encode for SubjectId {
    fn encode<E: bincode::enc::Encoder>(&self, e: &mut E) -> Result<(), bincode::error::EncodeError> {
        match self {
            SubjectId::Known { scheme, value } => SubjectWire::Known(*scheme, value.clone()).encode(e),
            SubjectId::Other { country, scheme, value } => {
                SubjectWire::Other(*country, scheme.clone(), value.clone()).encode(e)
            }
        }
    }
}
impl<C> bincode::Decode<C> for SubjectId {
    fn decode<D: bincode::de::Decoder<Context = C>>(d: &mut D) -> Result<Self, bincode::error::DecodeError> {
        let parsed = match SubjectWire::decode(d)? {
            SubjectWire::Known(scheme, value) => SubjectId::known(scheme, &value),
            SubjectWire::Other(country, scheme, value) => {
                SubjectId::other(&country.as_str().to_ascii_lowercase(), &scheme, &value)
            }
        };
        // Decoding re-validates; the codec's re-encode check then refuses
        // non-canonical spellings such as lower-case values.
        parsed.map_err(|e| bincode::error::DecodeError::OtherString(e.to_string()))
    }
}
bincode::impl_borrow_decode!(SubjectId);

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> SubjectId {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn real_identifiers_are_accepted() {
        // USCC cited in GB 32100-2015 explanatory material
        assert_eq!(ok("91350100M000100Y43").to_string(), "cn-uscc:91350100M000100Y43");
        assert_eq!(ok("cn-uscc:91350100m000100y43").to_string(), "cn-uscc:91350100M000100Y43");
        // Sberbank: INN 7707083893, OGRN 1027700132195
        assert_eq!(ok("7707083893").to_string(), "ru-inn:7707083893");
        assert_eq!(ok("ru-ogrn:1027700132195").jurisdiction().as_str(), "RU");
        // Japan National Tax Agency corporate number
        assert_eq!(ok("jp-cn:7000012050002").jurisdiction().as_str(), "JP");
        assert_eq!(ok("mn-reg:2081237").to_string(), "mn-reg:2081237");
        assert_eq!(ok("kr-brn:124-81-00998").value(), "124-81-00998");
    }

    /// Spec §4.1: jurisdiction bytes are two upper-case letters when decoded
    /// anywhere (validator sets in proofs included), not only in subject ids.
    #[test]
    fn jurisdiction_bytes_are_checked_when_decoded() {
        let cn: Jurisdiction =
            credex_codec::decode(&credex_codec::encode(&Jurisdiction::new("cn").unwrap()), 8).unwrap();
        assert_eq!(cn.as_str(), "CN");
        for bad in [*b"cn", *b"C1", [0xff, 0x41], *b"C "] {
            assert!(credex_codec::decode::<Jurisdiction>(&credex_codec::encode(&bad), 8).is_err(), "{bad:?}");
        }
        // scheme names are lower case, exactly; the value's case is folded
        assert!(matches!("CN-USCC:91350100M000100Y43".parse::<SubjectId>(), Err(IdError::UnknownScheme(_))));
        assert!(matches!("MN-reg:2081237".parse::<SubjectId>(), Err(IdError::UnknownScheme(_))));
        assert_eq!(ok("mn-reg:ab-1").value(), "AB-1");
    }

    #[test]
    fn corrupted_identifiers_say_why() {
        assert_eq!(
            "91350100M000100Y44".parse::<SubjectId>(),
            Err(IdError::CheckDigit { scheme: "cn-uscc".into(), position: 18, found: '4', expected: '3' })
        );
        assert!(matches!(
            "91350100M00010OY43".parse::<SubjectId>(),
            Err(IdError::Character { position: 15, found: 'O', .. })
        ));
        assert!(matches!("ru-inn:77070838".parse::<SubjectId>(), Err(IdError::Length { found: 8, .. })));
        assert!(matches!("ru-ogrn:1027700132194".parse::<SubjectId>(), Err(IdError::CheckDigit { position: 13, .. })));
        assert!(matches!("jp-cn:8000012050002".parse::<SubjectId>(), Err(IdError::CheckDigit { position: 1, .. })));
        assert!(matches!("1027700132195".parse::<SubjectId>(), Err(IdError::Ambiguous(_))));
        assert!(matches!("xx:1".parse::<SubjectId>(), Err(IdError::UnknownScheme(_))));
        assert!(matches!("mn-reg:a b".parse::<SubjectId>(), Err(IdError::Character { position: 2, .. })));
        assert_eq!("".parse::<SubjectId>(), Err(IdError::Empty));
    }

    #[test]
    fn twelve_digit_inn_checks_both_digits() {
        // 500100732259: a commonly published valid individual INN
        assert!("ru-inn:500100732259".parse::<SubjectId>().is_ok());
        assert!(matches!("ru-inn:500100732269".parse::<SubjectId>(), Err(IdError::CheckDigit { position: 11, .. })));
    }

    fn uscc_with_check(body: &str) -> String {
        let sum: u32 = body
            .bytes()
            .zip(USCC_WEIGHTS)
            .map(|(c, w)| u32::try_from(USCC_ALPHABET.iter().position(|a| *a == c).unwrap()).unwrap() * w)
            .sum();
        let check = USCC_ALPHABET[((31 - sum % 31) % 31) as usize];
        format!("{body}{}", char::from(check))
    }

    proptest::proptest! {
        /// GB 32100's mod-31 check catches every single-character substitution.
        #[test]
        fn uscc_detects_every_single_substitution(
            body in proptest::collection::vec(proptest::sample::select(USCC_ALPHABET), 17),
            pos in 0usize..18,
            with in proptest::sample::select(USCC_ALPHABET),
        ) {
            let body = String::from_utf8(body).unwrap();
            let good = uscc_with_check(&body);
            let id: SubjectId = good.parse().unwrap();
            proptest::prop_assert_eq!(id.to_string().parse::<SubjectId>().unwrap(), id.clone());
            let bytes = credex_codec::encode(&id);
            proptest::prop_assert_eq!(credex_codec::decode::<SubjectId>(&bytes, 64).unwrap(), id);
            let mut bad = good.clone().into_bytes();
            if bad[pos] != with {
                bad[pos] = with;
                let bad = String::from_utf8(bad).unwrap();
                proptest::prop_assert!(bad.parse::<SubjectId>().is_err(), "{} accepted", bad);
            }
        }
    }

    #[test]
    fn codec_round_trip_and_non_canonical_refused() {
        let id = ok("91350100M000100Y43");
        let bytes = credex_codec::encode(&id);
        assert_eq!(credex_codec::decode::<SubjectId>(&bytes, 100).unwrap(), id);
        // lower-case value: decodes, but is not canonical
        let lower = credex_codec::encode(&SubjectWire::Known(Scheme::CnUscc, "91350100m000100y43".into()));
        assert!(credex_codec::decode::<SubjectId>(&lower, 100).is_err());
    }
}
