#![allow(clippy::unwrap_used)]
mod common;

use common::*;
use microclaw_metrics::slo_file::{builtin, parse, DEFAULT_SLOS_TOML};

#[test]
fn the_builtin_file_parses_into_the_workbook_tiers() {
    let defs = parse("default", DEFAULT_SLOS_TOML).unwrap();
    assert_eq!(defs, builtin());
    let success = defs
        .iter()
        .find(|d| d.name == "request_success_rate")
        .unwrap();
    assert_eq!(success.objective, 0.995);
    let tiers: Vec<(String, f64, String)> = success
        .alerts
        .iter()
        .map(|a| (a.window(), a.factor, a.severity.clone()))
        .collect();
    assert_eq!(
        tiers,
        [
            ("1h/5m".to_string(), 14.4, "page".to_string()),
            ("6h/30m".to_string(), 6.0, "page".to_string()),
            ("3d/6h".to_string(), 1.0, "ticket".to_string()),
        ]
    );
    assert_eq!(success.min_samples, 30);
    let sched = defs
        .iter()
        .find(|d| d.name == "scheduler_recoverability_7d")
        .unwrap();
    assert_eq!(sched.objective, 0.999);
}

#[test]
fn errors_name_the_line_and_what_is_expected() {
    let text = "[[slo]]\nname = \"checkout\"\nobjective = 1.5\nsli = \"request_success\"\n\n[[slo.alert]]\nlong = \"5m\"\nshort = \"1h\"\nfactor = 14.4\nseverity = \"urgent\"\n";
    let errs = parse("slos.toml", text).unwrap_err();
    let all = errs.join("\n");
    assert!(
        all.contains("slos.toml line 3: objective 1.5 must be between 0 and 1"),
        "{all}"
    );
    assert!(
        all.contains("slos.toml line 8: short window '1h' must be shorter"),
        "{all}"
    );
    assert!(
        all.contains("slos.toml line 10: severity 'urgent' must be \"page\" or \"ticket\""),
        "{all}"
    );
    let errs = parse(
        "slos.toml",
        "[[slo]]\nname = \"x\"\nobjective = 0.99\nsli = \"latency\"\n",
    )
    .unwrap_err();
    assert!(
        errs[0].starts_with("slos.toml line 4: sli 'latency' is not known; expected one of"),
        "{errs:?}"
    );
    let errs = parse(
        "slos.toml",
        "[[slo]]\nname = \"x\"\nobjective = 0.99\nsli = \"request_success\"\ncolour = 1\n",
    )
    .unwrap_err();
    assert!(
        errs[0].starts_with("slos.toml line 5:") && errs[0].contains("colour"),
        "{errs:?}"
    );
    let errs = parse("slos.toml", "[[slo]\nname = 1\n").unwrap_err();
    assert!(errs[0].starts_with("slos.toml line 1:"), "{errs:?}");
}

#[test]
fn a_file_slo_appears_in_the_summary_and_fires_without_for() {
    let r = rig();
    let text = "[[slo]]\nname = \"chat_ok\"\nobjective = 0.9\nsli = \"request_success\"\nwindow_days = 7\nmin_samples = 10\n\n[[slo.alert]]\nlong = \"10m\"\nshort = \"2m\"\nfactor = 2.0\nseverity = \"page\"\nfor = \"0m\"\nkeep_firing_for = \"0m\"\n";
    r.engine.set_slo_defs(parse("slos.toml", text).unwrap());
    let mut rx = r.engine.subscribe_alerts();
    runs(&r.metrics, 10, "final", 100);
    runs(&r.metrics, 10, "error", 100);
    r.engine.flush().unwrap();
    let e = rx.try_recv().unwrap();
    assert_eq!(
        (e.rule.as_str(), e.state.as_str()),
        ("chat_ok:page:10m/2m", "firing")
    );
    assert!(
        (e.burn_rate - 5.0).abs() < 1e-9,
        "error ratio 0.5 / budget 0.1: {}",
        e.burn_rate
    );
    let s = r.engine.summary();
    assert_eq!(s["slo"]["chat_ok"]["state"], "burning");
    assert_eq!(s["slo"]["chat_ok"]["value"], 0.5);
    assert_eq!(s["error_budget"]["chat_ok"]["period_days"], 7);
    r.clock.advance_ms(MIN * 3);
    runs(&r.metrics, 100, "final", 100);
    r.engine.flush().unwrap();
    assert_eq!(rx.try_recv().unwrap().state, "resolved");
}
