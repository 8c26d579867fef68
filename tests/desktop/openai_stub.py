"""A real OpenAI-compatible chat-completions server over HTTP (stdlib), for the desktop smoke:
a user message `tool:<name> <json args>` is answered with a streamed call of that tool; after
the tool's result it answers "tool said: …"; anything else gets "no tool"."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _sse(chunks):
    out = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return out.encode()


def _reply(body):
    msgs = body.get("messages") or []
    last = msgs[-1] if msgs else {}
    if last.get("role") == "tool":
        text = f"tool said: {last.get('content', '')}"
        return _sse([
            {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ])
    user = last.get("content") or ""
    if not isinstance(user, str) or not user.startswith("tool:"):
        return _sse([{"choices": [{"index": 0, "delta": {"content": "no tool"}, "finish_reason": "stop"}]}])
    name, _, args = user[len("tool:"):].partition(" ")
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": args or "{}"}}
    return _sse([
        {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ])


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        if not self.path.endswith("/chat/completions"):
            self.send_error(404, "only /v1/chat/completions is served")
            return
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.send_error(400, "the body is not JSON")
            return
        data = _reply(body)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):  # quiet: the smoke prints PASS/FAIL lines only
        pass


def start():
    """Serves on 127.0.0.1 (a free port) in a daemon thread; returns (server, base_url)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
