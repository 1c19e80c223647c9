"""The ``flightvault`` command line.

Every subcommand reads settings, does one job, and exits with 0 (fine),
1 (the job found or hit a problem), 2 (bad settings or usage). Expected
problems print one sentence; unexpected ones print an error ID and keep the
traceback in a log file.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import log_unexpected
from bot.logs import configure_logging
from bot.settings import Settings, load_settings
from usecases.errors import ConfigError, VaultError
from usecases.port import Posted, Thread, Upload

if TYPE_CHECKING:
    from usecases.context import Context
    from usecases.render import Message

log = logging.getLogger("flightvault")
ERROR_LOG = Path(tempfile.gettempdir()) / "flightvault-errors.log"


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from usecases.setup import doctor_all

    text, healthy = doctor_all(settings.schema_urls())  # every schema in VAULT_SCHEMAS
    print(text)
    return 0 if healthy else 1


def _seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from usecases.setup import seed

    print(seed(settings.database_url(), routes=args.routes, force=args.force))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import build_runtime

    mode = "http" if args.http else "socket"
    settings.require_slack(mode)
    runtime = build_runtime(settings, socket_mode=mode == "socket")
    runtime.deps.reachable()
    runtime.start_watching()
    stop = threading.Event()  # SIGTERM and SIGINT drain both modes the same way
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    from bot.server import Health, HttpServer, make_ops_wsgi, make_wsgi

    health = Health(runtime.deps, runtime.app.client)
    metrics = runtime.deps.metrics.render
    servers = []
    try:
        if settings.vault_ops_port:
            ops = HttpServer(make_ops_wsgi(health, metrics), args.host, settings.vault_ops_port)
            servers.append(ops.start())
            log.info("serving /healthz and /metrics on port %s", ops.port)
        if mode == "socket":
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            assert settings.slack_app_token is not None
            token = settings.slack_app_token.get_secret_value()
            handler = SocketModeHandler(runtime.app, token)
            handler.connect()
            log.info("connected to Slack over Socket Mode")
            stop.wait()
            log.info("stopping: finishing in-flight work")
            handler.close()  # no new requests; runtime.close() finishes those in flight
            return 0
        own = None if settings.vault_ops_port else health
        wsgi = make_wsgi(runtime.app, own, metrics)
        server = HttpServer(wsgi, args.host, args.port or settings.port).start()
        servers.append(server)
        log.info("serving Slack requests on http://%s:%s/slack/events", args.host, server.port)
        stop.wait()
        log.info("stopping: finishing in-flight work")
        return 0
    finally:
        for running in servers:
            running.close()
        runtime.close()


class Terminal:
    """The use cases' port on a terminal: answers printed as plain text, files not shown."""

    def post(self, thread: Thread, message: Message) -> Posted:
        print(message.plain or message.text)
        return Posted(thread.channel, "terminal")

    def update(self, posted: Posted, message: Message) -> None:
        self.post(Thread(posted.channel), message)

    def tell(self, message: Message) -> None:
        self.post(Thread("terminal"), message)

    def working(self, thread: Thread, message: Message) -> Posted | None:
        return None

    def finish(self, thread: Thread, note: Posted | None, message: Message) -> Posted:
        return self.post(thread, message)

    def abandon(self, note: Posted | None) -> None:
        return None

    def upload(self, thread: Thread, *uploads: Upload, comment: str | None = None) -> None:
        return None

    def flush(self) -> None:
        return None


@contextmanager
def _context(settings: Settings, *, state_url: str | None = None) -> Iterator[Context]:
    """The watched database and the state store, as the bot itself would see them."""
    from usecases.context import Context

    ctx = Context.open(settings, state_url=state_url, check=True)
    try:
        yield ctx
    finally:
        ctx.close()


def _find(args: argparse.Namespace, settings: Settings) -> int:
    from bot.commands import parse_find
    from usecases import find

    with _context(settings, state_url="sqlite://") as ctx:  # a terminal answer keeps nothing
        now = ctx.server_now()
        words = [args.table]
        for key in ("since", "before", "check"):
            if getattr(args, key):
                words += [key, getattr(args, key)]
        request = parse_find(words, now=now)
        view, table = ctx.resolve(request.table)  # ``schema.table`` or a bare name
        find.find(
            view,
            Terminal(),
            replace(request, table=table),
            thread=Thread("terminal"),
            incident_id=None,
            actor="cli",
            keep=False,
        )
    return 0


