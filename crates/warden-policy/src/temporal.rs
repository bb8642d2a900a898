//! Time values of the global date and time conditions (SPEC §5): parsing their literals and
//! comparing them with a request's time. Time is always a parameter here (seconds since the Unix
//! epoch, UTC); nothing reads a clock.
//!
//! Literal forms: `global:date` `"2022-05-03Z"` (zone optional, default UTC), `global:date-time`
//! `"2022-05-03T05:00:00+01:00"` (zone required, seconds optional), `global:time-of-day`
//! `"09:00+01:00"` (zone optional, default UTC), `global:week-day` `"Monday"` (UTC).

use std::cmp::Ordering;

const SECONDS_PER_DAY: i64 = 86_400;

/// Which kind of time a global condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    Date,
    DateTime,
    TimeOfDay,
    WeekDay,
}

impl TimeKind {
    /// The kind of a global condition, or `None` for conditions that are not about time.
    pub fn of_condition(name: &str) -> Option<TimeKind> {
        match name {
            "global:date" => Some(TimeKind::Date),
            "global:date-time" => Some(TimeKind::DateTime),
            "global:time-of-day" => Some(TimeKind::TimeOfDay),
            "global:week-day" => Some(TimeKind::WeekDay),
            _ => None,
        }
    }

    pub fn example(self) -> &'static str {
        match self {
            TimeKind::Date => "`2026-05-04Z` (YYYY-MM-DD, optional zone `Z` or `+01:00`)",
            TimeKind::DateTime => "`2026-05-04T09:30:00+01:00` (date, time and zone)",
            TimeKind::TimeOfDay => "`09:30+01:00` (HH:MM or HH:MM:SS, optional zone)",
            TimeKind::WeekDay => "one of `Monday` … `Sunday`",
        }
    }
}

/// A literal that is not a valid value of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {}; expected {}", kind_name(*.kind), .kind.example())]
pub struct TimeError {
    pub text: String,
    pub kind: TimeKind,
}

impl TimeError {
    /// The message without the expected form (for diagnostics, which give it as help).
    pub fn short(&self) -> String {
        format!("`{}` is not a valid {}", self.text, kind_name(self.kind))
    }
}

/// A parsed time literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeValue {
    /// Days since 1970-01-01 in the given zone offset (seconds east of UTC).
    Date { days: i64, offset: i32 },
    /// Seconds since the epoch.
    DateTime { seconds: i64 },
    /// Seconds since midnight in the given zone offset.
    TimeOfDay { seconds: i64, offset: i32 },
    /// 0 = Monday … 6 = Sunday.
    WeekDay(u8),
}

pub const WEEK_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl TimeValue {
    pub fn parse(kind: TimeKind, text: &str) -> Result<TimeValue, TimeError> {
        let invalid = || TimeError {
            text: text.to_owned(),
            kind,
        };
        match kind {
            TimeKind::Date => {
                let (date, zone) = split_zone(text, 10).ok_or_else(invalid)?;
                let days = parse_date(date).ok_or_else(invalid)?;
                let offset = parse_zone(zone, true).ok_or_else(invalid)?;
                Ok(TimeValue::Date { days, offset })
            }
            TimeKind::DateTime => {
                let (date, rest) = text.split_once(['T', 't']).ok_or_else(invalid)?;
                let days = parse_date(date).ok_or_else(invalid)?;
                let zone_at = rest.find(['Z', 'z', '+', '-']).ok_or_else(invalid)?;
                let (clock, zone) = rest.split_at(zone_at);
                let seconds = parse_clock(clock).ok_or_else(invalid)?;
                let offset = parse_zone(zone, false).ok_or_else(invalid)?;
                Ok(TimeValue::DateTime {
                    seconds: days * SECONDS_PER_DAY + seconds - i64::from(offset),
                })
            }
            TimeKind::TimeOfDay => {
                let zone_at = text.find(['Z', 'z', '+', '-']).unwrap_or(text.len());
                let (clock, zone) = text.split_at(zone_at);
                let seconds = parse_clock(clock).ok_or_else(invalid)?;
                let offset = parse_zone(zone, true).ok_or_else(invalid)?;
                Ok(TimeValue::TimeOfDay { seconds, offset })
            }
            TimeKind::WeekDay => WEEK_DAYS
                .iter()
                .position(|day| *day == text)
                .and_then(|index| u8::try_from(index).ok())
                .map(TimeValue::WeekDay)
                .ok_or_else(invalid),
        }
    }

    /// Compares the request time `now` (seconds since the epoch, UTC) with this literal, in the
    /// literal's own zone: `Less` means the request is before the literal.
    pub fn compare_request(self, now: i64) -> Ordering {
        match self {
            TimeValue::Date { days, offset } => (now + i64::from(offset))
                .div_euclid(SECONDS_PER_DAY)
                .cmp(&days),
            TimeValue::DateTime { seconds } => now.cmp(&seconds),
            TimeValue::TimeOfDay { seconds, offset } => (now + i64::from(offset))
                .rem_euclid(SECONDS_PER_DAY)
                .cmp(&seconds),
            TimeValue::WeekDay(day) => week_day(now).cmp(&day),
        }
    }
}

fn kind_name(kind: TimeKind) -> &'static str {
    match kind {
        TimeKind::Date => "date",
        TimeKind::DateTime => "date and time",
        TimeKind::TimeOfDay => "time of day",
        TimeKind::WeekDay => "week day",
    }
}

