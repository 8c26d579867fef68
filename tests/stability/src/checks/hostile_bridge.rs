//! Promise 3 (bridge): the hostile corpus gets its documented errors, a well-behaved client
//! keeps being served throughout, and the server's memory stays bounded.

use super::canary::Canary;
use super::hostile_bridge_cases::{self as case, deep};
use crate::bridge::{connect_frame, Conn};
use crate::cli;
use crate::env::Env;
use crate::procfs;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Default `server.max_payload_bytes`.
const MAX_PAYLOAD: usize = 1 << 20;
/// Peak resident growth allowed over the whole corpus.
const RSS_GROWTH_LIMIT_KB: u64 = 200 * 1024;
/// The longest a well-behaved client may wait for `health` meanwhile.
const CANARY_MAX_MS: u64 = 2000;

/// Catches: panics or hangs on bad frames, errors that differ from the protocol doc,
/// connections that die on one bad frame (or never die under a stream of them), unbounded
/// buffering of huge or many frames, and one abusive client starving the others.
pub async fn run(env: &Env) -> CheckResult {
    let dir = env.data_dir("hostile-bridge");
    let admin = cli::create_key(env, &dir, "hostile-admin", "operator.admin").await?;
    // The per-key limit counts bridge requests too: off here, so the floods test the frame
    // handling, not the limiter (the throttle checks cover that).
    let mut o = StartOpts::new("hostile-bridge", &dir)
        .set("MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE", 0);
    o.debug_log = true;
    let server = Server::start(env, &o).await?;
    let addr = server.addr;
    let rss_before = procfs::rss_kb(server.pid)?;
    let canary = Canary::start(addr, &admin, Duration::from_millis(100)).await?;
    let mut failures: Vec<String> = Vec::new();
    let mut cases = 0;
    let mut note = |name: &str, r: Result<(), String>| {
        cases += 1;
        if let Err(e) = r {
            failures.push(format!("{name}: {e}"));
        }
    };

    // Before connect.
    note(
        "first frame not JSON",
        case::first_frame(
            addr,
            Message::text("{not json"),
            Some("INVALID_REQUEST"),
            None,
            1008,
        )
        .await,
    );
    note(
        "first frame not connect",
        case::first_frame(
            addr,
            Message::text(json!({"type":"req","id":"1","method":"health"}).to_string()),
            Some("INVALID_REQUEST"),
            None,
            1008,
        )
        .await,
    );
    note(
        "first frame binary",
        case::first_frame(
            addr,
            Message::binary(vec![0u8, 159, 146, 150]),
            Some("INVALID_REQUEST"),
            None,
            1008,
        )
        .await,
    );
    note(
        "connect with wrong types",
        case::first_frame(
            addr,
            case::connect_params(json!({"minProtocol":"3","maxProtocol":[4]})),
            Some("INVALID_REQUEST"),
            None,
            1008,
        )
        .await,
    );
    note(
        "connect deeply nested",
        case::first_frame(
            addr,
            Message::text(format!(
                "{{\"type\":\"req\",\"id\":\"c\",\"method\":\"connect\",\"params\":{}}}",
                deep(100_000)
            )),
            Some("INVALID_REQUEST"),
            None,
            1008,
        )
        .await,
    );
    note(
        "connect bad token p4",
        case::first_frame(
            addr,
            Message::text(connect_frame("c", "mk_00000000000000000000000000000000", 4)),
            Some("INVALID_REQUEST"),
            Some("AUTH_TOKEN_MISMATCH"),
            1008,
        )
        .await,
    );
    note(
        "connect bad token p3",
        case::first_frame(
            addr,
            Message::text(connect_frame("c", "not-a-key", 3)),
            Some("UNAUTHORIZED"),
            None,
            1008,
        )
        .await,
    );
    note(
        "protocol mismatch",
        case::first_frame(
            addr,
            case::connect_params(json!({"minProtocol":5,"maxProtocol":6,"auth":{"token":admin}})),
            Some("INVALID_REQUEST"),
            Some("PROTOCOL_MISMATCH"),
            1002,
        )
        .await,
    );
    note(
        "oversized first frame",
        case::first_frame(
            addr,
            Message::text("x".repeat(MAX_PAYLOAD + 1024)),
            None,
            None,
            1009,
        )
        .await,
    );

    // After connect: one connection takes every recoverable case and must stay usable.
    match Conn::connect(addr, &admin, 4).await {
        Err(e) => note("connect", Err(e)),
        Ok(mut c) => {
            note(
                "bad JSON",
                case::malformed_stays_open(&mut c, "{\"type\":\"req\",".into(), "INVALID_REQUEST")
                    .await,
            );
            note(
                "response-typed frame",
                case::malformed_stays_open(
                    &mut c,
                    json!({"type":"res","id":"1","ok":true}).to_string(),
                    "INVALID_REQUEST",
                )
                .await,
            );
            note(
                "missing id",
                case::malformed_stays_open(
                    &mut c,
                    json!({"type":"req","method":"health"}).to_string(),
                    "INVALID_REQUEST",
                )
                .await,
            );
            note(
                "not an object",
                case::malformed_stays_open(&mut c, "[1,2,3]".into(), "INVALID_REQUEST").await,
            );
            note(
                "deep nesting",
                case::malformed_stays_open(
                    &mut c,
                    format!(
                        "{{\"type\":\"req\",\"id\":\"d\",\"method\":\"health\",\"params\":{}}}",
                        deep(100_000)
                    ),
                    "INVALID_REQUEST",
                )
                .await,
            );
            note("binary frame", case::binary_stays_open(&mut c).await);
            note(
                "wrong types chat.send",
                case::bad_params(
                    &mut c,
                    "chat.send",
                    json!({"sessionKey": 5, "message": ["x"]}),
                )
                .await,
            );
            note(
                "wrong level",
                case::bad_params(
                    &mut c,
                    "sessions.setThinking",
                    json!({"sessionKey": "h", "level": "loud"}),
                )
                .await,
            );
            note(
                "wrong limit type",
                case::bad_params(
                    &mut c,
                    "chat.history",
                    json!({"sessionKey": "h", "limit": "ten"}),
                )
                .await,
            );
            note(
                "params not an object",
                case::bad_params(&mut c, "chat.send", json!("just a string")).await,
            );
            note(
                "unknown method",
                case::unknown_method(&mut c, "INVALID_REQUEST").await,
            );
            note("second connect", case::second_connect(&mut c).await);
            note("huge label", case::huge_string(&mut c).await);
            note("still serves", case::still_serves(&mut c).await);
            c.close().await;
        }
    }
    note(
        "unknown method p3",
        async {
            let mut c = Conn::connect(addr, &admin, 3).await?;
            case::unknown_method(&mut c, "METHOD_NOT_FOUND").await
        }
        .await,
    );
    note(
        "malformed burst closes",
        async {
            let mut c = Conn::connect(addr, &admin, 4).await?;
            for i in 0..20 {
                c.send_text(format!("bad frame {i}")).await?;
            }
            case::closes_with(&mut c, Message::text("one too many"), 1008).await
        }
        .await,
    );
    note(
        "oversized frame",
        async {
            let mut c = Conn::connect(addr, &admin, 4).await?;
            case::closes_with(&mut c, Message::text("y".repeat(MAX_PAYLOAD + 1)), 1009).await
        }
        .await,
    );
    let mut utf8_close = None;
    note(
        "invalid UTF-8",
        async {
            let mut c = Conn::connect(addr, &admin, 3).await?;
            utf8_close = case::invalid_utf8(&mut c).await?;
            Ok(())
        }
        .await,
    );
    let mut flood_note = String::new();
    note(
        "10,000 tiny frames",
        async {
            let mut c = Conn::connect(addr, &admin, 3).await?;
            flood_note = case::flood(&mut c, 10_000).await?;
            c.close().await;
            Ok(())
        }
        .await,
    );

    let stats = canary.finish().await;
    let hwm = procfs::status_kb(server.pid, "VmHWM").unwrap_or(0);
    let alive = Conn::connect(addr, &admin, 4).await.map(|_| ());
    let _ = server.stop(Duration::from_secs(15)).await;
    match stats {
        Err(e) => failures.push(e),
        Ok(s) if s.max() > CANARY_MAX_MS => failures.push(format!(
            "a well-behaved client waited {} ms for health (limit {CANARY_MAX_MS})",
            s.max()
        )),
        Ok(_) => {}
    }
    if let Err(e) = alive {
        failures.push(format!("a new client cannot connect after the corpus: {e}"));
    }
    if hwm.saturating_sub(rss_before) > RSS_GROWTH_LIMIT_KB {
        failures.push(format!(
            "peak RSS grew {} MB during the corpus (limit {} MB)",
            (hwm - rss_before) / 1024,
            RSS_GROWTH_LIMIT_KB / 1024
        ));
    }
    if failures.is_empty() {
        Ok(format!("{cases} cases ok (invalid UTF-8 closed with {utf8_close:?}); RSS {} MB → peak {} MB; {flood_note}", rss_before / 1024, hwm / 1024))
    } else {
        Err(failures.join("; "))
    }
}
