//! The demo roster of Suifenhe agencies: the validators and issuers of
//! `credex dev`, the devnet and the test fixtures, defined once. Demo data
//! only: a real chain's genesis names its own agencies.

use crate::chain::Names;
use crate::kinds::AttestationKind as K;

/// A demo agency: id, names in zh / ru / en, jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoAgency {
    /// Agency id.
    pub agency: &'static str,
    /// Chinese name.
    pub zh: &'static str,
    /// Russian name.
    pub ru: &'static str,
    /// English name.
    pub en: &'static str,
    /// Jurisdiction (ISO 3166-1 alpha-2).
    pub jurisdiction: &'static str,
}

impl DemoAgency {
    /// The names as genesis holds them.
    pub fn names(&self) -> Names {
        Names { zh: self.zh.into(), ru: self.ru.into(), en: self.en.into() }
    }
}

/// The demo validators (the devnet's four; `credex dev` runs the first).
pub const VALIDATORS: &[DemoAgency] = &[
    DemoAgency {
        agency: "cn-sfh-ftz",
        zh: "绥芬河自贸片区管委会",
        ru: "Администрация ЗСТ Суйфэньхэ",
        en: "Suifenhe FTZ Administration",
        jurisdiction: "CN",
    },
    DemoAgency {
        agency: "cn-sfh-cbec",
        zh: "绥芬河跨境电商综试区",
        ru: "Пилотная зона трансграничной электронной торговли Суйфэньхэ",
        en: "Suifenhe CBEC Pilot Zone",
        jurisdiction: "CN",
    },
    DemoAgency {
        agency: "cn-sfh-customs",
        zh: "绥芬河海关",
        ru: "Таможня Суйфэньхэ",
        en: "Suifenhe Customs",
        jurisdiction: "CN",
    },
    DemoAgency {
        agency: "ru-primorye-cci",
        zh: "滨海边疆区工商会",
        ru: "Торгово-промышленная палата Приморского края",
        en: "Primorye Chamber of Commerce and Industry",
        jurisdiction: "RU",
    },
];

/// The demo issuers and the kinds each may issue.
pub const ISSUERS: &[(DemoAgency, &[K])] = &[
    (
        DemoAgency {
            agency: "cn-sfh-amr",
            zh: "绥芬河市市场监督管理局",
            ru: "Управление по надзору за рынком г. Суйфэньхэ",
            en: "Suifenhe Administration for Market Regulation",
            jurisdiction: "CN",
        },
        &[
            K::AdministrativeLicence,
            K::AdministrativePenalty,
            K::AbnormalOperationListing,
            K::AbnormalOperationRemoval,
            K::SeriousViolationListing,
            K::SeriousViolationRemoval,
            K::SeriousAdministrativePenalty,
            K::CreditCommitment,
            K::CreditCommitmentFulfilled,
            K::CreditCommitmentBreached,
            K::CreditCommitmentRejection,
            K::CreditRepairRejection,
            K::ObjectionRejection,
            K::Revocation,
            K::ErasureTombstone,
            K::SubjectKeyBinding,
        ],
    ),
    (
        DemoAgency {
            agency: "cn-sfh-customs",
            zh: "绥芬河海关",
            ru: "Таможня Суйфэньхэ",
            en: "Suifenhe Customs",
            jurisdiction: "CN",
        },
        &[
            K::AdministrativePenalty,
            K::SeriousAdministrativePenalty,
            K::CreditGrade,
            K::RedListEntry,
            K::RedListRemoval,
            K::BlackListEntry,
            K::BlackListRemoval,
            K::CreditRepairRejection,
            K::ObjectionRejection,
            K::Revocation,
            K::ErasureTombstone,
        ],
    ),
    (
        DemoAgency {
            agency: "cn-sfh-ftz",
            zh: "绥芬河自贸片区管委会",
            ru: "Администрация ЗСТ Суйфэньхэ",
            en: "Suifenhe FTZ Administration",
            jurisdiction: "CN",
        },
        &[
            K::AdministrativeLicence,
            K::CreditGrade,
            K::CreditCommitment,
            K::CreditCommitmentFulfilled,
            K::CreditCommitmentBreached,
            K::CreditCommitmentRejection,
            K::RedListEntry,
            K::RedListRemoval,
            K::ObjectionRejection,
            K::Revocation,
            K::ErasureTombstone,
            K::SubjectKeyBinding,
        ],
    ),
    (
        DemoAgency {
            agency: "cn-sfh-court",
            zh: "绥芬河市人民法院",
            ru: "Народный суд г. Суйфэньхэ",
            en: "Suifenhe People's Court",
            jurisdiction: "CN",
        },
        &[
            K::DishonestDebtorListing,
            K::DishonestDebtorRemoval,
            K::CreditRepairRejection,
            K::ObjectionRejection,
            K::Revocation,
            K::ErasureTombstone,
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_ids_names_and_kinds_are_valid_and_unique() {
        for (i, a) in VALIDATORS.iter().chain(ISSUERS.iter().map(|(a, _)| a)).enumerate() {
            assert!(a.agency.parse::<crate::AgencyId>().is_ok(), "{}", a.agency);
            assert!(a.jurisdiction.parse::<crate::Jurisdiction>().is_ok(), "{}", a.jurisdiction);
            assert!(!a.zh.is_empty() && !a.ru.is_empty() && !a.en.is_empty());
            let _ = i;
        }
        for (i, (a, kinds)) in ISSUERS.iter().enumerate() {
            assert!(!ISSUERS[..i].iter().any(|(b, _)| b.agency == a.agency), "{} twice", a.agency);
            for (j, k) in kinds.iter().enumerate() {
                assert!(!kinds[..j].contains(k), "{}: {k:?} twice", a.agency);
            }
        }
    }
}
