//! The `TIMESTAMP` challenge response is signed as the exact string the client produced, so the
//! server only needs to render it (for tests and simulated clients) and parse it for the
//! freshness check. The format is Java's `EEE MMM d HH:mm:ss z yyyy` in UTC with English names.

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SECS_PER_DAY: i64 = 86_400;

/// Renders Unix seconds as Cognito's SRP `TIMESTAMP`, e.g. `Tue Sep 3 07:05:09 UTC 2024`
/// (day of month not zero-padded, time zero-padded, zone literally `UTC`).
pub fn format_timestamp(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(SECS_PER_DAY);
    let secs_of_day = unix_secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{} {} {} {:02}:{:02}:{:02} UTC {:04}",
        WEEKDAYS[weekday_index(days)],
        MONTHS[(month - 1) as usize],
        day,
        secs_of_day / 3600,
        secs_of_day % 3600 / 60,
        secs_of_day % 60,
        year
    )
}

/// Parses a `TIMESTAMP` back into Unix seconds. `None` unless the string is a well-formed
/// timestamp for a real calendar date whose weekday matches.
///
/// Lenient only where real clients differ harmlessly: runs of spaces (some format the day
/// space-padded), a zero-padded day or hour, ASCII case of names, and `GMT` for `UTC`.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let mut fields = s.split_whitespace();
    let (weekday, month, day, time, zone, year) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if fields.next().is_some() {
        return None;
    }
    if !(zone.eq_ignore_ascii_case("UTC") || zone.eq_ignore_ascii_case("GMT")) {
        return None;
    }
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let year = if year.len() == 4 {
        parse_digits(year, 4)?
    } else {
        return None;
    };
    let day = parse_digits(day, 2)?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut hms = time.split(':');
    let (h, m, sec) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let (h, m, sec) = (
        parse_digits(h, 2)?,
        parse_digits(m, 2)?,
        parse_digits(sec, 2)?,
    );
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    if !WEEKDAYS[weekday_index(days)].eq_ignore_ascii_case(weekday) {
        return None;
    }
    Some(days * SECS_PER_DAY + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec))
}

/// 1 to `max_len` ASCII digits.
fn parse_digits(s: &str, max_len: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn weekday_index(days_since_epoch: i64) -> usize {
    // 1970-01-01 was a Thursday.
    (days_since_epoch + 4).rem_euclid(7) as usize
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Proleptic Gregorian conversions after Howard Hinnant's `days_from_civil` / `civil_from_days`.

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(format_timestamp(0), "Thu Jan 1 00:00:00 UTC 1970");
        assert_eq!(format_timestamp(86_399), "Thu Jan 1 23:59:59 UTC 1970");
        assert_eq!(
            format_timestamp(951_782_400),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
        assert_eq!(
            format_timestamp(1_000_000_000),
            "Sun Sep 9 01:46:40 UTC 2001"
        );
        assert_eq!(
            format_timestamp(4_102_444_800),
            "Fri Jan 1 00:00:00 UTC 2100"
        );
        assert_eq!(format_timestamp(-1), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn round_trips_over_many_days() {
        // Every day (at a varying time of day) from 1960 to 2110.
        let mut t = -315_619_200; // 1960-01-01
        while t < 4_417_977_600 {
            let s = format_timestamp(t);
            assert_eq!(parse_timestamp(&s), Some(t), "{s}");
            t += SECS_PER_DAY + 3_607;
        }
    }

    #[test]
    fn civil_conversions_agree() {
        for days in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m));
            assert!(d >= 1 && d <= days_in_month(y.rem_euclid(400) as u32 + 400, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn lenient_spellings_parse() {
        let t = Some(1_725_347_109);
        assert_eq!(parse_timestamp("Tue Sep 3 07:05:09 UTC 2024"), t);
        assert_eq!(parse_timestamp("Tue Sep  3 07:05:09 UTC 2024"), t);
        assert_eq!(parse_timestamp("Tue Sep 03 07:05:09 UTC 2024"), t);
        assert_eq!(parse_timestamp("Tue Sep 3 7:05:09 GMT 2024"), t);
        assert_eq!(parse_timestamp("tue SEP 3 07:05:09 utc 2024"), t);
    }

    #[test]
    fn malformed_timestamps_are_rejected() {
        for bad in [
            "",
            "Tue Sep 3 07:05:09 UTC",
            "Tue Sep 3 07:05:09 UTC 2024 extra",
            "Wed Sep 3 07:05:09 UTC 2024",
            "Tue Sept 3 07:05:09 UTC 2024",
            "Tue Sep 31 07:05:09 UTC 2024",
            "Tue Sep 0 07:05:09 UTC 2024",
            "Tue Sep 3 24:00:00 UTC 2024",
            "Tue Sep 3 07:60:09 UTC 2024",
            "Tue Sep 3 07:05:60 UTC 2024",
            "Tue Sep 3 07:05 UTC 2024",
            "Tue Sep 3 07:05:09:01 UTC 2024",
            "Tue Sep 3 07:05:09 PST 2024",
            "Tue Sep 3 07:05:09 UTC 24",
            "Tue Sep 3 07:05:+9 UTC 2024",
            "Tue Sep 3 07:05:09 UTC +2024",
            "Thu Feb 29 09:08:07 UTC 2023",
            "2024-09-03T07:05:09Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
