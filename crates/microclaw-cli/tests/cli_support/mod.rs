//! Running the real `microclaw` binary: a hermetic environment, bounded waits, and a guard
//! that kills a still-running child on every path (including a failed assertion).
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(30);

/// The binary with an empty environment (only PATH), so ambient MICROCLAW_*/GATEWAY_* variables
/// cannot change what a test sees.
pub fn microclaw() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_microclaw"));
    c.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    c.env("MICROCLAW_LOG", "warn");
    c
}

/// Kills and reaps the child when dropped, unless it has already exited.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

impl ChildGuard {
    /// Waits at most `limit` for the child to exit.
    pub fn wait_for_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.0.try_wait().unwrap() {
                return s;
            }
            assert!(
                start.elapsed() < limit,
                "the process did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// What a finished command printed.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Runs `cmd` to completion (at most WAIT), feeding `stdin`.
pub fn run(mut cmd: Command, stdin: &str) -> Out {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = ChildGuard(cmd.spawn().expect("spawn microclaw"));
    let mut input = guard.0.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = drain(guard.0.stdout.take().unwrap());
    let err = drain(guard.0.stderr.take().unwrap());
    let status = guard.wait_for_exit(WAIT);
    Out {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// `microclaw <args…>` with `--data-dir dir` appended.
pub fn run_in(dir: &Path, args: &[&str]) -> Out {
    let mut c = microclaw();
    c.args(args).arg("--data-dir").arg(dir);
    run(c, "")
}

/// Creates an API key offline; returns the raw key.
pub fn create_key(dir: &Path, label: &str, scopes: &[&str]) -> String {
    let mut args = vec!["auth", "keys", "create", "--label", label, "--quiet"];
    for s in scopes {
        args.push("--scope");
        args.push(s);
    }
    let out = run_in(dir, &args);
    assert_eq!(out.code, 0, "{out:?}");
    out.stdout.trim().to_string()
}

pub fn is_raw_key(k: &str) -> bool {
    k.len() == 35 && k.starts_with("mk_") && k[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A running `microclaw start --port 0`, its port and its stdout lines.
pub struct Server {
    pub child: ChildGuard,
    pub port: u16,
    pub first_line: String,
    pub lines: Receiver<String>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stdout lines printed so far (waits up to `limit` for the stream to end).
    pub fn rest_of_stdout(&self, limit: Duration) -> Vec<String> {
        let start = Instant::now();
        let mut v = Vec::new();
        while let Some(left) = limit.checked_sub(start.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => v.push(l),
                Err(_) => break,
            }
        }
        v
    }
}

pub fn start_server(dir: &Path) -> Server {
    let mut c = microclaw();
    c.args(["start", "--port", "0", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = ChildGuard(c.spawn().expect("spawn microclaw start"));
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Keep draining after the receiver is gone: a closed pipe would make the
            // server's next line fail.
            let _ = tx.send(line);
        }
    });
    let first_line = rx.recv_timeout(WAIT).expect("start prints a first line");
    let port = first_line
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.trim().parse::<u16>().ok())
        .unwrap_or_else(|| {
            panic!("first line is 'listening on http://127.0.0.1:PORT': {first_line:?}")
        });
    Server {
        child,
        port,
        first_line,
        lines: rx,
    }
}

/// `microclaw gateway call …` against `server` with the token in MICROCLAW_GATEWAY_TOKEN.
pub fn gateway_call(server: &Server, token: &str, args: &[&str]) -> Out {
    let mut c = microclaw();
    c.args(["gateway", "call"])
        .args(args)
        .env("MICROCLAW_GATEWAY_TOKEN", token)
        .env("MICROCLAW_GATEWAY_URL", server.url());
    run(c, "")
}

/// HTTP status of `GET path` with a Bearer key.
pub fn http_status(server: &Server, path: &str, key: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", server.url()))
            .bearer_auth(key)
            .timeout(WAIT)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    })
}

/// A fresh data dir path inside a temp dir: the binary creates it private (0700), as on a
/// real first start (a pre-made temp dir may be group-readable, which the self-check flags).
pub fn data_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    (tmp, dir)
}
