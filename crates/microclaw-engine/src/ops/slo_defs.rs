//! The SLO definitions in use: `<data_dir>/slos.toml` when it exists (validated), else the
//! built-in SLOs. An invalid file is reported (log and `slo_file_errors`) and the built-in
//! SLOs stay in force, so a typo never turns alerting off.

use microclaw_metrics::{slo_file, MetricsEngine};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const SLO_FILE_NAME: &str = "slos.toml";

static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(SLO_FILE_NAME)
}

/// Loads the file into `metrics`; keeps the built-in SLOs when it is invalid.
pub fn load_into(metrics: &Arc<MetricsEngine>, data_dir: &Path) {
    let p = path(data_dir);
    match slo_file::load(&p) {
        Ok(defs) => {
            metrics.set_slo_defs(defs);
            ERRORS.lock().clear();
        }
        Err(errors) => {
            for e in &errors {
                tracing::error!("SLO file ignored, the built-in SLOs stay in force: {e}");
            }
            metrics.set_slo_defs(slo_file::builtin());
            *ERRORS.lock() = errors;
        }
    }
}

/// What was wrong with the SLO file at the last load (empty when it was fine or absent).
pub fn file_errors() -> Vec<String> {
    ERRORS.lock().clone()
}
