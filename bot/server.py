"""HTTP mode: Bolt behind waitress, a production WSGI server.

``POST /slack/events`` goes to Bolt; ``GET /healthz`` answers whether the
watched database is reachable. Everything else is 404.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from waitress.server import create_server

from usecases.context import Context
from usecases.errors import VaultError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; refuse anything bigger


WSGI = Callable[..., Iterable[bytes]]


def make_wsgi(
    app: App,
    health: Callable[[], dict[str, Any]] | None,
    metrics: Callable[[], bytes] | None = None,
) -> WSGI:
    """Slack's requests, and (unless they have their own port) ``/healthz`` and ``/metrics``."""
    bolt = SlackRequestHandler(app, path=EVENTS_PATH)
    ops = make_ops_wsgi(health, metrics) if health is not None else None

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if ops is not None and path in (HEALTH_PATH, METRICS_PATH) and method == "GET":
            return ops(environ, start_response)
        if path == EVENTS_PATH and method == "POST":
            refusal = _screen(environ)
            if refusal is not None:
                start_response(refusal, [("Content-Type", "text/plain")])
                return [refusal.encode()]
        return bolt(environ, start_response)

    return wsgi


def make_ops_wsgi(
    health: Callable[[], dict[str, Any]], metrics: Callable[[], bytes] | None = None
) -> WSGI:
    """``/healthz`` and ``/metrics`` alone: for ``VAULT_OPS_PORT``, a port only operators reach."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method == "GET":
            status = health()
            code = "200 OK" if status.get("ok") else "503 Service Unavailable"
            start_response(code, [("Content-Type", "application/json")])
            return [json.dumps(status).encode()]
        if path == METRICS_PATH and method == "GET" and metrics is not None:
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
            return [metrics()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return wsgi


def _screen(environ: dict[str, Any]) -> str | None:
    """Refuse what no Slack request looks like, before Bolt or any handler runs.

    Too large a body, or an interactive ``payload`` that is not a JSON object:
    one log line, an HTTP error, nothing else. The body is put back for Bolt.
    """
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > MAX_BODY:
        log.warning("refused a request to %s: body of %s bytes", EVENTS_PATH, length)
        return "413 Payload Too Large"
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    if b"payload=" in body[:16] or b"&payload=" in body:
        raw = parse_qs(body.decode("utf-8", "replace")).get("payload", [""])[0]
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            log.warning("refused a request to %s: payload is not a JSON object", EVENTS_PATH)
            return "400 Bad Request"
    return None


DEAD_RECENT = timedelta(hours=1)  # a dead letter keeps health degraded this long


class Health:
    """``/healthz``: is the watched database answering, and does Slack accept our token?

    Anyone who can reach the port may ask, so the answer carries a status and
    reasons, never connection details (server version, host, workspace, driver
    errors): those go to the log, once per change. Slack is asked at most every
    ``slack_every`` seconds (a health check must not spend the rate limit).
    """

    def __init__(self, deps: Context, client: WebClient, slack_every: float = 30.0) -> None:
        self.deps = deps
        self.client = client
        self.slack_every = slack_every
        self._slack: tuple[float, str | None] = (0.0, "Slack has not been asked yet")
        self._said: tuple[str, ...] = ()

    def __call__(self) -> dict[str, Any]:
        reasons, details = [], []
        try:
            self.deps.reachable()
        except VaultError as exc:
            reasons.append("the watched database does not answer")
            details.append(str(exc))
        dead = self.deps.store.outbox.dead_count(since=DEAD_RECENT)
        if dead:
            reasons.append(f"{dead} message(s) to Slack undeliverable in the last hour")
            details.append(f"{dead} dead letters (see /vault status)")
        slack = self._slack_problem()
        if slack is not None:
            reasons.append("Slack does not accept the bot's token or cannot be reached")
            details.append(slack)
        if tuple(details) != self._said:
            self._said = tuple(details)
            if details:
                log.warning("health degraded: %s", "; ".join(details))
            else:
                log.info("health ok")
        return {"ok": not reasons, "status": "degraded" if reasons else "ok", "reasons": reasons}

    def _slack_problem(self) -> str | None:
        checked, problem = self._slack
        if time.monotonic() - checked > self.slack_every or problem is not None:
            try:
                self.client.auth_test()
                problem = None
            except (SlackApiError, SlackClientError, OSError) as exc:
                problem = f"Slack unreachable: {str(exc).splitlines()[0][:120]}"
            self._slack = (time.monotonic(), problem)
        return problem


class HttpServer:
    """waitress in a background thread: for ``serve --http``, the demo and the tests."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]], host: str, port: int) -> None:
        self._server = create_server(
            wsgi,
            host=host,
            port=port,
            threads=32,
            max_request_body_size=MAX_BODY,
            ident="flightvault",
            clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve_forever(self) -> None:
        self._server.run()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, name="http", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop from any thread: the loop's own thread closes every channel, then exits.

        Closing sockets from another thread races waitress's select loop (EBADF),
        so the work is handed to the loop through its trigger.
        """
        server: Any = self._server
        channels = server._map

        def close_all() -> None:
            for channel in list(channels.values()):
                channel.close()

        if self._thread is None:  # never started
            close_all()
        else:
            try:
                server.trigger.pull_trigger(close_all)
            except OSError:  # the loop is gone already (its trigger closed with it)
                close_all()
            self._thread.join(timeout=5)
        server.task_dispatcher.shutdown()
