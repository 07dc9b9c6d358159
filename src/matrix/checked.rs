//! The day a source was read: every rule, figure and release in the matrix carries one (`checked:`), so
//! staleness can be listed (`matrix audit`) and reports can say how old their knowledge is.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// A calendar day (proleptic Gregorian, UTC), written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    year: i32,
    month: u32,
    day: u32,
}

impl Day {
    /// Reads exactly `YYYY-MM-DD` (four, two and two digits) naming a day that exists.
    pub fn parse(text: &str) -> Result<Day, String> {
        let bad = || format!("`{text}` is not a date written YYYY-MM-DD");
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| bad());
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        if year == 0 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        let year = i32::try_from(year).map_err(|_| bad())?;
        if day == 0 || day > days_in_month(year, month) {
            return Err(format!("`{text}` is not a day of the calendar"));
        }
        Ok(Day { year, month, day })
    }

    /// Today in UTC from the system clock. The only impure function here; callers pass days on.
    pub fn today() -> Day {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Day::from_days_since_epoch(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of `days_since_epoch` (`civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Day {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Day {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        later.days_since_epoch() - self.days_since_epoch()
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The oldest and newest `checked` day in a matrix: how old a report's knowledge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CheckedRange {
    pub oldest: Day,
    pub newest: Day,
}

impl CheckedRange {
    pub fn of(days: impl IntoIterator<Item = Day>) -> Option<CheckedRange> {
        let mut days = days.into_iter();
        let first = days.next()?;
        Some(days.fold(
            CheckedRange {
                oldest: first,
                newest: first,
            },
            |r, d| CheckedRange {
                oldest: r.oldest.min(d),
                newest: r.newest.max(d),
            },
        ))
    }
}

impl fmt::Display for CheckedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.oldest == self.newest {
            write!(f, "Matrix sources checked {}", self.newest)
        } else {
            write!(
                f,
                "Matrix sources checked {} (oldest) to {} (newest)",
                self.oldest, self.newest
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_real_days_in_the_one_shape() {
        assert_eq!(
            Day::parse("2026-11-28").map(|d| d.to_string()),
            Ok("2026-11-28".into())
        );
        assert!(Day::parse("2024-02-29").is_ok());
        for bad in [
            "2026-2-28",
            "26-11-28",
            "2026/11/28",
            "2026-13-01",
            "2026-00-10",
            "2026-11-31",
            "2025-02-29",
            "0000-01-01",
            "2026-11-28T00:00",
            " 2026-11-28",
            "",
            "２０２６-11-28",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn epoch_days_round_trip_and_count() {
        let d = Day::parse("1970-01-01").unwrap();
        assert_eq!(d.days_since_epoch(), 0);
        for text in ["2000-02-29", "2026-11-28", "1999-12-31", "2100-03-01"] {
            let d = Day::parse(text).unwrap();
            assert_eq!(Day::from_days_since_epoch(d.days_since_epoch()), d);
        }
        let a = Day::parse("2026-05-31").unwrap();
        let b = Day::parse("2026-11-27").unwrap();
        assert_eq!(a.days_until(b), 180);
        assert_eq!(b.days_until(a), -180);
    }

    #[test]
    fn range_is_oldest_and_newest() {
        let days = ["2026-11-24", "2026-11-28", "2025-06-01"].map(|t| Day::parse(t).unwrap());
        let r = CheckedRange::of(days).unwrap();
        assert_eq!(r.oldest.to_string(), "2025-06-01");
        assert_eq!(r.newest.to_string(), "2026-11-28");
        assert!(CheckedRange::of([]).is_none());
    }
}
