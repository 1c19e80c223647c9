"""Waking the watcher from the replication stream, where the server offers it.

Polling asks the server every probe interval whether any watched table moved.
When the binary log is on in ROW format and the account may read it, the server
can instead tell us: a replication connection blocks until something is written
and then names the table (its ``TABLE_MAP`` event). The watcher then reads
history for exactly those tables, at once, and probes only once a second.

History stays the source of truth: the stream only says *where* to look, never
*what* happened, so a missed or duplicated event costs a little latency, not an
alert. The slow probe still runs because some writes name no table in the log:
a session with ``sql_log_bin=0``, or rows a foreign key cascade removed from a
watched child of an unwatched parent. Row events are skipped, never decoded,
but the client still downloads the whole binary log (every schema, full row
images): under heavy write load that is network and a little CPU, so only the
process that leads the watching follows (``active``); the others hold no
replication connection, and a new leader starts from the current position,
the gap being covered by its first reads of history. If the stream breaks,
``healthy`` turns false and the watcher probes as before until it reconnects;
if our position was purged, it restarts from the server's current position.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

log = logging.getLogger(__name__)
logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)  # metadata nags, not news

RETRY_S = 5.0
IDLE_S = 0.25  # how often a process that does not lead the watching looks again
HEARTBEAT_S = 5.0  # the server sends one when idle, so a dead link is noticed


@dataclass(frozen=True, slots=True)
class Position:
    file: str
    pos: int


def unavailable(engine: Engine) -> str | None:
    """Why the stream cannot be used on this server with this account, or None."""
    with engine.connect() as conn:
        log_bin, row_format = conn.execute(
            sa.text("SELECT @@log_bin, @@GLOBAL.binlog_format")
        ).one()
        if not log_bin:
            return "the binary log is off"
        if str(row_format).upper() != "ROW":  # MIXED logs a plain DELETE as a statement
            return f"binlog_format is {row_format}, not ROW, so writes do not name their tables"
        try:
            row = conn.execute(sa.text("SHOW MASTER STATUS")).first()
        except sa.exc.DBAPIError:
            return "the account may not read the binary log position (needs BINLOG MONITOR)"
        if row is None:
            return "the server reports no binary log position"
        grants = " ".join(str(r[0]) for r in conn.execute(sa.text("SHOW GRANTS")))
    if "REPLICATION SLAVE" not in grants and "ALL PRIVILEGES" not in grants:
        return "the account lacks REPLICATION SLAVE"
    return None


def current_position(engine: Engine) -> Position:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SHOW MASTER STATUS")).one()
    return Position(str(row[0]), int(row[1]))


class BinlogWake:
    """A thread following the binary log; ``on_write`` gets the tables each event names."""

    def __init__(
        self,
        url: URL,
        schemas: Collection[str],
        on_write: Callable[[set[tuple[str, str]]], None],
        *,
        start: Position,
        restart: Callable[[], Position] | None = None,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        self._settings = {
            "host": url.host or "127.0.0.1",
            "port": url.port or 3306,
            "user": url.username or "",
            "password": url.password or "",
        }
        self._schemas = list(schemas)
        self._on_write = on_write
        self._position = start
        self._restart = restart  # where to pick up when our position was purged
        self._active = active  # follow only while this is true (the watcher lease is ours)
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._stream: object | None = None
        self._thread = threading.Thread(target=self._run, name="binlog-wake", daemon=True)

    @property
    def healthy(self) -> bool:
        """Connected and following; when false the watcher must poll."""
        return self._connected.is_set() and self._thread.is_alive()

    def start(self, *, timeout: float = 5.0, settle: float = 1.0) -> bool:
        """Start the thread; True once connected within ``timeout``. False at once after
        ``settle`` seconds if this process still does not lead (it follows when it does)."""
        self._thread.start()
        started = time.monotonic()
        while not self._connected.wait(0.05):
            waited = time.monotonic() - started
            if waited >= timeout or (waited >= settle and not self._active()):
                return False
        return True

    def stop(self) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            link = getattr(stream, "_stream_connection", None)
            with contextlib.suppress(Exception):  # wake the blocked read now, not at heartbeat
                link._sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
            with contextlib.suppress(Exception):  # a broken link may fail to close; it is gone
                stream.close()  # type: ignore[attr-defined]
        self._thread.join(timeout=5)

    def _run(self) -> None:
        idle = False
        while not self._stop.is_set():
            if not self._active():
                idle = True
                self._stop.wait(IDLE_S)
                continue
            try:
                if idle and self._restart is not None:  # history covers what we did not follow
                    self._position = self._restart()
                idle = False
                self._follow()
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.warning(
                    "binlog wake-up lost (%s); polling until it reconnects", type(exc).__name__
                )
                if _purged(exc) and self._restart is not None:  # history covers the gap
                    self._position = self._restart()
            self._connected.clear()
            if self._active():  # a lost link; not leading any more is no failure
                self._stop.wait(RETRY_S)

    def _follow(self) -> None:
        from pymysqlreplication import BinLogStreamReader
        from pymysqlreplication.event import RotateEvent
        from pymysqlreplication.row_event import TableMapEvent

        stream = BinLogStreamReader(
            connection_settings=self._settings,
            server_id=_server_id(),
            blocking=True,
            resume_stream=True,
            log_file=self._position.file,
            log_pos=self._position.pos,
            only_events=[TableMapEvent, RotateEvent],
            only_schemas=self._schemas,
            slave_heartbeat=HEARTBEAT_S,
        )
        self._stream = stream
        try:
            for event in stream:  # the server sends a Rotate event first, once connected
                self._connected.set()
                if self._stop.is_set() or not self._active():
                    return
                if isinstance(event, TableMapEvent):
                    self._on_write({(event.schema, event.table)})
                if stream.log_file and stream.log_pos:
                    self._position = Position(stream.log_file, stream.log_pos)
        finally:
            stream.close()


def _purged(exc: Exception) -> bool:
    """The server no longer has the file our position is in (1236: purged or rotated away)."""
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    return len(args) > 0 and args[0] == 1236


def _server_id() -> int:
    """A replica id no real replica is likely to use, distinct per process."""
    return 0x46560000 + (os.getpid() ^ int(time.time())) % 0xFFFF
