#!/usr/bin/env bash
# Starts the desktop services of the smoke test inside the current D-Bus session (smoke.sh runs
# in `dbus-run-session` under Xvfb) and prints shell assignments for smoke.sh to source:
#
#   - gnome-keyring-daemon: the Secret Service (the keychain), unlocked with a throwaway password;
#   - dunst: the notification daemon, with a rule that appends every notification it shows to
#     <work>/notifications.log (appname, summary, body, dunst's id; tab-separated) and no
#     timeouts, so a test can click one with `dunstctl action 0`;
#   - <work>/bare-bus.conf: a session-bus config with no service directories (nothing can be
#     activated there, so no Secret Service): the keychain fallback check runs on it.
#
#   usage: desktop_services.sh WORK_DIR > services.env
set -euo pipefail
work="${1:?usage: desktop_services.sh WORK_DIR}"
[[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" && -n "${DISPLAY:-}" ]] || {
  echo "FAIL: desktop_services.sh needs a session bus and a display (run it inside smoke.sh)" >&2
  exit 1
}

keyring_env="$(echo -n smoke | gnome-keyring-daemon --unlock --components=secrets)"
eval "$keyring_env"
echo "export GNOME_KEYRING_CONTROL='${GNOME_KEYRING_CONTROL:-}'"
echo "keyring_pid='${GNOME_KEYRING_PID:-}'"

cat >"$work/dunst-log.sh" <<EOF
#!/bin/sh
printf '%s\t%s\t%s\t%s\n' "\$1" "\$2" "\$3" "\${DUNST_ID:-}" >>"$work/notifications.log"
EOF
chmod +x "$work/dunst-log.sh"
cat >"$work/dunstrc" <<EOF
[global]
    idle_threshold = 0
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
[log_every_notification]
    summary = "*"
    script = $work/dunst-log.sh
EOF
: >"$work/notifications.log"
dunst -config "$work/dunstrc" >"$work/dunst.log" 2>&1 </dev/null &
echo "dunst_pid='$!'"
for _ in $(seq 1 50); do
  dunstctl is-paused >/dev/null 2>&1 && break
  sleep 0.2
done
if ! dunstctl is-paused >/dev/null 2>&1; then
  echo "FAIL: dunst did not start: $(tail -n 5 "$work/dunst.log")" >&2
  exit 1
fi

cat >"$work/bare-bus.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
