//! One window showing a static page: the smallest Tauri 2 app, for comparison.

fn main() {
    if let Err(e) = tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(
                app,
                "main",
                tauri::WebviewUrl::App("index.html".into()),
            )
            .title("hello")
            .inner_size(1280.0, 820.0)
            .build()?;
            Ok(())
        })
        .run(tauri::generate_context!())
    {
        eprintln!("hello-tauri: {e}");
        std::process::exit(1);
    }
}
