#!/usr/bin/env bash
# Sets up a fresh Linux machine and runs every test: formatting, lints, the Rust workspace
# (engine crates, gateway conformance suites, CLI), the UI unit tests, the browser end-to-end
# tests against a real `microclaw start`, and the desktop smoke test under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "system packages"
bash scripts/setup-linux.sh

step "web UI: install and build"
npm --prefix ui ci --no-audit --no-fund
npm --prefix ui run build

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "Rust tests (workspace)"
cargo test --workspace

step "UI unit tests"
npm --prefix ui test

step "browser end-to-end tests"
MICROCLAW_BIN="$PWD/target/debug/microclaw" npm --prefix ui run e2e

step "desktop smoke test"
bash tests/desktop/smoke.sh

echo
echo "all tests passed"
