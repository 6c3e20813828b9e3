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
    /// A case kind (commitment, repair, objection).
    Case,
    /// A case status.
    Status,
    /// A grading or early-warning rule (`credex-rules`).
    Rule,
    /// The repair conditions of a list (what the subject must show).
    Condition,
    /// A grading sector.
    Sector,
    /// A credit grade (A–D) and what it means.
    Grade,
}

impl Category {
    /// Kebab-case name, as in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Category::Kind => "kind",
            Category::List => "list",
            Category::Field => "field",
            Category::Reason => "reason",
            Category::Case => "case",
            Category::Status => "status",
            Category::Rule => "rule",
            Category::Condition => "condition",
            Category::Sector => "sector",
            Category::Grade => "grade",
        }
    }
}

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
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

type Row = (&'static str, &'static str, &'static str, &'static str);

const FIELDS: &[Row] = &[
    ("amount", "金额（元）", "Сумма (юань)", "Amount (CNY)"),
    ("authority", "认定机关", "Орган, принявший решение", "Deciding authority"),
    ("commitment-text", "承诺内容", "Содержание обязательства", "Commitment"),
    ("conditions", "修复条件", "Условия восстановления", "Repair conditions"),
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
    ("score", "信用评分", "Балл", "Score"),
    ("repair-basis", "修复依据", "Основание восстановления", "Repair basis"),
    ("scoring-inputs", "评分依据", "Исходные данные оценки", "Scoring inputs"),
    ("sector", "行业领域", "Отрасль", "Sector"),
    ("severity", "严重程度", "Степень тяжести", "Severity"),
    ("subject-name", "主体名称", "Наименование субъекта", "Subject name"),
    ("target-attestation", "所涉信用记录", "Связанная запись", "Related attestation"),
    ("valid-until", "有效期至", "Действует до", "Valid until"),
];

/// The reasons for the abnormal-operation list, in the official Chinese
/// wording of 企业经营异常名录管理暂行办法 第四条 (as the publicity system
/// shows them; `credex import --profile cn-abnormal-operation` maps them).
const REASONS: &[Row] = &[
    (
        "annual-report",
        "未按照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
        "Не опубликован годовой отчёт",
        "Annual report not published",
    ),
    (
        "false-disclosure",
        "公示企业信息隐瞒真实情况、弄虚作假",
        "Сокрытие или искажение раскрываемых сведений",
        "Concealed or falsified disclosures",
    ),
    (
        "info-disclosure",
        "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息",
        "Сведения не раскрыты в установленный срок",
        "Information not disclosed within the ordered period",
    ),
    (
        "unreachable-address",
        "通过登记的住所或者经营场所无法联系",
        "Не удаётся связаться по зарегистрированному адресу",
        "Unreachable at registered address",
    ),
];

const CASES: &[Row] = &[
    ("commitment", "信用承诺", "Кредитное обязательство", "Credit commitment"),
    ("objection", "异议申请", "Возражение", "Objection"),
    ("repair", "信用修复申请", "Заявление о восстановлении кредитной репутации", "Credit repair application"),
];

const STATUSES: &[Row] = &[
    ("accepted", "已接受", "Принято", "Accepted"),
    ("approved", "已通过（已移出名单）", "Одобрено (исключён из списка)", "Approved (removed from the list)"),
    ("breached", "未履行", "Нарушено", "Breached"),
    ("corrected", "已更正", "Исправлено", "Corrected"),
    ("erased", "已删除", "Удалено", "Erased"),
    ("fulfilled", "已履行", "Выполнено", "Fulfilled"),
    ("pending", "待处理", "На рассмотрении", "Pending"),
    ("rejected", "不予支持", "Отклонено", "Rejected"),
    ("revoked", "已撤销", "Отозвано", "Revoked"),
];

