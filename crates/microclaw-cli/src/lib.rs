//! The microclaw command: start, gateway call/status, auth, metrics export, config, audit.
