//! The gateway: axum HTTP API, WebSocket bridge at GET /, embedded web UI; serve(listener, engine, shutdown).
