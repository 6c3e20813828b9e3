//! Credit grading (A–D per sector) and early-warning rules over a subject's on-chain record: documented, deterministic, explained line by line.
//!
//! Both work on what the chain itself knows about a subject — anchored
//! attestation headers with their status, list records and cases — never on
//! hidden field values, so anyone with the chain data can recompute them
//! (spec §11.6 and §11.7). Neither reads a clock: `now` comes in.
//!
//! # Grading model `credex-grade-v1` (分级分类监管)
//!
//! Start at 100 points and add the lines below; each line's points are
//! scaled by the sector's weight for its group (percent, rounded toward
//! zero). Penalties and breaches count by the age of their effective time.
//!
//! | rule | group | points |
//! |---|---|---|
//! | `penalty-ordinary` | penalty | −5 each if under 1 year old, −2 if 1–3 years |
//! | `penalty-serious` | penalty | −15 each if under 1 year old, −8 if 1–3 years |
//! | `listing-abnormal-operation` | listing | −15 while listed |
//! | `listing-serious-violation`, `listing-black`, `listing-dishonest-debtor` | listing | −40 while listed |
//! | `listing-history` | listing | −3 per earlier listing, if the last ended under 3 years ago |
//! | `commitment-breached` | commitment | −10 per breach under 3 years old |
//! | `commitment-kept` | positive | +2 per fulfilled commitment, at most +10 |
//! | `licence` | positive | +1 per licence in force, at most +5 |
//! | `red-list` | positive | +10 while on the red list |
//!
//! Grade: **A** ≥ 90, **B** ≥ 75, **C** ≥ 60, else **D**; and **D** whatever
//! the score while on the serious-violation, black or dishonest-debtor list
//! (the `veto` line, 一票否决). Sector weights (penalty / listing /
//! commitment / positive, percent): `general` 100/100/100/100, `customs`
//! 150/100/100/100, `tax` 120/120/100/100, `e-commerce` 100/100/150/150.
//!
//! # Early-warning rules `credex-warn-v1` (信用预警)
//!
//! | rule | fires when |
//! |---|---|
//! | `repeated-penalties` | two or more penalties in force took effect in the last 365 days |
//! | `listing-and-breach` | on any negative list now, and a commitment breached in the last 365 days |
//! | `serious-listing` | on the serious-violation, black or dishonest-debtor list now |
//! | `escalation-imminent` | on the abnormal-operation list for 913 days (2.5 years) or more: escalation in under 6 months |
//!
//! A subject is on the risk list while at least one rule fires.
//!
//! ```
//! use credex_rules::{Record, Sector, grade, warnings};
//! let r = Record::default();
//! let g = grade(&r, Sector::General, credex_types::Timestamp(0));
//! assert_eq!((g.score, g.grade), (100, 'A'));
//! assert!(warnings(&r, credex_types::Timestamp(0)).is_empty());
//! ```

#![warn(unreachable_pub)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use core::fmt;
use core::str::FromStr;

use credex_types::lifecycle::{CaseKind, CaseRecord, CaseStatus};
use credex_types::state::{AttestationStatus, ListingRecord};
use credex_types::time::DAY_MS;
use credex_types::{AttestationHeader, AttestationKind, ListKind, Timestamp};

/// The grading model's name, carried by every grade attestation.
pub const GRADE_MODEL: &str = "credex-grade-v1";
/// The warning rules' name.
pub const WARN_MODEL: &str = "credex-warn-v1";

const YEAR: u64 = 365 * DAY_MS;

/// One anchored attestation as the chain knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its header.
    pub header: AttestationHeader,
    /// Its status.
    pub status: AttestationStatus,
}

/// A subject's on-chain record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Attestations about the subject.
    pub attestations: Vec<Entry>,
    /// List records (absent lists: never listed).
    pub listings: Vec<(ListKind, ListingRecord)>,
    /// Cases the subject filed.
    pub cases: Vec<CaseRecord>,
}

