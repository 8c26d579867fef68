//! Fuzzes config loading (`microclaw_core::config::load_from_str`): the input is a TOML file,
//! optionally followed by a line `---` and `MICROCLAW_<SECTION>__<KEY>=value` lines (the
//! environment layer). Anything must load or be refused with a message, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (file, env) = match text.split_once("\n---\n") {
        Some((f, e)) => (f, e),
        None => (text.as_ref(), ""),
    };
    let vars: Vec<(String, String)> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Err(e) = microclaw_core::config::load_from_str(file, "fuzz.toml", vars) {
        assert!(!e.message.is_empty(), "a refusal must say why");
    }
});
