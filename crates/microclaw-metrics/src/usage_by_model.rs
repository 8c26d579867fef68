//! Tokens and cost by model (Prometheus `microclaw_llm_model_tokens_total{model,kind}` and
//! `microclaw_llm_model_cost_usd_total{model}`). At most [`MAX_MODELS`] model labels; runs of
//! further models count under `model="other"`.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Distinct model labels kept.
pub const MAX_MODELS: usize = 64;

/// One model's sums.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    /// Runs whose model had no price (their cost is unknown, not counted as 0).
    pub unpriced_runs: u64,
}

#[derive(Debug, Default)]
pub struct UsageByModel {
    models: Mutex<BTreeMap<String, ModelUsage>>,
}

impl UsageByModel {
    pub fn record(&self, model: &str, input: u64, output: u64, cost_usd: Option<f64>) {
        let mut m = self.models.lock();
        let key = if m.contains_key(model) || m.len() < MAX_MODELS {
            model
        } else {
            "other"
        };
        let e = m.entry(key.to_string()).or_default();
        e.input_tokens += input;
        e.output_tokens += output;
        match cost_usd {
            Some(c) => e.cost_usd += c,
            None => e.unpriced_runs += 1,
        }
    }

    pub fn snapshot(&self) -> Vec<(String, ModelUsage)> {
        self.models
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The two counter families in Prometheus text.
pub fn render(out: &mut String, rows: &[(String, ModelUsage)]) {
    let _ = writeln!(
        out,
        "# HELP microclaw_llm_model_tokens_total Agent tokens by model and kind (input, output)."
    );
    let _ = writeln!(out, "# TYPE microclaw_llm_model_tokens_total counter");
    for (model, u) in rows {
        let m = esc(model);
        let _ = writeln!(
            out,
            "microclaw_llm_model_tokens_total{{model=\"{m}\",kind=\"input\"}} {}",
            u.input_tokens
        );
        let _ = writeln!(
            out,
            "microclaw_llm_model_tokens_total{{model=\"{m}\",kind=\"output\"}} {}",
            u.output_tokens
        );
    }
    let _ = writeln!(
        out,
        "# HELP microclaw_llm_model_cost_usd_total Agent cost in USD by model (priced models only)."
    );
    let _ = writeln!(out, "# TYPE microclaw_llm_model_cost_usd_total counter");
    for (model, u) in rows {
        let _ = writeln!(
            out,
            "microclaw_llm_model_cost_usd_total{{model=\"{}\"}} {}",
            esc(model),
            u.cost_usd
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_beyond_the_bound_count_as_other_and_unknown_cost_is_not_zero_cost() {
        let u = UsageByModel::default();
        for i in 0..MAX_MODELS + 3 {
            u.record(&format!("m{i}"), 1, 2, None);
        }
        u.record("m0", 10, 0, Some(0.25));
        let snap = u.snapshot();
        assert_eq!(snap.len(), MAX_MODELS + 1);
        let other = snap.iter().find(|(k, _)| k == "other").unwrap().1;
        assert_eq!((other.input_tokens, other.unpriced_runs), (3, 3));
        let m0 = snap.iter().find(|(k, _)| k == "m0").unwrap().1;
        assert_eq!(
            (m0.input_tokens, m0.cost_usd, m0.unpriced_runs),
            (11, 0.25, 1)
        );
        let mut text = String::new();
        render(&mut text, &snap);
        assert!(text.contains("microclaw_llm_model_tokens_total{model=\"m0\",kind=\"input\"} 11"));
        assert!(text.contains("microclaw_llm_model_cost_usd_total{model=\"m0\"} 0.25"));
    }
}
