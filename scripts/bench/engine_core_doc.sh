#!/usr/bin/env bash
# Renders the "Engine core under heavy reads" section of docs/benchmarks.md from a key=value
# file (the output of engine_core.sh): `engine_core_doc.sh FILE`. Used by run_all.sh, and by
# engine_core.sh with BENCH_EC_WRITE_DOC=1 to replace just that section.
set -euo pipefail
KV=${1:?usage: engine_core_doc.sh KEY_VALUE_FILE}
[ -f "$KV" ] || { echo "engine_core_doc.sh: $KV does not exist" >&2; exit 1; }

v() { local x; x=$(awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$KV"); echo "${x:-n/a}"; }
judge() {
  awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
    if (a == "n/a" || b == "n/a" || a == "" || b == "") { print "n/a"; exit }
    ok = (op == "<=") ? (a + 0 <= b + 0) : (a + 0 >= b + 0); print ok ? "met" : "missed" }'
}
mb() { awk -v k="$1" 'BEGIN { if (k == "n/a" || k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
ms() { awk -v u="$1" 'BEGIN { if (u == "n/a" || u == "") print "n/a"; else printf "%.2f", u / 1000 }'; }

ec_h50=$(ms "$(v engine_core_health_under_load_p50_us)"); ec_h99=$(ms "$(v engine_core_health_under_load_p99_us)")
ec_hmax=$(ms "$(v engine_core_health_under_load_max_us)"); ec_hs=$(ms "$(v engine_core_handshake_max_us)")
ec_hist=$(ms "$(v engine_core_history_30d_idle_p50_us)"); ec_hist_max=$(ms "$(v engine_core_history_30d_idle_max_us)")
ec_bytes=$(v engine_core_history_30d_bytes)
ec_rl=$(v engine_core_rate_limit_per_minute)

cat <<EOF_DOC
## Engine core under heavy reads (issue 10; \`scripts/bench/engine_core.sh\`, \`heavy-reads\`)

Run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --short HEAD 2>/dev/null || echo unknown) (plus uncommitted changes, if any), on this machine.

A store seeded with $(v engine_core_seed_sessions) sessions (a third with labels \`Project N\`, every one with message text)
and $(v engine_core_seed_messages) messages, one session \`bench-big\` holding 1,000 of them, plus $(v engine_core_seed_metrics_minutes) minutes (30 days) of
per-minute metrics history written through the store's write API; the release \`microclaw start\` on it
(loopback, per-key rate limit \`${ec_rl}\`/min, 0 = off; up and listening in $(v engine_core_start_to_listening_ms) ms). Idle first: one 30-day history
(\`GET /api/metrics/history?minutes=43200\`, median of $(v engine_core_history_30d_idle_count) after one warm-up) and $(v engine_core_handshake_count) fresh
bridge handshakes one after another (TCP connect → \`hello-ok\`). Then $(v engine_core_load_clients) clients loop the heaviest
reads — that history over HTTP, \`sessions.list\` with \`search: "project 777"\` and \`chat.history\` of
\`bench-big\` with \`limit: 1000\` over the bridge — while \`health\` is asked on another bridge socket
(one every 2 ms after the answer) for $(v engine_core_probe_secs) s ($(v engine_core_load_secs) s of load with its 1 s warm-up). The machine is
shared: its 1-minute load average was $(v engine_core_loadavg_1m) when the run started.

| figure | MicroClaw | target | |
|---|---|---|---|
| \`health\` under the heavy reads p50 / p99 (ms), $(v engine_core_health_under_load_count) probes | ${ec_h50} / ${ec_h99} | p99 ≤ 20 | $(judge "$ec_h99" "<=" 20) |
| \`health\` under the heavy reads max (ms) | ${ec_hmax} | ≤ 100 | $(judge "$ec_hmax" "<=" 100) |
| worst of $(v engine_core_handshake_count) fresh handshakes, connect → hello-ok (ms; p50 $(ms "$(v engine_core_handshake_p50_us)")) | ${ec_hs} | ≤ 5 | $(judge "$ec_hs" "<=" 5) |
| 30-day history, idle, median / max (ms) | ${ec_hist} / ${ec_hist_max} | ≤ 20 | $(judge "$ec_hist" "<=" 20) |
| 30-day history response size (bytes; $(v engine_core_history_30d_points) points) | ${ec_bytes} | – | |

Reads completed during the load (count, p50 ms): history $(v engine_core_load_history_30d_count), $(ms "$(v engine_core_load_history_30d_p50_us)");
search $(v engine_core_load_sessions_search_count), $(ms "$(v engine_core_load_sessions_search_p50_us)"); 1,000-message history $(v engine_core_load_chat_history_1000_count), $(ms "$(v engine_core_load_chat_history_1000_p50_us)").
Refused or failed: health $(v engine_core_health_under_load_errors), history $(v engine_core_load_history_30d_errors), search $(v engine_core_load_sessions_search_errors), chat.history $(v engine_core_load_chat_history_1000_errors).
Gateway RSS $(mb "$(v engine_core_rss_before_kb)") MB before, $(mb "$(v engine_core_rss_after_kb)") MB after (peak $(mb "$(v engine_core_rss_peak_kb)") MB); seeded in $(v engine_core_seed_secs) s + $(v engine_core_seed_metrics_secs) s.

EOF_DOC
