//! The engine: one store, one metrics engine, one run registry, the credentials, and the
//! event fan-out. Both transports (and the desktop shell) hold an `Arc<Engine>`.

use crate::auth::{api_keys::ApiKeys, login_sessions, passwords, secret, throttle::LoginThrottle};
use crate::events::EngineEvent;
use crate::presence::Presence;
use crate::principal::{AuthStamp, Principal, PrincipalKind};
use microclaw_agent::RunRegistry;
use microclaw_core::{Config, Error, Result, ScopeSet, SharedClock, SystemClock};
use microclaw_metrics::{Metrics, MetricsEngine};
use microclaw_store::Store;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub const DB_FILE_NAME: &str = "microclaw.db";
pub const CONFIG_FILE_NAME: &str = "microclaw.toml";

pub struct EngineOptions {
    pub data_dir: PathBuf,
    pub config: Config,
    /// Defaults to the system clock; tests pass a `ManualClock`.
    pub clock: Option<SharedClock>,
}

pub struct Engine {
    config: Config,
    data_dir: PathBuf,
    clock: SharedClock,
    started_at_ms: i64,
    store: Store,
    metrics: Arc<Metrics>,
    metrics_engine: Arc<MetricsEngine>,
    runs: Arc<RunRegistry>,
    pub(crate) api_keys: ApiKeys,
    pub(crate) login_throttle: LoginThrottle,
    setup_token: Mutex<Option<String>>,
    launch_token: String,
    events: broadcast::Sender<EngineEvent>,
    presence: Presence,
    mem_release: Arc<crate::mem_release::MemRelease>,
    background: CancellationToken,
    /// The metrics loop, awaited on shutdown so its last flush lands before the store closes.
    metrics_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// This engine, for moving work onto blocking threads (`blocking_read`).
    self_ref: Weak<Engine>,
    /// The file `PUT /api/config` writes (default `<data_dir>/microclaw.toml`).
    config_file: Mutex<PathBuf>,
    /// The recent log lines `logs.tail` reads (the process ring when a binary installed one).
    log_ring: Arc<crate::log_ring::LogRing>,
    /// The scheduler's in-memory state (jobs in flight, wake-ups).
    scheduler: crate::scheduler::SchedulerState,
    /// Caps, prices and the run guard (`budgets`).
    budgets: Arc<crate::budgets::Budgets>,
    /// Approval waiters and what each run is doing in a tool (`crate::approvals`).
    approvals: crate::approvals::ApprovalState,
    /// Token use per session from finished runs (OpenClaw row fields; `compat`).
    session_usage: crate::compat::UsageBook,
    /// Sessions marked watched (the `monitor` control action; `compat`).
    watched_sessions: crate::compat::WatchList,
    /// Bumped by every [`Engine::emit`]: summaries kept between calls compare it (`status`).
    state_version: std::sync::atomic::AtomicU64,
    /// `status`'s summary parts between changes (`ops::status_cache`).
    status_cache: crate::ops::status_cache::StatusCache,
    /// Serialized list/history replies between changes (`ops::read_cache`).
    read_cache: crate::ops::read_cache::ReadCache,
    /// The last `health` payload as text (`ops::status::health_raw`).
    health_text: crate::ops::status::HealthText,
    /// The last `status` payload as text (`ops::status::status_raw`).
    status_text: crate::ops::status::StatusText,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (creating and migrating) the store in `data_dir` and builds the engine.
    pub fn open(opts: EngineOptions) -> Result<Arc<Engine>> {
        let EngineOptions {
            data_dir,
            config,
            clock,
        } = opts;
        create_private_dir(&data_dir)?;
        let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
        let now = clock.now_ms();
        let store = Store::open(&data_dir.join(DB_FILE_NAME), config.storage.synchronous)?;
        let secret = secret::load_or_create(&data_dir)?;
        let metrics = Metrics::new(clock.clone(), &config.metrics);
        let metrics_engine =
            MetricsEngine::new(metrics.clone(), store.clone(), clock.clone(), &config);
        crate::ops::slo_defs::load_into(&metrics_engine, &data_dir);
        let setup_token = if passwords::has_password(&store)? {
            None
        } else {
            Some(crate::auth::random_hex(16))
        };
        let (events, _) = broadcast::channel(1024);
        let budgets = crate::budgets::Budgets::new(
            &config,
            store.clone(),
            clock.clone(),
            events.clone(),
            metrics.clone(),
        )?;
        let presence = Presence::new(events.clone());
        let config_file = data_dir.join(CONFIG_FILE_NAME);
        let log_ring = crate::log_ring::process_ring()
            .unwrap_or_else(|| crate::log_ring::LogRing::from_config(&config.logging));
        log_ring.set_limits(config.logging.ring_lines, config.logging.ring_bytes);
        let engine = Arc::new_cyclic(|weak: &Weak<Engine>| {
            let agents =
                crate::ops::agent_tools::build_agent_set(&config, weak.clone(), metrics.clone());
            let runs = RunRegistry::new(
                store.clone(),
                metrics.clone(),
                agents,
                clock.clone(),
                &config.sessions,
            );
            let sessions_changed = events.clone();
            let changed_engine = weak.clone();
            runs.set_sessions_sink(Arc::new(move |key, reason| {
                if let Some(e) = changed_engine.upgrade() {
                    e.state_version
                        .fetch_add(1, std::sync::atomic::Ordering::Release);
                }
                let _ = sessions_changed.send(EngineEvent::SessionsChanged {
                    key,
                    reason,
                    row: None,
                });
            }));
            runs.set_budget_guard(Arc::new(crate::budgets::Guard(budgets.clone())));
            let agent_events = events.clone();
            runs.set_agent_event_sink(Arc::new(move |ev| {
                let _ = agent_events.send(EngineEvent::Agent(ev));
            }));
            Engine {
                launch_token: format!("mlt_{}", crate::auth::random_hex(24)),
                config,
                data_dir,
                clock,
                started_at_ms: now,
                store,
                metrics,
                metrics_engine,
                runs,
                api_keys: ApiKeys::new(secret),
                login_throttle: LoginThrottle::default(),
                setup_token: Mutex::new(setup_token),
                events,
                presence,
                mem_release: Arc::default(),
                background: CancellationToken::new(),
                metrics_task: Mutex::new(None),
                self_ref: weak.clone(),
                config_file: Mutex::new(config_file),
                log_ring,
                scheduler: Default::default(),
                budgets,
                approvals: Default::default(),
                session_usage: Default::default(),
                watched_sessions: Default::default(),
                state_version: Default::default(),
                status_cache: Default::default(),
                read_cache: Default::default(),
                health_text: Default::default(),
                status_text: Default::default(),
            }
        });
        Ok(engine)
    }

