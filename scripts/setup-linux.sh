#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the desktop app, its bundles and its tests need, only
# when they are missing. Idempotent: a second run checks with dpkg and installs nothing.
#
#   scripts/setup-linux.sh            # desktop build + desktop smoke test + browser tests + bench
#   SETUP_LINUX_DRY_RUN=1 scripts/setup-linux.sh   # only say what is missing
#
# The engine crates (`cargo build` with default members) need none of these.
set -euo pipefail

PACKAGES=(
  libwebkit2gtk-4.1-dev          # the webview (tauri on Linux)
  libayatana-appindicator3-dev   # the tray icon
  librsvg2-dev                   # icons in the bundle
  xvfb                           # a virtual display for the desktop smoke test and CI
  xauth                          # xvfb-run needs it
  webkit2gtk-driver              # WebKitWebDriver: drives the app's webview in the smoke test
  chromium                       # the browser end-to-end tests (playwright-core)
  wrk                            # the HTTP benchmarks
  dbus                           # dbus-run-session: the fleet keychain test's own session bus
  gnome-keyring                  # a Secret Service for the `keyring` crate (fleet tokens, desktop secrets)
  libsecret-tools                # secret-tool: the desktop smoke reads the CLI key back from the keychain
  dunst                          # a notification daemon for the desktop smoke (logs and clicks notifications)
  python3-xlib                   # the desktop smoke closes the window as a window manager does
)

if [[ "$(uname -s)" != "Linux" ]]; then
  echo "setup-linux: not Linux ($(uname -s)); nothing to do"
  exit 0
fi
if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-linux: no dpkg/apt-get here; install by hand: ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  # dpkg -s succeeds for removed-but-configured packages too, so check the status line.
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-linux: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
echo "setup-linux: missing: ${missing[*]}"
if [[ -n "${SETUP_LINUX_DRY_RUN:-}" ]]; then
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup-linux: not root and no sudo; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup-linux: installed ${missing[*]}"
