"""A minimal W3C WebDriver client over plain HTTP (Python stdlib only), with bounded waits."""

import json
import time
import urllib.error
import urllib.request

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


def request(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            payload = json.loads(e.read() or b"{}")
        except ValueError:
            payload = {}
        value = payload.get("value") or {}
        raise WebDriverError(f"{method} {url} -> HTTP {e.code}: {value.get('error')}: {value.get('message')}") from None
    return payload.get("value")


def wait_until(what, fn, timeout, every=0.25):
    """Calls fn until it returns a truthy value; raises after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except (WebDriverError, OSError) as e:
            last_error = e
        time.sleep(every)
    suffix = f" (last error: {last_error})" if last_error else ""
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}{suffix}")


class Session:
    def __init__(self, base, capabilities, timeout=90):
        self.base = base.rstrip("/")
        value = request("POST", f"{self.base}/session", {"capabilities": {"alwaysMatch": capabilities}}, timeout)
        self.id = value["sessionId"]
        self.url = f"{self.base}/session/{self.id}"
        request("POST", f"{self.url}/timeouts", {"script": 30000, "pageLoad": 30000, "implicit": 0})

    def current_url(self):
        return request("GET", f"{self.url}/url")

    def execute(self, script, *args):
        return request("POST", f"{self.url}/execute/sync", {"script": script, "args": list(args)})

    def execute_async(self, script, *args, timeout=40):
        return request("POST", f"{self.url}/execute/async", {"script": script, "args": list(args)}, timeout)

    def find(self, css):
        """The first element matching `css`, or None."""
        found = request("POST", f"{self.url}/elements", {"using": "css selector", "value": css})
        return found[0][ELEMENT_KEY] if found else None

    def wait_for(self, css, timeout):
        return wait_until(f"element {css}", lambda: self.find(css), timeout)

    def click(self, element):
        request("POST", f"{self.url}/element/{element}/click", {})

    def type(self, element, text):
        request("POST", f"{self.url}/element/{element}/value", {"text": text})

    def text(self, element):
        return request("GET", f"{self.url}/element/{element}/text")

    def attribute(self, element, name):
        return request("GET", f"{self.url}/element/{element}/attribute/{name}")

    def window_rect(self):
        return request("GET", f"{self.url}/window/rect")

    def close(self):
        request("DELETE", self.url, timeout=30)