impl Record {
    /// Nothing on chain about the subject: no attestation, no list
    /// record, no case.
    pub fn is_empty(&self) -> bool {
        self.attestations.is_empty() && self.listings.is_empty() && self.cases.is_empty()
    }

    fn listed(&self, list: ListKind) -> Option<&ListingRecord> {
        self.listings.iter().find(|(l, r)| *l == list && r.current.is_some()).map(|(_, r)| r)
    }

    fn active(&self, kind: AttestationKind) -> impl Iterator<Item = &Entry> {
        self.attestations.iter().filter(move |e| e.header.kind == kind && e.status == AttestationStatus::Active)
    }

    /// Times of commitment cases that reached `status`.
    fn commitment_events(&self, status: CaseStatus) -> impl Iterator<Item = Timestamp> + '_ {
        self.cases
            .iter()
            .filter(move |c| c.kind == CaseKind::Commitment && c.status == status)
            .filter_map(move |c| c.history.iter().rev().find(|e| e.status == status).map(|e| e.time))
    }
}

/// A sector: which weights apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Sector {
    /// Default weights.
    General,
    /// Customs: penalties weigh 150 %.
    Customs,
    /// Tax: penalties and listings weigh 120 %.
    Tax,
    /// Cross-border e-commerce: commitments weigh 150 %.
    ECommerce,
}

impl Sector {
    /// Every sector.
    pub const ALL: [Sector; 4] = [Sector::General, Sector::Customs, Sector::Tax, Sector::ECommerce];

    /// Kebab-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Sector::General => "general",
            Sector::Customs => "customs",
            Sector::Tax => "tax",
            Sector::ECommerce => "e-commerce",
        }
    }

    /// Percent weights: penalty, listing, commitment, positive.
    const fn weights(self) -> [i64; 4] {
        match self {
            Sector::General => [100, 100, 100, 100],
            Sector::Customs => [150, 100, 100, 100],
            Sector::Tax => [120, 120, 100, 100],
            Sector::ECommerce => [100, 100, 150, 150],
        }
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Sector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sector::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| format!("unknown sector {s:?}: one of general, customs, tax, e-commerce"))
    }
}

#[derive(Clone, Copy)]
enum Group {
    Penalty = 0,
    Listing = 1,
    Commitment = 2,
    Positive = 3,
}

/// One line of a grade's explanation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// Rule code (labelled in the label table, category `rule`).
    pub rule: &'static str,
    /// How many items the rule counted.
    pub count: u32,
    /// Points after the sector weight.
    pub points: i64,
}

/// A computed grade with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grade {
    /// [`GRADE_MODEL`].
    pub model: &'static str,
    /// Sector.
    pub sector: Sector,
    /// Time the grade is computed for.
    pub as_of: Timestamp,
    /// Score (100 plus the lines).
    pub score: i64,
    /// A, B, C or D.
    pub grade: char,
    /// The list that forced D, if any.
    pub veto: Option<ListKind>,
    /// Every line that counted something.
    pub lines: Vec<Line>,
    /// The chain holds nothing about the subject: the score is the model's
    /// starting point, not an assessment, and is shown as "not rated".
    pub no_record: bool,
}

impl Grade {
    /// The inputs as carried in a grade attestation's `scoring-inputs`
    /// field: `model;sector;rule=count:points,…`.
    pub fn inputs_text(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(|l| format!("{}={}:{}", l.rule, l.count, l.points)).collect();
        format!("{};{};{}", self.model, self.sector, lines.join(","))
    }
}

fn age(now: Timestamp, t: Timestamp) -> u64 {
    now.since(t)
}

