//! The two calls into `microclaw_metrics` the export commands make, with its errors turned
//! into the window's `{code, message}`.

use crate::commands::CommandError;
use microclaw_engine::Engine;
use microclaw_metrics::{write_export_atomic, ExportFormat};
use std::path::Path;

/// Renders the last `minutes` minutes as `format` (already checked by `export_file`).
pub fn render(engine: &Engine, format: &str, minutes: u32) -> Result<Vec<u8>, CommandError> {
    let format: ExportFormat = format.parse()?;
    Ok(engine.metrics_engine().export(format, minutes)?)
}

/// Temporary file in the same folder, synced, renamed into place.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    Ok(write_export_atomic(path, bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use microclaw_engine::EngineOptions;

    #[test]
    fn renders_a_csv_from_a_real_engine_and_writes_it_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineOptions {
            data_dir: dir.path().join("data"),
            config: microclaw_core::Config::default(),
            clock: None,
        })
        .unwrap();
        let bytes = render(&engine, "csv", 60).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.lines().next().is_some_and(|h| h.contains(',')),
            "a CSV header row first: {text:.200}"
        );

        let out = dir.path().join("export.csv");
        write_file(&out, &bytes).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), bytes);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file is left behind");
    }

    #[test]
    fn writing_into_a_missing_folder_reports_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_file(&dir.path().join("no/such/dir/x.csv"), b"a").unwrap_err();
        assert_eq!(err.code, "INTERNAL_ERROR");
        assert!(err.message.contains("no/such/dir"), "{}", err.message);
    }

    #[test]
    fn an_unknown_format_is_an_invalid_request() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineOptions {
            data_dir: dir.path().to_path_buf(),
            config: microclaw_core::Config::default(),
            clock: None,
        })
        .unwrap();
        let err = render(&engine, "xlsx", 60).unwrap_err();
        assert_eq!(err.code, "INVALID_REQUEST");
    }
}
