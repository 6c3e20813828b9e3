//! Attestation kinds and credit lists (spec §4.2). Both enums are
//! append-only: the encoding is the variant index.

use core::fmt;
use core::str::FromStr;

use crate::ids::NameError;

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in encoding order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The kebab-case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|k| k.name() == s).ok_or_else(|| NameError {
                    what: $what,
                    value: s.to_string(),
                    rule: concat!("one of: ", $($text, " ",)+),
                })
            }
        }
        text_serde!($name);

        // The OpenAPI schema from the same names (feature `schema`, for the API's document).
        #[cfg(feature = "schema")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text,)+]))
                    .description(Some(concat!("A ", $what, ".")))
                    .into()
            }
        }

        #[cfg(feature = "schema")]
        impl utoipa::ToSchema for $name {}
    };
}

named_enum!(
    /// What an attestation states (DESIGN §2 "Kinds").
    AttestationKind, "attestation kind" {
        /// 行政许可
        AdministrativeLicence = "administrative-licence",
        /// 行政处罚 (ordinary or serious: field `severity`)
        AdministrativePenalty = "administrative-penalty",
        /// 列入经营异常名录
        AbnormalOperationListing = "abnormal-operation-listing",
        /// 移出经营异常名录
        AbnormalOperationRemoval = "abnormal-operation-removal",
        /// 列入严重违法失信名单
        SeriousViolationListing = "serious-violation-listing",
        /// 移出严重违法失信名单
        SeriousViolationRemoval = "serious-violation-removal",
        /// 信用承诺
        CreditCommitment = "credit-commitment",
        /// 承诺履行
        CreditCommitmentFulfilled = "credit-commitment-fulfilled",
        /// 承诺违约
        CreditCommitmentBreached = "credit-commitment-breached",
        /// 列入红名单
        RedListEntry = "red-list-entry",
        /// 移出红名单
        RedListRemoval = "red-list-removal",
        /// 列入黑名单
        BlackListEntry = "black-list-entry",
        /// 移出黑名单
        BlackListRemoval = "black-list-removal",
        /// 列入失信被执行人名单
        DishonestDebtorListing = "dishonest-debtor-listing",
        /// 移出失信被执行人名单
        DishonestDebtorRemoval = "dishonest-debtor-removal",
        /// 信用等级
        CreditGrade = "credit-grade",
        /// 信用修复申请不予通过 (the approval is the listing agency's removal itself)
        CreditRepairRejection = "credit-repair-rejection",
        /// 异议不予支持 (a correction is a superseding attestation, an erasure a tombstone)
        ObjectionRejection = "objection-rejection",
        /// 撤销
        Revocation = "revocation",
        /// 删除（擦除）墓碑
        ErasureTombstone = "erasure-tombstone",
        /// 严重行政处罚 (publication 6 months – 3 years)
        SeriousAdministrativePenalty = "serious-administrative-penalty",
        /// 主体密钥登记 (permission to bind subjects' keys; not an attestation)
        SubjectKeyBinding = "subject-key-binding",
        /// 信用承诺不予接受
        CreditCommitmentRejection = "credit-commitment-rejection",
    }
);

named_enum!(
    /// The credit lists whose membership the chain tracks per subject.
    ListKind, "list" {
        /// 经营异常名录
        AbnormalOperation = "abnormal-operation",
        /// 严重违法失信名单
        SeriousViolation = "serious-violation",
        /// 红名单
        Red = "red",
        /// 黑名单
        Black = "black",
        /// 失信被执行人名单
        DishonestDebtor = "dishonest-debtor",
    }
);

/// Whether an attestation kind puts a subject on a list or takes it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEffect {
    /// Puts the subject on the list.
    Enter(ListKind),
    /// Takes the subject off the list.
    Leave(ListKind),
}

