#!/usr/bin/env bash
# Sets up a fresh Linux machine and runs MicroClaw Console: the desktop app when a display is
# present, otherwise the headless gateway (`microclaw start`), which prints its URL.
# Extra arguments go to `microclaw start` (e.g. --port 0 --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-linux.sh
npm --prefix ui ci --no-audit --no-fund
npm --prefix ui run build

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  cargo build --release -p microclaw-desktop
  exec target/release/microclaw-desktop
else
  cargo build --release -p microclaw-cli
  exec target/release/microclaw start "$@"
fi
