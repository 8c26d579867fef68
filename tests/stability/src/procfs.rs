//! A process's resident memory and open file descriptors from /proc (Linux).

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`).
pub fn status_kb(pid: u32, field: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .ok_or_else(|| format!("{path} has no {field} line"))
}

pub fn rss_kb(pid: u32) -> Result<u64, String> {
    status_kb(pid, "VmRSS")
}

/// Open file descriptors: the entries of `/proc/PID/fd`.
pub fn fd_count(pid: u32) -> Result<usize, String> {
    let path = format!("/proc/{pid}/fd");
    std::fs::read_dir(&path)
        .map(|d| d.count())
        .map_err(|e| format!("reading {path}: {e}"))
}
