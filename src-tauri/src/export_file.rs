//! Checking what the window asks to export and where it may go: the format and window of a
//! metrics export, and a safe file name for the save dialog's suggestion.

use std::path::{Path, PathBuf};

/// The formats `microclaw_metrics` exports.
pub const FORMATS: [&str; 5] = ["json", "csv", "svg", "png", "html"];
/// Longest window an export covers: 30 days, the longest history kept.
pub const MAX_MINUTES: u32 = 30 * 24 * 60;
/// Largest file `save_export` accepts from the window.
pub const MAX_SAVE_BYTES: usize = 64 << 20;

/// A bad request from the window, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRequest(pub String);

/// Lower-cases and checks the format name.
pub fn check_format(format: &str) -> Result<String, InvalidRequest> {
    let f = format.trim().to_ascii_lowercase();
    if FORMATS.contains(&f.as_str()) {
        Ok(f)
    } else {
        Err(InvalidRequest(format!(
            "unknown export format {format:?}: expected one of {}",
            FORMATS.join(", ")
        )))
    }
}

/// `None` means the default of 60 minutes.
pub fn check_minutes(minutes: Option<u32>) -> Result<u32, InvalidRequest> {
    match minutes.unwrap_or(60) {
        m @ 1..=MAX_MINUTES => Ok(m),
        m => Err(InvalidRequest(format!(
            "minutes must be between 1 and {MAX_MINUTES} (30 days), got {m}"
        ))),
    }
}

/// The file name suggested for an export taken at `now_ms`: `microclaw-metrics-60m-20250102-0304.csv` (UTC).
pub fn suggested_name(format: &str, minutes: u32, now_ms: i64) -> String {
    let stamp = microclaw_metrics::export::time_fmt::compact_utc(now_ms);
    format!("microclaw-metrics-{minutes}m-{stamp}.{format}")
}

/// Keeps only a plain file name from what the window suggests (no folders, no hidden files,
/// no control characters); falls back to `fallback` when nothing usable is left.
pub fn sanitize_file_name(suggested: &str, fallback: &str) -> String {
    let last = suggested.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect::<String>();
    let cleaned = cleaned
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(200)
        .collect::<String>();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
}

/// The extension of `name` (lower-case), for the dialog's filter.
pub fn extension_of(name: &str) -> Option<String> {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|e| !e.is_empty())
}

/// Where a non-interactive export (`MICROCLAW_DESKTOP_EXPORT_DIR`) goes: that folder joined with the safe name.
pub fn path_in(dir: &Path, safe_name: &str) -> PathBuf {
    dir.join(safe_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_checked_case_insensitively_and_errors_list_the_choices() {
        assert_eq!(check_format(" CSV ").unwrap(), "csv");
        let err = check_format("xlsx").unwrap_err().0;
        assert!(
            err.contains("xlsx") && err.contains("json, csv, svg, png, html"),
            "{err}"
        );
    }

    #[test]
    fn minutes_default_to_an_hour_and_stay_within_30_days() {
        assert_eq!(check_minutes(None).unwrap(), 60);
        assert_eq!(check_minutes(Some(MAX_MINUTES)).unwrap(), MAX_MINUTES);
        assert!(check_minutes(Some(0))
            .unwrap_err()
            .0
            .contains("between 1 and"));
        assert!(check_minutes(Some(MAX_MINUTES + 1)).is_err());
    }

    #[test]
    fn suggested_names_carry_the_window_and_utc_time() {
        // 2025-01-02T03:04:05Z
        assert_eq!(
            suggested_name("csv", 60, 1_735_787_045_000),
            "microclaw-metrics-60m-20250102-0304.csv"
        );
        // leap day and the epoch
        assert_eq!(
            suggested_name("png", 5, 951_782_400_000),
            "microclaw-metrics-5m-20000229-0000.png"
        );
        assert_eq!(
            suggested_name("json", 1, 0),
            "microclaw-metrics-1m-19700101-0000.json"
        );
    }

    #[test]
    fn file_names_from_the_window_cannot_leave_the_chosen_folder() {
        let cases = [
            ("report.csv", "report.csv"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\x\\evil.png", "evil.png"),
            (".bashrc", "bashrc"),
            ("a\u{0}b\nc.svg", "abc.svg"),
            ("dir/", "fallback.bin"),
            ("", "fallback.bin"),
            ("..", "fallback.bin"),
        ];
        for (input, want) in cases {
            assert_eq!(
                sanitize_file_name(input, "fallback.bin"),
                want,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(extension_of("a.CSV").as_deref(), Some("csv"));
        assert_eq!(extension_of("noext"), None);
    }
}
