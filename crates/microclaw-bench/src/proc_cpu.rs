//! CPU time a running process has used, from `/proc/PID/stat` (Linux): user + system time in
//! clock ticks, turned into seconds. Two readings around a load window give the server's CPU
//! cost of that window; divided by the requests it answered, the CPU per request.

use anyhow::{anyhow, Context, Result};

/// Clock ticks per second of `/proc/PID/stat` (`getconf CLK_TCK`; 100 on every Linux
/// architecture this bench runs on, read from the environment when set).
fn ticks_per_sec() -> f64 {
    std::env::var("BENCH_CLK_TCK")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(100.0)
}

/// User + system CPU seconds the process has used so far.
pub fn cpu_secs(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {path} (is process {pid} running?)"))?;
    let ticks = parse_cpu_ticks(&text).ok_or_else(|| anyhow!("{path}: no utime/stime fields"))?;
    Ok(ticks as f64 / ticks_per_sec())
}

/// utime + stime (fields 14 and 15) of a stat line. The command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted after its closing parenthesis.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ")": field 3 (state) is the first; utime is field 14, i.e. the 12th from here.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Microseconds of CPU per unit (request or row); `None` when nothing was answered.
pub fn micros_per(cpu_secs: f64, units: u64) -> Option<f64> {
    (units > 0).then(|| cpu_secs * 1e6 / units as f64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_a_command_name_with_spaces() {
        let stat = "4242 (tokio rt) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 100 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        assert_eq!(parse_cpu_ticks("1 (x) S 1 2"), None, "too few fields");
    }

    #[test]
    fn this_process_has_used_cpu_and_per_unit_needs_units() {
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_secs(std::process::id()).unwrap() >= 0.0);
        assert!(cpu_secs(u32::MAX).is_err());
        assert_eq!(micros_per(1.0, 0), None);
        assert_eq!(micros_per(0.5, 1_000_000), Some(0.5));
    }
}