/// Grades `record` for `sector` as of `now` (model [`GRADE_MODEL`]).
pub fn grade(record: &Record, sector: Sector, now: Timestamp) -> Grade {
    let w = sector.weights();
    let mut lines = Vec::new();
    let mut push = |rule: &'static str, group: Group, count: u32, raw: i64| {
        if count > 0 {
            lines.push(Line { rule, count, points: raw * w[group as usize] / 100 });
        }
    };
    for (rule, kind, recent, older) in [
        ("penalty-ordinary", AttestationKind::AdministrativePenalty, -5, -2),
        ("penalty-serious", AttestationKind::SeriousAdministrativePenalty, -15, -8),
    ] {
        let (mut n, mut pts) = (0u32, 0i64);
        for e in record.active(kind) {
            let a = age(now, e.header.effective_at);
            if a < YEAR {
                n += 1;
                pts += recent;
            } else if a < 3 * YEAR {
                n += 1;
                pts += older;
            }
        }
        push(rule, Group::Penalty, n, pts);
    }
    for (rule, list, pts) in [
        ("listing-abnormal-operation", ListKind::AbnormalOperation, -15),
        ("listing-serious-violation", ListKind::SeriousViolation, -40),
        ("listing-black", ListKind::Black, -40),
        ("listing-dishonest-debtor", ListKind::DishonestDebtor, -40),
    ] {
        if record.listed(list).is_some() {
            push(rule, Group::Listing, 1, pts);
        }
    }
    let earlier: u32 = record
        .listings
        .iter()
        .filter(|(l, _)| *l != ListKind::Red)
        .filter(|(_, r)| r.last_removed.is_some_and(|t| age(now, t) < 3 * YEAR))
        .map(|(_, r)| r.times_listed.saturating_sub(u32::from(r.current.is_some())))
        .sum();
    push("listing-history", Group::Listing, earlier, -3 * i64::from(earlier));
    let breached =
        u32::try_from(record.commitment_events(CaseStatus::Breached).filter(|t| age(now, *t) < 3 * YEAR).count())
            .unwrap_or(u32::MAX);
    push("commitment-breached", Group::Commitment, breached, -10 * i64::from(breached));
    let kept = u32::try_from(record.commitment_events(CaseStatus::Fulfilled).count()).unwrap_or(u32::MAX);
    push("commitment-kept", Group::Positive, kept, (2 * i64::from(kept)).min(10));
    let licences = u32::try_from(
        record
            .active(AttestationKind::AdministrativeLicence)
            .filter(|e| e.header.expires_at.is_none_or(|x| x > now))
            .count(),
    )
    .unwrap_or(u32::MAX);
    push("licence", Group::Positive, licences, i64::from(licences).min(5));
    if record.listed(ListKind::Red).is_some() {
        push("red-list", Group::Positive, 1, 10);
    }
    let score = 100 + lines.iter().map(|l| l.points).sum::<i64>();
    let veto = [ListKind::SeriousViolation, ListKind::Black, ListKind::DishonestDebtor]
        .into_iter()
        .find(|l| record.listed(*l).is_some());
    let grade = match score {
        _ if veto.is_some() => 'D',
        s if s >= 90 => 'A',
        s if s >= 75 => 'B',
        s if s >= 60 => 'C',
        _ => 'D',
    };
    Grade { model: GRADE_MODEL, sector, as_of: now, score, grade, veto, lines, no_record: record.is_empty() }
}

/// A warning rule that fires.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Warning {
    /// Rule code (labelled in the label table, category `rule`).
    pub rule: &'static str,
    /// How many items triggered it.
    pub count: u32,
}

