//! Daily budget windows: a day runs from 00:00 to 00:00 in `budgets.timezone` (DST-aware).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use microclaw_core::{Error, Result};

/// Parses an IANA zone name (`UTC`, `Europe/Berlin`).
pub fn parse_zone(name: &str) -> Result<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::invalid(format!(
            "budgets.timezone '{name}' is not a time zone: expected an IANA name such as UTC or Europe/Berlin"
        ))
    })
}

fn local(tz: Tz, ms: i64) -> DateTime<Tz> {
    let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
    utc.with_timezone(&tz)
}

/// The date (`YYYY-MM-DD`) of `ms` in `tz`.
pub fn day_of(tz: Tz, ms: i64) -> String {
    local(tz, ms).format("%Y-%m-%d").to_string()
}

/// The date `days_back` days before the date of `ms` in `tz`.
pub fn day_before(tz: Tz, ms: i64, days_back: i64) -> String {
    (local(tz, ms).date_naive() - Duration::days(days_back))
        .format("%Y-%m-%d")
        .to_string()
}

/// When the next daily window starts (the next local midnight after `ms`), epoch ms.
pub fn next_reset_ms(tz: Tz, ms: i64) -> i64 {
    let tomorrow = local(tz, ms).date_naive() + Duration::days(1);
    let midnight = tomorrow.and_time(NaiveTime::MIN);
    // A midnight skipped by DST: the first valid instant after it.
    let mut t = midnight;
    for _ in 0..4 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.timestamp_millis();
        }
        t += Duration::minutes(30);
    }
    ms + 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEC1_NOON_UTC: i64 = 1_764_590_400_000; // 2025-12-01T12:00:00Z

    #[test]
    fn the_window_resets_at_local_midnight_of_the_zone() {
        let utc = parse_zone("UTC").unwrap();
        assert_eq!(day_of(utc, DEC1_NOON_UTC), "2025-12-01");
        assert_eq!(
            next_reset_ms(utc, DEC1_NOON_UTC),
            DEC1_NOON_UTC + 12 * 3_600_000
        );
        let tokyo = parse_zone("Asia/Tokyo").unwrap();
        // 21:00 in Tokyo: the next midnight is 3 h away.
        assert_eq!(day_of(tokyo, DEC1_NOON_UTC), "2025-12-01");
        assert_eq!(
            next_reset_ms(tokyo, DEC1_NOON_UTC),
            DEC1_NOON_UTC + 3 * 3_600_000
        );
        assert_eq!(day_before(utc, DEC1_NOON_UTC, 1), "2025-11-30");
        let err = parse_zone("Mars/Base").unwrap_err();
        assert!(err.message.contains("IANA"), "{}", err.message);
    }
}
