"""A local stand-in for Slack's Web API that records every call.

Answers the methods FlightVault uses with the shapes Slack documents, checks
the bearer token, and can be told to fail (HTTP 429 with Retry-After, 500)
for the next N calls of a method, as Slack does under load, or to answer a
call late (it is recorded, so visible to a clicking test, before it is answered).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bot.offline.socket_link import SocketLink

BOT_USER_ID = "U0FLIGHTV"


@dataclass(frozen=True)
class Call:
    """One request the bot made: a Web API method, a response_url post or an upload."""

    kind: str  # "api", "response", "upload"
    method: str  # API method name, response_url name, or upload id
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        raw = self.params.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else list(raw)

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def block_text(self) -> str:
        """Every block's visible text, one block per line: what a person reads."""
        out = []
        for block in self.blocks:
            if isinstance(block.get("text"), dict):
                out.append(block["text"].get("text", ""))
            for item in block.get("fields", []) + block.get("elements", []):
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    out.append(item["text"])
        return "\n".join(out)


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: int | None


@dataclass
class _Slow:
    seconds: float
    remaining: int
    containing: str


class FakeSlackAPI:
    def __init__(
        self, token: str = "xoxb-flightvault-test", app_token: str = "xapp-flightvault-test"
    ) -> None:
        self.token, self.app_token = token, app_token
        self.calls: list[Call] = []
        self.usergroups: dict[str, list[str]] = {}  # user-group ID -> member user IDs
        self.absent: set[str] = set()  # channels the bot is not in: posts answer not_in_channel
        self.guests: set[str] = set()  # users.info says is_restricted
        self.link: SocketLink | None = None  # Socket Mode's endpoint, opened on first ask
        self._lock = threading.Condition()
        self._failures: dict[str, _Failure] = {}
        self._slow: dict[str, _Slow] = {}
        self._refusals: dict[str, list[Any]] = {}  # method -> [error, remaining]
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.link is not None:
            self.link.close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.root}/response/{name}"

    # ------------------------------------------------------------------ test controls
    def fail(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status``."""
        with self._lock:
            self._failures[method] = _Failure(status, times, retry_after)

    def refuse(self, method: str, error: str, times: int = 1_000_000) -> None:
        """Answer the next ``times`` calls of ``method`` as Slack refuses for good: HTTP 200
        with ``{"ok": false, "error": error}`` (e.g. ``message_not_found``)."""
        with self._lock:
            self._refusals[method] = [error, times]

    def slow(self, method: str, seconds: float, times: int = 1, containing: str = "") -> None:
        """Answer the next ``times`` calls of ``method`` whose text holds ``containing``
        ``seconds`` late; each is recorded on arrival."""
        with self._lock:
            self._slow[method] = _Slow(seconds, times, containing)

    def showing(self, action_id: str, value: str) -> tuple[str, str] | None:
        """(channel, ts) of the latest message posted or updated with that button, else of the
        first message with any button carrying ``value`` (the preview, before an update that
        would have shown this button)."""
        with self._lock:
            found = [
                (element.get("action_id") == action_id, call)
                for call in self.calls
                if call.method in ("chat.postMessage", "chat.update") and "ts" in call.params
                for block in call.blocks
                for element in block.get("elements") or []
                if element.get("value") == value
            ]
        exact = [call for same, call in found if same]
        shown = exact[-1] if exact else found[0][1] if found else None
        if shown is None:
            return None
        return str(shown.params.get("channel")), str(shown.params["ts"])

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until ``method`` has been called ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise TimeoutError(f"{method} called fewer than {count} times; saw {seen}")
                self._lock.wait(left)
            return [c for c in self.calls if c.method == method]

    def wait_for_response(self, containing: str, timeout: float = 10.0) -> Call:
        """The latest reply to a ``response_url`` (an ephemeral answer, usually) whose text
        or blocks contain ``containing``; waits for one."""
        with self._lock:
            deadline = time.monotonic() + timeout
            while True:
                found = [
                    c
                    for c in self.calls
                    if c.kind == "response"
                    and (containing in c.text or containing in json.dumps(c.blocks))
                ]
                if found:
                    return found[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no response containing {containing!r}")
                self._lock.wait(left)

    # ------------------------------------------------------------------ answers
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            failure = self._failures.get(method)
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            return failure

    def _take_delay(self, call: Call) -> float:
        with self._lock:
            slow = self._slow.get(call.method)
            if slow is None or slow.remaining <= 0 or slow.containing not in call.text:
                return 0.0
            slow.remaining -= 1
            return slow.seconds

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel", "C0TEST")
        with self._lock:
            refusal = self._refusals.get(method)
            if refusal is not None and refusal[1] > 0:
                refusal[1] -= 1
                return {"ok": False, "error": refusal[0]}
        if channel in self.absent and method.startswith("chat."):
            return {"ok": False, "error": "not_in_channel"}
        if method == "apps.connections.open":
            with self._lock:
                self.link = self.link or SocketLink()
            return {"ok": True, "url": self.link.url}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://flightvault-test.slack.com/",
                "team": "Test",
                "user": "flightvault",
                "team_id": "T0TEST",
                "user_id": BOT_USER_ID,
                "bot_id": "B0FLIGHTV",
            }
        if method == "chat.postMessage":
            ts = str(params.get("ts") or self._next_ts())
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {
                    "text": params.get("text", ""),
                    "ts": ts,
                    "thread_ts": params.get("thread_ts"),
                },
            }
        if method == "chat.update":
            return {
                "ok": True,
                "channel": channel,
                "ts": params.get("ts"),
                "text": params.get("text", ""),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "users.info":
            user = params.get("user", "U0UNKNOWN")
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "name": user.lower(),
                    "real_name": user,
                    "tz": "UTC",
                    "is_bot": False,
                    "deleted": False,
                    "is_restricted": user in self.guests,
                },
            }
        if method == "usergroups.users.list":
            members = self.usergroups.get(params.get("usergroup", ""), [])
            return {"ok": True, "users": members}
        if method == "views.open":
            view = params.get("view") or {}
            view = json.loads(view) if isinstance(view, str) else dict(view)
            return {"ok": True, "view": {**view, "id": f"V{next(self._ts):08d}"}}
        if method == "chat.delete":
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files", "[]"))
            return {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title", "")} for f in files],
            }
        return {"ok": False, "error": "unknown_method"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                kind, _, name = self.path.strip("/").partition("/")
                if kind == "upload":
                    api._record(Call("upload", name, {"bytes": len(raw), "data": raw}))
                    return self._send(200, b"OK", "text/plain")
                params = _parse(raw, self.headers.get("Content-Type", ""))
                if kind == "response":
                    api._record(Call("response", name, params))
                    return self._send(200, b"ok", "text/plain")
                failure = api._take_failure(name)
                if failure is not None:
                    headers = (
                        {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                    )
                    body = json.dumps(
                        {
                            "ok": False,
                            "error": "ratelimited" if failure.status == 429 else "fatal_error",
                        }
                    ).encode()
                    return self._send(failure.status, body, "application/json", headers)
                token = api.app_token if name == "apps.connections.open" else api.token
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._json({"ok": False, "error": "invalid_auth"})
                if name == "chat.postMessage":  # the message's identity, recorded with the call
                    params["ts"] = api._next_ts()
                call = Call("api", name, params)
                api._record(call)
                time.sleep(api._take_delay(call))
                return self._json(api.answer(name, params))

            def _json(self, payload: dict[str, Any]) -> None:
                self._send(200, json.dumps(payload).encode(), "application/json")

            def _send(
                self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        return dict(json.loads(raw or b"{}"))
    return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
