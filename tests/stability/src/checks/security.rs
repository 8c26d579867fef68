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

/// This machine's non-loopback address, if it has one (no packet is sent).
fn local_ip() -> Option<IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("10.255.255.255:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Catches: a default `server.host` of 0.0.0.0 (the console exposed to the network on a
/// fresh install).
pub async fn loopback_default(env: &Env) -> CheckResult {
    let dir = env.data_dir("security-default");
    let server = Server::start(env, &StartOpts::new("security-default", &dir)).await?;
    let addr = server.addr;
    let probe = match local_ip() {
        None => "no non-loopback address to probe".to_string(),
        Some(ip) => {
            let target = SocketAddr::new(ip, addr.port());
            match tokio::time::timeout(
                Duration::from_secs(2),
                tokio::net::TcpStream::connect(target),
            )
            .await
            {
                Ok(Ok(_)) => {
                    let _ = server.stop(Duration::from_secs(15)).await;
                    return Err(format!("the default listener also answers on {target}"));
                }
                _ => format!("{target} refused"),
            }
        }
    };
    let _ = server.stop(Duration::from_secs(15)).await;
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
