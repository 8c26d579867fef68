#!/usr/bin/env bash
# Engine-core benchmark (issue 10): a store seeded with 50,000 sessions (labels, message text,
# one session `bench-big` with 1,000 messages) and 30 days of per-minute metrics history, the
# release `microclaw start` on it (loopback, per-key rate limit off), then `heavy-reads`:
#   idle: one 30-day `GET /api/metrics/history?minutes=43200` (latency, bytes, points) and the
#   worst of 40 fresh handshakes (connect → hello-ok);
#   loaded: `health` p50/p99/max on its own bridge socket while 4 clients loop the heaviest
#   reads (that history, `sessions.list` with `search`, `chat.history` limit 1000) for 20 s.
# Targets: health p99 ≤ 20 ms and max ≤ 100 ms under the load; handshake worst ≤ 5 ms;
# 30-day history ≤ 20 ms. Prints key=value lines, then a table.
# Env: BENCH_SKIP_BUILD=1, BENCH_EC_SESSIONS (50000), BENCH_EC_MINUTES (43200),
# BENCH_EC_SECS (20), BENCH_EC_CLIENTS (4), BENCH_EC_HANDSHAKES (40), BENCH_EC_WRITE_DOC=1
# (replace just the engine-core section of docs/benchmarks.md; run_all.sh rewrites it all).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SESSIONS=${BENCH_EC_SESSIONS:-50000}
BIG=1000
MESSAGES=$((SESSIONS * 2 + BIG))
MINUTES=${BENCH_EC_MINUTES:-43200}
SECS=${BENCH_EC_SECS:-20}
CLIENTS=${BENCH_EC_CLIENTS:-4}
HANDSHAKES=${BENCH_EC_HANDSHAKES:-40}

bench_build
bench_tmp
OUT="$BENCH_TMP/engine_core.kv"
emit() { tee -a "$OUT"; }

echo "engine_core_loadavg_1m=$(cut -d' ' -f1 /proc/loadavg)" | emit
D="$BENCH_TMP/engine-core"
KEY=$(make_key "$D")
export BENCH_TOKEN=$KEY
log "seeding $SESSIONS sessions / $MESSAGES messages (bench-big: $BIG) and $MINUTES minutes of metrics"
"$REL/seed" --data-dir "$D" --sessions "$SESSIONS" --messages "$MESSAGES" \
  --history-key bench-big --history-messages "$BIG" --metrics-minutes "$MINUTES" \
  | sed 's/^seed_/engine_core_seed_/' | emit

# The per-key limit off (0, decisions.md / http-api.md). A build whose config still refuses 0
# gets the raised limit of the other bench scripts instead, and the output says so.
export MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE=0
if ! err=$("$MICROCLAW" config self-check --json --data-dir "$D" 2>&1 >/dev/null) \
  && grep -q api_key_rate_limit_per_minute <<<"$err"; then
  log "this build refuses api_key_rate_limit_per_minute = 0 ($err): using $BENCH_RATE_LIMIT"
  export MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE=$BENCH_RATE_LIMIT
fi
echo "engine_core_rate_limit_per_minute=$MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE" | emit

t0=$(date +%s%N)
start_gateway "$D"
echo "engine_core_start_to_listening_ms=$(( ($(date +%s%N) - t0) / 1000000 ))" | emit
GW=$SERVER_PID
echo "engine_core_rss_before_kb=$(rss_kb "$GW")" | emit
"$REL/heavy-reads" --url "$SERVER_URL" --label engine_core --clients "$CLIENTS" --secs "$SECS" \
  --handshakes "$HANDSHAKES" --history-minutes "$MINUTES" --big-session bench-big --big-limit "$BIG" \
  | emit
echo "engine_core_rss_after_kb=$(rss_kb "$GW")" | emit
echo "engine_core_rss_peak_kb=$(rss_kb "$GW" VmHWM)" | emit
stop_pid "$GW"

# The table (ms; targets from issue 10).
v() { awk -F= -v k="$1" '$1 == k { print $2; exit }' "$OUT"; }
ms() { awk -v u="$1" 'BEGIN { if (u == "") print "n/a"; else printf "%.2f", u / 1000 }'; }
row() { printf '%-52s %18s %12s\n' "$1" "$2" "$3"; }
echo
row "engine-core figure ($SESSIONS sessions, $MINUTES min)" "measured" "target"
row "health under load p50 / p99 (ms)" "$(ms "$(v engine_core_health_under_load_p50_us)") / $(ms "$(v engine_core_health_under_load_p99_us)")" "p99 ≤ 20"
row "health under load max (ms), $(v engine_core_health_under_load_count) probes" "$(ms "$(v engine_core_health_under_load_max_us)")" "≤ 100"
row "handshake worst of $(v engine_core_handshake_count) (ms)" "$(ms "$(v engine_core_handshake_max_us)")" "≤ 5"
row "30-day history idle p50 (ms)" "$(ms "$(v engine_core_history_30d_idle_p50_us)")" "≤ 20"
row "30-day history size (bytes / points)" "$(v engine_core_history_30d_bytes) / $(v engine_core_history_30d_points)" "-"
row "reads done under load: history / search / chat" "$(v engine_core_load_history_30d_count) / $(v engine_core_load_sessions_search_count) / $(v engine_core_load_chat_history_1000_count)" "-"

if [ "${BENCH_EC_WRITE_DOC:-0}" = 1 ]; then
  DOC="$BENCH_ROOT/docs/benchmarks.md"
  SECTION="$BENCH_TMP/engine_core.md"
  bash "$(dirname "${BASH_SOURCE[0]}")/engine_core_doc.sh" "$OUT" >"$SECTION"
  # Replace the section (its heading up to the next `## `), or put it before "## All figures".
  awk -v sec="$SECTION" '
    function dump() { while ((getline l < sec) > 0) print l; close(sec); done = 1 }
    /^## Engine core under heavy reads/ { dump(); skip = 1; next }
    skip && /^## / { skip = 0 }
    !done && /^## All figures/ { dump() }
    !skip { print }
    END { if (!done) dump() }
  ' "$DOC" >"$BENCH_TMP/benchmarks.md"
  cp "$BENCH_TMP/benchmarks.md" "$DOC"
  log "wrote the engine-core section of $DOC"
fi
