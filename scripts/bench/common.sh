#!/usr/bin/env bash
# Shared helpers for scripts/bench/*.sh: sourced, not run. Every figure is printed as a
# `key=value` line on stdout; progress goes to stderr.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REL="$BENCH_ROOT/target/release"
MICROCLAW="$REL/microclaw"
# The per-key limit is raised for every bench run (the default is 240/min); say so in the output.
BENCH_RATE_LIMIT=100000
export MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE=$BENCH_RATE_LIMIT
export RUST_LOG=${RUST_LOG:-warn}

BENCH_PIDS=()
BENCH_TMP=""

log() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

# Builds the gateway and the bench binaries (release) unless BENCH_SKIP_BUILD=1.
bench_build() {
  if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building release: microclaw-cli, microclaw-bench"
    (cd "$BENCH_ROOT" && cargo build --release -q -p microclaw-cli -p microclaw-bench) >&2
  fi
  local b
  for b in microclaw bridge-load floor-server seed db-stat heavy-reads; do
    [ -x "$REL/$b" ] || die "$REL/$b is missing: run without BENCH_SKIP_BUILD=1"
  done
}

# A private temp dir removed on exit, with every process we started stopped first.
bench_tmp() {
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/microclaw-bench.XXXXXX")
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"}"; do
    stop_pid "$pid"
  done
  [ -n "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
}

# stop_pid PID: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# make_key DATA_DIR: prints a new operator.admin key.
make_key() {
  "$MICROCLAW" auth keys create --label bench --scope operator.admin --quiet --data-dir "$1"
}

# start_server NAME CMD...: starts a server that prints `listening on URL` first; sets
# SERVER_PID and SERVER_URL.
start_server() {
  local name=$1; shift
  local out="$BENCH_TMP/$name.stdout" line="" i
  "$@" >"$out" 2>"$BENCH_TMP/$name.stderr" &
  SERVER_PID=$!
  BENCH_PIDS+=("$SERVER_PID")
  for i in $(seq 1 400); do
    line=$(head -n1 "$out" 2>/dev/null || true)
    [[ $line == "listening on "* ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$BENCH_TMP/$name.stderr" >&2; die "$name exited at start"; }
    sleep 0.05
  done
  [[ $line == "listening on "* ]] || die "$name printed no 'listening on' line within 20 s"
  SERVER_URL=${line#listening on }
  log "$name listening on $SERVER_URL (pid $SERVER_PID)"
}

# start_gateway DATA_DIR: `microclaw start --port 0` on that data dir.
start_gateway() {
  start_server "gateway-$(basename "$1")" "$MICROCLAW" start --port 0 --data-dir "$1"
}

# rss_kb PID [FIELD]: VmRSS (or another kB field of /proc/PID/status).
rss_kb() {
  awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status"
}

# kv_normalize: turns example output such as `store sessions_list p50_us=1 p99_us=2` or
# `metrics history_fill_rows=43200 secs=2.1` into one `key=value` line per figure.
kv_normalize() {
  awk '{
    prefix = ""; first = ""; words = 0
    for (i = 1; i <= NF; i++) {
      eq = index($i, "=")
      if (eq == 0) { prefix = prefix (prefix == "" ? "" : "_") $i; words++; continue }
      k = substr($i, 1, eq - 1); v = substr($i, eq + 1)
      if (first == "" || words > 1) { if (first == "") first = k; print prefix "_" k "=" v }
      else print prefix "_" first "_" k "=" v
    }
  }'
}
