//! OTLP endpoint credentials are redacted with core's URL redaction (one implementation,
//! also used by the config's `Debug` and `config.get`).

pub use microclaw_core::redact::{redact_url, scrub, userinfo};
