//! The run's environment: where the binary is, where logs and data dirs go, the pid file
//! the script's trap uses, and the secrets every log is scanned for at the end.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Env {
    pub bin: PathBuf,
    pub out_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub data_root: PathBuf,
    pids_file: PathBuf,
    counter: Arc<AtomicUsize>,
    secrets: Arc<Mutex<BTreeSet<String>>>,
}

impl Env {
    pub fn new(bin: PathBuf, out_dir: PathBuf) -> Result<Env, String> {
        let logs_dir = out_dir.join("logs");
        let data_root = out_dir.join("data");
        for d in [&logs_dir, &data_root] {
            if d.exists() {
                std::fs::remove_dir_all(d)
                    .map_err(|e| format!("cannot clear {}: {e}", d.display()))?;
            }
            std::fs::create_dir_all(d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        Ok(Env {
            bin,
            pids_file: out_dir.join("server.pids"),
            out_dir,
            logs_dir,
            data_root,
            counter: Arc::new(AtomicUsize::new(0)),
            secrets: Arc::new(Mutex::new(BTreeSet::new())),
        })
    }

    /// A fresh, empty data dir (mode 700, as the self-check wants).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = self.data_root.join(format!("{name}-{n}"));
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        dir
    }

    /// (stdout log, stderr log) for the next process called `name`.
    pub fn log_paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        (
            self.logs_dir.join(format!("{name}-{n:03}.stdout.log")),
            self.logs_dir.join(format!("{name}-{n:03}.stderr.log")),
        )
    }

    /// Removes inherited `MICROCLAW_*` settings so only the check's own apply.
    pub fn clean_env(&self, cmd: &mut tokio::process::Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("MICROCLAW_")
                || k.starts_with("OPENCLAW_")
                || k.starts_with("GATEWAY_")
            {
                cmd.env_remove(k);
            }
        }
    }

    /// Remembers a started server's pid for the script's exit trap.
    pub fn note_pid(&self, pid: u32) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.pids_file)
        {
            let _ = writeln!(f, "{pid}");
        }
    }

    /// A key, token or password that must never appear in any log.
    pub fn secret(&self, s: &str) {
        if s.len() >= 8 {
            if let Ok(mut set) = self.secrets.lock() {
                set.insert(s.to_string());
            }
        }
    }

    pub fn secrets(&self) -> Vec<String> {
        self.secrets
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn report_path(&self) -> PathBuf {
        self.out_dir.join("report.json")
    }
}

/// Every file under `dir` (the captured logs), recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
