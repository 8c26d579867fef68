//! `microclaw slo validate` with the real binary: the built-in file is valid; a bad file exits
//! 1 with errors naming the file and line.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod cli_support;

use cli_support::*;

#[test]
fn slo_validate_accepts_the_default_and_names_the_line_of_a_mistake() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = microclaw();
    cmd.args(["slo", "print-default"]);
    let def = run(cmd, "");
    assert_eq!(def.code, 0, "{def:?}");
    let good = tmp.path().join("slos.toml");
    std::fs::write(&good, &def.stdout).unwrap();
    let mut cmd = microclaw();
    cmd.args(["slo", "validate", good.to_str().unwrap()]);
    let ok = run(cmd, "");
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains("request_success_rate: request_success objective 0.995 over 28d; alerts: 1h/5m 14.4x page"), "{ok:?}");
    assert!(ok.stdout.contains("valid (4 SLOs)"), "{ok:?}");

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[[slo]]\nname = \"api\"\nobjective = 0.999\nsli = \"request_success\"\n[[slo.alert]]\nlong = \"1h\"\nshort = \"5m\"\nfactor = -2\nseverity = \"page\"\n").unwrap();
    let mut cmd = microclaw();
    cmd.args(["slo", "validate", bad.to_str().unwrap()]);
    let out = run(cmd, "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("bad.toml line 8: factor -2 must be > 0"),
        "{out:?}"
    );
    let mut cmd = microclaw();
    cmd.args(["slo", "validate", "/nonexistent/slos.toml"]);
    let out = run(cmd, "");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot read /nonexistent/slos.toml"),
        "{out:?}"
    );
}
