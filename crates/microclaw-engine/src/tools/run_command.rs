//! `run_command`: one command in the session's workspace, split into argv by a shell-words
//! parser and run directly (no shell: no pipes, globs, variables or redirections), with a
//! timeout and a cap on the output kept (the rest is counted and replaced by a marker).

use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::sync::CancellationToken;

/// The command text of a call (`command`, a string), or a message for the model.
pub fn command_text(args: &Value) -> Result<String, String> {
    match args.get("command") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::String(_)) => {
            Err("run_command: 'command' is empty: expected e.g. \"ls -la\"".into())
        }
        Some(other) => Err(format!(
            "run_command: 'command' must be a string, got {}: expected e.g. \"ls -la\"",
            crate::tools::json_kind(other)
        )),
        None => Err("run_command needs 'command': expected e.g. {\"command\": \"ls -la\"}".into()),
    }
}

/// Splits the command into argv (quotes and backslashes as a POSIX shell reads them).
pub fn argv(command: &str) -> Result<Vec<String>, String> {
    let argv = shell_words::split(command)
        .map_err(|e| format!("run_command: cannot parse the command ({e}): check its quotes"))?;
    if argv.is_empty() {
        return Err("run_command: the command has no program to run".into());
    }
    Ok(argv)
}

/// Reads all of `r`, keeping the first `cap` bytes; returns (kept, total bytes seen).
async fn read_capped(mut r: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, usize) {
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (kept, total)
}

/// The kept bytes as text, with `…[truncated: N bytes]` when more was produced.
fn capped_text(kept: &[u8], total: usize) -> String {
    let mut s = String::from_utf8_lossy(kept).into_owned();
    if total > kept.len() {
        s.push_str(&format!("…[truncated: {} bytes]", total - kept.len()));
    }
    s
}

/// Runs `argv` in `cwd`. A clean environment (only `PATH`, `HOME` = the workspace, `LANG`)
/// keeps the gateway's secrets out of the command. Ends with `{exitCode, stdout, stderr}`;
/// a timeout or a kill of the run stops the process and answers with an error.
pub async fn run(
    argv: &[String],
    cwd: &Path,
    timeout: Duration,
    cap: usize,
    cancel: &CancellationToken,
) -> Result<Value, String> {
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        )
        .env("HOME", cwd)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("run_command: cannot start '{}': {e}", argv[0]))?;
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("run_command: the command's output pipes are missing".into());
    };
    let reading = async {
        let (o, e) = tokio::join!(read_capped(out, cap), read_capped(err, cap));
        let status = child.wait().await;
        (o, e, status)
    };
    let ms = timeout.as_millis();
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err("run_command: stopped because the run was killed".into()),
        r = tokio::time::timeout(timeout, reading) => match r {
            Err(_) => Err(format!("run_command: '{}' timed out after {ms} ms and was killed", argv[0])),
            Ok(((o, on), (e, en), status)) => {
                let status = status.map_err(|e| format!("run_command: waiting for the command failed: {e}"))?;
                Ok(json!({
                    "exitCode": status.code(),
                    "stdout": capped_text(&o, on),
                    "stderr": capped_text(&e, en),
                    "truncated": on > o.len() || en > e.len(),
                }))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_splits_without_a_shell() {
        assert_eq!(
            argv("echo 'a b' \"c\" d\\ e").unwrap(),
            vec!["echo", "a b", "c", "d e"]
        );
        assert!(argv("echo 'unclosed").unwrap_err().contains("quotes"));
        assert!(command_text(&json!({"command": 3}))
            .unwrap_err()
            .contains("must be a string"));
    }

    #[tokio::test]
    async fn output_is_capped_with_a_marker_and_time_is_limited() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let big = argv("head -c 5000 /dev/zero").unwrap();
        let v = run(&big, dir.path(), Duration::from_secs(10), 1000, &cancel)
            .await
            .unwrap();
        assert_eq!(v["truncated"], true);
        assert!(v["stdout"]
            .as_str()
            .unwrap()
            .ends_with("…[truncated: 4000 bytes]"));
        let shell_chars = argv("echo $HOME; ls").unwrap();
        let v = run(
            &shell_chars,
            dir.path(),
            Duration::from_secs(10),
            1000,
            &cancel,
        )
        .await
        .unwrap();
        assert_eq!(
            v["stdout"], "$HOME; ls\n",
            "no shell expands or splits anything"
        );
        let slow = argv("sleep 5").unwrap();
        let e = run(&slow, dir.path(), Duration::from_millis(100), 1000, &cancel)
            .await
            .unwrap_err();
        assert!(e.contains("timed out after 100 ms"), "{e}");
    }
}
