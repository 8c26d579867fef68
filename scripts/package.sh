#!/usr/bin/env bash
# Builds the Linux .deb of the desktop app (MicroClaw Console) and prints where it is.
#
#   scripts/package.sh                # setup (if needed) + UI build + release .deb
#   SKIP_UI_BUILD=1 scripts/package.sh   # ui/dist is already built
#   scripts/package.sh --verbose      # extra arguments go to `tauri build`
#   PACKAGE_PROFILE=debug scripts/package.sh   # a debug .deb (faster; what tests/desktop/deb_check.sh builds)
#   SKIP_SETUP=1 scripts/package.sh   # the system packages are already there
#
# Uses the npm package @tauri-apps/cli@2 (installs in seconds). The AppImage target is
# configured in src-tauri/tauri.conf.json (`--bundles appimage`) but not built here: it
# downloads tools from outside the package registries.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

profile="${PACKAGE_PROFILE:-release}"
case "$profile" in
  release) build_flags=() ;;
  debug) build_flags=(--debug) ;;
  *) echo "package: PACKAGE_PROFILE=$profile is not valid: expected release or debug" >&2; exit 2 ;;
esac

if [[ "$(uname -s)" == "Linux" && -z "${SKIP_SETUP:-}" ]]; then
  bash scripts/setup-linux.sh
fi

# The gateway embeds ui/dist at compile time, so the UI is built before the app.
if [[ -z "${SKIP_UI_BUILD:-}" ]]; then
  npm --prefix ui ci
  npm --prefix ui run build
fi
[[ -f ui/dist/index.html ]] || { echo "package: ui/dist/index.html is missing (npm --prefix ui run build)" >&2; exit 1; }

(cd src-tauri && npx --yes @tauri-apps/cli@2 build "${build_flags[@]}" --bundles deb "$@")

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
deb="$(ls -t "$target_dir"/"$profile"/bundle/deb/*.deb 2>/dev/null | head -n 1 || true)"
if [[ -z "$deb" ]]; then
  echo "package: tauri build finished but no .deb was found under $target_dir/$profile/bundle/deb" >&2
  exit 1
fi
echo "deb: $deb ($(du -h "$deb" | cut -f1))"
echo "install: sudo apt install '$deb'   (then run: microclaw-desktop, or MicroClaw Console in the app menu)"
