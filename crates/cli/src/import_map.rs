//! How an agency's file maps onto credex's import columns: built-in
//! profiles (China's publicity-system exports) or a mapping file of the
//! same form, the file's text encoding (UTF-8 with or without BOM, UTF-16
//! with BOM, GB18030/GBK as Excel saves Chinese text) and its local times.
//!
//! A mapping names, for each header of the file, the credex column it
//! fills (`subject`, `effective_at`, `expires_at`, a field code, or
//! `ignore`); a header it does not name refuses the whole file (nothing is
//! dropped silently). Coded fields (`reason-code`) map cell texts to codes:
//! first exactly (after removing spaces and a trailing 的 or 。), then by
//! the longest contained phrase; a text that matches none refuses its row,
//! naming it. Times are read in the mapping's zone (`Zone::parse_local`).
//! Without a profile or mapping the file is credex's own format: headers
//! are the columns themselves.

use std::collections::BTreeMap;

use credex_types::time::Zone;
use credex_types::{AttestationKind, FieldCode};

/// The built-in profiles: name and TOML text.
pub(crate) const PROFILES: &[(&str, &str)] = &[
    ("cn-abnormal-operation", include_str!("../profiles/cn-abnormal-operation.toml")),
    ("cn-serious-violation", include_str!("../profiles/cn-serious-violation.toml")),
];

/// The credex column a header fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The subject id.
    Subject,
    /// The effective time.
    EffectiveAt,
    /// The expiry.
    ExpiresAt,
    /// A claim field.
    Field(FieldCode),
    /// Not imported.
    Ignore,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "subject" => Target::Subject,
            "effective_at" => Target::EffectiveAt,
            "expires_at" => Target::ExpiresAt,
            "ignore" => Target::Ignore,
            code => Target::Field(code.parse().map_err(|e| format!("{e}"))?),
        })
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    kind: Option<AttestationKind>,
    time_zone: Option<String>,
    subject_scheme: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    contains: BTreeMap<String, BTreeMap<String, String>>,
}

/// A mapping (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    /// `credex` (the own format), a profile's name, or the file's path.
    pub name: String,
    /// Header (normalized) → column; empty for the own format.
    columns: BTreeMap<String, Target>,
    /// Field → exact text (normalized) → code.
    exact: BTreeMap<FieldCode, BTreeMap<String, String>>,
    /// Field → (phrase, code), longest phrase first.
    contains: BTreeMap<FieldCode, Vec<(String, String)>>,
    /// The zone of times without one.
    pub zone: Zone,
    /// The kind of every row, if the mapping names one.
    pub kind: Option<AttestationKind>,
    /// Scheme prefix for subject cells without one (`cn-uscc`).
    subject_scheme: Option<String>,
}

