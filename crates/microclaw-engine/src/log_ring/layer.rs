//! The `tracing` layer that formats each event into a [`LogRing`] line:
//! `<RFC 3339 ts> <LEVEL> <target>: <message> key=value …` (fields named like secrets are
//! written as `key=***`; the ring redacts the rest of the line).

use super::redact::{is_secret_name, MASK};
use super::LogRing;
use microclaw_core::{SharedClock, SystemClock};
use std::fmt::Write as _;
use std::sync::Arc;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

pub struct LogRingLayer {
    ring: Arc<LogRing>,
    clock: SharedClock,
}

impl LogRingLayer {
    pub fn new(ring: Arc<LogRing>) -> Self {
        LogRingLayer {
            ring,
            clock: Arc::new(SystemClock),
        }
    }

    /// Timestamps from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

impl<S: Subscriber> Layer<S> for LogRingLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = format!(
            "{} {} {}: {}",
            rfc3339_ms(self.clock.now_ms()),
            meta.level(),
            meta.target(),
            fields.message
        );
        if !fields.rest.is_empty() {
            if !fields.message.is_empty() {
                line.push(' ');
            }
            line.push_str(&fields.rest);
        }
        self.ring.push(&line);
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Fields {
    fn add(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
            return;
        }
        if !self.rest.is_empty() {
            self.rest.push(' ');
        }
        if is_secret_name(field.name()) {
            let _ = write!(self.rest, "{}={MASK}", field.name());
        } else {
            let _ = write!(self.rest, "{}={}", field.name(), value);
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() != "message" && value.contains(char::is_whitespace) {
            self.add(field, format_args!("{value:?}"));
        } else {
            self.add(field, format_args!("{value}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.add(field, format_args!("{value:?}"));
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub fn rfc3339_ms(ms: i64) -> String {
    let iso = microclaw_metrics::export::time_fmt::iso_utc(ms);
    let frac = ms.rem_euclid(1000);
    format!("{}.{frac:03}Z", iso.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        assert_eq!(
            super::rfc3339_ms(1_709_251_199_007),
            "2024-02-29T23:59:59.007Z"
        );
        assert_eq!(super::rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