/// 0 = Monday for the UTC day of `now`; 1970-01-01 was a Thursday.
pub fn week_day(now: i64) -> u8 {
    u8::try_from((now.div_euclid(SECONDS_PER_DAY) + 3).rem_euclid(7)).unwrap_or(0)
}

fn split_zone(text: &str, at: usize) -> Option<(&str, &str)> {
    if !text.is_char_boundary(at.min(text.len())) {
        return None;
    }
    Some(text.split_at(at.min(text.len())))
}

fn digits(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// `YYYY-MM-DD` → days since the epoch (proleptic Gregorian).
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (year, month, day) = (digits(year, 4)?, digits(month, 2)?, digits(day, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `HH:MM` or `HH:MM:SS` → seconds since midnight.
fn parse_clock(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let hours = digits(parts.next()?, 2)?;
    let minutes = digits(parts.next()?, 2)?;
    let seconds = match parts.next() {
        Some(seconds) => digits(seconds, 2)?,
        None => 0,
    };
    if parts.next().is_some() || hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(hours * 3600 + minutes * 60 + seconds)
}

/// `Z`, `+HH:MM` or `-HH:MM` → seconds east of UTC; empty means UTC when `optional`.
fn parse_zone(text: &str, optional: bool) -> Option<i32> {
    match text {
        "" if optional => Some(0),
        "Z" | "z" => Some(0),
        _ => {
            let sign = match text.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (hours, minutes) = text.get(1..)?.split_once(':')?;
            let (hours, minutes) = (digits(hours, 2)?, digits(minutes, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            i32::try_from(sign * (hours * 3600 + minutes * 60)).ok()
        }
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a Gregorian date. Counts in 400-year cycles starting in March, so
/// that the leap day falls at the end of each counted year.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let cycle = year.div_euclid(400);
    let year_of_cycle = year - cycle * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
    cycle * 146_097 + day_of_cycle - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let cycle = shifted.div_euclid(146_097);
    let day_of_cycle = shifted - cycle * 146_097;
    let year_of_cycle =
        (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524 - day_of_cycle / 146_096) / 365;
    let day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_cycle + cycle * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-05-04T10:00:00Z`: how a request time is shown in explanations.
pub fn format_date_time(now: i64) -> String {
    let (year, month, day) = civil_from_days(now.div_euclid(SECONDS_PER_DAY));
    let seconds = now.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Parses an RFC 3339 date-time (as test files and the API give request times).
pub fn parse_date_time(text: &str) -> Result<i64, TimeError> {
    match TimeValue::parse(TimeKind::DateTime, text)? {
        TimeValue::DateTime { seconds } => Ok(seconds),
        _ => Err(TimeError {
            text: text.to_owned(),
            kind: TimeKind::DateTime,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_4_2026_10H: i64 = 1_777_888_800; // 2026-05-04T10:00:00Z, a Monday

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(format_date_time(MAY_4_2026_10H), "2026-05-04T10:00:00Z");
    }

    #[test]
    fn literals_parse_and_compare_in_their_zone() {
        let parse = |kind, text| TimeValue::parse(kind, text).unwrap();
        assert_eq!(
            parse(TimeKind::DateTime, "2026-05-04T11:00:00+01:00").compare_request(MAY_4_2026_10H),
            Ordering::Equal
        );
        assert_eq!(
            parse(TimeKind::DateTime, "2026-05-04T10:00Z").compare_request(MAY_4_2026_10H),
            Ordering::Equal
        );
        assert_eq!(
            parse(TimeKind::Date, "2026-05-04Z").compare_request(MAY_4_2026_10H),
            Ordering::Equal
        );
        // 10:00 UTC is already the 5th at +14:00.
        assert_eq!(
            parse(TimeKind::Date, "2026-05-04+14:00").compare_request(MAY_4_2026_10H),
            Ordering::Greater
        );
        assert_eq!(
            parse(TimeKind::TimeOfDay, "09:00+01:00").compare_request(MAY_4_2026_10H),
            Ordering::Greater
        );
        assert_eq!(
            parse(TimeKind::TimeOfDay, "12:00").compare_request(MAY_4_2026_10H),
            Ordering::Less
        );
        assert_eq!(
            parse(TimeKind::WeekDay, "Monday").compare_request(MAY_4_2026_10H),
            Ordering::Equal
        );
    }

    #[test]
    fn bad_literals_are_rejected_with_the_expected_form() {
        for (kind, text) in [
            (TimeKind::Date, "2026-02-30"),
            (TimeKind::Date, "26-05-04"),
            (TimeKind::DateTime, "2026-05-04T10:00:00"),
            (TimeKind::DateTime, "2026-05-04 10:00Z"),
            (TimeKind::TimeOfDay, "24:00"),
            (TimeKind::TimeOfDay, "9:00"),
            (TimeKind::WeekDay, "monday"),
            (TimeKind::Date, "2026-05-0é"),
        ] {
            let error = TimeValue::parse(kind, text).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("`{text}` is not a valid")),
                "{error}"
            );
        }
        assert_eq!(
            TimeValue::parse(TimeKind::WeekDay, "monday")
                .unwrap_err()
                .to_string(),
            "`monday` is not a valid week day; expected one of `Monday` … `Sunday`"
        );
    }
}
