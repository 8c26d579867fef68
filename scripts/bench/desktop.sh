#!/usr/bin/env bash
# Desktop benchmark (issue 19): the bundle's size and the app's memory (RSS summed over all its
# processes: the app and WebKit's web and network processes) beside a hello-world Tauri window
# (scripts/bench/hello-tauri, built with the workspace's Cargo.lock and tauri features), both
# under Xvfb in their own D-Bus session (one where no service can be activated, so no keyring
# daemon or prompter joins in). Prints `key=value` lines; not run in CI.
#
#   scripts/bench/desktop.sh                      # release builds (slow the first time)
#   BENCH_PROFILE=debug scripts/bench/desktop.sh  # debug builds (quick, larger figures)
#   BENCH_SKIP_BUILD=1 ...                        # use what is built
#   BENCH_SETTLE_SECONDS=10 ...                   # how long each app runs before it is measured
#   BENCH_DEB=path.deb ...                        # the .deb to size (default: the newest one built)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
profile="${BENCH_PROFILE:-release}"
settle="${BENCH_SETTLE_SECONDS:-10}"
case "$profile" in
  release) cargo_flags=(--release) ;;
  debug) cargo_flags=() ;;
  *) echo "[bench] BENCH_PROFILE=$profile is not valid: expected release or debug" >&2; exit 2 ;;
esac
log() { echo "[bench] $*" >&2; }
for tool in xvfb-run dbus-run-session python3; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run scripts/setup-linux.sh"; exit 1; }
done

target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
work="$(mktemp -d "${TMPDIR:-/tmp}/microclaw-bench-desktop.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The hello-world app is built from a copy (with the workspace's Cargo.lock and the icons), so
# the source folder stays clean; `--offline` keeps the locked versions (it only drops the
# workspace's own entries), and the shared target dir reuses the workspace's tauri build.
hello_src="$work/hello-tauri"
cp -r "$root/scripts/bench/hello-tauri" "$hello_src"
cp "$root/Cargo.lock" "$hello_src/Cargo.lock"
mkdir -p "$hello_src/icons" && cp "$root"/icons/*.png "$hello_src/icons/"
sed -i 's|\.\./\.\./\.\./icons/|icons/|g' "$hello_src/tauri.conf.json"
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log "building microclaw-desktop and hello-tauri ($profile)"
  (cd "$root" && cargo build -q "${cargo_flags[@]}" -p microclaw-desktop) >&2
  (cd "$hello_src" && cargo build -q "${cargo_flags[@]}" --offline --target-dir "$target_dir") >&2
fi
app="$target_dir/$profile/microclaw-desktop"
hello="$target_dir/$profile/hello-tauri"
[[ -x "$app" && -x "$hello" ]] || { log "$app or $hello is missing: run without BENCH_SKIP_BUILD=1"; exit 1; }

size() { stat -c %s "$1"; }
echo "profile=$profile"
echo "app_binary_bytes=$(size "$app")"
echo "hello_binary_bytes=$(size "$hello")"
deb="${BENCH_DEB:-$(ls -t "$target_dir"/"$profile"/bundle/deb/*.deb 2>/dev/null | head -n 1 || true)}"
if [[ -n "$deb" && -f "$deb" ]]; then
  echo "app_deb_bytes=$(size "$deb")"
  echo "app_deb_installed_kib=$(dpkg-deb -f "$deb" Installed-Size)"
else
  echo "app_deb_bytes=none (build it: PACKAGE_PROFILE=$profile scripts/package.sh)"
fi

# Starts $1 in its own display and session bus, waits $settle seconds, sums VmRSS over the
# process and every descendant, and prints `<name>_rss_kib=` and `<name>_processes=`.
measure() {
  local name="$1" bin="$2"
  mkdir -p "$work/$name/data" "$work/$name/xdg"
  cat >"$work/$name/run.sh" <<EOF
#!/usr/bin/env bash
export MICROCLAW_DATA_DIR="$work/$name/data" MICROCLAW_SERVER__PORT=0 NO_AT_BRIDGE=1 RUST_LOG=warn
export XDG_CONFIG_HOME="$work/$name/xdg" XDG_DATA_HOME="$work/$name/xdg" XDG_CACHE_HOME="$work/$name/xdg"
"$bin" >"$work/$name/app.log" 2>&1 &
pid=\$!
sleep "$settle"
python3 - "\$pid" <<'PY'
import os, sys
root = int(sys.argv[1])
children = {}
for e in os.listdir("/proc"):
    if e.isdigit():
        try:
            with open(f"/proc/{e}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(e))
        except (OSError, ValueError, IndexError):
            pass
todo, seen, total, names = [root], [], 0, []
while todo:
    p = todo.pop()
    seen.append(p)
    todo.extend(children.get(p, []))
    try:
        with open(f"/proc/{p}/status") as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        kib = int(st.get("VmRSS", "0 kB").split()[0])
        total += kib
        names.append(f"{st['Name'].strip()}:{kib}")
    except OSError:
        pass
print(f"rss_kib={total}")
print(f"processes={len(seen)}")
print(f"detail={','.join(names)}")
PY
kill -TERM \$pid 2>/dev/null
wait \$pid 2>/dev/null || true
EOF
  local out
  out="$(timeout $((settle + 60)) xvfb-run -a -s "-screen 0 1440x960x24" \
    dbus-run-session --config-file="$work/bare-bus.conf" -- bash "$work/$name/run.sh" 2>"$work/$name/session.log")"
  printf '%s\n' "$out" | grep -E '^(rss_kib|processes|detail)=' | sed "s/^/${name}_/"
}

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
log "measuring the app and the hello-world window (${settle}s each)"
app_out="$(measure app "$app")"
hello_out="$(measure hello "$hello")"
printf '%s\n%s\n' "$app_out" "$hello_out"
a="$(printf '%s\n' "$app_out" | sed -n 's/^app_rss_kib=//p')"
h="$(printf '%s\n' "$hello_out" | sed -n 's/^hello_rss_kib=//p')"
if [[ -n "$a" && -n "$h" && "$h" -gt 0 ]]; then
  echo "rss_ratio_app_to_hello=$(python3 -c "print(round($a / $h, 2))")"
fi
