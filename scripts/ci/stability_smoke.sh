#!/usr/bin/env bash
# Stability smoke (runbook "Stability checks"; CI job "Stability Smoke", run by .ci/run).
#
# Builds the release binary and the driver (tests/stability), runs each cargo-fuzz target for
# a bounded time, then the driver: crash safety (kill -9 cycles), throttle recovery, hostile
# input, load and slow clients, graceful shutdown, SLO alerts, security defaults.
# Prints `PASS name` / `FAIL name: why` / `SKIPPED name: why` per check and
# `N passed, N failed, N skipped`, writes target/stability/report.json, exits non-zero on any
# failure. A fuzz run that could not happen (STABILITY_SKIP_FUZZ=1, cargo-fuzz not installable,
# a toolchain without the unstable flags cargo-fuzz needs) is SKIPPED, never counted as passed;
# a fuzz target that does not build or that crashes is a FAIL.
#
# Knobs (environment): STABILITY_CYCLES (kill -9 cycles, default 20), STABILITY_FUZZ_SECONDS
# (per fuzz target, default 20), STABILITY_SKIP_FUZZ=1, STABILITY_FREE_FUZZ_BUILD=1 (remove
# fuzz/target once the fuzz runs are done, to give the driver the disk; CI sets it),
# STABILITY_TIME_LIMIT (seconds for the driver, default 540). Extra arguments go to the driver
# (e.g. --only crash,slo --seed 7).
set -uo pipefail
cd "$(dirname "$0")/../.."

OUT=target/stability
CYCLES=${STABILITY_CYCLES:-20}
FUZZ_SECONDS=${STABILITY_FUZZ_SECONDS:-20}
TIME_LIMIT=${STABILITY_TIME_LIMIT:-540}
FUZZ_TARGETS=(bridge_frame connect_params config_file)
DRIVER_PGID=""

mkdir -p "$OUT/logs"
: > "$OUT/server.pids"

# Every process this script started goes on exit: the driver's process group (the driver
# and the gateways it started), then any gateway pid the driver recorded that survived.
cleanup() {
  if [[ -n "$DRIVER_PGID" ]] && kill -0 -- "-$DRIVER_PGID" 2>/dev/null; then
    kill -TERM -- "-$DRIVER_PGID" 2>/dev/null
    sleep 1
    kill -KILL -- "-$DRIVER_PGID" 2>/dev/null
  fi
  if [[ -f "$OUT/server.pids" ]]; then
    while read -r pid; do
      [[ "$pid" =~ ^[0-9]+$ ]] || continue
      if grep -qa microclaw "/proc/$pid/cmdline" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
      fi
    done < "$OUT/server.pids"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 2,000 bridge connections need more than the usual 1,024 descriptors (driver and server).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
echo "stability: fd limit $(ulimit -n)" >&2

echo "stability: building the release binary and the driver" >&2
if ! cargo build --release -p microclaw-cli -p microclaw-stability; then
  echo "FAIL build: cargo build --release -p microclaw-cli -p microclaw-stability failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# Fuzzing: one line per target into external.tsv (name, PASS|FAIL|SKIP, seconds, detail),
# which the driver merges into its output, its summary line and its report.
EXT="$OUT/external.tsv"
: > "$EXT"
fuzz_all() { # fuzz_all PASS|FAIL|SKIP detail
  for t in "${FUZZ_TARGETS[@]}"; do
    printf 'fuzz_%s\t%s\t0\t%s\n' "$t" "$1" "$2" >> "$EXT"
  done
}
# A build log that says the toolchain cannot do it (not our targets' fault): skip, not fail.
TOOLCHAIN_GAP='only accepted on the nightly|requires a nightly|toolchain .* is not installed|unknown codegen option|sanitizer.*not supported|is not a valid LLVM pass'
if [[ "${STABILITY_SKIP_FUZZ:-0}" == "1" ]]; then
  echo "stability: STABILITY_SKIP_FUZZ=1: fuzz targets not run" >&2
  fuzz_all SKIP "not run: STABILITY_SKIP_FUZZ=1"
else
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "stability: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked >&2 || true
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    fuzz_all SKIP "not run: cargo-fuzz is not installed and 'cargo install cargo-fuzz --locked' failed"
  else
    echo "stability: building the fuzz targets (RUSTC_BOOTSTRAP=1, no sanitizer)" >&2
    fuzz_build_start=$(date +%s)
    if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -s none) > "$OUT/logs/fuzz-build.log" 2>&1; then
      gap=$(grep -m1 -E "$TOOLCHAIN_GAP" "$OUT/logs/fuzz-build.log" | tr '\t' ' ')
      if [[ -n "$gap" ]]; then
        fuzz_all SKIP "not run: the toolchain cannot build fuzz targets: ${gap} (see $OUT/logs/fuzz-build.log)"
      else
        fuzz_all FAIL "cargo fuzz build failed: see $OUT/logs/fuzz-build.log"
      fi
    else
      echo "stability: fuzz build took $(( $(date +%s) - fuzz_build_start )) s" >&2
      for t in "${FUZZ_TARGETS[@]}"; do
        corpus="$OUT/fuzz-corpus/$t"
        mkdir -p "$corpus"
        log="$OUT/logs/fuzz-$t.log"
        start=$(date +%s)
        echo "stability: fuzzing $t for ${FUZZ_SECONDS} s" >&2
        (cd fuzz && RUSTC_BOOTSTRAP=1 timeout --kill-after=10 $((FUZZ_SECONDS + 120)) \
          cargo fuzz run -s none "$t" "../$corpus" "seeds/$t" -- \
          -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) \
          > "$log" 2>&1
        rc=$?
        secs=$(( $(date +%s) - start ))
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
        if [[ $rc -eq 0 ]]; then
          printf 'fuzz_%s\tPASS\t%s\t%s executions in %s s, no crash\n' "$t" "$secs" "${execs:-?}" "$FUZZ_SECONDS" >> "$EXT"
        else
          why=$(grep -m1 -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written to' "$log" | tr '\t' ' ')
          printf 'fuzz_%s\tFAIL\t%s\texit %s: %s (log %s, artifacts fuzz/artifacts/%s)\n' \
            "$t" "$secs" "$rc" "${why:-see the log}" "$log" "$t" >> "$EXT"
        fi
      done
    fi
  fi
fi

if [[ "${STABILITY_FREE_FUZZ_BUILD:-0}" == "1" ]]; then
  rm -rf fuzz/target
fi

# The driver in its own process group (so the trap can end it and its gateways), bounded.
setsid timeout --kill-after=10 "$TIME_LIMIT" target/release/stability \
  --bin target/release/microclaw --out "$OUT" --external "$EXT" --cycles "$CYCLES" "$@" &
DRIVER_PGID=$!
wait "$DRIVER_PGID"
rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
  echo "FAIL stability_driver: did not finish within ${TIME_LIMIT} s (STABILITY_TIME_LIMIT)"
  echo "0 passed, 1 failed, 0 skipped"
fi
exit "$rc"