impl AttestationKind {
    /// The list this kind changes, if any.
    pub const fn list_effect(self) -> Option<ListEffect> {
        use AttestationKind as K;
        use ListKind as L;
        Some(match self {
            K::AbnormalOperationListing => ListEffect::Enter(L::AbnormalOperation),
            K::AbnormalOperationRemoval => ListEffect::Leave(L::AbnormalOperation),
            K::SeriousViolationListing => ListEffect::Enter(L::SeriousViolation),
            K::SeriousViolationRemoval => ListEffect::Leave(L::SeriousViolation),
            K::RedListEntry => ListEffect::Enter(L::Red),
            K::RedListRemoval => ListEffect::Leave(L::Red),
            K::BlackListEntry => ListEffect::Enter(L::Black),
            K::BlackListRemoval => ListEffect::Leave(L::Black),
            K::DishonestDebtorListing => ListEffect::Enter(L::DishonestDebtor),
            K::DishonestDebtorRemoval => ListEffect::Leave(L::DishonestDebtor),
            _ => return None,
        })
    }
}

/// Chain-time durations of the lifecycle rules (spec §11), in milliseconds.
/// Months and years are fixed day counts: chain time has no calendar, and
/// 1,096 days cover any three calendar years.
pub mod durations {
    use crate::time::DAY_MS;
    /// Three months: 90 days.
    pub const MONTHS_3: u64 = 90 * DAY_MS;
    /// Six months: 182 days.
    pub const MONTHS_6: u64 = 182 * DAY_MS;
    /// One year: 365 days.
    pub const YEAR_1: u64 = 365 * DAY_MS;
    /// Three years: 1,096 days.
    pub const YEARS_3: u64 = 1_096 * DAY_MS;
}

