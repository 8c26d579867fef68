#!/usr/bin/env bash
# Desktop smoke test: the real desktop app under a virtual display, driven through WebDriver
# (WebKitWebDriver from Debian's webkit2gtk-driver, with TAURI_WEBVIEW_AUTOMATION=true).
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero on any failure.
#
#   tests/desktop/smoke.sh                 # builds target/debug/microclaw-desktop first (cargo build --workspace --bins --tests)
#   MICROCLAW_DESKTOP_BIN=path/to/app tests/desktop/smoke.sh   # use a built binary as is
#   SMOKE_SKIP_DEB=1 tests/desktop/smoke.sh   # skip the .deb check (tests/desktop/deb_check.sh)
#
# After the app checks it runs tests/desktop/deb_check.sh: a debug .deb from scripts/package.sh
# is checked, installed (as root) and started.
#
# The desktop services the app's code paths need run inside the test's own D-Bus session
# (decisions.md): gnome-keyring-daemon (Secret Service, the keychain) and dunst (the
# notification daemon; a dunstrc rule logs every notification it shows, and `dunstctl action`
# clicks one). The keychain fallback runs against a bus where no Secret Service can start.
#
# Needs: scripts/setup-linux.sh (xvfb, webkit2gtk-driver, the webkit/appindicator libraries,
# dbus, gnome-keyring, dunst, libsecret-tools, python3-xlib)
# and the built UI: `npm --prefix ui ci && npm --prefix ui run build` first (the gateway embeds
# ui/dist at build time). Without ui/dist/index.html the test FAILS at once, naming the file;
# a binary that still shows the "built without the web UI" page fails too.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/desktop"

# The built UI is part of what this test proves: without it there is nothing to pass.
ui_index="$root/ui/dist/index.html"
if [[ ! -f "$ui_index" ]]; then
  echo "FAIL: the built UI is missing: $ui_index does not exist (run: npm --prefix ui ci && npm --prefix ui run build, then rebuild the app)"
  echo "0 passed, 1 failed"
  exit 1
fi

# The driver needs python3-xlib (a Debian package): Debian's python3 has it, a python3 from
# elsewhere first on PATH (pyenv) may not.
smoke_python() {
  if /usr/bin/python3 -c 'import Xlib' 2>/dev/null; then echo /usr/bin/python3; else echo python3; fi
}

# A virtual display and a private session bus (single-instance and notifications use D-Bus;
# a private bus also keeps this test away from a desktop app the user has open).
if [[ -z "${SMOKE_INSIDE:-}" ]]; then
  for tool in xvfb-run WebKitWebDriver python3 dbus-run-session gnome-keyring-daemon dunst dunstctl secret-tool; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing: run scripts/setup-linux.sh"; exit 1; }
  done
  "$(smoke_python)" -c 'import Xlib' 2>/dev/null || { echo "FAIL: python3-xlib is missing: run scripts/setup-linux.sh"; exit 1; }
  if [[ -z "${MICROCLAW_DESKTOP_BIN:-}" ]]; then
    # --workspace --bins --tests: the same units and features as `cargo test --workspace`
    # (with the tests selected, cargo unifies the dev-dependencies' features too), so nothing
    # that the tests built is built again (a plain `cargo build` rebuilt tokio, tauri and every
    # crate over them).
    echo "building the workspace (debug) for target/debug/microclaw-desktop…"
    (cd "$root" && cargo build --workspace --bins --tests)
  fi
  export SMOKE_INSIDE=1
  status=0
  timeout --kill-after=10 "${SMOKE_TIMEOUT:-300}" \
    xvfb-run -a -s "-screen 0 1440x960x24" dbus-run-session -- bash "${BASH_SOURCE[0]}" "$@" || status=$?
  if [[ -z "${SMOKE_SKIP_DEB:-}" ]]; then
    echo "--- the .deb (tests/desktop/deb_check.sh) ---"
    timeout --kill-after=10 "${DEB_CHECK_TIMEOUT:-900}" bash "$here/deb_check.sh" || status=1
  fi
  exit "$status"
fi

app="${MICROCLAW_DESKTOP_BIN:-$root/target/debug/microclaw-desktop}"
[[ -x "$app" ]] || { echo "FAIL: no desktop binary at $app (cargo build -p microclaw-desktop)"; exit 1; }
app="$(cd "$(dirname "$app")" && pwd)/$(basename "$app")"

work="$(mktemp -d "${TMPDIR:-/tmp}/microclaw-desktop-smoke.XXXXXX")"
driver_pid=""
dunst_pid=""
keyring_pid=""
cleanup() {
  for pid in "$driver_pid" "$dunst_pid" "$keyring_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n "${SMOKE_KEEP:-}" ]]; then
    echo "kept $work"
  else
    # The webview's helper processes can still be writing caches for a moment after the app exits.
    rm -rf "$work" 2>/dev/null || { sleep 2; rm -rf "$work" 2>/dev/null || true; }
  fi
}
trap cleanup EXIT

mkdir -p "$work/data" "$work/exports" "$work/xdg/config" "$work/xdg/data" "$work/xdg/cache"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

# The app inherits WebKitWebDriver's environment.
export TAURI_WEBVIEW_AUTOMATION=true
export MICROCLAW_DATA_DIR="$work/data"
export MICROCLAW_DESKTOP_EXPORT_DIR="$work/exports"
export MICROCLAW_SERVER__PORT=0          # a free port: never collide with a running console
export MICROCLAW_SERVER__SHUTDOWN_GRACE_MS=2000
export MICROCLAW_METRICS__FLUSH_INTERVAL_SECONDS=1   # alerts see failed runs within a second
export RUST_LOG="${RUST_LOG:-info,tao=warn,wry=warn}"
export NO_AT_BRIDGE=1                    # no accessibility bus under Xvfb
# The window-state file and the webview's caches go into the work dir, not the user's home.
export XDG_CONFIG_HOME="$work/xdg/config" XDG_DATA_HOME="$work/xdg/data" XDG_CACHE_HOME="$work/xdg/cache"

bash "$here/desktop_services.sh" "$work" >"$work/services.env" || exit 1
# shellcheck disable=SC1091
source "$work/services.env"   # GNOME_KEYRING_CONTROL, keyring_pid, dunst_pid

WebKitWebDriver --host=127.0.0.1 --port="$port" >"$work/webdriver.log" 2>&1 &
driver_pid=$!
for _ in $(seq 1 50); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),timeout=0.2)" 2>/dev/null && break
  sleep 0.2
done

status=0
"$(smoke_python)" "$here/smoke_driver.py" --webdriver "http://127.0.0.1:$port" --app "$app" --export-dir "$work/exports" --data-dir "$work/data" --driver-pid "$driver_pid" \
  --config-home "$XDG_CONFIG_HOME" --app-log "$work/webdriver.log" \
  --notifications "$work/notifications.log" --bare-bus-conf "$work/bare-bus.conf" || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- WebKitWebDriver and app log (last 60 lines) ---"
  tail -n 60 "$work/webdriver.log" || true
  echo "--- notifications dunst showed ---"
  cat "$work/notifications.log" || true
  tail -n 20 "$work/dunst.log" || true
fi
exit "$status"
