//! UTC date/time formatting for titles, CSV and file names (no timezone database needed).

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
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

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn short_utc(ms: i64) -> String {
    let iso = iso_utc(ms);
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

/// `YYYYMMDD-HHMM` (UTC) for file names.
pub fn compact_utc(ms: i64) -> String {
    let iso = iso_utc(ms);
    format!(
        "{}{}{}-{}{}",
        &iso[..4],
        &iso[5..7],
        &iso[8..10],
        &iso[11..13],
        &iso[14..16]
    )
}

/// `HH:MM` (UTC) for axis labels.
pub fn hh_mm(ms: i64) -> String {
    let mins = ms.div_euclid(60_000).rem_euclid(1440);
    format!("{:02}:{:02}", mins / 60, mins % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_709_251_199_000), "2024-02-29T23:59:59Z");
        assert_eq!(short_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(hh_mm(3_600_000 * 25 + 60_000 * 7), "01:07");
    }
}
