//! The zh / ru / en label table (spec §4.4).
//!
//! Every attestation kind, list, claim field code and listing reason code has
//! a label in Chinese, Russian and English. The table is data with a hash
//! (`H("credex/labels/v1", encode(table))`) that genesis pins, so what an
//! official reads beside a disclosed field is covered by what the chain
//! agreed on. Only field codes in the table may appear in attestations.
//!
//! ```
//! use credex_types::labels::{LabelTable, Category, Lang};
//! let t = LabelTable::builtin();
//! assert_eq!(t.label(Category::List, "abnormal-operation", Lang::Zh), Some("经营异常名录"));
//! assert!(t.label(Category::Kind, "credit-grade", Lang::Ru).is_some());
//! ```

use core::fmt;
use core::str::FromStr;

use credex_crypto::{Hash32, domain, hash};

use crate::kinds::{AttestationKind, ListKind};

/// What a label names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// An [`AttestationKind`].
    Kind,
    /// A [`ListKind`].
    List,
    /// A claim field code.
    Field,
    /// A reason code for an abnormal-operation listing.
    Reason,
}

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    /// 中文
    Zh,
    /// Русский
    Ru,
    /// English
    En,
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("zh") => Ok(Lang::Zh),
            Some("ru") => Ok(Lang::Ru),
            Some("en") => Ok(Lang::En),
            _ => Err(format!("unknown language {s:?}: use zh, ru or en")),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Zh => "zh",
            Lang::Ru => "ru",
            Lang::En => "en",
        })
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct LabelEntry {
    /// What is labelled.
    pub category: Category,
    /// Its code.
    pub code: String,
    /// Chinese.
    pub zh: String,
    /// Russian.
    pub ru: String,
    /// English.
    pub en: String,
}

/// The label table, sorted by (category, code), codes unique per category.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct LabelTable {
    /// Rows.
    pub entries: Vec<LabelEntry>,
}

const FIELDS: &[(&str, &str, &str, &str)] = &[
    ("amount", "金额（元）", "Сумма (юань)", "Amount (CNY)"),
    ("authority", "认定机关", "Орган, принявший решение", "Deciding authority"),
    ("commitment-text", "承诺内容", "Содержание обязательства", "Commitment"),
    ("decision-date", "决定日期", "Дата решения", "Decision date"),
    ("decision-no", "决定书文号", "Номер решения", "Decision number"),
    ("grade", "信用等级", "Кредитный рейтинг", "Credit grade"),
    ("licence-no", "许可证编号", "Номер лицензии", "Licence number"),
    ("licence-scope", "许可内容", "Объём лицензии", "Licence scope"),
    ("note", "备注", "Примечание", "Note"),
    ("outcome", "处理结果", "Результат рассмотрения", "Outcome"),
    ("penalty-type", "处罚类别", "Вид наказания", "Penalty type"),
    ("reason", "事由", "Основание", "Reason"),
    ("reason-code", "列入原因代码", "Код причины внесения", "Reason code"),
    ("repair-basis", "修复依据", "Основание восстановления", "Repair basis"),
    ("scoring-inputs", "评分依据", "Исходные данные оценки", "Scoring inputs"),
    ("sector", "行业领域", "Отрасль", "Sector"),
    ("severity", "严重程度", "Степень тяжести", "Severity"),
    ("subject-name", "主体名称", "Наименование субъекта", "Subject name"),
    ("target-attestation", "所涉信用记录", "Связанная запись", "Related attestation"),
    ("valid-until", "有效期至", "Действует до", "Valid until"),
];

const REASONS: &[(&str, &str, &str, &str)] = &[
    ("annual-report", "未按规定公示年度报告", "Не опубликован годовой отчёт", "Annual report not published"),
    (
        "false-disclosure",
        "公示信息隐瞒真实情况、弄虚作假",
        "Сокрытие или искажение раскрываемых сведений",
        "Concealed or falsified disclosures",
    ),
    (
        "info-disclosure",
        "未在责令期限内公示有关企业信息",
        "Сведения не раскрыты в установленный срок",
        "Information not disclosed within the ordered period",
    ),
    (
        "unreachable-address",
        "通过登记的住所或经营场所无法联系",
        "Не удаётся связаться по зарегистрированному адресу",
        "Unreachable at registered address",
    ),
];