/// A header as compared: no spaces, no BOM, full-width brackets as ASCII.
fn header_key(h: &str) -> String {
    h.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

/// A cell as matched against mapped texts.
fn value_key(v: &str) -> String {
    let s: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    s.trim_end_matches(['的', '。', '；', ';', '.']).to_string()
}

impl Mapping {
    /// credex's own format, times without a zone read in `zone`.
    pub(crate) fn own(zone: Zone) -> Mapping {
        Mapping {
            name: "credex".into(),
            columns: BTreeMap::new(),
            exact: BTreeMap::new(),
            contains: BTreeMap::new(),
            zone,
            kind: None,
            subject_scheme: None,
        }
    }

    /// A built-in profile by name.
    pub(crate) fn profile(name: &str) -> anyhow::Result<Mapping> {
        let Some((_, text)) = PROFILES.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = PROFILES.iter().map(|(n, _)| *n).collect();
            anyhow::bail!("unknown profile {name:?}: the built-in profiles are {}", names.join(", "));
        };
        Mapping::from_toml(text, name)
    }

    /// A mapping file's text (the profiles' form).
    pub(crate) fn from_toml(text: &str, name: &str) -> anyhow::Result<Mapping> {
        let f: MappingFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("mapping {name}: {e}"))?;
        let zone = match &f.time_zone {
            Some(z) => z.parse().map_err(|e: String| anyhow::anyhow!("mapping {name}: {e}"))?,
            None => Zone::shanghai(),
        };
        let mut columns = BTreeMap::new();
        for (header, target) in &f.columns {
            let t: Target =
                target.parse().map_err(|e| anyhow::anyhow!("mapping {name}: column {header:?} → {target:?}: {e}"))?;
            columns.insert(header_key(header), t);
        }
        anyhow::ensure!(columns.values().any(|t| *t == Target::Subject), "mapping {name}: no column maps to subject");
        let field = |code: &str| -> anyhow::Result<FieldCode> {
            code.parse().map_err(|e| anyhow::anyhow!("mapping {name}: field {code:?}: {e}"))
        };
        let mut exact = BTreeMap::new();
        for (code, table) in &f.values {
            let t: BTreeMap<String, String> = table.iter().map(|(k, v)| (value_key(k), v.clone())).collect();
            exact.insert(field(code)?, t);
        }
        let mut contains = BTreeMap::new();
        for (code, table) in &f.contains {
            let mut t: Vec<(String, String)> = table.iter().map(|(k, v)| (value_key(k), v.clone())).collect();
            t.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then_with(|| a.0.cmp(&b.0)));
            contains.insert(field(code)?, t);
        }
        Ok(Mapping {
            name: name.to_string(),
            columns,
            exact,
            contains,
            zone,
            kind: f.kind,
            subject_scheme: f.subject_scheme,
        })
    }

    /// Whether this is credex's own format.
    pub(crate) fn is_own(&self) -> bool {
        self.columns.is_empty()
    }

    /// The column `header` fills.
    pub(crate) fn target(&self, header: &str) -> Result<Target, String> {
        if self.is_own() {
            return header.trim_start_matches('\u{feff}').parse();
        }
        self.columns.get(&header_key(header)).cloned().ok_or_else(|| {
            format!(
                "column {header:?} is not in the mapping {}: add it to a mapping file (as a field code, or \"ignore\")",
                self.name
            )
        })
    }

    /// The subject cell as a subject id's text (the scheme prefixed if the
    /// cell has none and the mapping names one).
    pub(crate) fn subject_text(&self, cell: &str) -> String {
        match &self.subject_scheme {
            Some(scheme) if !cell.contains(':') => format!("{scheme}:{cell}"),
            _ => cell.to_string(),
        }
    }

    /// The value a cell gives field `code`: a mapped code, or the text.
    pub(crate) fn value(&self, code: &FieldCode, cell: &str) -> Result<String, String> {
        let exact = self.exact.get(code);
        let contains = self.contains.get(code);
        if exact.is_none() && contains.is_none() {
            return Ok(cell.to_string());
        }
        let key = value_key(cell);
        if let Some(v) = exact.and_then(|t| t.get(&key)) {
            return Ok(v.clone());
        }
        if let Some((_, v)) = contains.and_then(|t| t.iter().find(|(phrase, _)| key.contains(phrase.as_str()))) {
            return Ok(v.clone());
        }
        // a code itself is fine too (a file already in codes)
        let codes: std::collections::BTreeSet<&String> = exact
            .into_iter()
            .flat_map(|t| t.values())
            .chain(contains.into_iter().flat_map(|t| t.iter().map(|(_, code)| code)))
            .collect();
        if codes.contains(&cell.to_string()) {
            return Ok(cell.to_string());
        }
        Err(format!(
            "{code}: {cell:?} matches no text of the mapping {} (codes: {})",
            self.name,
            codes.into_iter().map(String::as_str).collect::<Vec<_>>().join(", ")
        ))
    }
}

