//! UTC calendar days as numbers (days since 1970-01-01), as the organization APIs' daily
//! buckets are: parsing `YYYY-MM-DD`, months, weekdays. Howard Hinnant's civil-date
//! algorithms; no time-zone database is needed for UTC.

pub const SECONDS: i64 = 86_400;

/// The day number of a civil date.
pub fn from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn to_civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` to a day number; anything else (including 2026-02-30) is refused.
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if !b
        .iter()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(from_civil(y, m, d))
}

pub fn format(day: i64) -> String {
    let (y, m, d) = to_civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The first and last day of the month containing `day`.
pub fn month_of(day: i64) -> (i64, i64) {
    let (y, m, _) = to_civil(day);
    let first = from_civil(y, m, 1);
    (first, first + i64::from(days_in_month(y, m)) - 1)
}

/// Saturday or Sunday.
pub fn is_weekend(day: i64) -> bool {
    // 1970-01-01 was a Thursday: day 0 → 4 (Sunday = 0).
    matches!((day + 4).rem_euclid(7), 0 | 6)
}

/// Today's day number, UTC.
pub fn today() -> i64 {
    crate::ledger::now_ms().div_euclid(SECONDS * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_nonsense_is_refused() {
        for s in [
            "1970-01-01",
            "2024-02-29",
            "2026-12-31",
            "2000-03-01",
            "1999-12-31",
        ] {
            assert_eq!(format(parse(s).expect(s)), s);
        }
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("2026-12-03"), Some(20_790));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-01-01",
            "2026/01/01",
            "2026-1-01",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(
            month_of(parse("2024-02-10").unwrap_or(0)),
            (
                parse("2024-02-01").unwrap_or(0),
                parse("2024-02-29").unwrap_or(0)
            )
        );
        assert!(is_weekend(parse("2026-12-05").unwrap_or(0)));
        assert!(is_weekend(parse("2026-12-06").unwrap_or(0)));
        assert!(!is_weekend(parse("2026-12-07").unwrap_or(0)));
    }
}
