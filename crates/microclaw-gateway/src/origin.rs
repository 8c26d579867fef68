//! Browser safety: which `Host` and `Origin` values a cookie-authenticated request or a
//! WebSocket upgrade may carry (against cross-site requests and DNS rebinding).

use microclaw_core::config::ServerConfig;
use std::net::SocketAddr;

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
}