/// The text of a file and the encoding it was read as: a BOM decides
/// (UTF-8, UTF-16LE/BE); otherwise `encoding` if given (`utf-8`,
/// `gb18030`, `gbk`), else UTF-8 if the bytes are valid UTF-8, else
/// GB18030 (of which GBK and GB2312 are subsets) if they decode without
/// error. Anything else is refused with what to do.
pub(crate) fn decode(bytes: &[u8], encoding: Option<&str>) -> anyhow::Result<(String, &'static str)> {
    use encoding_rs::{GB18030, UTF_8, UTF_16BE, UTF_16LE};
    let strict = |enc: &'static encoding_rs::Encoding, body: &[u8]| -> Option<String> {
        enc.decode_without_bom_handling_and_without_replacement(body).map(|c| c.into_owned())
    };
    for (bom, enc, name) in [
        (&b"\xef\xbb\xbf"[..], UTF_8, "UTF-8 (with BOM)"),
        (&b"\xff\xfe"[..], UTF_16LE, "UTF-16LE"),
        (&b"\xfe\xff"[..], UTF_16BE, "UTF-16BE"),
    ] {
        if let Some(body) = bytes.strip_prefix(bom) {
            let text = strict(enc, body)
                .ok_or_else(|| anyhow::anyhow!("the file starts as {name} but is not valid {name}"))?;
            return Ok((text, name));
        }
    }
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        Some("utf-8" | "utf8") => {
            let text = strict(UTF_8, bytes).ok_or_else(|| anyhow::anyhow!("the file is not valid UTF-8"))?;
            Ok((text, "UTF-8"))
        }
        Some("gb18030" | "gbk" | "gb2312") => {
            let text = strict(GB18030, bytes).ok_or_else(|| anyhow::anyhow!("the file is not valid GB18030/GBK"))?;
            Ok((text, "GB18030"))
        }
        Some(other) => anyhow::bail!("unknown encoding {other:?}: use utf-8 or gb18030 (also for GBK)"),
        None => {
            if let Some(text) = strict(UTF_8, bytes) {
                return Ok((text, "UTF-8"));
            }
            if let Some(text) = strict(GB18030, bytes) {
                return Ok((text, "GB18030"));
            }
            anyhow::bail!(
                "the file is neither UTF-8 nor GB18030/GBK text: save it as CSV UTF-8, or name its encoding with --encoding"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn profiles_load_and_map_the_official_reason_texts() {
        for (name, _) in PROFILES {
            Mapping::profile(name).unwrap();
        }
        let m = Mapping::profile("cn-abnormal-operation").unwrap();
        let code: FieldCode = "reason-code".parse().unwrap();
        for (text, want) in [
            ("未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告的", "annual-report"),
            ("通过登记的住所或者经营场所无法联系的。", "unreachable-address"),
            (
                "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息",
                "info-disclosure",
            ),
            ("公示企业信息隐瞒真实情况、弄虚作假的", "false-disclosure"),
            ("未按规定报送年度报告", "annual-report"),
            ("annual-report", "annual-report"),
        ] {
            assert_eq!(m.value(&code, text).as_deref(), Ok(want), "{text}");
        }
        let e = m.value(&code, "其他原因").unwrap_err();
        assert!(e.contains("其他原因") && e.contains("annual-report"), "{e}");
        assert_eq!(m.target(" 统一社会信用代码 "), Ok(Target::Subject));
        assert_eq!(m.target("作出决定机关（列入）"), Ok(Target::Field("authority".parse().unwrap())));
        assert!(m.target("登记机关").unwrap_err().contains("登记机关"));
        assert_eq!(m.subject_text("91350100M000100Y43"), "cn-uscc:91350100M000100Y43");
        assert_eq!(m.kind, Some(AttestationKind::AbnormalOperationListing));
    }

    #[test]
    fn encodings_are_recognized_or_refused_in_words() {
        let text = "统一社会信用代码,企业名称\n91350100M000100Y43,绥芬河市某某贸易有限公司\n";
        let (gb, _, _) = encoding_rs::GB18030.encode(text);
        assert_eq!(decode(&gb, None).unwrap(), (text.to_string(), "GB18030"));
        assert_eq!(decode(text.as_bytes(), None).unwrap().1, "UTF-8");
        let bom = [&b"\xef\xbb\xbf"[..], text.as_bytes()].concat();
        assert_eq!(decode(&bom, None).unwrap(), (text.to_string(), "UTF-8 (with BOM)"));
        let utf16: Vec<u8> = [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(decode(&utf16, None).unwrap().0, text);
        assert!(decode(&gb, Some("utf-8")).unwrap_err().to_string().contains("not valid UTF-8"));
        assert!(decode(b"\xff\xff\xff", None).unwrap_err().to_string().contains("--encoding"));
    }
}
