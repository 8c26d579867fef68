//! Metrics and SLO engine: counters, histograms, minute history, burn alerts, Prometheus, OTLP, charts and export.
