#!/usr/bin/env bash
# Runs every benchmark (bridge, http, store, metrics, engine_core) on the release build and rewrites
# docs/benchmarks.md with the figures, the machine, the date and the targets from the issues.
# Bounded: each part has a time limit; a part that fails or times out is marked in the report.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOC="$BENCH_ROOT/docs/benchmarks.md"

STARTED=$(date +%s)
log "building release: microclaw-cli, microclaw-bench, examples store_pages and metrics_bench"
(cd "$BENCH_ROOT" && cargo build --release -q -p microclaw-cli -p microclaw-bench \
  && cargo build --release -q -p microclaw-store --example store_pages \
  && cargo build --release -q -p microclaw-metrics --example metrics_bench) >&2
export BENCH_SKIP_BUILD=1

bench_tmp
KV="$BENCH_TMP/all.kv"
: >"$KV"
STATUS=()
part() {
  local name=$1 limit=$2 rc=0
  log "== $name (limit ${limit}s)"
  timeout --signal=TERM --kill-after=10 "$limit" bash "$DIR/$name.sh" >"$BENCH_TMP/$name.out" || rc=$?
  grep -E '^[A-Za-z0-9_.]+=' "$BENCH_TMP/$name.out" >>"$KV" || true
  cat "$BENCH_TMP/$name.out"
  if [ "$rc" = 0 ]; then STATUS+=("$name: ok"); else STATUS+=("$name: FAILED (exit $rc; figures may be missing)"); fi
}
part bridge 330
part http 120
part store 150
part metrics 150
part engine_core 420
ELAPSED=$(( $(date +%s) - STARTED ))

