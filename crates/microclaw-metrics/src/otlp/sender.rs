//! POSTs encoded batches to `<endpoint>/v1/metrics` with timeout, retry and backoff.

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use microclaw_core::config::ObservabilityConfig;
use microclaw_core::{Error, Result};

use super::redact::{redact_url, scrub};

/// Why one attempt failed, and whether trying again can help.
#[derive(Debug, Clone)]
pub struct SendFailure {
    pub message: String,
    pub retryable: bool,
}

/// Retry policy: `max_attempts` attempts in all; the wait before retry `n` (1-based) is
/// `min(base * 2^(n-1), max)` scaled by a random factor in [0.5, 1.0] (jitter).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_ms: u64,
    pub max_ms: u64,
}

impl RetryPolicy {
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << retry.saturating_sub(1).min(30));
        let capped = exp.min(self.max_ms.max(1));
        let factor: f64 = rand::thread_rng().gen_range(0.5..=1.0);
        Duration::from_millis((capped as f64 * factor) as u64)
    }
}

pub struct Sender {
    client: reqwest::Client,
    /// The real URL (its userinfo becomes Basic auth); never logged or shown.
    url: String,
    /// The URL with its userinfo redacted: what messages and status show.
    shown_url: String,
    headers: HeaderMap,
    pub policy: RetryPolicy,
}

/// `<endpoint>/v1/metrics` (the endpoint may already end with it).
pub fn metrics_url(endpoint: &str) -> Result<String> {
    let e = endpoint.trim().trim_end_matches('/');
    let rest = e
        .strip_prefix("http://")
        .or_else(|| e.strip_prefix("https://"))
        .unwrap_or("");
    if rest.is_empty() {
        return Err(Error::invalid(format!(
            "observability.otlp_endpoint {:?} is not an OTLP/HTTP base URL; expected e.g. http://127.0.0.1:4318",
            redact_url(e)
        )));
    }
    Ok(if e.ends_with("/v1/metrics") {
        e.to_string()
    } else {
        format!("{e}/v1/metrics")
    })
}

impl Sender {
    pub fn new(cfg: &ObservabilityConfig) -> Result<Sender> {
        let url = metrics_url(&cfg.otlp_endpoint)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        for (k, v) in &cfg.otlp_headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                Error::invalid(format!(
                    "observability.otlp_headers: {k:?} is not a valid HTTP header name"
                ))
            })?;
            let value = HeaderValue::from_str(v).map_err(|_| {
                Error::invalid(format!(
                    "observability.otlp_headers: the value of {k:?} is not a valid header value"
                ))
            })?;
            headers.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.otlp_timeout_ms.max(1)))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the OTLP HTTP client: {e}")))?;
        Ok(Sender {
            client,
            shown_url: redact_url(&url),
            url,
            headers,
            policy: RetryPolicy {
                max_attempts: cfg.otlp_retry_max_attempts.max(1),
                base_ms: cfg.otlp_retry_base_ms,
                max_ms: cfg.otlp_retry_max_ms,
            },
        })
    }

    /// The endpoint URL as shown (userinfo redacted).
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// One POST. 2xx is success; 429, 5xx, timeouts and connection errors are retryable;
    /// any other status (4xx) is not.
    pub async fn send_once(&self, body: Vec<u8>) -> std::result::Result<(), SendFailure> {
        let resp = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await;
        match resp {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let status = r.status();
                let retryable = status.as_u16() == 429 || status.is_server_error();
                Err(SendFailure {
                    message: format!("{} answered HTTP {status}", self.shown_url),
                    retryable,
                })
            }
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timed out"
                } else {
                    "failed"
                };
                // reqwest quotes the URL (with its userinfo) in its message: drop it, and
                // scrub whatever a source error might still quote.
                let e = e.without_url();
                Err(SendFailure {
                    message: scrub(&format!("POST {} {kind}: {e}", self.shown_url), &self.url),
                    retryable: true,
                })
            }
        }
    }
}
