//! History points as CSV (RFC 4180: CRLF line ends, fields quoted when they need it).

use crate::delta::{Delta, COUNTER_FIELDS, GAUGE_FIELDS};

use super::time_fmt::iso_utc;

/// Quotes a field when it holds a comma, a quote, CR or LF (quotes doubled).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn header() -> Vec<String> {
    let mut h = vec!["timestamp_ms".to_string(), "timestamp".to_string()];
    h.extend(COUNTER_FIELDS.iter().map(|s| s.to_string()));
    h.extend(GAUGE_FIELDS.iter().map(|s| s.to_string()));
    h.push("p50_latency_ms".into());
    h.push("p95_latency_ms".into());
    h
}

/// One CSV line (fields quoted as needed, CRLF).
fn line(out: &mut String, cells: Vec<String>) {
    let cells: Vec<String> = cells.iter().map(|c| field(c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// Any table as CSV: a header line, then one line per row (used by the usage export too).
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::new();
    line(&mut out, header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(&mut out, row);
    }
    out
}

pub fn render(points: &[(i64, Delta)]) -> String {
    let mut out = String::new();
    line(&mut out, header());
    for (ts, d) in points {
        let mut cells = vec![ts.to_string(), iso_utc(*ts)];
        cells.extend(COUNTER_FIELDS.iter().map(|n| d.counter(n).to_string()));
        cells.extend(GAUGE_FIELDS.iter().map(|n| d.gauge(n).to_string()));
        cells.push(d.request_latency_ms.quantile(0.50).to_string());
        cells.push(d.request_latency_ms.quantile(0.95).to_string());
        line(&mut out, cells);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(super::field("plain"), "plain");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("two\nlines"), "\"two\nlines\"");
    }
}
