//! Time from process start to the first answered RPC: spawn the gateway, read the
//! `listening on http://HOST:PORT` line, connect, retry `health` until it answers.

use crate::client;
use crate::sequential;
use anyhow::{anyhow, bail, Context, Result};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How to launch the gateway.
#[derive(Debug, Clone)]
pub struct StartupPlan {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub token: String,
    pub timeout: Duration,
}

/// One launch: when the port line appeared and when `health` first answered, both from spawn.
#[derive(Debug, Clone, Copy)]
pub struct StartupSample {
    pub port_line: Duration,
    pub first_rpc: Duration,
}

/// Launches once, measures, then stops the process (SIGTERM, then SIGKILL after 5 s).
pub async fn measure_once(plan: &StartupPlan) -> Result<StartupSample> {
    let spawned = Instant::now();
    let mut child = Command::new(&plan.program)
        .args(&plan.args)
        .envs(plan.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", plan.program))?;
    let result = tokio::time::timeout(plan.timeout, first_rpc(&mut child, plan, spawned))
        .await
        .map_err(|_| anyhow!("no answered RPC within {:?} of spawn", plan.timeout))
        .and_then(|r| r);
    stop(&mut child).await;
    result
}

async fn first_rpc(
    child: &mut Child,
    plan: &StartupPlan,
    spawned: Instant,
) -> Result<StartupSample> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("child stdout was not captured"))?;
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next_line()
        .await?
        .ok_or_else(|| anyhow!("{} exited before printing its listening line", plan.program))?;
    let port_line = spawned.elapsed();
    let url = listening_url(&first)?;
    // Keep draining stdout so later prints never hit a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    loop {
        if let Ok(mut ws) = client::connect(&url, &plan.token, Duration::from_secs(5)).await {
            let r = sequential::run(&mut ws, "health", None, 0, 1, Duration::from_secs(5)).await?;
            if r.errors == 0 {
                return Ok(StartupSample {
                    port_line,
                    first_rpc: spawned.elapsed(),
                });
            }
            bail!(
                "health answered with an error: {}",
                r.first_error.unwrap_or_default()
            );
        }
        if let Some(status) = child.try_wait()? {
            bail!("{} exited with {status} before answering", plan.program);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// `listening on http://127.0.0.1:PORT` → `http://127.0.0.1:PORT/`.
pub fn listening_url(line: &str) -> Result<String> {
    let url = line.trim().strip_prefix("listening on ").ok_or_else(|| {
        anyhow!("first stdout line {line:?}: expected 'listening on http://HOST:PORT'")
    })?;
    Ok(format!("{}/", url.trim_end_matches('/')))
}

async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_url() {
        assert_eq!(
            listening_url("listening on http://127.0.0.1:4242\n").unwrap(),
            "http://127.0.0.1:4242/"
        );
        assert!(listening_url("first run: set the password").is_err());
    }
}
