//! Sending one chat-completions request, with retries for transient faults: connection
//! errors, timeouts, 429 (honouring `Retry-After` in seconds) and 5xx. Other 4xx fail at once.

use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// Longest `Retry-After` we are willing to sleep for.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(30);
const ERROR_BODY_CHARS: usize = 300;

/// Where and how to send.
pub struct Endpoint<'a> {
    pub client: &'a reqwest::Client,
    pub url: &'a str,
    /// Read from the environment at call time; never stored or logged.
    pub api_key: Option<String>,
    pub timeout: Duration,
    pub max_retries: u32,
}

enum Attempt {
    Done(reqwest::Response),
    Retry {
        error: String,
        wait: Option<Duration>,
    },
    Fail(String),
}

/// Posts `body` and returns the 2xx response whose body is the event stream.
/// `Err("cancelled")` when `cancel` fires first.
pub async fn post_with_retries(
    ep: &Endpoint<'_>,
    body: &Value,
    cancel: &CancellationToken,
) -> Result<reqwest::Response, String> {
    let attempts = ep.max_retries.saturating_add(1);
    let mut last_error = String::new();
    for attempt in 0..attempts {
        let outcome = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err("cancelled".into()),
            a = attempt_once(ep, body) => a,
        };
        let wait = match outcome {
            Attempt::Done(resp) => return Ok(resp),
            Attempt::Fail(msg) => return Err(msg),
            Attempt::Retry { error, wait } => {
                last_error = error;
                wait
            }
        };
        if attempt + 1 < attempts {
            let backoff = BACKOFF_BASE
                .saturating_mul(1 << attempt.min(8))
                .min(BACKOFF_MAX);
            let delay = wait
                .map_or(backoff, |w| w.max(backoff))
                .min(RETRY_AFTER_MAX);
            tracing::debug!(attempt, ?delay, error = %last_error, "retrying provider request");
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err("cancelled".into()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }
    Err(format!("{last_error} (gave up after {attempts} attempts)"))
}

async fn attempt_once(ep: &Endpoint<'_>, body: &Value) -> Attempt {
    let mut req = ep
        .client
        .post(ep.url)
        .header(ACCEPT, "text/event-stream")
        .json(body);
    if let Some(key) = &ep.api_key {
        req = req.bearer_auth(key);
    }
    let resp = match tokio::time::timeout(ep.timeout, req.send()).await {
        Err(_) => {
            return Attempt::Retry {
                error: format!(
                    "provider at {} did not answer within {} ms",
                    ep.url,
                    ep.timeout.as_millis()
                ),
                wait: None,
            }
        }
        Ok(Err(e)) if e.is_connect() => {
            return Attempt::Retry {
                error: format!("could not connect to provider at {}: {e}", ep.url),
                wait: None,
            }
        }
        Ok(Err(e)) if e.is_builder() => {
            return Attempt::Fail(format!("invalid provider request to {}: {e}", ep.url))
        }
        Ok(Err(e)) => {
            return Attempt::Retry {
                error: format!("provider request to {} failed: {e}", ep.url),
                wait: None,
            }
        }
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status();
    if status.is_success() {
        return Attempt::Done(resp);
    }
    let retry_after = retry_after(resp.headers());
    let detail = error_detail(resp, ep.timeout).await;
    if status == StatusCode::TOO_MANY_REQUESTS {
        Attempt::Retry {
            error: format!("provider rate limited the request (429): {detail}"),
            wait: retry_after,
        }
    } else if status.is_server_error() {
        Attempt::Retry {
            error: format!("provider failed with HTTP {}: {detail}", status.as_u16()),
            wait: None,
        }
    } else {
        Attempt::Fail(format!(
            "provider refused the request with HTTP {}: {detail}",
            status.as_u16()
        ))
    }
}

/// `Retry-After` in seconds (HTTP dates are ignored: the backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::from_secs_f64(secs.min(RETRY_AFTER_MAX.as_secs_f64())))
}

/// The provider's error message (`error.message` of a JSON body) or the start of the body.
async fn error_detail(resp: reqwest::Response, timeout: Duration) -> String {
    let text = match tokio::time::timeout(timeout, resp.text()).await {
        Ok(Ok(t)) => t,
        _ => return "(no readable body)".into(),
    };
    let from_json = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
        v.pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let detail = from_json.unwrap_or(text);
    let detail: String = detail.chars().take(ERROR_BODY_CHARS).collect();
    if detail.trim().is_empty() {
        "(empty body)".into()
    } else {
        detail.trim().to_string()
    }
}
