#!/usr/bin/env bash
# Metrics benchmark (issue 4): runs microclaw-metrics' `metrics_bench` example on the release
# build (ns per recorded event single/contended, 30-day summary, 43,200-point history, charts).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building release example metrics_bench"
  (cd "$BENCH_ROOT" && cargo build --release -q -p microclaw-metrics --example metrics_bench) >&2
fi
[ -x "$REL/examples/metrics_bench" ] || die "$REL/examples/metrics_bench is missing: run without BENCH_SKIP_BUILD=1"
"$REL/examples/metrics_bench" | kv_normalize