v() { local x; x=$(awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$KV"); echo "${x:-n/a}"; }
# judge VALUE OP LIMIT: "met" / "missed" / "n/a" (numbers only).
judge() {
  awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
    if (a == "n/a" || b == "n/a" || a == "" || b == "") { print "n/a"; exit }
    ok = (op == "<=") ? (a + 0 <= b + 0) : (a + 0 >= b + 0); print ok ? "met" : "missed" }'
}
mb() { awk -v k="$1" 'BEGIN { if (k == "n/a" || k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
ms() { awk -v u="$1" 'BEGIN { if (u == "n/a" || u == "") print "n/a"; else printf "%.2f", u / 1000 }'; }
x15() { awk -v u="$1" 'BEGIN { if (u == "n/a" || u == "") print "n/a"; else printf "%.1f", u * 1.5 }'; }

gw_p50=$(v gateway_health_seq_p50_us); fl_p50=$(v floor_health_seq_p50_us)
rss_idle=$(mb "$(v gateway_rss_idle_kb)"); rss_2k=$(mb "$(v gateway_idle_rss_held_kb)")
first_rpc=$(v gateway_startup_first_rpc_ms_median)
idle_verdict=$(judge "$rss_2k" "<=" 50)
if [ "$(v gateway_idle_still_open)" != "$(v gateway_idle_requested)" ]; then
  idle_verdict="missed (not all connections held)"
fi
sl_p99=$(ms "$(v pages_sessions_list_seq_p99_us)"); ch_p99=$(ms "$(v pages_chat_history_deep_50_seq_p99_us)")
sl_p50=$(ms "$(v pages_sessions_list_seq_p50_us)"); ch_p50=$(ms "$(v pages_chat_history_deep_50_seq_p50_us)")
ch200_p50=$(ms "$(v pages_chat_history_deep_200_seq_p50_us)")
slo_p50=$(ms "$(v pages_sessions_list_offset_50000_seq_p50_us)")
sls_p50=$(ms "$(v pages_sessions_list_search_seq_p50_us)")
ec_rl=$(v engine_core_rate_limit_per_minute)

{
cat <<EOF_DOC
# Benchmarks

Written by \`scripts/bench/run_all.sh\` (do not edit by hand; rerun it). Release build, one load
client on the same machine as the server, so client and server share the two cores; expect a
few percent of noise between runs.

- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(cd "$BENCH_ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (plus uncommitted changes, if any)
- Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)
- Toolchain: $(rustc --version 2>/dev/null || echo unknown)
- Per-key rate limit raised for the runs: \`MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE=$(v bench_rate_limit_per_minute)\` (default 240); off (\`0\`) for the engine-core run (it ran with ${ec_rl})
- Whole run: ${ELAPSED} s; parts: $(IFS=';'; echo "${STATUS[*]}")

## Bridge (issue 2)

The floor is \`floor-server\` from \`crates/microclaw-bench\`: a WebSocket server (tokio-tungstenite,
8 KiB read buffer per connection) that sends a challenge, accepts any connect and answers every
request with an empty payload, doing nothing. Idle connections are opened 64 at a time and the
opening phase is bounded (90 s); the RSS is read from \`/proc/PID/status\` 2 s after the last one.
Throughput is 8 connections × 64 requests in flight for $(v gateway_health_pipe_secs) s after a 1 s warm-up.
\`sessions.list\` runs with 1,000 sessions stored (default page of 50); \`chat.history\` reads a
200-message session (default limit 200, the whole session).

| figure | MicroClaw | floor (this machine) | target | peers (issue 2) | |
|---|---|---|---|---|---|
| \`health\` round trip p50 / p99, one connection (µs) | ${gw_p50} / $(v gateway_health_seq_p99_us) | ${fl_p50} / $(v floor_health_seq_p99_us) | p50 ≤ 1.5 × floor = $(x15 "$fl_p50") | axum peer 58 (its floor 39); OpenClaw 1,240 | $(judge "$gw_p50" "<=" "$(x15 "$fl_p50")") |
| \`health\` 8×64 (req/s) | $(v gateway_health_pipe_rps) | $(v floor_health_pipe_rps) | ≥ 419,000 | axum peer 419,000; OpenClaw ~700 | $(judge "$(v gateway_health_pipe_rps)" ">=" 419000) |
| \`sessions.list\` 8×64, 1,000 sessions (req/s) | $(v gateway_sessions_list_pipe_rps) | – | ≥ 80,000 | axum peer 16,000 (zero sessions) | $(judge "$(v gateway_sessions_list_pipe_rps)" ">=" 80000) |
| \`chat.history\` 8×64, 200 messages (req/s) | $(v gateway_chat_history_pipe_rps) | – | ≥ 80,000 | – | $(judge "$(v gateway_chat_history_pipe_rps)" ">=" 80000) |
| RSS idle (MB) | ${rss_idle} | $(mb "$(v floor_rss_idle_kb)") | < 20 | axum peer 42; OpenClaw ~950 | $(judge "$rss_idle" "<=" 20) |
| RSS holding idle connections: $(v gateway_idle_opened) of $(v gateway_idle_requested) opened, $(v gateway_idle_still_open) still open (MB) | ${rss_2k} | $(mb "$(v floor_idle_rss_held_kb)") | < 50 | – | ${idle_verdict} |
| first answered RPC after spawn, median of $(v gateway_startup_runs) (ms) | ${first_rpc} | – | < 100 | axum peer 229 | $(judge "$first_rpc" "<=" 100) |
| \`sessions.list\` page p50 / p99 at 100k sessions (ms) | ${sl_p50} / ${sl_p99} | – | < 5 | – | $(judge "$sl_p99" "<=" 5) |
| \`chat.history\` 50-message page p50 / p99, 100k-message session of 1M (ms) | ${ch_p50} / ${ch_p99} | – | < 5 | – | $(judge "$ch_p99" "<=" 5) |

Also measured: idle connections opened $(v gateway_idle_opened) of $(v gateway_idle_requested), still open $(v gateway_idle_still_open), failed $(v gateway_idle_failed), in $(v gateway_idle_open_secs) s;
RSS after the load runs $(mb "$(v gateway_rss_after_load_kb)") MB (peak $(mb "$(v gateway_rss_peak_kb)") MB);
errors in the pipelined runs: health $(v gateway_health_pipe_errors), sessions.list $(v gateway_sessions_list_pipe_errors), chat.history $(v gateway_chat_history_pipe_errors).
Pages at 100k sessions / 1M messages (p50 ms): \`sessions.list\` offset 50,000 ${slo_p50}, search ${sls_p50}, \`chat.history\` 200 messages ${ch200_p50}, a 10-message session $(ms "$(v pages_chat_history_small_seq_p50_us)") (seeded in $(v seed_b_secs) s).

## HTTP (issue 3)

\`wrk -t2 -c32 -d10s\` with a Bearer key per request, spread over $(v http_keys) keys (each used once
before the window, so the once-a-minute key last-used stamp falls outside it). "db rows changed"
counts rows per table (read-only) before and after each run; the background minute metrics flush
may add a row or two regardless of traffic. "db files untouched" compares the size and mtime of
\`microclaw.db\` and its WAL: it also sees that background flush (and in-place updates), so a
"no" there with "none" beside it means a background write, not one per request.

| route | req/s | requests | non-2xx | db rows changed | db files untouched | target | peer |
|---|---|---|---|---|---|---|---|
EOF_DOC
for r in health sessions metrics; do
  echo "| \`GET /api/$r\` | $(v http_${r}_rps) | $(v http_${r}_requests) | $(v http_${r}_non2xx) | $(v http_${r}_db_rows_changed) | $(v http_${r}_db_files_unchanged) | ≥ 40,000 req/s ($(judge "$(v http_${r}_rps)" ">=" 40000)) and no write | 1,800–2,500 |"
done
cat <<EOF_DOC

## Store (issue 2; \`microclaw-store\` example \`store_pages\`, 100k sessions / 1M messages, no gateway)

| figure | value |
|---|---|
EOF_DOC
grep -E '^store_' "$KV" | sed -E 's/^([^=]*)=(.*)$/| \1 | \2 |/' || echo "| (no figures: see the run status above) | |"
cat <<EOF_DOC

## Metrics (issue 4; \`microclaw-metrics\` example \`metrics_bench\`)

| figure | value |
|---|---|
EOF_DOC
grep -E '^metrics_' "$KV" | sed -E 's/^([^=]*)=(.*)$/| \1 | \2 |/' || echo "| (no figures: see the run status above) | |"
cat <<EOF_DOC

EOF_DOC
bash "$DIR/engine_core_doc.sh" "$KV"
cat <<EOF_DOC
## All figures (key=value, as printed by the scripts)

\`\`\`
$(cat "$KV")
\`\`\`
EOF_DOC
} >"$DOC"
log "wrote $DOC (${ELAPSED} s)"
