//! Fuzzes the `connect` handshake: the input becomes the params of the first frame (or the
//! raw first frame when it is not JSON) on an in-memory bridge connection served by a real
//! engine in a temp dir, so `ConnectParams::parse`, negotiation and the auth/device checks
//! all see it. `bridge::connect_params` is private, hence the whole public connection path
//! (`bridge::connection::run_connection`) instead of the parser alone.
#![no_main]

use axum::extract::ws::Message;
use libfuzzer_sys::fuzz_target;
use microclaw_engine::{Engine, EngineOptions};
use microclaw_gateway::bridge::connection::run_connection;
use microclaw_gateway::bridge::limits::Limits;
use microclaw_gateway::bridge::ConnContext;
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

struct World {
    rt: tokio::runtime::Runtime,
    engine: Arc<Engine>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = std::env::temp_dir().join(format!("microclaw-fuzz-{}", std::process::id()));
        let config = microclaw_core::config::load_from_str("", "defaults", Vec::new())
            .expect("the default config loads");
        let engine = rt
            .block_on(async {
                Engine::open(EngineOptions {
                    data_dir: dir,
                    config,
                    clock: None,
                })
            })
            .expect("engine opens in a temp dir");
        World { rt, engine }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let text = String::from_utf8_lossy(data);
    let frame = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(params) => {
            serde_json::json!({"type": "req", "id": "c", "method": "connect", "params": params})
                .to_string()
        }
        Err(_) => text.to_string(),
    };
    let ctx = ConnContext {
        peer: "127.0.0.1:9".parse().expect("addr"),
        cookie_principal: None,
        remote_host: "fuzz".into(),
        slot: None,
        foreign_origin: None,
    };
    let limits = Limits::from_config(&w.engine.config().server);
    let stream = futures_util::stream::iter([Ok::<_, Infallible>(Message::Text(frame.into()))]);
    let sink = futures_util::sink::drain::<Message>();
    w.rt.block_on(run_connection(w.engine.clone(), sink, stream, ctx, limits));
});
