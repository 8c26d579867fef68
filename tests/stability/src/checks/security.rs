//! Promise 7: security defaults. Loopback bind by default; a non-loopback bind without TLS
//! makes the self-check high; no key, token or password ever appears in any log.

use crate::cli;
use crate::env::{files_under, Env};
use crate::http::Http;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const PASSWORD: &str = "security check password 91c2!";

/// The local addresses of the listening TCP sockets on `port`, read from `/proc/net/tcp*`
/// (no packet is sent anywhere: this suite only talks to loopback).
fn listening_addresses(port: u16) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // cols[1] = local "HEXADDR:HEXPORT", cols[3] = state (0A = LISTEN)
            let (Some(local), Some(state)) = (cols.get(1), cols.get(3)) else {
                continue;
            };
            let Some((addr, p)) = local.rsplit_once(':') else {
                continue;
            };
            if *state == "0A" && u16::from_str_radix(p, 16).ok() == Some(port) {
                found.push(addr.to_string());
            }
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no listening socket on port {port} in /proc/net/tcp*"
        ));
    }
    Ok(found)
}

/// `/proc/net/tcp` spells 127.0.0.1 as `0100007F`; IPv6 ::1 as 31 zeros and a 1.
fn is_loopback_hex(addr: &str) -> bool {
    addr.len() == 8 && addr.ends_with("7F") || addr == "00000000000000000000000001000000"
}

/// Catches: a default `server.host` of 0.0.0.0 (the console exposed to the network on a
/// fresh install).
pub async fn loopback_default(env: &Env) -> CheckResult {
    let dir = env.data_dir("security-default");
    let server = Server::start(env, &StartOpts::new("security-default", &dir)).await?;
    let addr = server.addr;
    let sockets = listening_addresses(addr.port());
    let _ = server.stop(Duration::from_secs(15)).await;
    let sockets = sockets?;
    if let Some(open) = sockets.iter().find(|a| !is_loopback_hex(a)) {
        return Err(format!(
            "the default listener is bound to {open} (hex, /proc/net/tcp), not only to loopback"
        ));
    }
    let probe = format!("kernel socket table: bound to {}", sockets.join(", "));
    if !addr.ip().is_loopback() {
        return Err(format!(
            "default bind is {addr}, expected a loopback address"
        ));
    }
    Ok(format!("listening on {addr}; {probe}"))
}

fn warning<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["warnings"]
        .as_array()?
        .iter()
        .find(|w| w["code"] == code)
}

/// Catches: a self-check that ignores the bind address, or that flags it even behind TLS.
pub async fn off_loopback(env: &Env) -> CheckResult {
    let dir = env.data_dir("security-bind");
    cli::set_password(env, &dir, PASSWORD).await?;
    let host = [("MICROCLAW_SERVER__HOST", "0.0.0.0")];
    let (code, report) = cli::self_check(env, &dir, &host).await?;
    let w = warning(&report, "bind_not_loopback_without_tls");
    if code != 2 || report["risk_level"] != "high" || w.is_none_or(|w| w["severity"] != "high") {
        return Err(format!("offline self-check for host 0.0.0.0 without TLS: exit {code}, risk {}, warning {w:?} (expected exit 2, high)", report["risk_level"]));
    }
    let tls = [
        ("MICROCLAW_SERVER__HOST", "0.0.0.0"),
        ("MICROCLAW_SERVER__BEHIND_TLS", "true"),
    ];
    let (code_tls, report_tls) = cli::self_check(env, &dir, &tls).await?;
    if warning(&report_tls, "bind_not_loopback_without_tls").is_some() || code_tls == 2 {
        return Err(format!(
            "behind_tls=true still flags the bind: exit {code_tls}, {}",
            report_tls["warnings"]
        ));
    }
    let admin = cli::create_key(env, &dir, "security-admin", "operator.admin").await?;
    let mut o = StartOpts::new("security-bind", &dir);
    o.args = vec!["--host".into(), "0.0.0.0".into()];
    let server = Server::start(env, &o).await?;
    let local = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), server.addr.port());
    let live = Http::new(&format!("http://{local}"))?
        .get_ok("/api/config/self_check", &admin)
        .await;
    let _ = server.stop(Duration::from_secs(15)).await;
    let live = live?;
    if live["risk_level"] != "high" || warning(&live, "bind_not_loopback_without_tls").is_none() {
        return Err(format!("a server started with --host 0.0.0.0 reports risk {} without bind_not_loopback_without_tls: {}", live["risk_level"], live["warnings"]));
    }
    Ok("offline exit 2 / high; behind_tls clears it; live --host 0.0.0.0 high".into())
}

/// Catches: a key, login session id, CSRF token or password written to a log line (a debug
/// dump of a request, a "login failed for …" message, a key echoed in an error).
pub async fn no_secrets_in_logs(env: &Env) -> CheckResult {
    let secrets = env.secrets();
    let files = files_under(&env.logs_dir);
    let mut bytes = 0usize;
    let mut leaks = Vec::new();
    for f in &files {
        let Ok(data) = std::fs::read(f) else { continue };
        bytes += data.len();
        let text = String::from_utf8_lossy(&data);
        for s in &secrets {
            if let Some(pos) = text.find(s.as_str()) {
                let line = text[..pos].matches('\n').count() + 1;
                let shown: String = s.chars().take(6).collect();
                leaks.push(format!(
                    "{shown}… ({} chars) in {}:{line}",
                    s.len(),
                    f.display()
                ));
            }
        }
    }
    if secrets.len() < 5 || bytes == 0 {
        return Err(format!(
            "nothing to scan: {} secrets, {} log bytes (the other checks did not run?)",
            secrets.len(),
            bytes
        ));
    }
    if leaks.is_empty() {
        Ok(format!(
            "{} secrets, {} files, {} kB of logs: clean",
            secrets.len(),
            files.len(),
            bytes / 1024
        ))
    } else {
        Err(format!(
            "{} leaks: {}",
            leaks.len(),
            leaks.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
        ))
    }
}
