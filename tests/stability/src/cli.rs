//! The offline CLI commands the checks use: key creation, password, audit verify, self-check.
//! Their stderr goes to the log dir too (scanned for secrets); the stdout of
//! `auth keys create --quiet` is the key itself and is kept out of the logs.

use crate::env::Env;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

async fn run(
    env: &Env,
    name: &str,
    args: &[&str],
    settings: &[(&str, &str)],
    stdin: Option<&str>,
    log_stdout: bool,
) -> Result<Output, String> {
    let mut cmd = Command::new(&env.bin);
    cmd.args(args);
    env.clean_env(&mut cmd);
    for (k, v) in settings {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", env.bin.display()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .await
            .map_err(|e| format!("cannot write stdin of `{name}`: {e}"))?;
        drop(pipe);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| format!("`microclaw {name}` did not finish within 60 s"))?
        .map_err(|e| format!("`microclaw {name}` failed to run: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let (out_log, err_log) = env.log_paths(&format!("cli-{}", name.replace(' ', "-")));
    let _ = std::fs::write(err_log, &stderr);
    if log_stdout {
        let _ = std::fs::write(out_log, &stdout);
    }
    Ok(Output {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

fn dir_str(dir: &Path) -> String {
    dir.display().to_string()
}

/// `microclaw auth keys create --label L --scope S --quiet` → the raw key (registered as a secret).
pub async fn create_key(env: &Env, dir: &Path, label: &str, scope: &str) -> Result<String, String> {
    let d = dir_str(dir);
    let args = [
        "auth",
        "keys",
        "create",
        "--label",
        label,
        "--scope",
        scope,
        "--quiet",
        "--data-dir",
        &d,
    ];
    let out = run(env, "auth keys create", &args, &[], None, false).await?;
    let key = out.stdout.trim().to_string();
    if out.code != 0 || !key.starts_with("mk_") {
        return Err(format!(
            "`auth keys create` exited {} without a key on stdout: {}",
            out.code,
            out.stderr.trim()
        ));
    }
    env.secret(&key);
    Ok(key)
}

/// `echo PW | microclaw auth password set`.
pub async fn set_password(env: &Env, dir: &Path, password: &str) -> Result<(), String> {
    env.secret(password);
    let d = dir_str(dir);
    let args = ["auth", "password", "set", "--data-dir", &d];
    let out = run(
        env,
        "auth password set",
        &args,
        &[],
        Some(&format!("{password}\n")),
        true,
    )
    .await?;
    if out.code != 0 {
        return Err(format!(
            "`auth password set` exited {}: {}",
            out.code,
            out.stderr.trim()
        ));
    }
    Ok(())
}

/// `microclaw audit verify`: Ok(message) on exit 0, Err(why) on a break or failure.
pub async fn audit_verify(env: &Env, dir: &Path) -> Result<String, String> {
    let d = dir_str(dir);
    let out = run(
        env,
        "audit verify",
        &["audit", "verify", "--data-dir", &d],
        &[],
        None,
        true,
    )
    .await?;
    let text = format!("{} {}", out.stdout.trim(), out.stderr.trim());
    match out.code {
        0 => Ok(text.trim().to_string()),
        code => Err(format!("`audit verify` exited {code}: {}", text.trim())),
    }
}

/// `microclaw config self-check --json` with `settings` → (exit code, parsed report).
pub async fn self_check(
    env: &Env,
    dir: &Path,
    settings: &[(&str, &str)],
) -> Result<(i32, Value), String> {
    let d = dir_str(dir);
    let args = ["config", "self-check", "--json", "--data-dir", &d];
    let out = run(env, "config self-check", &args, settings, None, true).await?;
    let v: Value = serde_json::from_str(out.stdout.trim()).map_err(|e| {
        format!(
            "`config self-check --json` printed no JSON ({e}); exit {}: {}",
            out.code,
            out.stderr.trim()
        )
    })?;
    Ok((out.code, v))
}