fn kind_labels(k: AttestationKind) -> (&'static str, &'static str, &'static str) {
    use AttestationKind as K;
    match k {
        K::AdministrativeLicence => ("行政许可", "Административная лицензия", "Administrative licence"),
        K::AdministrativePenalty => ("行政处罚", "Административное наказание", "Administrative penalty"),
        K::AbnormalOperationListing => {
            ("列入经营异常名录", "Внесение в реестр недобросовестных предприятий", "Abnormal-operation listing")
        }
        K::AbnormalOperationRemoval => {
            ("移出经营异常名录", "Исключение из реестра недобросовестных предприятий", "Abnormal-operation removal")
        }
        K::SeriousViolationListing => {
            ("列入严重违法失信名单", "Внесение в список серьёзных нарушителей", "Serious-violation listing")
        }
        K::SeriousViolationRemoval => {
            ("移出严重违法失信名单", "Исключение из списка серьёзных нарушителей", "Serious-violation removal")
        }
        K::CreditCommitment => ("信用承诺", "Кредитное обязательство", "Credit commitment"),
        K::CreditCommitmentFulfilled => ("信用承诺已履行", "Обязательство выполнено", "Credit commitment fulfilled"),
        K::CreditCommitmentBreached => ("信用承诺未履行", "Обязательство нарушено", "Credit commitment breached"),
        K::RedListEntry => ("列入红名单", "Внесение в «красный список»", "Red list entry"),
        K::RedListRemoval => ("移出红名单", "Исключение из «красного списка»", "Red list removal"),
        K::BlackListEntry => ("列入黑名单", "Внесение в «чёрный список»", "Black list entry"),
        K::BlackListRemoval => ("移出黑名单", "Исключение из «чёрного списка»", "Black list removal"),
        K::DishonestDebtorListing => {
            ("列入失信被执行人名单", "Внесение в список недобросовестных должников", "Dishonest-debtor listing")
        }
        K::DishonestDebtorRemoval => {
            ("移出失信被执行人名单", "Исключение из списка недобросовестных должников", "Dishonest-debtor removal")
        }
        K::CreditGrade => ("信用等级评定", "Кредитный рейтинг", "Credit grade"),
        K::CreditRepairRejection => {
            ("信用修复申请不予通过", "Отказ в восстановлении кредитной репутации", "Credit repair application rejected")
        }
        K::ObjectionRejection => ("异议不予支持", "Возражение отклонено", "Objection rejected"),
        K::SeriousAdministrativePenalty => {
            ("严重行政处罚", "Тяжкое административное наказание", "Serious administrative penalty")
        }
        K::SubjectKeyBinding => ("主体密钥登记", "Регистрация ключа субъекта", "Subject key binding"),
        K::CreditCommitmentRejection => ("信用承诺不予接受", "Обязательство не принято", "Credit commitment rejected"),
        K::Revocation => ("撤销", "Отзыв", "Revocation"),
        K::ErasureTombstone => ("删除记录", "Запись об удалении", "Erasure tombstone"),
    }
}

fn list_labels(l: ListKind) -> (&'static str, &'static str, &'static str) {
    match l {
        ListKind::AbnormalOperation => {
            ("经营异常名录", "Реестр недобросовестных предприятий", "Abnormal-operation list")
        }
        ListKind::SeriousViolation => ("严重违法失信名单", "Список серьёзных нарушителей", "Serious-violation list"),
        ListKind::Red => ("红名单", "«Красный список»", "Red list"),
        ListKind::Black => ("黑名单", "«Чёрный список»", "Black list"),
        ListKind::DishonestDebtor => ("失信被执行人名单", "Список недобросовестных должников", "Dishonest-debtor list"),
    }
}

impl LabelTable {
    /// The table this release ships (its hash goes into genesis).
    pub fn builtin() -> LabelTable {
        let mut entries = Vec::new();
        let row = |category, code: &str, (zh, ru, en): (&str, &str, &str)| LabelEntry {
            category,
            code: code.to_string(),
            zh: zh.to_string(),
            ru: ru.to_string(),
            en: en.to_string(),
        };
        for k in AttestationKind::ALL {
            entries.push(row(Category::Kind, k.name(), kind_labels(*k)));
        }
        for l in ListKind::ALL {
            entries.push(row(Category::List, l.name(), list_labels(*l)));
        }
        for (code, zh, ru, en) in FIELDS {
            entries.push(row(Category::Field, code, (zh, ru, en)));
        }
        for (code, zh, ru, en) in REASONS {
            entries.push(row(Category::Reason, code, (zh, ru, en)));
        }
        entries.sort_by(|a, b| (a.category, &a.code).cmp(&(b.category, &b.code)));
        LabelTable { entries }
    }

    /// `H("credex/labels/v1", encode(table))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::LABELS, &credex_codec::encode(self))
    }

    /// The row for `code` in `category`.
    pub fn get(&self, category: Category, code: &str) -> Option<&LabelEntry> {
        self.entries
            .binary_search_by(|e| (e.category, e.code.as_str()).cmp(&(category, code)))
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// The label of `code` in `lang`.
    pub fn label(&self, category: Category, code: &str, lang: Lang) -> Option<&str> {
        self.get(category, code).map(|e| match lang {
            Lang::Zh => e.zh.as_str(),
            Lang::Ru => e.ru.as_str(),
            Lang::En => e.en.as_str(),
        })
    }

    /// True if `code` is a field code of this table.
    pub fn has_field(&self, code: &str) -> bool {
        self.get(Category::Field, code).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_list_is_labelled_in_three_languages() {
        let t = LabelTable::builtin();
        for k in AttestationKind::ALL {
            for lang in [Lang::Zh, Lang::Ru, Lang::En] {
                assert!(t.label(Category::Kind, k.name(), lang).is_some_and(|s| !s.is_empty()));
            }
        }
        for l in ListKind::ALL {
            assert!(t.get(Category::List, l.name()).is_some());
        }
        for w in t.entries.windows(2) {
            assert!((w[0].category, &w[0].code) < (w[1].category, &w[1].code), "sorted and unique");
        }
    }

    #[test]
    fn hash_changes_with_any_label() {
        let t = LabelTable::builtin();
        let mut u = t.clone();
        u.entries[0].ru.push('!');
        assert_ne!(t.hash(), u.hash());
    }

    #[test]
    fn accept_language_prefixes() {
        assert_eq!("ru-RU".parse::<Lang>(), Ok(Lang::Ru));
        assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::Zh));
        assert!("de".parse::<Lang>().is_err());
    }
}
