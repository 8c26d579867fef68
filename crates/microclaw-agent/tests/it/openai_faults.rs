//! Provider faults: each ends the run in an error with a clear message, promptly.

use crate::openai_backend::backend;
use crate::provider::{self, delta, finish, sse, status, Ending, Provider};
use microclaw_agent::openai::OpenAiAgent;
use microclaw_agent::{Agent, AgentRequest, AgentUsage};
use microclaw_core::config::AgentBackendConfig;
use microclaw_core::ThinkingLevel;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs the agent once; returns the streamed text, the result and how long it took.
async fn run_once(cfg: AgentBackendConfig) -> (String, Result<AgentUsage, String>, Duration) {
    let agent = OpenAiAgent::new("gpt", &cfg, None, None).unwrap();
    let req = AgentRequest {
        run_id: "r1".into(),
        session_key: "main".into(),
        message: "hello".into(),
        history: vec![],
        thinking_level: ThinkingLevel::Off,
        model: None,
        tool_events: None,
    };
    let (tx, mut rx) = mpsc::channel(64);
    let t0 = Instant::now();
    let fut = agent.run(req, tx, CancellationToken::new());
    let collect = async {
        let mut text = String::new();
        while let Some(chunk) = rx.recv().await {
            text.push_str(&chunk);
        }
        text
    };
    let both = async { tokio::join!(fut, collect) };
    let (result, text) = tokio::time::timeout(Duration::from_secs(10), both)
        .await
        .expect("bounded");
    (text, result, t0.elapsed())
}

fn fast(p: &Provider) -> AgentBackendConfig {
    AgentBackendConfig {
        request_timeout_ms: 300,
        max_retries: 1,
        ..backend(p, None)
    }
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let cfg = AgentBackendConfig {
        base_url: format!("http://{addr}/v1"),
        model: "m".into(),
        max_retries: 1,
        request_timeout_ms: 500,
        ..Default::default()
    };
    let (_, res, took) = run_once(cfg).await;
    let err = res.unwrap_err();
    assert!(
        err.contains("could not connect") && err.contains("gave up after 2 attempts"),
        "{err}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_provider_that_never_answers_times_out() {
    let p = provider::spawn(std::sync::Arc::new(|_, _| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            status(200, &[], json!({}))
        })
    }))
    .await;
    let (_, res, took) = run_once(AgentBackendConfig {
        max_retries: 0,
        ..fast(&p)
    })
    .await;
    let err = res.unwrap_err();
    assert!(err.contains("did not answer within 300 ms"), "{err}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn rate_limits_honour_retry_after_and_then_succeed() {
    let p = provider::spawn(provider::handler(|_, n| {
        if n == 0 {
            status(
                429,
                &[("retry-after", "1")],
                json!({"error": {"message": "slow down"}}),
            )
        } else {
            sse(
                vec![delta("ok"), finish()],
                Duration::ZERO,
                Ending::Done,
                None,
            )
        }
    }))
    .await;
    let (text, res, took) = run_once(fast(&p)).await;
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(text, "ok");
    assert_eq!(p.count(), 2, "one refused attempt, one retry");
    assert!(
        took >= Duration::from_millis(950),
        "Retry-After: 1 was honoured, took {took:?}"
    );
}

