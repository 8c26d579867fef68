#!/usr/bin/env bash
# Issue 17 store figures: search hit pages over message text (FTS5), list and history pages,
# on a database seeded by the `search-pages` bench binary (release build). Not run in CI.
#   SEARCH_SESSIONS (default 100000), SEARCH_MESSAGES (default 1000000),
#   SEARCH_HISTORY (messages in the one big session, default 100000),
#   SEARCH_DATA_DIR (keep the seeded database there; default: a temp dir removed on exit).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building release: search-pages"
  (cd "$BENCH_ROOT" && cargo build --release -q -p microclaw-bench --bin search-pages) >&2
fi
[ -x "$REL/search-pages" ] || die "$REL/search-pages is missing: run without BENCH_SKIP_BUILD=1"
if [ -n "${SEARCH_DATA_DIR:-}" ]; then
  DATA=$SEARCH_DATA_DIR
else
  bench_tmp
  DATA="$BENCH_TMP/data"
fi
SKIP=()
[ -f "$DATA/microclaw.db" ] && SKIP=(--skip-seed) && log "measuring the database already in $DATA"
echo "search_pages_load_avg=$(cut -d' ' -f1 /proc/loadavg)"
"$REL/search-pages" --data-dir "$DATA" \
  --sessions "${SEARCH_SESSIONS:-100000}" --messages "${SEARCH_MESSAGES:-1000000}" \
  --history-messages "${SEARCH_HISTORY:-100000}" "${SKIP[@]+"${SKIP[@]}"}"