/// The rules of [`WARN_MODEL`] that fire for `record` at `now`, in rule order.
pub fn warnings(record: &Record, now: Timestamp) -> Vec<Warning> {
    let mut out = Vec::new();
    let recent_penalties = record
        .attestations
        .iter()
        .filter(|e| {
            matches!(
                e.header.kind,
                AttestationKind::AdministrativePenalty | AttestationKind::SeriousAdministrativePenalty
            )
        })
        .filter(|e| e.status == AttestationStatus::Active && age(now, e.header.effective_at) < YEAR)
        .count();
    if recent_penalties >= 2 {
        out.push(Warning { rule: "repeated-penalties", count: u32::try_from(recent_penalties).unwrap_or(u32::MAX) });
    }
    let negative =
        [ListKind::AbnormalOperation, ListKind::SeriousViolation, ListKind::Black, ListKind::DishonestDebtor];
    let breaches = record.commitment_events(CaseStatus::Breached).filter(|t| age(now, *t) < YEAR).count();
    if breaches > 0 && negative.iter().any(|l| record.listed(*l).is_some()) {
        out.push(Warning { rule: "listing-and-breach", count: u32::try_from(breaches).unwrap_or(u32::MAX) });
    }
    let serious = negative[1..].iter().filter(|l| record.listed(**l).is_some()).count();
    if serious > 0 {
        out.push(Warning { rule: "serious-listing", count: u32::try_from(serious).unwrap_or(u32::MAX) });
    }
    let imminent = record
        .listed(ListKind::AbnormalOperation)
        .and_then(|r| r.current.as_ref())
        .is_some_and(|l| age(now, l.since) >= 913 * DAY_MS);
    if imminent {
        out.push(Warning { rule: "escalation-imminent", count: 1 });
    }
    out
}

