#!/usr/bin/env bash
# Checks the .deb from scripts/package.sh: its control data, the files it holds (the binary,
# the desktop entry with the microclaw:// scheme handler, the icons), that it installs with
# dpkg (as root; otherwise into a temporary root with dpkg-deb -x), and that the installed app
# starts (under Xvfb, on its own session bus where no Secret Service can start, so it also
# reports the keychain fallback), serves its gateway, and quits cleanly on SIGTERM.
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero on any failure.
#
#   tests/desktop/deb_check.sh                    # builds a debug .deb first (PACKAGE_PROFILE=debug)
#   MICROCLAW_DEB=path/to/app.deb tests/desktop/deb_check.sh
#   DEB_CHECK_KEEP_INSTALLED=1 ...                # leave the package installed afterwards
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 && $passed -gt 0 ]]; exit $?; }

deb="${MICROCLAW_DEB:-}"
if [[ -z "$deb" ]]; then
  out="$(cd "$root" && SKIP_SETUP=1 SKIP_UI_BUILD=1 PACKAGE_PROFILE=debug bash scripts/package.sh 2>&1)"
  status=$?
  deb="$(printf '%s\n' "$out" | sed -n 's/^deb: \(.*\.deb\) (.*/\1/p' | tail -n 1)"
  if [[ $status -ne 0 || -z "$deb" ]]; then
    printf '%s\n' "$out" | tail -n 30
    fail "scripts/package.sh built no .deb (exit $status)"
    finish
  fi
fi
[[ -f "$deb" ]] || { fail "no .deb at $deb"; finish; }
pass "the .deb was built: $(basename "$deb") ($(du -h "$deb" | cut -f1))"

work="$(mktemp -d "${TMPDIR:-/tmp}/microclaw-deb-check.XXXXXX")"
installed=""
app_pid=""
cleanup() {
  [[ -n "$app_pid" ]] && kill "$app_pid" 2>/dev/null
  if [[ -n "$installed" && -z "${DEB_CHECK_KEEP_INSTALLED:-}" ]]; then
    dpkg -r "$installed" >/dev/null 2>&1 || true
  fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

pkg="$(dpkg-deb -f "$deb" Package)"
depends="$(dpkg-deb -f "$deb" Depends)"
if [[ -n "$pkg" && "$depends" == *libwebkit2gtk-4.1* && "$depends" == *libgtk-3* ]]; then
  pass "control: package $pkg depends on $depends"
else
  fail "control: package '$pkg', Depends '$depends' (expected libwebkit2gtk-4.1 and libgtk-3)"
fi

tree="$work/tree"
dpkg-deb -x "$deb" "$tree"
if [[ -x "$tree/usr/bin/microclaw-desktop" ]]; then pass "holds /usr/bin/microclaw-desktop"; else fail "no executable /usr/bin/microclaw-desktop in the .deb"; fi

entry="$(ls "$tree"/usr/share/applications/*.desktop 2>/dev/null | head -n 1)"
if [[ -z "$entry" ]]; then
  fail "no desktop entry under /usr/share/applications"
else
  problems=()
  grep -q '^Name=MicroClaw Console$' "$entry" || problems+=("Name")
  grep -q '^Exec=microclaw-desktop %u$' "$entry" || problems+=("Exec=microclaw-desktop %u")
  grep -q '^MimeType=.*x-scheme-handler/microclaw;' "$entry" || problems+=("MimeType x-scheme-handler/microclaw")
  icon="$(sed -n 's/^Icon=//p' "$entry")"
  [[ -n "$icon" ]] || problems+=("Icon")
  if command -v desktop-file-validate >/dev/null && ! desktop-file-validate "$entry" >"$work/validate.log" 2>&1; then
    problems+=("desktop-file-validate: $(head -n 3 "$work/validate.log" | tr '\n' ' ')")
  fi
  if [[ ${#problems[@]} -eq 0 ]]; then pass "desktop entry $(basename "$entry"): Exec %u, MimeType x-scheme-handler/microclaw, Icon $icon"; else fail "desktop entry $(basename "$entry") lacks: ${problems[*]}"; fi
  icons="$(find "$tree/usr/share/icons/hicolor" -name "$icon.png" 2>/dev/null | sed "s|$tree||" | sort)"
  sizes=0
  for png in $icons; do
    head -c 8 "$tree$png" | od -An -tx1 | grep -q '89 50 4e 47' && sizes=$((sizes + 1))
  done
  if [[ $sizes -ge 2 ]]; then pass "icons: $(echo "$icons" | tr '\n' ' ')"; else fail "expected at least 2 PNG icons named $icon under /usr/share/icons/hicolor, found: $icons"; fi
fi

bin="$tree/usr/bin/microclaw-desktop"
if [[ "$(id -u)" -eq 0 ]]; then
  if dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
    installed="$pkg"
    bin=/usr/bin/microclaw-desktop
    pass "installs with dpkg -i (status: $(dpkg-query -W -f='${Status}' "$pkg"))"
  else
    fail "dpkg -i failed: $(tail -n 5 "$work/dpkg.log")"
  fi
else
  echo "note: not root, so the extracted copy is started instead of an installed one"
fi

# Start the (installed) app on a free port with its own data, display and session bus.
mkdir -p "$work/data" "$work/xdg"
cat >"$work/start.sh" <<EOF
#!/usr/bin/env bash
export MICROCLAW_DATA_DIR="$work/data" MICROCLAW_SERVER__PORT=0 MICROCLAW_SERVER__SHUTDOWN_GRACE_MS=1000
export XDG_CONFIG_HOME="$work/xdg" XDG_DATA_HOME="$work/xdg" XDG_CACHE_HOME="$work/xdg" NO_AT_BRIDGE=1
"$bin" >"$work/app.log" 2>&1 &
pid=\$!
for _ in \$(seq 1 120); do
  url="\$(sed -n 's/.*gateway listening on \(http[^ ]*\).*/\1/p' "$work/app.log" | head -n 1)"
  [[ -n "\$url" ]] && break
  sleep 0.5
done
code=1
for _ in \$(seq 1 20); do grep -q "keychain: no OS keychain answers" "$work/app.log" && break; sleep 0.5; done
grep -q "keychain: no OS keychain answers" "$work/app.log" || echo "no keychain fallback message in the log"
if [[ -n "\$url" ]] && python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1] + 'health', timeout=5).status == 200 else 1)" "\$url"; then
  echo "serving \$url"
  code=0
fi
kill -TERM \$pid
for _ in \$(seq 1 60); do kill -0 \$pid 2>/dev/null || break; sleep 0.5; done
if kill -0 \$pid 2>/dev/null; then kill -KILL \$pid; echo "did not quit on SIGTERM"; code=1; fi
grep -q "engine stopped cleanly" "$work/app.log" || { echo "no clean stop in the log"; code=1; }
exit \$code
EOF
cat >"$work/bare-bus.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
EOF
if result="$(timeout 120 xvfb-run -a dbus-run-session --config-file="$work/bare-bus.conf" -- bash "$work/start.sh" 2>"$work/session.log")" \
  && [[ "$result" != *"no keychain fallback"* ]]; then
  pass "the installed app starts, $result, says why it has no keychain, and quits cleanly on SIGTERM"
else
  fail "the installed app did not start and serve: $result | $(tail -n 8 "$work/app.log" 2>/dev/null | tr '\n' ' ')"
fi
finish
