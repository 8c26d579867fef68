//! `GET /api/metrics/history` through a real listener: the automatic step, the columns form,
//! validation of `step` / `limit` / `format`, and the summary's no-data SLOs.

mod http_common;

use http_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_steps_columns_and_validation() {
    let api = start().await;
    let key = Cred::bearer(&api.key(&["operator.read"]));

    let r = api.get("/api/metrics/history?minutes=43200", &key).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["step_seconds"], 1800, "automatic step for 30 days");
    let points = r.json["points"].as_array().unwrap();
    assert!(
        points.len() <= 2000 && points.len() > 1000,
        "{}",
        points.len()
    );
    assert_eq!(points[0]["http_requests"], 0, "points stay zero-filled");

    let r = api
        .get("/api/metrics/history?minutes=43200&format=columns", &key)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ts = r.json["timestamps"].as_array().unwrap();
    let series = r.json["series"].as_object().unwrap();
    assert!(ts.len() <= 2000);
    assert_eq!(series["request_ok"].as_array().unwrap().len(), ts.len());
    assert!(series["request_ok"][0].is_null(), "no data is null, not 0");
    assert!(r.text.len() < 200_000, "{} bytes", r.text.len());

    let r = api
        .get("/api/metrics/history?minutes=120&step=600", &key)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["step_seconds"], 600);

    for (q, what) in [
        ("minutes=60&step=90", "step=90"),
        ("minutes=60&step=7200", "step=7200"),
        ("minutes=60&limit=0", "limit=0"),
        ("minutes=60&format=table", "points or columns"),
    ] {
        let r = api.get(&format!("/api/metrics/history?{q}"), &key).await;
        r.assert_error(400, "INVALID_REQUEST", q);
        assert!(r.message().contains(what), "{q}: {}", r.message());
    }

    let r = api.get("/api/metrics/summary", &key).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let slo = &r.json["slo"]["tool_reliability"];
    assert!(slo["value"].is_null(), "{slo}");
    assert_eq!(slo["state"], "no_data");
}
