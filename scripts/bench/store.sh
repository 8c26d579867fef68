#!/usr/bin/env bash
# Store page latency at scale (issue 2): runs microclaw-store's `store_pages` example
# (100,000 sessions / 1,000,000 messages in a temp database) on the release build.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building release example store_pages"
  (cd "$BENCH_ROOT" && cargo build --release -q -p microclaw-store --example store_pages) >&2
fi
[ -x "$REL/examples/store_pages" ] || die "$REL/examples/store_pages is missing: run without BENCH_SKIP_BUILD=1"
"$REL/examples/store_pages" | kv_normalize
