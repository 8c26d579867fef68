#!/usr/bin/env bash
# Bridge hot path (issue 18): server CPU per request and throughput on the release gateway.
#   pipelined 8 connections × 64 in flight (protocol 3) for health, status, sessions.list
#   (1,000 labelled sessions, the default 50-row page) and chat.history (a 200-message
#   session): req/s, server CPU per answered request (utime+stime deltas of /proc/PID/stat)
#   and per returned row; the server's RSS while it holds 2,000 idle connections, first on the
#   fresh gateway (the per-connection footprint) and again after the pipelined runs (what the
#   runs left behind — allocator retention, caches, code pages — comes on top), and the RSS
#   4 s after the fresh ones closed (the freed heap is returned 2 s after the last close).
# Each pipelined figure is run BENCH_HOT_REPEAT times (3); the table shows the median.
# The load client runs in its own process; the machine's load average is printed, because
# other work on the same cores makes req/s noisy (CPU per request is the steadier figure).
# The per-key rate limit is off (0) for the run.
# Env: BENCH_SKIP_BUILD=1, BENCH_HOT_SECS (5), BENCH_HOT_REPEAT (3), BENCH_IDLE_CONNS (2000).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SECS=${BENCH_HOT_SECS:-5}
REPEAT=${BENCH_HOT_REPEAT:-3}
IDLE_CONNS=${BENCH_IDLE_CONNS:-2000}

bench_build
bench_tmp
ulimit -n "$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))"
OUT="$BENCH_TMP/hot_path.kv"
emit() { tee -a "$OUT"; }

echo "hot_nproc=$(nproc)" | emit
echo "hot_loadavg_1m_start=$(cut -d' ' -f1 /proc/loadavg)" | emit
# The per-key limit off (0), as in engine_core.sh: its maximum (100,000/min) is below these
# request rates. The recheck of the credential still runs on every request.
export MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE=0
echo "hot_rate_limit_per_minute=$MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE" | emit
D="$BENCH_TMP/hot"
KEY=$(make_key "$D")
export BENCH_TOKEN=$KEY
"$REL/seed" --data-dir "$D" --sessions 1000 --messages 2198 \
  --history-key bench-history --history-messages 200 | sed 's/^seed_/hot_seed_/' | emit
start_gateway "$D"
GW=$SERVER_PID
URL=$SERVER_URL

# idle PREFIX: holds IDLE_CONNS idle connections, prints PREFIX_idle_* keys.
idle() {
  log "holding $IDLE_CONNS idle connections ($1)"
  "$REL/bridge-load" idle --url "$URL" --label "$1" --count "$IDLE_CONNS" --pid "$GW" \
    --max-open-secs 90 | emit
}
idle hot_fresh
# Once they closed (and none closed for 2 s), the freed heap goes back to the system.
sleep 4
echo "hot_fresh_idle_rss_after_close_kb=$(rss_kb "$GW")" | emit

# pipe NAME METHOD [PARAMS]: REPEAT runs, each printing hot_NAME_pipe_* keys with a _rN suffix.
pipe() {
  local name=$1 method=$2 params=${3:-} r args
  args=(--url "$URL" --label hot --method "$method" --name "$name" --secs "$SECS" --pid "$GW")
  [ -n "$params" ] && args+=(--params "$params")
  [ "$name" = sessions_list ] || [ "$name" = chat_history ] && args+=(--rows)
  for r in $(seq 1 "$REPEAT"); do
    log "pipelined 8x64 $method, run $r/$REPEAT (${SECS}s)"
    "$REL/bridge-load" pipe "${args[@]}" | sed "s/=/_r$r=/" | emit
  done
}
pipe health health
pipe status status
pipe sessions_list sessions.list
pipe chat_history chat.history '{"sessionKey":"bench-history"}'
echo "hot_rss_after_load_kb=$(rss_kb "$GW")" | emit
idle hot
echo "hot_loadavg_1m_end=$(cut -d' ' -f1 /proc/loadavg)" | emit
stop_pid "$GW"

# Medians over the repeats, printed as hot_<figure>_median=… and shown in the table.
med() {
  awk -F= -v k="$1" '{ n = $1; sub(/_r[0-9]+$/, "", n) } n == k { print $2 }' "$OUT" | sort -g \
    | awk '{ v[++c] = $1 } END { if (!c) print "n/a"; else print (c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2) }'
}
v() { awk -F= -v k="$1" '$1 == k { print $2; exit }' "$OUT"; }
for n in health status sessions_list chat_history; do
  for f in rps server_cpu_us_per_req server_cpu_us_per_row rows_per_reply; do
    m=$(med "hot_${n}_pipe_$f")
    [ "$m" != n/a ] && echo "hot_${n}_pipe_${f}_median=$m" | emit
  done
done
row() { printf '%-34s %12s %16s %14s\n' "$1" "$2" "$3" "$4"; }
echo
row "hot path, 8x64 pipelined (median of $REPEAT)" "req/s" "CPU/req (µs)" "CPU/row (µs)"
for n in health status sessions_list chat_history; do
  row "$n" "$(v "hot_${n}_pipe_rps_median")" "$(v "hot_${n}_pipe_server_cpu_us_per_req_median")" \
    "$(v "hot_${n}_pipe_server_cpu_us_per_row_median" || true)"
done
row "RSS at $(v hot_fresh_idle_opened)/$IDLE_CONNS idle, fresh (kB)" "$(v hot_fresh_idle_rss_held_kb)" "" ""
row "  before them / anonymous part (kB)" "$(v hot_fresh_idle_rss_before_kb)" "$(v hot_fresh_idle_rss_anon_held_kb)" ""
row "  4 s after they closed (kB)" "$(v hot_fresh_idle_rss_after_close_kb)" "" ""
row "RSS at $(v hot_idle_opened)/$IDLE_CONNS idle, after the runs (kB)" "$(v hot_idle_rss_held_kb)" "" ""
row "  before them / anonymous part (kB)" "$(v hot_idle_rss_before_kb)" "$(v hot_idle_rss_anon_held_kb)" ""
echo "load average (1 min) start/end: $(v hot_loadavg_1m_start) / $(v hot_loadavg_1m_end), $(v hot_nproc) cores"
