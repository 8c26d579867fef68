//! Check outcomes: one `PASS name` / `FAIL name: why` / `SKIPPED name: why` line each, the
//! `N passed, N failed, N skipped` summary, and the machine-readable `report.json`. A skipped
//! check (a fuzz run that could not run) is never counted as passed.

use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

/// What a check returns: `Ok(details)` (measurements for the report) or `Err(what broke)`.
pub type CheckResult = Result<String, String>;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Not run (e.g. cargo-fuzz could not be installed): neither passed nor failed.
    Skip,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub promise: u8,
    pub status: Status,
    /// The failure or skip reason, or the measurements of a passing check.
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
        match result {
            Ok(d) => self.push(name, promise, Status::Pass, &d, seconds),
            Err(e) => self.push(name, promise, Status::Fail, &e, seconds),
        }
    }

    /// Records and prints a check that did not run, with why.
    pub fn skip(&mut self, name: &str, promise: u8, why: &str, seconds: f64) {
        self.push(name, promise, Status::Skip, why, seconds);
    }

    fn push(&mut self, name: &str, promise: u8, status: Status, text: &str, seconds: f64) {
        let text = one_line(text);
        match status {
            Status::Pass => {
                println!("PASS {name}");
                if !text.is_empty() {
                    eprintln!("    {name}: {text} ({seconds:.1} s)");
                }
            }
            Status::Fail => println!("FAIL {name}: {text}"),
            Status::Skip => println!("SKIPPED {name}: {text}"),
        }
        self.outcomes.push(Outcome {
            name: name.to_string(),
            promise,
            status,
            text,
            seconds,
        });
    }

    /// Outcomes produced outside the driver (the fuzz targets):
    /// `name<TAB>PASS|FAIL|SKIP<TAB>seconds<TAB>text`.
    pub fn ingest_external(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read external results {}: {e}", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.splitn(4, '\t');
            let name = parts.next().unwrap_or_default().trim();
            let status = parts.next().unwrap_or_default().trim();
            let secs: f64 = parts.next().unwrap_or("0").trim().parse().unwrap_or(0.0);
            let why = parts.next().unwrap_or_default().to_string();
            match status {
                "PASS" => self.record(name, 3, Ok(why), secs),
                "FAIL" => self.record(name, 3, Err(why), secs),
                "SKIP" => self.skip(name, 3, &why, secs),
                other => self.record(
                    name,
                    3,
                    Err(format!(
                        "external result line has status '{other}': expected PASS, FAIL or SKIP"
                    )),
                    secs,
                ),
            }
        }
        Ok(())
    }

    fn count(&self, status: Status) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }

    pub fn failed(&self) -> usize {
        self.count(Status::Fail)
    }

    pub fn passed(&self) -> usize {
        self.count(Status::Pass)
    }

    pub fn skipped(&self) -> usize {
        self.count(Status::Skip)
    }

    /// The closing line: `N passed, N failed, N skipped`.
    pub fn summary_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }

    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .outcomes
            .iter()
            .map(|o| {
                let passed = o.status == Status::Pass;
                json!({
                    "name": o.name, "promise": o.promise,
                    "status": o.status.as_str(),
                    "reason": if passed { Value::Null } else { json!(o.text) },
                    "details": if passed { json!(o.text) } else { Value::Null },
                    "seconds": (o.seconds * 10.0).round() / 10.0,
                })
            })
            .collect();
        json!({
            "passed": self.passed(),
            "failed": self.failed(),
            "skipped": self.skipped(),
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
        assert_eq!(r.summary_line(), "1 passed, 1 failed, 0 skipped");
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
            "fuzz_x\tPASS\t20\t100 runs\nfuzz_y\tFAIL\t3\tcrash\nfuzz_z\tMAYBE\t0\t?\n\
             fuzz_w\tSKIP\t0\tcargo-fuzz is not installed\n",
        )
        .unwrap();
        let mut r = Report::default();
        r.ingest_external(&f).unwrap();
        assert_eq!((r.passed(), r.failed(), r.skipped()), (1, 2, 1));
        assert_eq!(r.summary_line(), "1 passed, 2 failed, 1 skipped");
        let j = r.to_json();
        assert_eq!(j["skipped"], 1);
        assert_eq!(j["checks"][3]["status"], "skipped");
        assert_eq!(j["checks"][3]["reason"], "cargo-fuzz is not installed");
        assert_eq!(j["checks"][3]["details"], Value::Null);
        assert!(r.ingest_external(&dir.join("missing.tsv")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
