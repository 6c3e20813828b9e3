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

/// A time zone of fixed offset, as the reader or an agency's file means
/// local times: `Asia/Shanghai` (UTC+08:00, no daylight saving since
/// 1991), `Asia/Vladivostok` (UTC+10:00, none since 2014), `Asia/Tokyo`
/// (+09:00), `Asia/Seoul` (+09:00), `Asia/Ulaanbaatar` (+08:00), `UTC`, or
/// an offset `+08:00`. Times are stored in UTC (spec §4.1); zones are for
/// input and display only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The name given (`Asia/Shanghai`, `+08:00`).
    pub name: String,
    /// Minutes east of UTC.
    pub offset_min: i32,
}

impl Zone {
    /// UTC.
    pub fn utc() -> Zone {
        Zone { name: "UTC".into(), offset_min: 0 }
    }

    /// Beijing time, the zone of Chinese agencies' files.
    pub fn shanghai() -> Zone {
        Zone { name: "Asia/Shanghai".into(), offset_min: 480 }
    }

    fn shift(t: u64, minutes: i32) -> Option<u64> {
        let ms = i64::from(minutes) * 60_000;
        u64::try_from(i64::try_from(t).ok()?.checked_sub(ms)?).ok()
    }

    /// A time as an agency's file writes it, read in this zone: RFC 3339
    /// (`…Z` or with an offset, which then wins), a date (`2025-06-18`,
    /// `2025/6/18`, `2025.06.18`, `2025年6月18日`, day first `18.06.2025`:
    /// the start of that local day), or a date and a local time
    /// (`2025-06-18 09:30[:00]`).
    pub fn parse_local(&self, s: &str) -> Result<Timestamp, TimeError> {
        let err = || TimeError(s.to_string());
        let t = s.trim();
        if let Ok(ts) = t.parse::<Timestamp>() {
            return Ok(ts);
        }
        // an explicit offset at the end of a date-time wins over the zone
        let (body, offset) = match t.len().checked_sub(6).and_then(|i| t.get(i..).map(|o| (i, o))) {
            Some((i, o)) if t.contains(['T', ' ']) && (o.starts_with('+') || o.starts_with('-')) => {
                let sign = if o.starts_with('-') { -1 } else { 1 };
                let (h, m) = o.get(1..).and_then(|hm| hm.split_once(':')).ok_or_else(err)?;
                let (h, m): (i32, i32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
                if h > 14 || m > 59 {
                    return Err(err());
                }
                (t.get(..i).ok_or_else(err)?, sign * (h * 60 + m))
            }
            _ => (t, self.offset_min),
        };
        let norm = body.replace(['年', '月', '/', '.'], "-").replace('日', "");
        let (date, time) = match norm.split_once(['T', ' ']) {
            Some((d, tm)) => (d.to_string(), Some(tm.trim().to_string())),
            None => (norm.clone(), None),
        };
        let parts: Vec<&str> = date.split('-').collect();
        let [y, mo, d] = match parts.as_slice() {
            // day first, as Russian documents write it: 18.06.2025
            [d, mo, y] if y.len() == 4 && d.len() <= 2 => [*y, *mo, *d],
            [y, mo, d] => [*y, *mo, *d],
            _ => return Err(err()),
        };
        let num = |x: &str, max_len: usize| -> Result<u32, TimeError> {
            if x.is_empty() || x.len() > max_len || !x.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            x.parse().map_err(|_| err())
        };
        let (y, mo, d) = (num(y, 4)?, num(mo, 2)?, num(d, 2)?);
        if !(1970..=9999).contains(&y) {
            return Err(err());
        }
        let (h, mi, sec) = match &time {
            None => (0, 0, 0),
            Some(tm) => {
                let hms: Vec<&str> = tm.split(':').collect();
                match hms.as_slice() {
                    [h, m] => (num(h, 2)?, num(m, 2)?, 0),
                    [h, m, s] => (num(h, 2)?, num(m, 2)?, num(s, 2)?),
                    _ => return Err(err()),
                }
            }
        };
        let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z");
        let as_utc: Timestamp = text.parse().map_err(|_| err())?;
        Zone::shift(as_utc.0, offset).map(Timestamp).ok_or_else(err)
    }

    /// Vladivostok time, the zone of the Russian border posts facing Suifenhe.
    pub fn vladivostok() -> Zone {
        Zone { name: "Asia/Vladivostok".into(), offset_min: 600 }
    }

    /// The zone a reader of `lang` is shown times in unless they choose
    /// another: Beijing time for Chinese, Vladivostok time for Russian, UTC
    /// for English (the web UI's defaults too).
    pub fn for_reader(lang: crate::labels::Lang) -> Zone {
        match lang {
            crate::labels::Lang::Zh => Zone::shanghai(),
            crate::labels::Lang::Ru => Zone::vladivostok(),
            crate::labels::Lang::En => Zone::utc(),
        }
    }

    /// `t` in this zone without the zone: `2026-12-01 20:03`.
    pub fn local(&self, t: Timestamp) -> String {
        let text = Timestamp(Zone::shift(t.0, -self.offset_min).unwrap_or(t.0)).to_string();
        format!("{} {}", text.get(..10).unwrap_or(""), text.get(11..16).unwrap_or(""))
    }

    /// `t` in this zone: `2026-12-01 20:03 (UTC+08:00)`.
    pub fn format(&self, t: Timestamp) -> String {
        let local = Zone::shift(t.0, -self.offset_min).unwrap_or(t.0);
        let text = Timestamp(local).to_string();
        let (h, m) = (self.offset_min.abs() / 60, self.offset_min.abs() % 60);
        let sign = if self.offset_min < 0 { '-' } else { '+' };
        format!("{} {} (UTC{sign}{h:02}:{m:02})", text.get(..10).unwrap_or(""), text.get(11..16).unwrap_or(""))
    }
}

impl FromStr for Zone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let named = |offset_min| Ok(Zone { name: s.to_string(), offset_min });
        match s {
            "UTC" | "Z" | "utc" => named(0),
            "Asia/Shanghai" | "Asia/Ulaanbaatar" => named(480),
            "Asia/Vladivostok" => named(600),
            "Asia/Tokyo" | "Asia/Seoul" | "Asia/Pyongyang" => named(540),
            _ => {
                let bad = || {
                    format!(
                        "unknown time zone {s:?}: use Asia/Shanghai, Asia/Vladivostok, Asia/Tokyo, Asia/Seoul, UTC or an offset such as +08:00"
                    )
                };
                let (sign, rest) = match s.as_bytes().first() {
                    Some(b'+') => (1, &s[1..]),
                    Some(b'-') => (-1, &s[1..]),
                    _ => return Err(bad()),
                };
                let (h, m) = rest.split_once(':').ok_or_else(bad)?;
                let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
                if h > 14 || m > 59 || h.to_string().len() > 2 {
                    return Err(bad());
                }
                named(sign * (h * 60 + m))
            }
        }
    }
}

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
    fn local_times_in_a_zone() {
        let sh = Zone::shanghai();
        let day = "2025-06-17T16:00:00Z".parse::<Timestamp>().unwrap();
        for s in [
            "2025-06-18",
            "2025/6/18",
            "2025.06.18",
            "2025年6月18日",
            " 2025年06月18日 ",
            "2025-06-18 00:00",
            "18.06.2025",
        ] {
            assert_eq!(sh.parse_local(s), Ok(day), "{s}");
        }
        assert_eq!(sh.parse_local("2025-06-18 09:30:15").unwrap().to_string(), "2025-06-18T01:30:15Z");
        // an explicit offset or Z wins over the zone
        assert_eq!(sh.parse_local("2025-06-18T09:00:00+10:00").unwrap().to_string(), "2025-06-17T23:00:00Z");
        assert_eq!(sh.parse_local("2025-06-18T09:00:00Z").unwrap().to_string(), "2025-06-18T09:00:00Z");
        let vl: Zone = "Asia/Vladivostok".parse().unwrap();
        assert_eq!(vl.parse_local("2025-06-18").unwrap().to_string(), "2025-06-17T14:00:00Z");
        for bad in ["2025-13-01", "2025-02-30", "06.18.2025", "yesterday", "2025-06-18 25:00", "1969-12-31", ""] {
            assert!(sh.parse_local(bad).is_err(), "{bad}");
        }
        assert_eq!(sh.format(day), "2025-06-18 00:00 (UTC+08:00)");
        assert_eq!("-03:30".parse::<Zone>().unwrap().offset_min, -210);
        assert!("Mars/Olympus".parse::<Zone>().is_err() && "+15:00".parse::<Zone>().is_err());
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
