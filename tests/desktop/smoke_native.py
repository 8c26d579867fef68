"""The desktop-native checks of the smoke test (see smoke.sh): the keychain and its fallback,
the desktop CLI key, notifications seen by the running daemon (dunst) and clicked open, deep
links routed to the running instance, close to tray and reopening. Each check raises on failure."""

import json
import os
import subprocess
import time
import urllib.request

from webdriver import wait_until

HASH = "return location.hash;"


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


class Native:
    def __init__(self, s, args, fetch_script, origin, app_pid_fn):
        self.s = s
        self.args = args
        self.fetch = fetch_script
        self.origin = origin
        self.app_pid = app_pid_fn
        self._x = None

    # --- helpers -------------------------------------------------------------------------
    def api(self, method, path, body=None):
        r = self.s.execute_async(self.fetch, method, path, body)
        return r["status"], r["body"]

    def notifications(self):
        """(appname, summary, body, dunst id) of every notification dunst has shown."""
        out = []
        for line in read(self.args.notifications).splitlines():
            parts = line.split("\t")
            if len(parts) >= 4:
                out.append(tuple(parts[:4]))
        return out

    def wait_notification(self, summary_part, timeout=30):
        def seen():
            return next((n for n in self.notifications() if summary_part in n[1]), None)

        return wait_until(f"dunst to show a notification titled '…{summary_part}…'", seen, timeout)

    def click(self, summary_part):
        """Clicks (default action) the newest notification titled `…summary_part…`. dunst shows
        the oldest on top, so every older one is closed first (CloseNotification by dunst's id)
        and dunst's top one is clicked; newer ones stay on screen."""
        shown = [n for n in self.notifications() if n[3].isdigit()]
        target = max((int(n[3]) for n in shown if summary_part in n[1]), default=None)
        assert target is not None, f"dunst showed no notification titled …{summary_part}…"
        for _app, _summary, _body, nid in shown:
            if int(nid) < target:
                subprocess.run(
                    ["dbus-send", "--session", "--type=method_call", "--dest=org.freedesktop.Notifications",
                     "/org/freedesktop/Notifications", "org.freedesktop.Notifications.CloseNotification",
                     f"uint32:{nid}"],
                    timeout=10, capture_output=True,
                )
        time.sleep(0.3)
        subprocess.run(["dunstctl", "action", "0"], check=True, timeout=10)

    def wait_hash(self, want, timeout=20):
        return wait_until(f"the window to show {want}", lambda: self.s.execute(HASH) == want, timeout)

    def second_launch(self, *argv):
        """Starts the app again (argv: e.g. a deep link); it must hand over and exit 0."""
        p = subprocess.run([self.args.app, *argv], capture_output=True, text=True, timeout=30, env=os.environ.copy())
        out = p.stdout + p.stderr
        assert p.returncode == 0, f"the second launch {argv} exited with {p.returncode}: {out[-400:]}"
        assert "gateway listening" not in out, "the second launch started its own engine"
        return out

    def x(self):
        if self._x is None:
            from x11 import AppWindow

            pid = wait_until("the app's process", self.app_pid, 5)
            self._x = AppWindow(pid)
        return self._x

    # --- checks --------------------------------------------------------------------------
    def keychain_round_trip(self):
        p = subprocess.run([self.args.app, "--keychain-check"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, f"--keychain-check failed ({p.returncode}): {p.stdout}{p.stderr[-300:]}"
        assert "stored, read back and deleted" in p.stdout, p.stdout
        return p.stdout.strip()[:60]

    def keychain_fallback(self):
        cmd = ["dbus-run-session", f"--config-file={self.args.bare_bus_conf}", "--", self.args.app, "--keychain-check"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, f"expected exit 1 without a keychain, got {p.returncode}: {p.stdout}"
        msg = p.stdout.strip()
        assert msg.startswith("keychain: no OS keychain answers ("), f"unclear fallback message: {msg}"
        assert "gnome-keyring-daemon" in msg, f"the message does not say what to start: {msg}"
        return msg[:90] + "…"

    def cli_key(self):
        log = self.args.app_log
        wait_until("the desktop CLI key to be stored", lambda: "keychain: stored a new desktop CLI key" in read(log), 20)
        account = f"cli-key:{self.args.data_dir}"
        p = subprocess.run(
            ["secret-tool", "lookup", "service", "microclaw-desktop", "username", account],
            capture_output=True, text=True, timeout=15,
        )
        key = p.stdout.strip()
        assert p.returncode == 0 and key.startswith("mk_"), f"secret-tool lookup ({account}) -> {p.returncode}: {p.stderr}"
        req = urllib.request.Request(
            f"http://{self.origin.hostname}:{self.origin.port}/api/metrics/summary",
            headers={"authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, f"the stored key was refused: {r.status}"
        return f"{key[:11]}… read back from the keychain and accepted by the gateway"

    def alert_notification_opens_alerts(self):
        n = self.wait_notification("SLO alert")
        assert "Alerts page" in n[2], f"the alert notice does not say where it leads: {n}"
        self.s.execute("location.hash = '#/overview';")
        self.click("SLO alert")
        self.wait_hash("#/alerts")
        return f"{n[1]} -> #/alerts"

    def incident_notification(self):
        """The page alert opened an incident (incidents.auto_open): it notifies once and its
        click opens #/incidents?id=<id>."""
        n = self.wait_notification("Incident opened", 30)
        st, b = self.api("GET", "/api/incidents?status=open")
        assert st == 200, f"GET /api/incidents -> {st}: {b[:200]}"
        doc = json.loads(b)
        items = doc.get("incidents", doc) if isinstance(doc, dict) else doc
        assert items, f"no open incident is listed: {b[:200]}"
        inc_id = str(items[0]["id"])
        self.s.execute("location.hash = '#/overview';")
        self.click("Incident opened")
        self.wait_hash(f"#/incidents?id={inc_id}")
        return f"{n[1]}: {n[2][:40]} -> #/incidents?id={inc_id}"

    def dead_letter_notification(self):
        subprocess.run(["dunstctl", "close-all"], timeout=10)
        job = {
            "name": "desktop-smoke-dlq",
            "schedule": {"kind": "every", "everyMs": 1000},
            "payload": {"kind": "agentTurn", "message": "/fail"},
            "sessionKey": "desktop-smoke-dlq",
            "retry": {"maxAttempts": 1},
        }
        status, body = self.api("POST", "/api/scheduler/jobs", job)
        assert status in (200, 201), f"POST /api/scheduler/jobs -> {status}: {body[:200]}"
        job_id = json.loads(body).get("id") or json.loads(body).get("job", {}).get("id")
        try:
            n = self.wait_notification("Scheduled job failed", 40)
        finally:
            if job_id:
                self.api("DELETE", f"/api/scheduler/jobs/{job_id}")
        self.click("Scheduled job failed")
        self.wait_hash("#/scheduler")
        return n[2][:60]

    def approval_notification(self):
        """A run asks for run_command (the stub provider calls it): the approval notifies, the
        tray counts it, a click opens #/approvals?id=<id>; denying it clears the count."""
        key = "desktop-smoke-approval"
        status, body = self.api("POST", "/api/sessions/settings", {"session_key": key, "agent_id": "ops"})
        assert status == 200, f"POST /api/sessions/settings -> {status}: {body[:200]}"
        # The send waits for the run, which waits for the approval: do not wait for it here.
        self.s.execute(
            "fetch('/api/send', {method: 'POST', headers: {'content-type': 'application/json',"
            " authorization: 'Bearer ' + window.__MICROCLAW_LAUNCH_TOKEN__},"
            " body: JSON.stringify({session_key: arguments[0], message: arguments[1]})});",
            key, 'tool:run_command {"command":"echo desktop-smoke"}',
        )
        n = self.wait_notification("Approval needed", 30)
        assert "echo desktop-smoke" in n[2], f"the approval notice does not name the command: {n}"

        def pending():
            st, b = self.api("GET", "/api/exec-approvals")
            items = json.loads(b).get("approvals", []) if st == 200 else []
            return items[0]["id"] if items else None

        approval_id = wait_until("the approval to be listed", pending, 10)
        wait_until("the tray to count the approval",
                   lambda: "1 approval pending" in read(self.args.app_log), 10)
        self.click("Approval needed")
        self.wait_hash(f"#/approvals?id={approval_id}")
        self.s.wait_for(f'[data-testid="pending-row"][data-id="{approval_id}"].focus', 15)  # the page shows it
        st, b = self.api("POST", "/api/exec-approvals/respond", {"id": approval_id, "action": "deny"})
        assert st == 200, f"deny -> {st}: {b[:200]}"

        def cleared():
            lines = [l for l in read(self.args.app_log).splitlines() if "tray: " in l and " | " in l]
            return lines and "No approvals pending" in lines[-1]

        wait_until("the tray count to clear after the denial", cleared, 10)
        return f"{n[1]}: {n[2][:50]}… -> #/approvals?id={approval_id[:12]}…"

    def deep_link_session(self):
        self.second_launch("microclaw://session/smoke-deep%20link")
        self.wait_hash("#/sessions?key=smoke-deep%20link")
        self.s.wait_for('[data-testid="composer"]', 20)
        return "#/sessions?key=smoke-deep%20link"

    def bad_deep_link(self):
        self.second_launch("microclaw://nowhere/1")
        wait_until("the app to log the refused link", lambda: "ignored a deep link" in read(self.args.app_log), 10)
        assert self.s.execute(HASH).startswith("#/sessions"), "a bad link moved the window"

    def close_to_tray_and_reopen(self):
        xw = self.x()
        assert xw.shown() is True, "the window was not shown before the close"
        xw.request_close()
        wait_until("the window to hide (close to tray)", lambda: xw.shown() is False, 15)
        assert "closed to tray" in read(self.args.app_log)
        status, _ = self.api("GET", "/api/metrics/summary")
        assert status == 200, f"the engine stopped answering while in the tray ({status})"
        self.second_launch()
        wait_until("a second launch to show the hidden window", lambda: xw.shown() is True, 15)
        return "hidden on close, shown by the next launch"

    def deep_link_reopens_on_approval(self):
        xw = self.x()
        xw.request_close()
        wait_until("the window to hide again", lambda: xw.shown() is False, 15)
        self.second_launch("microclaw://approval/apr_smoke")
        wait_until("the deep link to show the window", lambda: xw.shown() is True, 15)
        self.wait_hash("#/approvals?id=apr_smoke")
        return "#/approvals?id=apr_smoke"

    def tray_lines(self):
        def last_line():
            lines = [l for l in read(self.args.app_log).splitlines() if "tray: " in l and " | " in l]
            return lines[-1].split("tray: ", 1)[1] if lines else None

        def current():
            log, last = read(self.args.app_log), last_line()
            if not last:
                return None
            if "freeze changed: Change freeze: ON" in log and "Change freeze: ON" not in last:
                return None  # the page alert turned the freeze on: the tray must say so
            if "health: SLO burning" in log and "badge none" in last:
                return None  # alerts fire: the badge counts them
            return last

        try:
            last = wait_until("the tray's lines to follow the engine", current, 10)
        except TimeoutError:
            raise AssertionError(f"the tray's last line does not match the engine's state: {last_line()}")
        for part in ("alert", "approval", "Change freeze", "badge"):
            assert part in last, f"the tray line has no {part!r}: {last}"
        return last