def _protect(args: argparse.Namespace, settings: Settings) -> int:
    from bot.commands import parse_protect
    from usecases import protect
    from usecases.render.change import protect_preview_text

    with _context(settings, state_url="sqlite://") as ctx:
        view, preview = protect.plan(ctx, parse_protect([args.table]))  # ``schema.table`` too
        print(protect_preview_text(preview, view.label(preview.table)))
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from usecases.report import build_report, pick_incident

    with _context(settings) as ctx:
        incident = pick_incident(ctx.store, ctx.source, args.incident)
        report = build_report(ctx.store, incident, ctx.for_source(incident.source).engine)
    if args.output:
        Path(args.output).write_text(report.markdown)
        print(f"Wrote {args.output}")
    else:
        print(report.markdown, end="")
    return 0


def _manifest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.manifest import render

    print(render(args.http), end="")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot import private_server
    from bot.demo import Demo, demo_server

    logging.getLogger().setLevel(logging.DEBUG if args.debug else logging.WARNING)
    configured = settings.database_url() if settings.vault_database_url else None
    save = Path(args.save_json) if args.save_json else None
    force = args.private_server or private_server.forced()
    with demo_server(configured, force=force, out=print) as server:
        Demo(server, save, print).run()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flightvault", description="Incident response for MariaDB temporal tables."
    )
    parser.add_argument("--debug", action="store_true", help="log at DEBUG, with tracebacks")
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    doctor = subs.add_parser("doctor", help="check the watched database is ready to be watched")
    doctor.set_defaults(func=_doctor)

    seed = subs.add_parser("seed-demo", help="load the airports demo data")
    seed.add_argument("--force", action="store_true", help="write even if other tables exist")
    seed.add_argument("--routes", type=int, default=30_000, help="routes to generate")
    seed.set_defaults(func=_seed_demo)

    find = subs.add_parser("find", help="name the restore point for damage to a table")
    find.add_argument("table")
    find.add_argument("--since", help="window start: a duration (6h) or a time (default 24h)")
    find.add_argument("--before", help="window end: a time (default now)")
    find.add_argument("--check", help="what healthy means: count, fk or a column")
    find.set_defaults(func=_find)

    protect = subs.add_parser(
        "protect", help="preview making a table system-versioned (run it with /vault protect)"
    )
    protect.add_argument("table")
    protect.set_defaults(func=_protect)

    report = subs.add_parser("report", help="print an incident's postmortem (Markdown)")
    report.add_argument("incident", nargs="?", help="incident ID or its first 8 characters")
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead")
    report.set_defaults(func=_report)

    demo = subs.add_parser(
        "demo", help="play the seed story offline, printing the Slack transcript"
    )
    demo.add_argument("--save-json", metavar="DIR", help="also save each message's Block Kit JSON")
    demo.add_argument(
        "--private-server",
        action="store_true",
        help="run on a private throwaway mariadbd even if a server answers (FV_PRIVATE_SERVER=1)",
    )
    demo.set_defaults(func=_demo)

    serve = subs.add_parser("serve", help="run the bot (Socket Mode unless --http)")
    serve.add_argument("--http", action="store_true", help="serve POST /slack/events over HTTP")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address")
    serve.set_defaults(func=_serve)

    manifest = subs.add_parser("manifest", help="print the Slack app manifest for either mode")
    manifest.add_argument(
        "--http", metavar="BASE_URL", help="HTTP mode: the public base URL Slack sends to"
    )
    manifest.set_defaults(func=_manifest)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        configure_logging("INFO", tracebacks=False)
        print(f"flightvault: {exc}", file=sys.stderr)
        return 2
    level = "DEBUG" if args.debug else settings.vault_log_level
    configure_logging(
        level,
        error_file=ERROR_LOG,
        tracebacks=args.debug or args.command == "serve",
        json_lines=settings.vault_log_format == "json",
    )
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return func(args, settings)
    except ConfigError as exc:
        print(f"flightvault: {exc}", file=sys.stderr)
        return 2
    except VaultError as exc:
        print(f"flightvault: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:
        ref = log_unexpected(log, f"running `flightvault {args.command}`")
        print(f"flightvault: unexpected error {ref}; details in {ERROR_LOG}", file=sys.stderr)
        return 1


def main() -> None:
    sys.exit(run())
