//! Tauri's build step: reads tauri.conf.json and the capabilities, and generates the
//! `allow-`/`deny-` permissions of the app's own commands (granted in capabilities/).

const APP_COMMANDS: &[&str] = &["export_metrics", "save_export"];

fn main() {
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(APP_COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
