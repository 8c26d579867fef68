//! The engine and its gateway running inside the desktop process: opened before the window,
//! served on loopback (the configured port, or a free one when it is taken), and stopped
//! gracefully on quit.

use anyhow::Context;
use microclaw_core::Config;
use microclaw_engine::{Engine, EngineOptions};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Slack on top of `server.shutdown_grace_ms` for flushing metrics and closing connections.
const STOP_SLACK: Duration = Duration::from_secs(5);

pub struct EngineHost {
    engine: Arc<Engine>,
    addr: SocketAddr,
    stop: CancellationToken,
    serve: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
}

impl EngineHost {
    /// Opens the engine in `data_dir`, starts its background loops and serves the gateway on
    /// 127.0.0.1. Must run inside the tokio runtime.
    pub async fn start(data_dir: PathBuf, config: Config) -> anyhow::Result<EngineHost> {
        if !is_loopback_host(&config.server.host) {
            tracing::info!(
                "server.host = {:?} is ignored by the desktop app: it serves on 127.0.0.1 only",
                config.server.host
            );
        }
        let port = config.server.port;
        let shown_dir = data_dir.display().to_string();
        let engine = Engine::open(EngineOptions {
            data_dir,
            config,
            clock: None,
        })
        .with_context(|| format!("opening the engine in {shown_dir}"))?;
        engine.start_background();
        let listener = bind_loopback(port).await?;
        let addr = listener
            .local_addr()
            .context("reading the gateway's local address")?;
        let stop = CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        let serve = tokio::spawn(microclaw_gateway::serve(listener, engine.clone(), signal));
        tracing::info!("gateway listening on http://{addr}/");
        Ok(EngineHost {
            engine,
            addr,
            stop,
            serve: Mutex::new(Some(serve)),
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The UI's address, which the window loads (same origin as the API and the bridge).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// False once the gateway task has ended (it failed, or it was stopped).
    pub async fn serving(&self) -> bool {
        self.serve
            .lock()
            .await
            .as_ref()
            .is_some_and(|h| !h.is_finished())
    }

    /// Graceful stop: the gateway stops accepting, bridge clients get `shutdown`, runs end
    /// within the grace period, metrics are flushed and the database is closed. Waits at most
    /// the grace period plus a few seconds; a second call returns at once.
    pub async fn stop(&self) -> anyhow::Result<()> {
        let Some(handle) = self.serve.lock().await.take() else {
            return Ok(());
        };
        self.stop.cancel();
        let limit =
            Duration::from_millis(self.engine.config().server.shutdown_grace_ms) + STOP_SLACK;
        match tokio::time::timeout(limit, handle).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(anyhow::anyhow!("the gateway stopped with an error: {e}")),
            Ok(Err(join)) => Err(anyhow::anyhow!("the gateway task failed: {join}")),
            Err(_) => {
                // Connections still open after the grace period: the engine was already told to
                // stop before the server waited on them, so shut it down (idempotent) and go.
                self.engine.shutdown("desktop quit").await;
                Err(anyhow::anyhow!(
                    "the gateway did not stop within {} ms",
                    limit.as_millis()
                ))
            }
        }
    }
}

/// Binds 127.0.0.1:`preferred`, or a free port when that one is taken (or `preferred` is 0).
pub async fn bind_loopback(preferred: u16) -> anyhow::Result<TcpListener> {
    if preferred != 0 {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, preferred)).await {
            Ok(l) => return Ok(l),
            Err(e) => tracing::info!("port {preferred} is not available ({e}); using a free port"),
        }
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("binding a free port on 127.0.0.1")
}

fn is_loopback_host(host: &str) -> bool {
    matches!(
        host.trim(),
        "" | "127.0.0.1" | "localhost" | "::1" | "[::1]"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn http_get(addr: SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
            .await
            .unwrap()
            .unwrap();
        out
    }

    #[tokio::test]
    async fn a_taken_port_falls_back_to_a_free_one() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = taken.local_addr().unwrap().port();
        let l = bind_loopback(port).await.unwrap();
        let got = l.local_addr().unwrap();
        assert!(
            got.ip().is_loopback(),
            "the desktop app only listens on loopback"
        );
        assert_ne!(got.port(), port, "the busy port must not be reused");
    }

    #[tokio::test]
    async fn serves_the_gateway_on_loopback_and_stops_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.server.port = 0;
        config.server.shutdown_grace_ms = 500;
        let host = EngineHost::start(dir.path().to_path_buf(), config)
            .await
            .unwrap();
        assert!(
            host.url().starts_with("http://127.0.0.1:"),
            "{}",
            host.url()
        );
        assert!(host.serving().await);
        assert!(
            host.engine().launch_token().starts_with("mlt_"),
            "the window gets a launch token"
        );

        let reply = http_get(host.addr(), "/").await;
        assert!(
            reply.starts_with("HTTP/1.1 200"),
            "GET / serves the UI page: {reply:.200}"
        );

        host.stop().await.unwrap();
        assert!(!host.serving().await, "the gateway task has ended");
        assert!(
            tokio::net::TcpStream::connect(host.addr()).await.is_err(),
            "nothing listens after stop"
        );
        host.stop().await.unwrap(); // a second quit is harmless
        assert!(
            dir.path().join(microclaw_engine::DB_FILE_NAME).exists(),
            "the database lives in the data dir"
        );
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("localhost"));
        assert!(!is_loopback_host("0.0.0.0"));
    }
}