#[tokio::test]
async fn persistent_rate_limiting_ends_in_error_after_max_retries() {
    let p = provider::spawn(provider::handler(|_, _| {
        status(
            429,
            &[("retry-after", "0")],
            json!({"error": {"message": "quota exceeded"}}),
        )
    }))
    .await;
    let (_, res, _) = run_once(fast(&p)).await;
    let err = res.unwrap_err();
    assert!(
        err.contains("429") && err.contains("quota exceeded") && err.contains("2 attempts"),
        "{err}"
    );
    assert_eq!(p.count(), 2, "max_retries = 1 means two attempts");
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let p = provider::spawn(provider::handler(|_, _| {
        status(503, &[], json!({"error": {"message": "overloaded"}}))
    }))
    .await;
    let err = run_once(fast(&p)).await.1.unwrap_err();
    assert!(
        err.contains("HTTP 503") && err.contains("overloaded"),
        "{err}"
    );
    assert_eq!(p.count(), 2);

    let p = provider::spawn(provider::handler(|_, _| {
        status(401, &[], json!({"error": {"message": "bad key"}}))
    }))
    .await;
    let err = run_once(fast(&p)).await.1.unwrap_err();
    assert!(err.contains("HTTP 401") && err.contains("bad key"), "{err}");
    assert_eq!(p.count(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_malformed_sse_line_ends_in_error() {
    let p = provider::spawn(provider::handler(|_, _| {
        sse(
            vec![delta("partial "), "{not json".into()],
            Duration::ZERO,
            Ending::Done,
            None,
        )
    }))
    .await;
    let (text, res, _) = run_once(fast(&p)).await;
    assert!(res.unwrap_err().contains("malformed SSE data"));
    assert_eq!(
        text, "partial ",
        "what arrived before the bad line was streamed"
    );
}

#[tokio::test]
async fn a_stream_cut_mid_reply_ends_in_error() {
    let p = provider::spawn(provider::handler(|_, _| {
        sse(
            vec![delta("half a "), delta("sentence")],
            Duration::from_millis(5),
            Ending::Cut,
            None,
        )
    }))
    .await;
    let (text, res, took) = run_once(fast(&p)).await;
    let err = res.unwrap_err();
    assert!(err.contains("cut mid-reply"), "{err}");
    assert_eq!(text, "half a sentence");
    assert!(took < Duration::from_secs(2));
}

#[tokio::test]
async fn a_stream_that_stalls_ends_in_error() {
    let p = provider::spawn(provider::handler(|_, _| {
        sse(
            vec![delta("a"), delta("b")],
            Duration::from_secs(5),
            Ending::Done,
            None,
        )
    }))
    .await;
    let (_, res, took) = run_once(AgentBackendConfig {
        max_retries: 0,
        ..fast(&p)
    })
    .await;
    let err = res.unwrap_err();
    assert!(
        err.contains("stalled") || err.contains("did not answer"),
        "{err}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_missing_api_key_variable_is_named_and_nothing_is_sent() {
    let p = provider::spawn(provider::handler(|_, _| status(200, &[], json!({})))).await;
    let cfg = backend(&p, Some("MICROCLAW_TEST_KEY_THAT_IS_NEVER_SET"));
    let agent = OpenAiAgent::new("gpt", &cfg, None, None).unwrap();
    assert!(
        agent
            .status()
            .contains("MICROCLAW_TEST_KEY_THAT_IS_NEVER_SET"),
        "agents.list shows why"
    );
    let err = run_once(cfg).await.1.unwrap_err();
    assert!(
        err.contains("MICROCLAW_TEST_KEY_THAT_IS_NEVER_SET is not set"),
        "{err}"
    );
    assert_eq!(p.count(), 0);
}

#[tokio::test]
async fn https_to_a_server_that_does_not_speak_tls_fails_promptly_with_an_error() {
    // rustls is built in: an https base URL is attempted, and a peer that answers plain
    // HTTP ends the run in an error instead of hanging.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let cfg = AgentBackendConfig {
        base_url: format!("https://127.0.0.1:{port}/v1"),
        model: "m".into(),
        max_retries: 0,
        request_timeout_ms: 3_000,
        ..Default::default()
    };
    let agent = OpenAiAgent::new("gpt", &cfg, None, None).unwrap();
    assert!(!agent.status().contains("TLS"), "{}", agent.status());
    let started = std::time::Instant::now();
    let err = run_once(cfg).await.1.unwrap_err();
    assert!(!err.is_empty());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "must not hang"
    );
}

#[test]
fn bad_base_urls_are_refused_at_config_time() {
    let cfg = AgentBackendConfig {
        base_url: "not a url".into(),
        model: "m".into(),
        ..Default::default()
    };
    let err = OpenAiAgent::new("gpt", &cfg, None, None).unwrap_err();
    assert!(
        err.message.contains("agents.gpt.base_url"),
        "{}",
        err.message
    );
}