/// Every rule code of both models (each has a label).
pub const RULES: &[&str] = &[
    "penalty-ordinary",
    "penalty-serious",
    "listing-abnormal-operation",
    "listing-serious-violation",
    "listing-black",
    "listing-dishonest-debtor",
    "listing-history",
    "commitment-breached",
    "commitment-kept",
    "licence",
    "red-list",
    "repeated-penalties",
    "listing-and-breach",
    "serious-listing",
    "escalation-imminent",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use credex_types::attestation::ATTESTATION_VERSION;
    use credex_types::lifecycle::{ActBody, CaseEvent};
    use credex_types::state::Listing;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn entry(kind: AttestationKind, days_ago: u64) -> Entry {
        Entry {
            header: AttestationHeader {
                version: ATTESTATION_VERSION,
                chain_id: "credex-test".parse().unwrap(),
                issuer: "cn-sfh-amr".parse().unwrap(),
                subject: "91350100M000100Y43".parse().unwrap(),
                kind,
                effective_at: Timestamp(NOW.0 - days_ago * DAY_MS),
                expires_at: None,
                legal_basis: "x".parse().unwrap(),
                supersedes: None,
                case: None,
                nonce: [0; 16],
            },
            status: AttestationStatus::Active,
        }
    }

    fn listed(list: ListKind, days_ago: u64) -> (ListKind, ListingRecord) {
        let since = Timestamp(NOW.0 - days_ago * DAY_MS);
        let by = credex_types::AttestationId(Default::default());
        (
            list,
            ListingRecord {
                current: Some(Listing { since, by, issuer: "cn-sfh-amr".parse().unwrap(), escalated_from: None }),
                last_removed: None,
                times_listed: 1,
            },
        )
    }

    fn commitment(status: CaseStatus, days_ago: u64) -> CaseRecord {
        let time = Timestamp(NOW.0 - days_ago * DAY_MS);
        CaseRecord {
            kind: CaseKind::Commitment,
            subject: "91350100M000100Y43".parse().unwrap(),
            agency: "cn-sfh-ftz".parse().unwrap(),
            target: None,
            list: None,
            act: ActBody::Commitment { agency: "cn-sfh-ftz".parse().unwrap(), terms: Default::default(), due: None },
            due: None,
            status,
            history: vec![CaseEvent { height: 1, time, status, by: None }],
        }
    }

    #[test]
    fn each_line_counts_as_documented() {
        let r = Record {
            attestations: vec![
                entry(AttestationKind::AdministrativePenalty, 10),
                entry(AttestationKind::AdministrativePenalty, 500),
                entry(AttestationKind::AdministrativePenalty, 2_000),
                entry(AttestationKind::SeriousAdministrativePenalty, 30),
                entry(AttestationKind::AdministrativeLicence, 30),
            ],
            listings: vec![],
            cases: vec![commitment(CaseStatus::Breached, 100), commitment(CaseStatus::Fulfilled, 100)],
        };
        let g = grade(&r, Sector::General, NOW);
        let lines: Vec<(&str, u32, i64)> = g.lines.iter().map(|l| (l.rule, l.count, l.points)).collect();
        assert_eq!(
            lines,
            vec![
                ("penalty-ordinary", 2, -7),
                ("penalty-serious", 1, -15),
                ("commitment-breached", 1, -10),
                ("commitment-kept", 1, 2),
                ("licence", 1, 1),
            ]
        );
        assert_eq!((g.score, g.grade, g.veto), (71, 'C', None));
        // customs weighs penalties 150 %: −7 → −10, −15 → −22
        let c = grade(&r, Sector::Customs, NOW);
        assert_eq!(c.score, 100 - 10 - 22 - 10 + 2 + 1);
        assert_eq!(c.inputs_text().split(';').next(), Some(GRADE_MODEL));
    }

    #[test]
    fn a_subject_with_nothing_on_chain_is_not_rated() {
        let empty = Record { attestations: vec![], listings: vec![], cases: vec![] };
        assert!(grade(&empty, Sector::General, NOW).no_record);
        let one = Record { attestations: vec![entry(AttestationKind::AdministrativeLicence, 30)], ..empty };
        assert!(!grade(&one, Sector::General, NOW).no_record);
    }

    #[test]
    fn serious_lists_force_d_and_raise_warnings() {
        let r = Record { listings: vec![listed(ListKind::DishonestDebtor, 5)], ..Record::default() };
        let g = grade(&r, Sector::General, NOW);
        assert_eq!((g.score, g.grade, g.veto), (60, 'D', Some(ListKind::DishonestDebtor)));
        let w: Vec<&str> = warnings(&r, NOW).iter().map(|w| w.rule).collect();
        assert_eq!(w, vec!["serious-listing"]);
    }

    #[test]
    fn warnings_fire_and_clear_with_time() {
        let r = Record {
            attestations: vec![
                entry(AttestationKind::AdministrativePenalty, 10),
                entry(AttestationKind::AdministrativePenalty, 300),
            ],
            listings: vec![listed(ListKind::AbnormalOperation, 913)],
            cases: vec![commitment(CaseStatus::Breached, 40)],
        };
        let w: Vec<&str> = warnings(&r, NOW).iter().map(|w| w.rule).collect();
        assert_eq!(w, vec!["repeated-penalties", "listing-and-breach", "escalation-imminent"]);
        // 100 days later the older penalty is over a year old; the listing
        // is still there, so only the listing-based rules remain
        let later = NOW.plus_ms(100 * DAY_MS);
        let w: Vec<&str> = warnings(&r, later).iter().map(|w| w.rule).collect();
        assert_eq!(w, vec!["listing-and-breach", "escalation-imminent"]);
        // a day before 2.5 years, no imminent escalation
        let r2 = Record { listings: vec![listed(ListKind::AbnormalOperation, 912)], ..Record::default() };
        assert!(warnings(&r2, NOW).is_empty());
    }

    #[test]
    fn every_rule_and_sector_has_labels() {
        use credex_types::labels::{Category, LabelTable, Lang};
        let t = LabelTable::builtin();
        for r in RULES {
            for lang in [Lang::Zh, Lang::Ru, Lang::En] {
                assert!(t.label(Category::Rule, r, lang).is_some_and(|s| !s.is_empty()), "{r}");
            }
        }
        for s in Sector::ALL {
            assert!(t.get(Category::Sector, s.name()).is_some(), "{s}");
        }
    }

    #[test]
    fn sectors_parse() {
        for s in Sector::ALL {
            assert_eq!(s.name().parse::<Sector>().unwrap(), s);
        }
        assert!("mining".parse::<Sector>().is_err());
    }
}
