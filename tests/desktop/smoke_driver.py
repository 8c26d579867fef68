"""Desktop smoke test: drives the real desktop app through WebKitWebDriver (see smoke.sh).

Checks, each printed as PASS/FAIL: the window loads the UI from the in-process engine with a
launch token at its remembered size, the UI shows "connected", a message round-trips, export works through the
shell (the UI's Export button and the `export_metrics` command, both saving without a dialog
because MICROCLAW_DESKTOP_EXPORT_DIR is set), commands that were not granted are refused, an
SLO alert notifies and turns the tray to "SLO burning" (seen in the app's log), and the
desktop-native checks of smoke_native.py (keychain and its fallback, the CLI key, notifications
seen by dunst and clicked open, deep links, close to tray and reopening, the tray's lines), and
a second launch hands over to the first, and quitting stops the engine cleanly.

usage: smoke_driver.py --webdriver URL --app BINARY --export-dir DIR --data-dir DIR --driver-pid PID --config-home DIR --app-log FILE
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Session, wait_until  # noqa: E402
from smoke_native import Native  # noqa: E402
import openai_stub  # noqa: E402

CONNECTED = '[data-testid="connection-indicator"][data-state="connected"], [data-testid="connection-status"][data-state="connected"]'
INVOKE = """
const [cmd, args] = [arguments[0], arguments[1]];
const done = arguments[arguments.length - 1];
const t = window.__TAURI__ && window.__TAURI__.core;
if (!t) { done({ err: 'window.__TAURI__.core is missing (withGlobalTauri off?)' }); return; }
t.invoke(cmd, args).then(
  (ok) => done({ ok: ok === undefined ? null : ok }),
  (e) => done({ err: typeof e === 'string' ? e : JSON.stringify(e) }));
"""
FETCH = """
const [method, path, body] = [arguments[0], arguments[1], arguments[2]];
const done = arguments[arguments.length - 1];
fetch(path, { method, headers: { 'content-type': 'application/json',
  authorization: 'Bearer ' + window.__MICROCLAW_LAUNCH_TOKEN__ }, body: body ? JSON.stringify(body) : undefined })
  .then(async (r) => done({ status: r.status, body: await r.text() }), (e) => done({ status: 0, body: String(e) }));
