//! Running the release binary: `microclaw start --port 0`, its stdout/stderr captured into
//! log files (scanned for secrets at the end), kill -9, SIGTERM and bounded waits.

use crate::env::Env;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How one gateway is started.
#[derive(Debug, Clone)]
pub struct StartOpts {
    /// Names the log files (`<name>-<n>.stdout.log` / `.stderr.log`).
    pub name: String,
    pub data_dir: PathBuf,
    /// `MICROCLAW_<SECTION>__<KEY>` settings.
    pub env: Vec<(String, String)>,
    /// Extra `start` arguments, e.g. `--host 0.0.0.0`.
    pub args: Vec<String>,
    /// `MICROCLAW_LOG=debug` (more log lines to scan for leaked secrets).
    pub debug_log: bool,
    /// Count the stderr (log) lines containing this text: [`Server::stderr_hits`].
    pub watch_stderr: Option<String>,
}

impl StartOpts {
    pub fn new(name: &str, data_dir: &Path) -> Self {
        StartOpts {
            name: name.to_string(),
            data_dir: data_dir.to_path_buf(),
            env: Vec::new(),
            args: Vec::new(),
            debug_log: false,
            watch_stderr: None,
        }
    }

    /// Counts the log lines containing `text` while the server runs.
    pub fn watch_stderr(mut self, text: &str) -> Self {
        self.watch_stderr = Some(text.to_string());
        self
    }

    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    stdout_lines: Arc<Mutex<Vec<String>>>,
    stderr_hits: Arc<AtomicU64>,
}

/// `listening on http://HOST:PORT` → the address.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix("listening on http://")?
        .trim_end_matches('/')
        .parse()
        .ok()
}

impl Server {
    pub async fn start(env: &Env, opts: &StartOpts) -> Result<Server, String> {
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
        let (out_log, err_log) = env.log_paths(&opts.name);
        let mut cmd = Command::new(&env.bin);
        cmd.arg("start")
            .args(["--port", "0", "--data-dir"])
            .arg(&opts.data_dir)
            .args(&opts.args);
        env.clean_env(&mut cmd);
        cmd.env(
            "MICROCLAW_LOG",
            if opts.debug_log {
                "debug"
            } else {
                "warn,microclaw=info"
            },
        );
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", env.bin.display()))?;
        let pid = child.id().ok_or("the server exited at once")?;
        env.note_pid(pid);
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let stderr_hits = Arc::new(AtomicU64::new(0));
        tokio::spawn(copy_to_file(
            stderr,
            err_log.clone(),
            opts.watch_stderr.clone(),
            stderr_hits.clone(),
        ));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(read_stdout(stdout, out_log, lines.clone(), tx));
        let addr = match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(addr)) => addr,
            _ => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(format!(
                    "{} did not print 'listening on http://…' within 30 s; stderr tail: {}",
                    opts.name,
                    tail(&err_log, 400)
                ));
            }
        };
        Ok(Server {
            child,
            pid,
            addr,
            stdout_lines: lines,
            stderr_hits,
        })
    }

    /// Log lines so far that contained [`StartOpts::watch_stderr`]'s text.
    pub fn stderr_hits(&self) -> u64 {
        self.stderr_hits.load(Ordering::Acquire)
    }

    pub fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout_lines
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// SIGKILL and reap.
    pub async fn kill9(mut self) -> Result<(), String> {
        self.child
            .start_kill()
            .map_err(|e| format!("kill -9 {} failed: {e}", self.pid))?;
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("process {} survived kill -9 for 10 s", self.pid)),
        }
    }

    /// Sends SIGTERM (the graceful stop signal).
    pub async fn sigterm(&self) -> Result<(), String> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -TERM {} failed: {status}", self.pid))
        }
    }

    /// Waits for the exit; None when still running after `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .ok()
            .and_then(|r| r.ok())
    }

    /// SIGTERM, then SIGKILL when it has not stopped within `limit`.
    pub async fn stop(mut self, limit: Duration) -> Result<ExitStatus, String> {
        self.sigterm().await?;
        match self.wait_exit(limit).await {
            Some(s) => Ok(s),
            None => {
                let pid = self.pid;
                self.kill9().await?;
                Err(format!(
                    "process {pid} did not exit within {limit:?} of SIGTERM"
                ))
            }
        }
    }
}

async fn read_stdout(
    stdout: tokio::process::ChildStdout,
    path: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
    tx: tokio::sync::oneshot::Sender<SocketAddr>,
) {
    let mut tx = Some(tx);
    let mut reader = BufReader::new(stdout).lines();
    let mut file = tokio::fs::File::create(&path).await.ok();
    while let Ok(Some(line)) = reader.next_line().await {
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(format!("{line}\n").as_bytes()).await;
        }
        if let Some(addr) = parse_listening(&line) {
            if let Some(tx) = tx.take() {
                let _ = tx.send(addr);
            }
        }
        if let Ok(mut l) = lines.lock() {
            l.push(line);
        }
    }
    if let Some(f) = file.as_mut() {
        let _ = f.flush().await;
    }
}

/// Copies the log into its file line by line, counting the lines that contain `watch`.
async fn copy_to_file(
    from: tokio::process::ChildStderr,
    path: PathBuf,
    watch: Option<String>,
    hits: Arc<AtomicU64>,
) {
    let Ok(mut f) = tokio::fs::File::create(&path).await else {
        return;
    };
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if let Some(w) = &watch {
            if String::from_utf8_lossy(&line).contains(w.as_str()) {
                hits.fetch_add(1, Ordering::AcqRel);
            }
        }
        if f.write_all(&line).await.is_err() {
            break;
        }
    }
    let _ = f.flush().await;
}

/// The last `n` bytes of a log file (for error messages).
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(n);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text[start..].replace('\n', " | ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_address() {
        assert_eq!(
            parse_listening("listening on http://127.0.0.1:10961"),
            Some("127.0.0.1:10961".parse().unwrap())
        );
        assert_eq!(
            parse_listening("listening on http://0.0.0.0:5/\n"),
            Some("0.0.0.0:5".parse().unwrap())
        );
        assert_eq!(
            parse_listening("first run: set the operator password"),
            None
        );
        assert_eq!(parse_listening("listening on http://localhost:1"), None);
    }
}