const RULES: &[Row] = &[
    ("commitment-breached", "信用承诺未履行", "Нарушенные обязательства", "Commitments breached"),
    ("commitment-kept", "信用承诺已履行", "Выполненные обязательства", "Commitments kept"),
    (
        "escalation-imminent",
        "列入经营异常名录满两年半，即将列入严重违法失信名单",
        "В реестре 2,5 года: скоро перевод в список серьёзных нарушителей",
        "Listed as abnormal for 2.5 years: escalation to serious violation is near",
    ),
    ("licence", "有效行政许可", "Действующие лицензии", "Licences in force"),
    (
        "listing-abnormal-operation",
        "列入经营异常名录",
        "В реестре недобросовестных предприятий",
        "On the abnormal-operation list",
    ),
    (
        "listing-and-breach",
        "在失信名单中且一年内有承诺未履行",
        "В списке и нарушил обязательство за последний год",
        "Listed and breached a commitment within a year",
    ),
    ("listing-black", "列入黑名单", "В «чёрном списке»", "On the black list"),
    (
        "listing-dishonest-debtor",
        "列入失信被执行人名单",
        "В списке недобросовестных должников",
        "On the dishonest-debtor list",
    ),
    (
        "listing-history",
        "三年内曾被列入名单",
        "Ранее вносился в списки (последнее исключение менее 3 лет назад)",
        "Earlier listings (last removal under three years ago)",
    ),
    (
        "listing-serious-violation",
        "列入严重违法失信名单",
        "В списке серьёзных нарушителей",
        "On the serious-violation list",
    ),
    ("penalty-ordinary", "一般行政处罚", "Административные наказания", "Ordinary penalties"),
    ("penalty-serious", "严重行政处罚", "Тяжкие административные наказания", "Serious penalties"),
    ("red-list", "列入红名单", "В «красном списке»", "On the red list"),
    (
        "repeated-penalties",
        "一年内多次受到行政处罚",
        "Несколько наказаний за последний год",
        "Repeated penalties within a year",
    ),
    (
        "serious-listing",
        "列入严重失信名单（严重违法、黑名单或失信被执行人）",
        "В списке серьёзных нарушителей, «чёрном» или должников",
        "On a serious list (serious violation, black or dishonest debtor)",
    ),
];

const CONDITIONS: &[Row] = &[
    (
        "abnormal-operation",
        "补报年度报告或更正公示信息、可通过登记住所联系后，向列入机关申请移出",
        "Опубликовать отчёт или исправить сведения, восстановить связь по адресу и подать заявление органу, внёсшему в реестр",
        "File the missing report or correct the disclosure, be reachable at the registered address, then apply to the listing agency",
    ),
    (
        "black",
        "纠正失信行为、履行相关义务并满最短公示期后，向认定机关申请",
        "Устранить нарушение, исполнить обязанности и выждать минимальный срок публикации",
        "Correct the conduct, fulfil the obligations and wait out the minimum publication period, then apply to the deciding agency",
    ),
    (
        "dishonest-debtor",
        "履行生效法律文书确定的义务后，向作出决定的法院申请",
        "Исполнить обязанности по судебному акту и обратиться в суд, принявший решение",
        "Perform the obligations set by the judgment, then apply to the court that listed you",
    ),
    ("red", "红名单无需修复", "Для «красного списка» восстановление не требуется", "The red list needs no repair"),
    (
        "serious-violation",
        "列入满一年、纠正违法行为并作出信用承诺后，向列入机关申请",
        "Через год после внесения, устранив нарушение и приняв обязательство, обратиться в орган, внёсший в список",
        "One year after listing, with the violation corrected and a credit commitment made, apply to the listing agency",
    ),
];

const SECTORS: &[Row] = &[
    ("customs", "海关", "Таможня", "Customs"),
    ("e-commerce", "跨境电商", "Трансграничная электронная торговля", "Cross-border e-commerce"),
    ("general", "通用", "Общий", "General"),
    ("tax", "税务", "Налоги", "Tax"),
];

const GRADES: &[Row] = &[
    ("A", "A级（守信）", "A (надёжный)", "A (trustworthy)"),
    ("B", "B级（基本守信）", "B (в целом надёжный)", "B (generally trustworthy)"),
    ("C", "C级（失信风险）", "C (есть риски)", "C (at risk)"),
    ("D", "D级（严重失信）", "D (серьёзные нарушения)", "D (seriously untrustworthy)"),
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
        for (category, rows) in [
            (Category::Reason, REASONS),
            (Category::Case, CASES),
            (Category::Status, STATUSES),
            (Category::Rule, RULES),
            (Category::Condition, CONDITIONS),
            (Category::Sector, SECTORS),
            (Category::Grade, GRADES),
        ] {
            for (code, zh, ru, en) in rows {
                entries.push(row(category, code, (zh, ru, en)));
            }
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
            assert!(t.get(Category::Condition, l.name()).is_some(), "repair conditions of {l}");
        }
        for s in crate::lifecycle::CaseStatus::ALL {
            assert!(t.get(Category::Status, s.name()).is_some(), "{s:?}");
        }
        for k in [
            crate::lifecycle::CaseKind::Commitment,
            crate::lifecycle::CaseKind::Repair,
            crate::lifecycle::CaseKind::Objection,
        ] {
            assert!(t.get(Category::Case, k.name()).is_some(), "{k:?}");
        }
        for g in ["A", "B", "C", "D"] {
            assert!(t.get(Category::Grade, g).is_some());
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
