//! Timestamps: milliseconds since the Unix epoch, UTC; RFC 3339 in text.

use core::fmt;
use core::str::FromStr;

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
/// Text form: RFC 3339 in UTC, `2026-11-30T07:00:00Z` or `…00.250Z`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, bincode::Encode, bincode::Decode)]
pub struct Timestamp(pub u64);

/// Why a text is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {0:?}: expected RFC 3339 UTC such as 2026-11-30T07:00:00Z")]
pub struct TimeError(String);

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

impl Timestamp {
    /// The operating system's clock now (the one reading of the wall clock
    /// outside tests; chain and consensus code never call it: the node
    /// passes time in).
    pub fn system_now() -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// Adds a duration in milliseconds, saturating.
    pub fn plus_ms(self, ms: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// `self − earlier` in milliseconds, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

// Howard Hinnant's civil-date algorithms (public domain).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[allow(clippy::cast_possible_truncation)] // day 1..=31 and month 1..=12 by construction
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1000;
        let ms = self.0 % 1000;
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60)?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}
impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TimeError(s.to_string());
        let b = s.as_bytes();
        if b.len() < 20 || b.last() != Some(&b'Z') {
            return Err(err());
        }
        let num = |r: core::ops::Range<usize>| -> Result<u32, TimeError> {
            let t = s.get(r).ok_or_else(err)?;
            if !t.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            t.parse().map_err(|_| err())
        };
        let sep = |i: usize, c: u8| if b.get(i) == Some(&c) { Ok(()) } else { Err(err()) };
        sep(4, b'-')?;
        sep(7, b'-')?;
        sep(10, b'T')?;
        sep(13, b':')?;
        sep(16, b':')?;
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let ms = match b.len() {
            20 => 0,
            24 if b.get(19) == Some(&b'.') => num(20..23)?,
            _ => return Err(err()),
        };
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let mdays = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let dim = mdays.get(mo.wrapping_sub(1) as usize).copied().ok_or_else(err)?;
        if y < 1970 || d == 0 || d > dim || h > 23 || mi > 59 || sec > 59 {
            return Err(err());
        }
        let days = days_from_civil(i64::from(y), mo, d);
        let secs = u64::try_from(days).map_err(|_| err())? * 86_400
            + u64::from(h) * 3600
            + u64::from(mi) * 60
            + u64::from(sec);
        Ok(Timestamp(secs * 1000 + u64::from(ms)))
    }
}
text_serde!(Timestamp);

/// Parses a duration such as `90d`, `12h`, `30m`, `45s`, `3y` (365-day years) into milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "y" => 365 * DAY_MS,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!("2000-02-29T12:34:56.789Z".parse::<Timestamp>().unwrap().0, 951_827_696_789);
        assert!("2001-02-29T00:00:00Z".parse::<Timestamp>().is_err());
        assert!("2026-11-30 07:00:00Z".parse::<Timestamp>().is_err());
        assert!("2026-11-30T07:00:00+08:00".parse::<Timestamp>().is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90d"), Some(90 * DAY_MS));
        assert_eq!(parse_duration_ms("3y"), Some(3 * 365 * DAY_MS));
        assert_eq!(parse_duration_ms("d"), None);
        assert_eq!(parse_duration_ms("5w"), None);
    }

    proptest! {
        #[test]
        fn text_round_trip(ms in 0u64..8_000_000_000_000) {
            let t = Timestamp(ms);
            prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        }
    }
}
