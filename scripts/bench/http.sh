#!/usr/bin/env bash
# HTTP benchmark (issue 3): wrk -t2 -c32 -d10s on GET /api/health, /api/sessions (1,000
# sessions stored) and /api/metrics with a Bearer key, and whether those read paths wrote to
# the database (rows per table counted read-only before and after, plus the db/wal files).
# The per-key limit is raised to 100,000/min and the load is spread over BENCH_HTTP_KEYS keys
# (64), so no request is refused by the limiter. Env: BENCH_SKIP_BUILD=1, BENCH_HTTP_SECS (10).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SECS=${BENCH_HTTP_SECS:-10}
NKEYS=${BENCH_HTTP_KEYS:-64}

if ! command -v wrk >/dev/null; then
  log "wrk is missing: installing it with apt"
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >&2; else sudo apt-get install -y wrk >&2; fi
fi
bench_build
bench_tmp
OUT="$BENCH_TMP/http.kv"
emit() { tee -a "$OUT"; }

D="$BENCH_TMP/http"
KEYS=()
for _ in $(seq 1 "$NKEYS"); do KEYS+=("$(make_key "$D")"); done
"$REL/seed" --data-dir "$D" --sessions 1000 --messages 2198 \
  --history-key bench-history --history-messages 200 >/dev/null
echo "bench_rate_limit_per_minute=$BENCH_RATE_LIMIT" | emit
echo "http_keys=$NKEYS" | emit

# wrk builds one request per key up front and cycles through them (no per-request formatting).
LUA="$BENCH_TMP/keys.lua"
cat >"$LUA" <<'LUA_END'
local keys, reqs, i = {}, {}, 0
for k in string.gmatch(os.getenv("BENCH_KEYS") or "", "[^,]+") do keys[#keys + 1] = k end
init = function(args)
  for n, k in ipairs(keys) do
    reqs[n] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. k })
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
LUA_END
export BENCH_KEYS
BENCH_KEYS=$(IFS=,; echo "${KEYS[*]}")

start_gateway "$D"
BASE=${SERVER_URL%/}
# One request per key first, so each key's once-a-minute last-used stamp is written now and
# not inside a measured window.
for k in "${KEYS[@]}"; do
  curl -fsS -o /dev/null -H "Authorization: Bearer $k" "$BASE/api/health" || die "GET /api/health with a bench key failed"
done
sleep 0.5

files() { stat -c '%s:%y' "$D/microclaw.db" "$D/microclaw.db-wal" 2>/dev/null | tr '\n' ' '; }

for route in health sessions metrics; do
  curl -fsS -o /dev/null -H "Authorization: Bearer ${KEYS[0]}" "$BASE/api/$route" \
    || die "GET /api/$route with a bench key failed"
  before=$("$REL/db-stat" --data-dir "$D")
  fbefore=$(files)
  log "wrk -t2 -c32 -d${SECS}s GET /api/$route"
  res=$(wrk -t2 -c32 -d"${SECS}s" -s "$LUA" "$BASE/api/$route")
  after=$("$REL/db-stat" --data-dir "$D")
  fafter=$(files)
  echo "$res" >&2
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$res")
  total=$(awk '/requests in/ { print $1 }' <<<"$res")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$res")
  p50=$(awk '/^ +Latency/ { print $2 }' <<<"$res")
  # Rows added per table during the run (any table; the minute metrics flush adds a few).
  delta=$(join -t= <(sort <<<"$before") <(sort <<<"$after") | awk -F= '{ d = $3 - $2; if (d != 0) { printf "%s%s:%+d", sep, substr($1, 9), d; sep = "," } }')
  {
    echo "http_${route}_rps=$rps"
    echo "http_${route}_requests=$total"
    echo "http_${route}_non2xx=${non2xx:-0}"
    echo "http_${route}_latency_avg=$p50"
    echo "http_${route}_db_rows_changed=${delta:-none}"
    [ "$fbefore" = "$fafter" ] && echo "http_${route}_db_files_unchanged=yes" || echo "http_${route}_db_files_unchanged=no"
  } | emit
done
echo "http_rss_after_kb=$(rss_kb "$SERVER_PID")" | emit
stop_pid "$SERVER_PID"
