//! The checks, grouped by the promises, and the order they run in.

mod canary;
mod churn;
mod crash;
mod crash_verify;
mod crash_writers;
mod hostile_bridge;
mod hostile_bridge_cases;
mod hostile_http;
mod load;
mod security;
mod shutdown;
mod slo;
mod slow_reader;
mod throttle;

use crate::env::Env;
use crate::report::{CheckResult, Report};
use std::future::Future;

pub struct Plan {
    pub cycles: usize,
    pub seed: u64,
    pub only: Option<Vec<String>>,
}

impl Plan {
    fn wants(&self, group: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|g| g == group))
    }
}

/// Runs one check function, timing it, and records its outcome.
pub async fn timed(
    report: &mut Report,
    name: &str,
    promise: u8,
    f: impl Future<Output = CheckResult>,
) {
    let t = std::time::Instant::now();
    let r = f.await;
    report.record(name, promise, r, t.elapsed().as_secs_f64());
}

pub async fn run_all(env: &Env, report: &mut Report, plan: &Plan) {
    // The throttle checks mostly sleep (Retry-After): they run beside the crash cycles.
    let throttles = plan.wants("throttle").then(|| {
        let env = env.clone();
        tokio::spawn(async move { throttle::run(&env).await })
    });
    if plan.wants("crash") {
        crash::run(env, report, plan.cycles, plan.seed).await;
    }
    if let Some(t) = throttles {
        match t.await {
            Ok(results) => {
                for (name, r, secs) in results {
                    report.record(name, 2, r, secs);
                }
            }
            Err(e) => report.record(
                "throttles",
                2,
                Err(format!("throttle task failed: {e}")),
                0.0,
            ),
        }
    }
    if plan.wants("hostile") {
        timed(report, "hostile_bridge_frames", 3, hostile_bridge::run(env)).await;
        timed(report, "hostile_http_bodies", 3, hostile_http::run(env)).await;
    }
    if plan.wants("load") {
        timed(report, "load_2000_connections", 4, load::run(env)).await;
    }
    if plan.wants("slow_reader") {
        timed(report, "slow_reader_disconnected", 4, slow_reader::run(env)).await;
    }
    if plan.wants("churn") {
        timed(report, "churn_1000_no_leak", 4, churn::run(env)).await;
    }
    if plan.wants("shutdown") {
        timed(
            report,
            "graceful_shutdown_under_load",
            5,
            shutdown::run(env),
        )
        .await;
    }
    if plan.wants("slo") {
        slo::run(env, report).await;
    }
    if plan.wants("security") {
        timed(
            report,
            "security_loopback_default",
            7,
            security::loopback_default(env),
        )
        .await;
        timed(
            report,
            "security_off_loopback_self_check_high",
            7,
            security::off_loopback(env),
        )
        .await;
        // Last: it scans the logs of every process the run started.
        timed(
            report,
            "security_no_secrets_in_logs",
            7,
            security::no_secrets_in_logs(env),
        )
        .await;
    }
}
