//! Check outcomes: one `PASS name` / `FAIL name: why` line each, the `N passed, N failed`
//! summary, and the machine-readable `report.json`.

use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

/// What a check returns: `Ok(details)` (measurements for the report) or `Err(what broke)`.
pub type CheckResult = Result<String, String>;

#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub promise: u8,
    pub passed: bool,
    /// The failure reason, or the measurements of a passing check.
    pub text: String,
    pub seconds: f64,
}

#[derive(Debug)]
pub struct Report {
    started: Instant,
    pub outcomes: Vec<Outcome>,
    pub meta: serde_json::Map<String, Value>,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            started: Instant::now(),
            outcomes: Vec::new(),
            meta: serde_json::Map::new(),
        }
    }
}

/// One line, never more: newlines in a reason would break the one-line-per-check format.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Report {
    /// Records and prints one outcome (details of passing checks go to stderr).
    pub fn record(&mut self, name: &str, promise: u8, result: CheckResult, seconds: f64) {
        let (passed, text) = match result {
            Ok(d) => (true, one_line(&d)),
            Err(e) => (false, one_line(&e)),
        };
        if passed {
            println!("PASS {name}");
            if !text.is_empty() {
                eprintln!("    {name}: {text} ({seconds:.1} s)");
            }
        } else {
            println!("FAIL {name}: {text}");
        }
        self.outcomes.push(Outcome {
            name: name.to_string(),
            promise,
            passed,
            text,
            seconds,
        });
    }

    /// Outcomes produced outside the driver (the fuzz targets): `name<TAB>PASS|FAIL<TAB>text`.
    pub fn ingest_external(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read external results {}: {e}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.splitn(4, '\t');
            let name = parts.next().unwrap_or_default().trim();
            let status = parts.next().unwrap_or_default().trim();
            let secs: f64 = parts.next().unwrap_or("0").trim().parse().unwrap_or(0.0);
            let why = parts.next().unwrap_or_default().to_string();
            let result = match status {
                "PASS" => Ok(why),
                "FAIL" => Err(why),
                other => Err(format!(
                    "external result line has status '{other}': expected PASS or FAIL"
                )),
            };
            self.record(name, 3, result, secs);
        }
        Ok(())
    }

    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed).count()
    }

    pub fn passed(&self) -> usize {
        self.outcomes.len() - self.failed()
    }

    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .outcomes
            .iter()
            .map(|o| {
                json!({
                    "name": o.name, "promise": o.promise,
                    "status": if o.passed { "pass" } else { "fail" },
                    "reason": if o.passed { Value::Null } else { json!(o.text) },
                    "details": if o.passed { json!(o.text) } else { Value::Null },
                    "seconds": (o.seconds * 10.0).round() / 10.0,
                })
            })
            .collect();
        json!({
            "passed": self.passed(),
            "failed": self.failed(),
            "seconds": (self.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            "checks": checks,
            "meta": Value::Object(self.meta.clone()),
        })
    }

    pub fn write_json(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(&self.to_json())
            .map_err(|e| format!("cannot render the report: {e}"))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_count_and_render_one_line_each() {
        let mut r = Report::default();
        r.record("a", 1, Ok("fine".into()), 0.5);
        r.record("b", 2, Err("broke\nbadly".into()), 1.0);
        assert_eq!((r.passed(), r.failed()), (1, 1));
        let j = r.to_json();
        assert_eq!(j["checks"][1]["reason"], "broke badly");
        assert_eq!(j["checks"][0]["status"], "pass");
    }

    #[test]
    fn external_results_are_merged_and_bad_statuses_fail() {
        let dir = std::env::temp_dir().join(format!("stability-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ext.tsv");
        std::fs::write(
            &f,
            "fuzz_x\tPASS\t20\t100 runs\nfuzz_y\tFAIL\t3\tcrash\nfuzz_z\tMAYBE\t0\t?\n",
        )
        .unwrap();
        let mut r = Report::default();
        r.ingest_external(&f).unwrap();
        assert_eq!((r.passed(), r.failed()), (1, 2));
        assert!(r.ingest_external(&dir.join("missing.tsv")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