    /// Starts the background loops (metrics flush, OTLP, alert fan-out). Needs a tokio runtime.
    /// Server mode only (offline CLI commands must not touch a running server's runs): also
    /// marks runs left `running` by a previous process as aborted.
    pub fn start_background(self: &Arc<Self>) {
        // At start, before any request: a blocking write here delays nobody.
        match self.store.runs_mark_interrupted(self.now_ms()) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!("{n} run(s) interrupted by the previous stop were marked aborted")
            }
            Err(e) => tracing::warn!("could not mark interrupted runs: {e}"),
        }
        crate::approvals::restart::end_pending_at_start(self);
        spawn_session_count_refresh(self.clone(), self.background.clone());
        let task = self.metrics_engine.spawn(self.background.clone());
        *self.metrics_task.lock() = Some(task);
        crate::ops::alerts::spawn_alert_fanout(self.clone(), self.background.clone());
        crate::scheduler::spawn(self.clone(), self.background.clone());
        crate::fleet::prober::spawn(self.clone(), self.background.clone());
        crate::compat::spawn(self.clone(), self.background.clone());
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    /// The config file this engine was started from (where config updates are written).
    pub fn config_file(&self) -> PathBuf {
        self.config_file.lock().clone()
    }
    /// The ring of recent log lines (`logs.tail`).
    pub fn log_ring(&self) -> &Arc<crate::log_ring::LogRing> {
        &self.log_ring
    }
    pub fn set_config_file(&self, path: PathBuf) {
        *self.config_file.lock() = path;
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }
    pub fn metrics_engine(&self) -> &Arc<MetricsEngine> {
        &self.metrics_engine
    }
    pub fn runs(&self) -> &Arc<RunRegistry> {
        &self.runs
    }
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    pub fn started_at_ms(&self) -> i64 {
        self.started_at_ms
    }
    pub fn uptime_ms(&self) -> i64 {
        self.uptime_ms_at(self.now_ms())
    }

    /// Uptime at `now_ms` on the engine clock.
    pub fn uptime_ms_at(&self, now_ms: i64) -> i64 {
        (now_ms - self.started_at_ms).max(0)
    }
    /// Caps, prices and their use (`budgets`).
    pub fn budgets(&self) -> &Arc<crate::budgets::Budgets> {
        &self.budgets
    }
    pub fn scheduler(&self) -> &crate::scheduler::SchedulerState {
        &self.scheduler
    }
    pub fn approvals(&self) -> &crate::approvals::ApprovalState {
        &self.approvals
    }
    /// Token use per session (counted by the `compat` loop from finished runs).
    pub fn session_usage(&self) -> &crate::compat::UsageBook {
        &self.session_usage
    }
    /// Sessions marked watched (the `monitor` control action).
    /// Counts [`Engine::emit`] calls: a summary built at one value is stale at another.
    pub fn state_version(&self) -> u64 {
        self.state_version
            .load(std::sync::atomic::Ordering::Acquire)
    }
    /// The last `health` payload as text (`ops::status::health_raw`).
    pub fn health_text(&self) -> &crate::ops::status::HealthText {
        &self.health_text
    }

    /// The last `status` payload as text (`ops::status::status_raw`).
    pub fn status_text(&self) -> &crate::ops::status::StatusText {
        &self.status_text
    }

    /// `status`'s cached summary parts (`ops::status_cache`).
    pub fn status_cache(&self) -> &crate::ops::status_cache::StatusCache {
        &self.status_cache
    }
    /// Serialized list/history replies kept between changes (`ops::read_cache`).
    pub fn read_cache(&self) -> &crate::ops::read_cache::ReadCache {
        &self.read_cache
    }
    pub fn watched_sessions(&self) -> &crate::compat::WatchList {
        &self.watched_sessions
    }
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// Gives freed heap back to the system after a burst of connections ended.
    pub fn mem_release(&self) -> &Arc<crate::mem_release::MemRelease> {
        &self.mem_release
    }
    pub fn launch_token(&self) -> &str {
        &self.launch_token
    }
    /// The one-time setup token, while no password is set.
    pub fn setup_token(&self) -> Option<String> {
        self.setup_token.lock().clone()
    }
    pub(crate) fn close_setup(&self) {
        *self.setup_token.lock() = None;
    }
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }
    /// The number of stored sessions, from memory: kept by the store's committed writes and
    /// re-read from the database every few seconds by a background task (rows written by
    /// another process, e.g. an offline CLI import).
    pub fn session_count(&self) -> i64 {
        self.store.session_count_cached()
    }

    /// Runs blocking engine code (store reads, self-check) on the store's bounded read pool,
    /// never on a tokio worker.
    pub async fn blocking_read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Engine) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let me = self
            .self_ref
            .upgrade()
            .ok_or_else(|| Error::unavailable("the engine is shutting down"))?;
        self.store.read_async(move |_| f(&me)).await
    }

    pub fn emit(&self, event: EngineEvent) {
        self.state_version
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        // No receivers is fine: nobody is connected.
        let _ = self.events.send(event);
    }

    /// Graceful stop: tell clients, let runs finish within the grace period (then abort
    /// them), flush metrics and close the database.
    pub async fn shutdown(&self, reason: &str) {
        self.emit(EngineEvent::Shutdown {
            reason: reason.to_string(),
        });
        self.runs
            .shutdown(Duration::from_millis(self.config.server.shutdown_grace_ms))
            .await;
        self.background.cancel();
        let task = self.metrics_task.lock().take();
        if let Some(task) = task {
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("the metrics loop did not stop within 5 s");
            }
        }
        if let Err(e) = self.metrics_engine.flush() {
            tracing::warn!("final metrics flush failed: {e}");
        }
        self.store.close();
        self.emit(EngineEvent::Closed);
    }

    /// An API key (`mk_…`) or the desktop shell's launch token. The per-key request limit
    /// is not charged here: callers charge each request with `charge_request`.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::unauthorized(
                "missing token: expected an API key (mk_…)",
            ));
        }
        if token.starts_with("mlt_") {
            let ok: bool =
                subtle::ConstantTimeEq::ct_eq(token.as_bytes(), self.launch_token.as_bytes())
                    .into();
            return if ok {
                Ok(Principal {
                    kind: PrincipalKind::Launch,
                    scopes: ScopeSet::all(),
                    actor: "launch".into(),
                    csrf: None,
                    stamp: AuthStamp::default(),
                })
            } else {
                Err(Error::unauthorized("invalid launch token"))
            };
        }
        self.api_keys
            .authenticate(&self.store, token, self.now_ms())
            .await
    }

    /// A login session from the `mc_session` cookie.
    pub async fn authenticate_cookie(&self, session_id: &str) -> Result<Principal> {
        login_sessions::authenticate(
            &self.api_keys.access,
            &self.store,
            session_id,
            self.now_ms(),
        )
        .await
    }

    /// The operator password, under the login throttle for `client_addr`.
    pub async fn authenticate_password(
        &self,
        client_addr: &str,
        password: &str,
    ) -> Result<Principal> {
        let password_revision =
            crate::ops::auth::check_password(self, client_addr, password).await?;
        Ok(Principal {
            kind: PrincipalKind::Password,
            scopes: ScopeSet::all(),
            actor: "password".into(),
            csrf: None,
            stamp: AuthStamp {
                expires_at: None,
                password_revision,
                auth_at: self.now_ms(),
            },
        })
    }
}

/// Re-reads the session count every 5 s (on the writer thread, so no write of this process
/// races it) so rows written by another process show up in `health` without `health` ever
/// touching SQLite.
fn spawn_session_count_refresh(engine: Arc<Engine>, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = every.tick() => {}
            }
            if let Err(e) = engine
                .store
                .write_async(|s| s.refresh_session_count())
                .await
            {
                tracing::debug!("refreshing the session count failed: {e}");
            }
        }
    });
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::internal(format!("cannot create data dir {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}
