#!/usr/bin/env bash
# Bridge benchmark (issue 2): the release gateway beside a no-work floor server.
#   sequential `health` p50/p99 on one connection; pipelined throughput (8 connections × 64 in
#   flight) for health, sessions.list (1,000 sessions) and chat.history (a 200-message session);
#   2,000 idle connections (server RSS); time from spawn to the first answered RPC;
#   sessions.list / chat.history page latency at 100k sessions / 1M messages.
# Prints key=value lines, then a table. Env: BENCH_SKIP_BUILD=1, BENCH_PIPE_SECS (5),
# BENCH_SEQ_COUNT (20000), BENCH_IDLE_CONNS (2000), BENCH_IDLE_MAX_OPEN (90 s),
# BENCH_PAGE_SESSIONS (100000), BENCH_PAGE_MESSAGES (1000000), BENCH_PAGE_COUNT (1000).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PIPE_SECS=${BENCH_PIPE_SECS:-5}
SEQ_COUNT=${BENCH_SEQ_COUNT:-20000}
IDLE_CONNS=${BENCH_IDLE_CONNS:-2000}
PAGE_SESSIONS=${BENCH_PAGE_SESSIONS:-100000}
PAGE_MESSAGES=${BENCH_PAGE_MESSAGES:-1000000}
PAGE_COUNT=${BENCH_PAGE_COUNT:-1000}
IDLE_MAX_OPEN=${BENCH_IDLE_MAX_OPEN:-90}

bench_build
bench_tmp
# Two ends of 2,000 connections each, plus headroom, in this shell and the servers it starts.
ulimit -n "$(( $(ulimit -Hn) < 16384 ? $(ulimit -Hn) : 16384 ))"
OUT="$BENCH_TMP/bridge.kv"
emit() { tee -a "$OUT"; }
load() { "$REL/bridge-load" "$@" | emit; }

echo "bench_rate_limit_per_minute=$BENCH_RATE_LIMIT" | emit

# Dataset A: 1,000 sessions, one of them (bench-history) with 200 messages.
A="$BENCH_TMP/a"
KEY=$(make_key "$A")
export BENCH_TOKEN=$KEY
"$REL/seed" --data-dir "$A" --sessions 1000 --messages 2198 \
  --history-key bench-history --history-messages 200 | sed 's/^seed_/seed_a_/' | emit

log "time to first RPC (5 launches)"
load startup --label gateway --runs 5 -- "$MICROCLAW" start --port 0 --data-dir "$A"

start_gateway "$A"
GW=$SERVER_PID
URL=$SERVER_URL
"$REL/bridge-load" seq --url "$URL" --label warm --method health --warmup 10 --count 10 >/dev/null
sleep 1
echo "gateway_rss_idle_kb=$(rss_kb "$GW")" | emit

log "sequential health x $SEQ_COUNT"
load seq --url "$URL" --label gateway --method health --count "$SEQ_COUNT"
log "pipelined 8x64, ${PIPE_SECS}s each"
load pipe --url "$URL" --label gateway --method health --secs "$PIPE_SECS"
load pipe --url "$URL" --label gateway --method sessions.list --secs "$PIPE_SECS"
load pipe --url "$URL" --label gateway --method chat.history \
  --params '{"sessionKey":"bench-history"}' --secs "$PIPE_SECS"
echo "gateway_rss_after_load_kb=$(rss_kb "$GW")" | emit
# Idle connections last, so their join/leave traffic cannot disturb the latency figures.
log "holding $IDLE_CONNS idle connections (opening bounded to ${IDLE_MAX_OPEN}s)"
load idle --url "$URL" --label gateway --count "$IDLE_CONNS" --pid "$GW" --max-open-secs "$IDLE_MAX_OPEN"
echo "gateway_rss_peak_kb=$(rss_kb "$GW" VmHWM)" | emit
stop_pid "$GW"

log "floor server"
start_server floor "$REL/floor-server" --port 0
FLOOR=$SERVER_PID
sleep 0.5
echo "floor_rss_idle_kb=$(rss_kb "$FLOOR")" | emit
load seq --url "$SERVER_URL" --label floor --method health --count "$SEQ_COUNT"
load pipe --url "$SERVER_URL" --label floor --method health --secs "$PIPE_SECS"
load idle --url "$SERVER_URL" --label floor --count "$IDLE_CONNS" --pid "$FLOOR"
stop_pid "$FLOOR"

# Dataset B: 100k sessions / 1M messages; bench-deep holds a tenth of the messages.
log "seeding $PAGE_SESSIONS sessions / $PAGE_MESSAGES messages"
B="$BENCH_TMP/b"
KEY_B=$(make_key "$B")
export BENCH_TOKEN=$KEY_B
"$REL/seed" --data-dir "$B" --sessions "$PAGE_SESSIONS" --messages "$PAGE_MESSAGES" \
  --history-key bench-deep --history-messages $((PAGE_MESSAGES / 10)) | sed 's/^seed_/seed_b_/' | emit
start_gateway "$B"
PB=(--url "$SERVER_URL" --label pages --warmup 50 --count "$PAGE_COUNT")
load seq "${PB[@]}" --method sessions.list --name sessions_list
load seq "${PB[@]}" --method sessions.list --params '{"offset":50000}' --name sessions_list_offset_50000
load seq "${PB[@]}" --method sessions.list --params '{"search":"project 777"}' --name sessions_list_search
load seq "${PB[@]}" --method chat.history --params '{"sessionKey":"bench-deep","limit":50}' --name chat_history_deep_50
load seq "${PB[@]}" --method chat.history --params '{"sessionKey":"bench-deep"}' --name chat_history_deep_200
load seq "${PB[@]}" --method chat.history --params '{"sessionKey":"bench-0004242"}' --name chat_history_small
echo "pages_rss_kb=$(rss_kb "$SERVER_PID")" | emit
stop_pid "$SERVER_PID"

# The table.
v() { awk -F= -v k="$1" '$1 == k { print $2; exit }' "$OUT"; }
row() { printf '%-44s %14s %14s\n' "$1" "$2" "$3"; }
echo
row "bridge figure" "gateway" "floor"
row "health seq p50 / p99 (µs)" "$(v gateway_health_seq_p50_us) / $(v gateway_health_seq_p99_us)" "$(v floor_health_seq_p50_us) / $(v floor_health_seq_p99_us)"
row "health 8x64 (req/s)" "$(v gateway_health_pipe_rps)" "$(v floor_health_pipe_rps)"
row "sessions.list 8x64, 1k sessions (req/s)" "$(v gateway_sessions_list_pipe_rps)" "-"
row "chat.history 8x64, 200 msgs (req/s)" "$(v gateway_chat_history_pipe_rps)" "-"
row "RSS idle (kB)" "$(v gateway_rss_idle_kb)" "$(v floor_rss_idle_kb)"
row "RSS at $(v gateway_idle_opened)/$IDLE_CONNS idle connections (kB)" "$(v gateway_idle_rss_held_kb)" "$(v floor_idle_rss_held_kb)"
row "first RPC after spawn, median (ms)" "$(v gateway_startup_first_rpc_ms_median)" "-"
row "sessions.list p50/p99 @100k (µs)" "$(v pages_sessions_list_seq_p50_us) / $(v pages_sessions_list_seq_p99_us)" "-"
row "chat.history 50 p50/p99 @1M (µs)" "$(v pages_chat_history_deep_50_seq_p50_us) / $(v pages_chat_history_deep_50_seq_p99_us)" "-"
