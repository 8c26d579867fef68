//! Memory of a running process from `/proc/PID/status` (Linux).

use anyhow::{anyhow, Context, Result};

/// A `kB` field of `/proc/PID/status`, e.g. `VmRSS` (resident now) or `VmHWM` (peak resident).
pub fn status_kb(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {path} (is process {pid} running?)"))?;
    parse_field_kb(&text, field).ok_or_else(|| anyhow!("{path} has no readable {field} line"))
}

/// Resident set size in kB.
pub fn rss_kb(pid: u32) -> Result<u64> {
    status_kb(pid, "VmRSS")
}

/// Finds `FIELD:   1234 kB` in status text.
pub fn parse_field_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let mut parts = rest.split_whitespace();
        let n = parts.next()?.parse().ok()?;
        (parts.next() == Some("kB")).then_some(n)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_kb_fields_and_rejects_others() {
        let s = "Name:\tmicroclaw\nVmHWM:\t   20480 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_field_kb(s, "VmRSS"), Some(12345));
        assert_eq!(parse_field_kb(s, "VmHWM"), Some(20480));
        assert_eq!(parse_field_kb(s, "Threads"), None, "no kB unit");
        assert_eq!(parse_field_kb(s, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_a_resident_size() {
        let kb = rss_kb(std::process::id()).unwrap();
        assert!(kb > 100, "a running test binary uses more than 100 kB");
        assert!(rss_kb(u32::MAX).is_err());
    }
}
