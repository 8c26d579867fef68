//! Browser safety: which `Host` and `Origin` values a cookie-authenticated request or a
//! WebSocket upgrade may carry (against cross-site requests and DNS rebinding).
//!
//! The bridge upgrade follows OpenClaw: a page on loopback or a private network (another
//! port, e.g. Mission Control on 127.0.0.1:3300) is accepted, but only our own origin or one
//! in `server.allowed_origins` may ride on the login cookie; the others authenticate in
//! `connect` (token, password or device token). See [`OriginPolicy::upgrade`].

use microclaw_core::config::ServerConfig;
use std::net::{IpAddr, SocketAddr};

/// What the origin of a bridge upgrade allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeOrigin {
    /// No `Origin`: not a browser.
    Absent,
    /// Our own origin, or one in `server.allowed_origins`: the login cookie counts.
    Trusted,
    /// A page on loopback or a private network (the origin, normalised): accepted; its
    /// `connect` must carry its own credentials (the cookie is ignored).
    Local(String),
    /// Refused; the text says why and how to allow it.
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct OriginPolicy {
    loopback_bind: bool,
    hosts: Vec<String>,
    extra_origins: Vec<String>,
}

impl OriginPolicy {
    pub fn new(local: SocketAddr, cfg: &ServerConfig) -> OriginPolicy {
        let port = local.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
            local.to_string(),
        ];
        if !cfg.host.is_empty() {
            hosts.push(format!("{}:{port}", cfg.host));
        }
        let extra_origins: Vec<String> = cfg
            .allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        for o in &extra_origins {
            if let Some((_, h)) = o.split_once("://") {
                hosts.push(h.to_string());
            }
        }
        let hosts = hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect();
        OriginPolicy {
            loopback_bind: local.ip().is_loopback(),
            hosts,
            extra_origins,
        }
    }

    /// Host check (DNS rebinding): on a loopback bind, only the listener's own names.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        if !self.loopback_bind {
            return true;
        }
        match host {
            Some(h) => self.hosts.iter().any(|x| x.eq_ignore_ascii_case(h.trim())),
            None => false,
        }
    }

    /// Origin check: absent (non-browser client), same-origin with the Host, or configured.
    pub fn origin_allowed(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin.map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        else {
            return true;
        };
        if self.extra_origins.iter().any(|o| o == "*" || *o == origin) {
            return true;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        if scheme != "http" && scheme != "https" {
            return false;
        }
        let same_host = host.is_some_and(|h| h.trim().eq_ignore_ascii_case(rest));
        same_host && self.host_allowed(Some(rest))
    }
}

impl OriginPolicy {
    /// The verdict on a WebSocket upgrade's `Origin` (with its `Host`).
    pub fn upgrade(&self, origin: Option<&str>, host: Option<&str>) -> UpgradeOrigin {
        let Some(raw) = origin else {
            return UpgradeOrigin::Absent;
        };
        if !self.host_allowed(host) {
            return UpgradeOrigin::Refused(format!(
                "host '{}' is not allowed for browser connections: open the page at this \
                 console's own address (127.0.0.1 or localhost)",
                host.unwrap_or_default()
            ));
        }
        if self.origin_allowed(origin, host) {
            return UpgradeOrigin::Trusted;
        }
        let norm = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        match norm.split_once("://") {
            Some(("http" | "https", rest)) if is_local_host(rest) => UpgradeOrigin::Local(norm),
            _ => UpgradeOrigin::Refused(format!(
                "origin '{}' is not allowed: add it to server.allowed_origins \
                 (pages on loopback or a private network are allowed without it)",
                raw.trim()
            )),
        }
    }
}

/// `host[:port]` of an origin names loopback or a private network: `localhost` (and
/// `*.localhost`), 127/8, ::1, 10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10.
pub fn is_local_host(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, _)) => h,
            None => return false,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => authority,
        }
    };
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        Ok(IpAddr::V6(v6)) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str]) -> OriginPolicy {
        let cfg = ServerConfig {
            allowed_origins: allowed.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        OriginPolicy::new("127.0.0.1:4000".parse().unwrap(), &cfg)
    }

    #[test]
    fn host_and_origin_table() {
        let p = policy(&["https://console.example"]);
        let cases: &[(Option<&str>, Option<&str>, bool, &str)] = &[
            (
                None,
                Some("127.0.0.1:4000"),
                true,
                "no Origin: a non-browser client",
            ),
            (
                Some("http://127.0.0.1:4000"),
                Some("127.0.0.1:4000"),
                true,
                "same origin",
            ),
            (
                Some("http://localhost:4000"),
                Some("localhost:4000"),
                true,
                "same origin by name",
            ),
            (
                Some("http://evil.example"),
                Some("127.0.0.1:4000"),
                false,
                "cross-site page",
            ),
            (
                Some("http://evil.example:4000"),
                Some("evil.example:4000"),
                false,
                "DNS rebinding: foreign Host",
            ),
            (
                Some("https://console.example"),
                Some("127.0.0.1:4000"),
                true,
                "configured origin",
            ),
            (Some("null"), Some("127.0.0.1:4000"), false, "opaque origin"),
        ];
        for (origin, host, want, why) in cases {
            assert_eq!(p.origin_allowed(*origin, *host), *want, "{why}");
        }
        assert!(
            !p.host_allowed(Some("evil.example:4000")),
            "rebinding host refused"
        );
        assert!(p.host_allowed(Some("LOCALHOST:4000")));
    }

    #[test]
    fn upgrade_verdicts() {
        let p = policy(&["https://console.example"]);
        let host = Some("127.0.0.1:4000");
        let cases: &[(Option<&str>, &str)] = &[
            (None, "absent"),
            (Some("http://127.0.0.1:4000"), "trusted"),
            (Some("https://console.example"), "trusted"),
            (Some("http://127.0.0.1:3300"), "local"),
            (Some("http://localhost:3300/"), "local"),
            (Some("http://[::1]:3300"), "local"),
            (Some("http://192.168.1.20:3000"), "local"),
            (Some("http://10.0.0.7"), "local"),
            (Some("http://172.20.1.1:80"), "local"),
            (Some("http://172.32.1.1:80"), "refused"),
            (Some("http://[fd00::1]:3000"), "local"),
            (Some("http://mc.localhost:3000"), "local"),
            (Some("http://evil.example"), "refused"),
            (Some("http://8.8.8.8:3000"), "refused"),
            (Some("http://127.0.0.1.evil.example"), "refused"),
            (Some("file://127.0.0.1"), "refused"),
            (Some("null"), "refused"),
        ];
        for (origin, want) in cases {
            let got = match p.upgrade(*origin, host) {
                UpgradeOrigin::Absent => "absent",
                UpgradeOrigin::Trusted => "trusted",
                UpgradeOrigin::Local(_) => "local",
                UpgradeOrigin::Refused(why) => {
                    assert!(why.contains("server.allowed_origins"), "{why}");
                    "refused"
                }
            };
            assert_eq!(got, *want, "{origin:?}");
        }
        assert!(
            matches!(
                p.upgrade(Some("http://127.0.0.1:3300"), Some("evil.example:4000")),
                UpgradeOrigin::Refused(_)
            ),
            "a loopback page still needs one of our own Host names (DNS rebinding)"
        );
    }
}
