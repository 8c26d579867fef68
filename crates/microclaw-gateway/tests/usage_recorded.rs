//! Usage recorded per run and summed per session, agent, model and day, with a real
//! OpenAI-compatible provider: the provider's `usage` when it sends one, characters / 4
//! (`estimated:true`) when it does not; an unpriced model has cost null, never a guess.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod usage_support;

use serde_json::json;
use usage_support::{config, gateway, provider, run, Script};

const READ_WRITE: &[&str] = &["operator.read", "operator.write"];

#[tokio::test]
async fn provider_usage_is_priced_recorded_and_summed_and_missing_usage_is_estimated() {
    let p = provider().await;
    let gw = gateway(config(&p.base_url)).await;
    let mut c = gw.client(READ_WRITE, false).await;

    // 1. The provider reports usage: exact counts, priced at $2 / $10 per Mtok.
    p.push(Script::text("hello there", Some((1_000, 500))));
    let evs = run(&mut c, "alpha", "hi").await;
    let last = &evs.last().unwrap()["payload"];
    assert_eq!(last["state"], "final", "{last}");
    let u = &last["usage"];
    assert_eq!(
        (
            u["inputTokens"].as_u64(),
            u["outputTokens"].as_u64(),
            u["totalTokens"].as_u64()
        ),
        (Some(1_000), Some(500), Some(1_500)),
        "{u}"
    );
    assert_eq!(u["estimated"], false);
    let cost = u["costUsd"].as_f64().unwrap();
    assert!(
        (cost - 0.007).abs() < 1e-9,
        "1000*2/1e6 + 500*10/1e6 = 0.007, got {cost}"
    );

    // 2. No usage from the provider: estimated from characters (40 chars → 10 tokens).
    p.push(Script::text(&"x".repeat(40), None));
    let evs = run(&mut c, "alpha", "again").await;
    let u = &evs.last().unwrap()["payload"]["usage"];
    assert_eq!(u["estimated"], true, "{u}");
    assert_eq!(u["outputTokens"].as_u64(), Some(10), "{u}");
    assert!(u["inputTokens"].as_u64().unwrap() > 0, "{u}");

    // 3. An agent whose model has no price: cost null.
    p.push(Script::text("free", Some((10, 5))));
    let res = c
        .call("sessions.spawn", json!({"task": "x", "model": "free"}))
        .await;
    let run_id = res["runId"].as_str().unwrap().to_string();
    let beta = res["key"].as_str().unwrap().to_string();
    let evs = c.run_events(&run_id).await;
    let u = &evs.last().unwrap()["payload"]["usage"];
    assert!(u["costUsd"].is_null(), "unknown model → null cost: {u}");
    assert_eq!(u["totalTokens"], 15);

    // Summed: usage.cost (OpenClaw's shape plus ours).
    let cost = c.call("usage.cost", json!({"days": 7})).await;
    assert_eq!(cost["days"], 7);
    assert_eq!(
        cost["daily"].as_array().unwrap().len(),
        7,
        "missing days are zero rows"
    );
    let today = cost["daily"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(today["date"], "2026-12-01");
    let t = &cost["totals"];
    assert_eq!(t["runs"], 3);
    assert_eq!(t["estimatedRuns"], 1);
    assert_eq!(t["missingCostEntries"], 1, "{t}");
    assert_eq!(t["missingCostByModel"]["unpriced-model"], 1, "{t}");
    let total_tokens = t["totalTokens"].as_u64().unwrap();
    assert_eq!(
        total_tokens,
        t["input"].as_u64().unwrap() + t["output"].as_u64().unwrap()
    );
    assert_eq!(today["totalTokens"].as_u64(), Some(total_tokens));
    let by_agent = cost["byAgent"].as_array().unwrap();
    assert_eq!(by_agent.len(), 2, "{by_agent:?}");
    let paid = by_agent.iter().find(|a| a["agentId"] == "paid").unwrap();
    assert_eq!(paid["runs"], 2);
    let by_model = cost["byModel"].as_array().unwrap();
    assert_eq!(
        by_model[0]["model"], "priced-model",
        "sorted by cost: {by_model:?}"
    );
    assert_eq!(by_model[0]["priced"], true);
    let top = cost["topSessions"].as_array().unwrap();
    assert_eq!(top[0]["key"], "alpha", "{top:?}");
    assert_eq!(top[1]["key"], beta.as_str());
    assert_eq!(top[1]["totalTokens"], 15);

    // sessions.usage for one session.
    let su = c.call("sessions.usage", json!({"key": "alpha"})).await;
    let s = &su["sessions"][0];
    assert_eq!(s["key"], "alpha");
    assert_eq!(s["usage"]["runs"], 2);
    assert_eq!(s["usage"]["dailyBreakdown"][0]["date"], "2026-12-01");
    assert_eq!(su["totals"]["totalTokens"], top[0]["totalTokens"]);

    // HTTP: the same numbers, the CSV export, and the Prometheus counters by model.
    let key = gw.key(&["operator.read"]);
    let http = gw.http();
    let body: serde_json::Value = http
        .get(gw.url("/api/usage?days=7"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["totals"], cost["totals"]);
    let bad = http
        .get(gw.url("/api/usage?days=0"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: serde_json::Value = bad.json().await.unwrap();
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 36600"),
        "{bad}"
    );
    let csv = http
        .get(gw.url("/api/usage/export?days=7&format=csv"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("date,agent_id,model,runs,input_tokens"),
        "{csv}"
    );
    assert!(
        lines.contains(&"2026-12-01,free,unpriced-model,1,10,5,15,,1,0"),
        "an unpriced line has an empty cost: {csv}"
    );
    let prom = http
        .get(gw.url("/metrics"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        prom.contains(
            "microclaw_llm_model_tokens_total{model=\"unpriced-model\",kind=\"input\"} 10"
        ),
        "{prom}"
    );
    assert!(prom.contains("microclaw_llm_model_cost_usd_total{model=\"priced-model\"}"));
}
