//! The two Tauri commands the window may call (granted in `capabilities/main-window.json`):
//! `export_metrics` renders an export in-process and saves it; `save_export` saves bytes the
//! UI already fetched from `/api/metrics/export`. Both ask where with a native save dialog
//! (or use `MICROCLAW_DESKTOP_EXPORT_DIR` when set) and write atomically.

use crate::export_file::{
    check_format, check_minutes, extension_of, path_in, sanitize_file_name, suggested_name,
    InvalidRequest, MAX_SAVE_BYTES,
};
use crate::shell::Shell;
use crate::window::MAIN;
use microclaw_core::ErrorCode;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_dialog::DialogExt;

/// Where the file went (`null` to the window when the user cancelled the dialog).
#[derive(Debug, Serialize)]
pub struct Saved {
    pub path: String,
    pub bytes: usize,
}

/// What the window gets on failure: a stable code and a message (never a string to match on).
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl CommandError {
    fn internal(message: impl Into<String>) -> CommandError {
        CommandError {
            code: ErrorCode::InternalError.as_str(),
            message: message.into(),
        }
    }
}

impl From<InvalidRequest> for CommandError {
    fn from(e: InvalidRequest) -> CommandError {
        CommandError {
            code: ErrorCode::InvalidRequest.as_str(),
            message: e.0,
        }
    }
}

impl From<microclaw_core::Error> for CommandError {
    fn from(e: microclaw_core::Error) -> CommandError {
        CommandError {
            code: e.code.as_str(),
            message: e.message,
        }
    }
}

/// `invoke('export_metrics', { format: 'csv', minutes: 60 })` → `{path, bytes}` or `null`.
#[tauri::command]
pub async fn export_metrics(
    app: AppHandle,
    shell: State<'_, Arc<Shell>>,
    format: String,
    minutes: Option<u32>,
) -> Result<Option<Saved>, CommandError> {
    let format = check_format(&format)?;
    let minutes = check_minutes(minutes)?;
    let engine = shell.host.engine().clone();
    let name = suggested_name(&format, minutes, engine.now_ms());
    let Some(path) = choose_path(&app, &shell, &name).await? else {
        return Ok(None);
    };
    let fmt = format.clone();
    let bytes =
        run_blocking(move || crate::metrics_export::render(&engine, &fmt, minutes)).await??;
    write(path, bytes).await.map(Some)
}

/// `invoke('save_export', { filename, data: number[] })` → the chosen path, or `null`.
#[tauri::command]
pub async fn save_export(
    app: AppHandle,
    shell: State<'_, Arc<Shell>>,
    filename: String,
    data: Vec<u8>,
) -> Result<Option<String>, CommandError> {
    if data.len() > MAX_SAVE_BYTES {
        return Err(InvalidRequest(format!(
            "the file is {} bytes; at most {MAX_SAVE_BYTES} can be saved",
            data.len()
        ))
        .into());
    }
    let name = sanitize_file_name(&filename, "microclaw-export.bin");
    let Some(path) = choose_path(&app, &shell, &name).await? else {
        return Ok(None);
    };
    write(path, data).await.map(|s| Some(s.path))
}

/// `MICROCLAW_DESKTOP_EXPORT_DIR` when set, else the native save dialog (None: cancelled).
async fn choose_path<R: Runtime>(
    app: &AppHandle<R>,
    shell: &Shell,
    name: &str,
) -> Result<Option<PathBuf>, CommandError> {
    if let Some(dir) = &shell.settings.export_dir {
        return Ok(Some(path_in(dir, name)));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .file()
        .set_title("Export metrics")
        .set_file_name(name);
    if let Some(ext) = extension_of(name) {
        dialog = dialog.add_filter(ext.to_ascii_uppercase(), &[ext.as_str()]);
    }
    if let Some(w) = app.get_webview_window(MAIN) {
        dialog = dialog.set_parent(&w);
    }
    dialog.save_file(move |picked| {
        let _ = tx.send(picked);
    });
    match rx.await {
        Ok(Some(picked)) => picked.into_path().map(Some).map_err(|e| {
            CommandError::internal(format!("the dialog returned an unusable path: {e}"))
        }),
        Ok(None) | Err(_) => Ok(None),
    }
}

async fn write(path: PathBuf, bytes: Vec<u8>) -> Result<Saved, CommandError> {
    let len = bytes.len();
    let shown = path.display().to_string();
    run_blocking(move || crate::metrics_export::write_file(&path, &bytes)).await??;
    tracing::info!("exported {len} bytes to {shown}");
    Ok(Saved {
        path: shown,
        bytes: len,
    })
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CommandError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CommandError::internal(format!("export task failed: {e}")))
}