impl AttestationKind {
    /// The legal basis an issuer tool names when none is given.
    pub fn default_legal_basis(self) -> &'static str {
        use AttestationKind as K;
        match self {
            K::AdministrativeLicence => "cn-admin-licensing-law",
            K::AdministrativePenalty => "cn-admin-penalty-law",
            K::AbnormalOperationListing | K::AbnormalOperationRemoval => "cn-saic-2014-1",
            K::SeriousViolationListing | K::SeriousViolationRemoval => "cn-samr-2021-44",
            _ => "cn-social-credit-rules",
        }
    }

    /// The title of a legal basis (`cn-saic-2014-1`, with or without an
    /// article: `cn-saic-2014-1/art4`) in `lang`, for the documents people
    /// read (the credit report); `None` for a code this table does not
    /// know, which is then shown as it is. Display only: not part of the
    /// label table that genesis pins.
    pub fn legal_basis_title(code: &str, lang: crate::labels::Lang) -> Option<String> {
        use crate::labels::Lang;
        let (law, article) = match code.split_once('/') {
            Some((l, a)) => {
                (l, a.strip_prefix("art").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
            }
            None => (code, None),
        };
        let [zh, ru, en] = match law {
            "cn-saic-2014-1" => [
                "《企业经营异常名录管理暂行办法》（国家工商行政管理总局令第68号，2014年）",
                "Временные меры по ведению реестра предприятий с нарушениями в деятельности (приказ ГАПК КНР № 68, 2014)",
                "Interim Measures for the Administration of the List of Enterprises with Abnormal Operations (SAIC Order No. 68, 2014)",
            ],
            "cn-samr-2021-44" => [
                "《市场监督管理严重违法失信名单管理办法》（国家市场监督管理总局令第44号，2021年）",
                "Меры по ведению списка серьёзных нарушителей в сфере надзора за рынком (приказ ГУГРН КНР № 44, 2021)",
                "Measures for the Administration of the List of Serious Violators in Market Regulation (SAMR Order No. 44, 2021)",
            ],
            "cn-admin-penalty-law" => [
                "《中华人民共和国行政处罚法》",
                "Закон КНР об административных наказаниях",
                "Administrative Penalty Law of the PRC",
            ],
            "cn-admin-licensing-law" => [
                "《中华人民共和国行政许可法》",
                "Закон КНР об административном лицензировании",
                "Administrative Licensing Law of the PRC",
            ],
            "cn-social-credit-rules" => {
                ["社会信用体系建设有关规定", "Нормы о системе социального кредита", "Rules of the social credit system"]
            }
            _ => return None,
        };
        let title = match lang {
            Lang::Zh => zh,
            Lang::Ru => ru,
            Lang::En => en,
        };
        Some(match (article, lang) {
            (None, _) => title.to_string(),
            (Some(n), Lang::Zh) => format!("{title}第{n}条"),
            (Some(n), Lang::Ru) => format!("{title}, ст. {n}"),
            (Some(n), Lang::En) => format!("{title}, art. {n}"),
        })
    }

    /// The publication window `(shortest, longest)` a kind must declare
    /// through `expires_at`, counted from `effective_at`: ordinary penalties
    /// 3 months – 1 year, serious penalties 6 months – 3 years.
    pub const fn publication_window(self) -> Option<(u64, u64)> {
        match self {
            AttestationKind::AdministrativePenalty => Some((durations::MONTHS_3, durations::YEAR_1)),
            AttestationKind::SeriousAdministrativePenalty => Some((durations::MONTHS_6, durations::YEARS_3)),
            _ => None,
        }
    }

    /// True for kinds that answer a subject's case (`case` must be set).
    pub const fn needs_case(self) -> bool {
        matches!(
            self,
            AttestationKind::CreditCommitment
                | AttestationKind::CreditCommitmentFulfilled
                | AttestationKind::CreditCommitmentBreached
                | AttestationKind::CreditCommitmentRejection
                | AttestationKind::CreditRepairRejection
                | AttestationKind::ObjectionRejection
        )
    }

    /// True for kinds that are not attestations at all but permissions
    /// (an issuer listing [`AttestationKind::SubjectKeyBinding`] may bind keys).
    pub const fn is_permission(self) -> bool {
        matches!(self, AttestationKind::SubjectKeyBinding)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn legal_bases_have_titles_with_their_article() {
        use crate::labels::Lang;
        let t = |c: &str, l| AttestationKind::legal_basis_title(c, l);
        assert_eq!(
            t("cn-saic-2014-1/art4", Lang::Zh).as_deref(),
            Some("《企业经营异常名录管理暂行办法》（国家工商行政管理总局令第68号，2014年）第4条")
        );
        assert!(t("cn-samr-2021-44", Lang::Ru).is_some_and(|s| s.contains("№ 44")));
        assert!(t("cn-admin-penalty-law/art9", Lang::En).is_some_and(|s| s.ends_with(", art. 9")));
        // an article that is not a number is not invented into one
        assert!(t("cn-admin-penalty-law/annex", Lang::En).is_some_and(|s| !s.contains("art.")));
        assert_eq!(t("ru-fz-2024-1", Lang::Ru), None);
        // every default basis an issuer tool writes has a title
        for k in AttestationKind::ALL {
            assert!(t(k.default_legal_basis(), Lang::Zh).is_some(), "{k:?}");
        }
    }

    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for k in AttestationKind::ALL {
            assert_eq!(k.name().parse::<AttestationKind>().unwrap(), *k);
        }
        for l in ListKind::ALL {
            assert_eq!(l.name().parse::<ListKind>().unwrap(), *l);
        }
        let e = "abnormal-listing".parse::<AttestationKind>().unwrap_err();
        assert!(e.to_string().contains("abnormal-operation-listing"));
    }

    #[test]
    fn every_list_has_an_entry_and_a_leave_kind() {
        for l in ListKind::ALL {
            let enter = AttestationKind::ALL.iter().filter(|k| k.list_effect() == Some(ListEffect::Enter(*l))).count();
            let leave = AttestationKind::ALL.iter().filter(|k| k.list_effect() == Some(ListEffect::Leave(*l))).count();
            assert_eq!((enter, leave), (1, 1), "{l}");
        }
    }
}