"""


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn):
        started = time.monotonic()
        try:
            detail = fn()
            self.passed += 1
            extra = f" ({detail})" if detail else ""
            print(f"PASS: {name}{extra} [{time.monotonic() - started:.1f}s]", flush=True)
            return True
        except Exception as e:  # a failed check is reported, the others still run
            self.failed += 1
            print(f"FAIL: {name}: {e}", flush=True)
            if os.environ.get("SMOKE_VERBOSE"):
                traceback.print_exc()
            return False


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def app_pid(parent_pid, app):
    """The pid of the running `app` binary started by `parent_pid` (WebKitWebDriver), or None."""
    want = os.path.realpath(app)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == parent_pid and os.path.realpath(f"/proc/{entry}/exe") == want:
                return int(entry)
        except (OSError, ValueError, IndexError):
            continue
    return None


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def newest_file(directory, suffix):
    files = [f for f in os.listdir(directory) if f.endswith(suffix) and not f.startswith(".")]
    files.sort(key=lambda f: os.path.getmtime(os.path.join(directory, f)))
    return os.path.join(directory, files[-1]) if files else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--webdriver", required=True)
    ap.add_argument("--app", required=True)
    ap.add_argument("--export-dir", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--driver-pid", type=int, required=True)
    ap.add_argument("--app-log", required=True, help="where the app's stderr goes (WebKitWebDriver's log)")
    ap.add_argument("--config-home", required=True, help="XDG_CONFIG_HOME of the app (window-state file)")
    ap.add_argument("--notifications", required=True, help="the log of notifications dunst showed")
    ap.add_argument("--bare-bus-conf", required=True, help="a bus config where no Secret Service can start")
    args = ap.parse_args()
    checks = Checks()
    state = {}

    # An OpenAI-compatible provider for the approval check (agent "ops" may call run_command,
    # which asks for approval), and an SLO that can fire within the test (3 samples, no `for`).
    _stub, stub_url = openai_stub.start()
    os.makedirs(args.data_dir, exist_ok=True)
    with open(os.path.join(args.data_dir, "microclaw.toml"), "w", encoding="utf-8") as f:
        f.write(f'[agents.ops]\nkind = "openai"\nbase_url = "{stub_url}"\nmodel = "stub"\ntools = ["run_command"]\n')
    with open(os.path.join(args.data_dir, "slos.toml"), "w", encoding="utf-8") as f:
        f.write('[[slo]]\nname = "request_success_rate"\nobjective = 0.995\nwindow_days = 28\n'
                'sli = "request_success"\nmin_samples = 3\n\n[[slo.alert]]\nlong = "1h"\nshort = "5m"\n'
                'factor = 14.4\nseverity = "page"\nfor = "0m"\n')

    state_file = os.path.join(args.config_home, "dev.microclaw.console", ".window-state.json")
    remembered = {"width": 1000, "height": 700}
    os.makedirs(os.path.dirname(state_file), exist_ok=True)
    with open(state_file, "w", encoding="utf-8") as f:
        json.dump({"main": {**remembered, "x": 20, "y": 30, "prev_x": 20, "prev_y": 30, "maximized": False,
                            "visible": True, "decorated": True, "fullscreen": False}}, f)

    def start():
        caps = {"webkitgtk:browserOptions": {"binary": args.app, "args": []}}
        state["s"] = Session(args.webdriver, caps, timeout=120)
        url = wait_until("the window to load the engine URL", lambda: _engine_url(state["s"]), 60)
        state["origin"] = urllib.parse.urlsplit(url)
        return url

    if not checks.run("the app starts and its window loads the UI from the in-process engine", start):
        return finish(checks)
    s = state["s"]

    def token():
        ok = s.execute("const t = window.__MICROCLAW_LAUNCH_TOKEN__; return typeof t === 'string' && t.startsWith('mlt_');")
        assert ok is True, "window.__MICROCLAW_LAUNCH_TOKEN__ is not an mlt_ launch token"

    checks.run("the window was handed a launch token", token)

    def size_restored():
        rect = s.window_rect()
        got = {"width": rect.get("width"), "height": rect.get("height")}
        assert got == remembered, f"window is {got}, the remembered size was {remembered}"
        return f"{got['width']}x{got['height']}"

    checks.run("the window opens at its remembered size", size_restored)

    page = wait_until(
        "the page to render",
        lambda: s.execute(
            "const b = document.body ? document.body.innerText : '';"
            "return b.includes('built without the web UI') ? 'fallback' : (document.querySelector('#app, main, nav') ? 'ui' : '');"
        ),
        30,
    )
    ui_built = page == "ui"

    def shows_built_ui():
        # smoke.sh refuses to start without ui/dist/index.html; a binary built before the UI
        # still shows the gateway's "built without the web UI" page: that is a failure too.
        assert ui_built, (
            f"the window shows the 'built without the web UI' page: {args.app} was built without "
            "ui/dist (run: npm --prefix ui ci && npm --prefix ui run build, then rebuild the app)"
        )

    checks.run("the window shows the built UI (ui/dist embedded in the app)", shows_built_ui)
    if ui_built:
        run_ui_checks(s, checks, args.export_dir)
    else:
        run_fallback_checks(s, checks)

    def command_export():
        r = s.execute_async(INVOKE, "export_metrics", {"format": "json", "minutes": 60})
        assert "ok" in r, f"export_metrics failed: {r.get('err')}"
        saved = r["ok"]
        assert saved and os.path.dirname(saved["path"]) == os.path.abspath(args.export_dir), f"saved where? {saved}"
        with open(saved["path"], encoding="utf-8") as f:
            doc = json.load(f)
        assert "metrics" in doc and "summary" in doc, f"unexpected export keys {sorted(doc)}"
        assert saved["bytes"] == os.path.getsize(saved["path"])
        return os.path.basename(saved["path"])

    checks.run("the export_metrics command renders and saves a JSON snapshot", command_export)

    def bad_request():
        r = s.execute_async(INVOKE, "export_metrics", {"format": "xlsx", "minutes": 60})
        assert "err" in r and "INVALID_REQUEST" in r["err"] and "xlsx" in r["err"], f"expected INVALID_REQUEST, got {r}"

    checks.run("a bad export request gets a clear error", bad_request)

    def acl():
        for cmd in ("plugin:dialog|open", "plugin:notification|notify", "plugin:window-state|save_window_state"):
            r = s.execute_async(INVOKE, cmd, {})
            assert "err" in r, f"{cmd} was allowed but is not granted to the window: {r}"
            assert "not allowed" in r["err"].lower(), f"{cmd} failed, but not as a permission denial: {r['err']}"
        return r["err"][:80]

    checks.run("commands not granted to the window are refused", acl)

    def slo_alert():
        for _ in range(3):  # failed runs burn the success-rate budget: the page alert fires
            s.execute_async(FETCH, "POST", "/api/send", {"session_key": "desktop-smoke-fail", "message": "/fail"})

        def alert_seen():
            r = s.execute_async(FETCH, "GET", "/api/metrics/summary", None)  # also evaluates the alerts
            return r["status"] == 200 and json.loads(r["body"]).get("alerts")

        alerts = wait_until("an SLO alert to fire after failed runs", alert_seen, 30, every=1)
        wait_until("the notification for the alert", lambda: "notifying: SLO alert" in read(args.app_log), 15)
        wait_until("the tray to show the SLO burning", lambda: "health: SLO burning" in read(args.app_log), 15)
        return f"{alerts[0].get('slo')} firing"

    native = Native(s, args, FETCH, state["origin"], lambda: app_pid(args.driver_pid, args.app))
    checks.run("a secret is stored in and read back from the keychain (gnome-keyring)", native.keychain_round_trip)
    checks.run("without a Secret Service the keychain says why and what to start", native.keychain_fallback)
    checks.run("the desktop CLI key lives in the keychain and authenticates", native.cli_key)
    # Before the SLO alert: a page alert may turn the change freeze on, which refuses cron.add.
    checks.run("a dead-lettered job notifies and its click opens #/scheduler", native.dead_letter_notification)
    checks.run("an approval notifies, counts in the tray and its click opens #/approvals?id=", native.approval_notification)
    checks.run("an SLO alert notifies and turns the tray to 'SLO burning'", slo_alert)
    checks.run("the alert notification is seen by dunst and its click opens #/alerts", native.alert_notification_opens_alerts)
    checks.run("the incident the page alert opened notifies and its click opens #/incidents?id=", native.incident_notification)
    checks.run("a deep link microclaw://session/<key> routes the running window", native.deep_link_session)
    checks.run("a bad deep link is refused and moves nothing", native.bad_deep_link)
    checks.run("closing the window hides it to the tray; a launch shows it again", native.close_to_tray_and_reopen)
    checks.run("a deep link microclaw://approval/<id> reopens the hidden window on it", native.deep_link_reopens_on_approval)
    checks.run("the tray lists health, alerts, approvals, the freeze and the badge", native.tray_lines)

    def single_instance():
        log_path = os.path.join(args.data_dir, "..", "second-launch.log")
        with open(log_path, "w", encoding="utf-8") as log:
            second = subprocess.Popen([args.app], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
            try:
                code = second.wait(timeout=30)
            except subprocess.TimeoutExpired:
                second.kill()
                second.wait()
                raise AssertionError("a second launch kept running instead of handing over to the first")
        with open(log_path, encoding="utf-8") as f:
            out = f.read()
        assert code == 0, f"the second launch exited with {code}: {out[-500:]}"
        assert "gateway listening" not in out, "the second launch started its own engine"
        host, port = state["origin"].hostname, state["origin"].port
        assert port_open(host, port), "the first instance stopped answering"
        assert s.find(CONNECTED) or not ui_built, "the first window lost its connection"

    checks.run("a second launch hands over to the running app and exits", single_instance)

    def quit_stops_engine():
        host, port = state["origin"].hostname, state["origin"].port
        wal = os.path.join(args.data_dir, "microclaw.db-wal")
        assert port_open(host, port), "the gateway was not listening before quit"
        assert os.path.exists(wal), "the database was not in WAL mode while running"
        # WebKitWebDriver force-kills the app when its session or last window closes, so the
        # quit is asked for the way a system shutdown does: SIGTERM to the app (WebKitWebDriver's
        # child). It takes the same path as the tray's Quit and the window's close button.
        pid = wait_until("the app's process", lambda: app_pid(args.driver_pid, args.app), 5)
        os.kill(pid, signal.SIGTERM)
        wait_until("the gateway to stop after SIGTERM", lambda: not port_open(host, port), 30)
        # A clean stop closes the database: the WAL is folded in and removed (a kill leaves it).
        wait_until("the database to be closed cleanly (WAL checkpointed)", lambda: not os.path.exists(wal), 15)
        wait_until("the app to exit", lambda: not os.path.exists(f"/proc/{pid}"), 15)
        with open(state_file, encoding="utf-8") as f:
            saved = json.load(f).get("main", {})
        assert saved.get("width", 0) > 0 and saved.get("visible") is not False, f"window state after quit: {saved}"

    checks.run("quitting stops the engine cleanly (SIGTERM)", quit_stops_engine)
    try:
        s.close()
    except Exception:
        pass  # the app has already gone
    return finish(checks)


def _engine_url(s):
    url = s.current_url()
    return url if url.startswith("http://127.0.0.1:") else None


def run_ui_checks(s, checks, export_dir):
    def connected():
        try:
            s.wait_for(CONNECTED, 45)
        except Exception:
            # Say what the window shows instead, so a failure can be read from the log.
            shown = s.execute(
                "return location.href + ' | ' + (document.body ? document.body.innerText : '').slice(0, 400)"
                " + ' | html: ' + document.documentElement.outerHTML.slice(0, 1500);"
            )
            print(f"  the window shows: {shown}", flush=True)
            errors = s.execute(
                "return window.__MICROCLAW_ERRORS__ === undefined ? 'main.ts did not run' : window.__MICROCLAW_ERRORS__;"
            )
            print(f"  page errors: {errors}", flush=True)
            # An error while the bundle loads (before main.ts runs) is seen by loading it again.
            probe = s.execute(
                "const m = document.querySelector('script[type=module]');"
                "return new Promise((res) => {"
                " const errs = [];"
                " window.addEventListener('error', (e) => errs.push(String(e.message) + ' @' + e.filename + ':' + e.lineno + ':' + e.colno));"
                " const sc = document.createElement('script'); sc.type = 'module'; sc.src = m.src + '?probe=1';"
                " sc.onload = () => setTimeout(() => res('onload; errors: ' + JSON.stringify(errs) + '; app children: ' + document.getElementById('app').childElementCount + '; ' + JSON.stringify(window.__MICROCLAW_ERRORS__)), 1500);"
                " sc.onerror = () => res('script onerror');"
                " document.head.appendChild(sc); });"
            )
            print(f"  probe: {probe}", flush=True)
            raise

    checks.run("the UI shows connected", connected)

    def round_trip():
        key = f"desktop-smoke-{int(time.time())}"
        s.execute("location.hash = arguments[0];", f"#/sessions?key={key}")
        composer = s.wait_for('[data-testid="composer"]', 20)
        s.type(composer, "status summary")
        send = s.wait_for('[data-testid="send-button"]:not([disabled])', 10)
        s.click(send)

        def reply():
            return s.execute(
                "const el = document.querySelector('[data-testid=\"live-run\"][data-state=\"final\"] .text')"
                " || [...document.querySelectorAll('[data-testid=\"message\"][data-role=\"assistant\"] .text')].pop();"
                "return el && el.innerText.trim().length > 0 ? el.innerText.trim() : null;"
            )

        text = wait_until("the assistant's reply", reply, 45)
        return f"reply starts {text[:40]!r}"

    checks.run("a message round-trips (status summary)", round_trip)

    def ui_export():
        before = set(os.listdir(export_dir))
        s.execute("location.hash = '#/metrics';")
        s.click(s.wait_for('[data-testid="export-csv"]:not([disabled])', 20))
        path = wait_until(
            "the CSV export to be saved",
            lambda: (lambda p: p if p and os.path.basename(p) not in before else None)(newest_file(export_dir, ".csv")),
            30,
        )
        with open(path, encoding="utf-8") as f:
            header = f.readline()
        assert "," in header, f"the CSV has no header row: {header!r}"
        return os.path.basename(path)

    checks.run("the UI's Export CSV saves through the shell", ui_export)


def run_fallback_checks(s, checks):
    def api_round_trip():
        r = s.execute_async(FETCH, "POST", "/api/send", {"session_key": "desktop-smoke", "message": "status summary"})
        assert r["status"] == 200, f"POST /api/send -> {r['status']}: {r['body'][:200]}"
        body = json.loads(r["body"])
        assert body.get("response"), f"empty response: {body}"
        return f"reply starts {body['response'][:40]!r}"

    checks.run("a message round-trips through the API with the launch token", api_round_trip)


def finish(checks):
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
