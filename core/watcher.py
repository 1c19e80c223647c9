"""The watcher: finds new change events, judges them, records incidents.

Each ``tick`` first asks one cheap question (which watched tables' ``UPDATE_TIME``
moved?) and reads the history of those tables only, so an idle watcher's cost
does not grow with the number of tables. InnoDB moves ``UPDATE_TIME`` when a
transaction commits, while a statement's ``row_end`` is stamped when it runs:
a moved table is read from the last read minus a grace period, so a late
commit is not missed. A rare safety read of every table (``full_read_every_s``)
runs from the durable watermark minus the grace period, and only it moves that
watermark, so a restart re-reads whatever a probe might have missed. Events
already judged are skipped by key, so each is alerted once, however many
processes watch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from core.catalogue import TABLES as _TABLES
from core.catalogue import Catalogue, TableInfo, load_catalogue
from core.footprint import primary_table
from core.history import ChangeEvent, changed_rows, list_events, server_now
from core.impact import Impact, event_impact
from core.judge import Rules, Verdict, baseline, judge, share_of
from core.sample import make_sample
from core.state.common import Notification, new_id
from core.state.incidents import EventRecord, Incident, IncidentStatus
from core.state.store import StateStore
from core.summary import ImpactLine, IncidentSummary, SampleRows, iso
from core.timeutil import from_db

log = logging.getLogger(__name__)

COUNT_TTL = 300.0  # seconds an exact row count is trusted (adjusted by every judged event)
HOT_SECONDS = 2.0  # UPDATE_TIME has one-second precision: keep reading for a while after it moves
FOLLOWING_PROBE_S = 1.0  # while the binary log wakes us, probe this seldom (writes it misses)
# The probe costs the server about 6 µs per table in the schema (information_schema opens
# each table's statistics): with many tables it is spaced so that this cost stays flat,
# about 2.5% of a core, instead of growing with the table count. 1,000 tables: every 0.25 s.
PROBE_TABLES_PER_S = 4_000


@dataclass(frozen=True, slots=True)
class WatchConfig:
    rules: Rules = field(default_factory=Rules)
    full_read_every_s: float = 60.0  # the safety read of every table
    grace_s: float = 10.0
    baseline_days: float = 7.0
    bootstrap_hours: float = 24.0
    catalogue_ttl_s: float = 60.0
    sample_rows: int = 5
    tables: tuple[str, ...] | None = None  # None: every watchable table


@dataclass(frozen=True, slots=True)
class PollReport:
    full_read: bool
    events: int = 0
    opened: tuple[str, ...] = ()
    grew: tuple[str, ...] = ()
    seconds: float = 0.0


class Watcher:
    def __init__(
        self, *, engine: Engine, store: StateStore, config: WatchConfig, source: str
    ) -> None:
        self.engine = engine
        self.store = store
        self.config = config
        self.source = source
        self._catalogue: Catalogue | None = None
        self._catalogue_at = 0.0
        self._signal: dict[str, Any] | None = None  # table -> UPDATE_TIME at the last probe
        self._hot: dict[str, float] = {}  # table -> read on every tick until (monotonic)
        self._probe_sql: tuple[str, sa.Select[Any]] | None = None  # (schema, statement)
        self._counts: dict[str, tuple[int, datetime, float]] = {}  # rows, as of, taken at
        self._uncounted: set[str] = set()  # tables that moved since their count was taken
        self._last_full = 0.0
        self._read_at: datetime | None = None  # server time of the last read, any kind
        # Set when the replication stream follows this schema (core.wakeup): while it says
        # it is healthy, ``wake`` names the written tables and the probe runs once a second.
        self.following: Callable[[], bool] = lambda: False
        self._was_following = False
        self._probed_at = 0.0
        self._woken: set[str] = set()
        self._woken_lock = threading.Lock()

    # ------------------------------------------------------------------ scheduling
    def tick(self) -> PollReport:
        """Probe cheaply; read the tables that moved, or every table when a safety read is
        due."""
        started = time.perf_counter()
        moved = self._moved()
        due = time.monotonic() - self._last_full >= self.config.full_read_every_s
        if not (moved or due):
            self._refresh_one_count()
            return PollReport(False, seconds=time.perf_counter() - started)
        report = self.poll() if due else self.poll(tables=moved)
        return PollReport(
            due, report.events, report.opened, report.grew, time.perf_counter() - started
        )

    def probe(self) -> set[str]:
        """Watched tables whose ``UPDATE_TIME`` moved since the last probe, or moved within
        ``HOT_SECONDS`` (it has one-second precision: a second commit in the same second
        does not move it again). One query for the whole schema; a dict compare when idle."""
        with self.engine.connect() as conn:
            rows = conn.execute(self._probe_statement(conn)).all()
            if self._signal is None:  # first probe: tables written within the last seconds
                recent = server_now(conn) - timedelta(seconds=HOT_SECONDS + 1)
        signal: dict[str, Any] = {row[0]: row[1] for row in rows}
        now = self._probed_at = time.monotonic()
        previous, self._signal = self._signal, signal
        if previous is None:  # may be written again within the same second: keep them hot
            hot = {n for n, t in signal.items() if t is not None and from_db(t) >= recent}
            self._hot.update(dict.fromkeys(hot & set(self._watched_names()), now + HOT_SECONDS))
        elif signal != previous:
            watched = set(self._watched_names())
            for name, updated in signal.items():
                if previous.get(name, updated) != updated and name in watched:
                    self._hot[name] = now + HOT_SECONDS
                    self._uncounted.add(name)
        return self._read_hot(now)

    def wake(self, tables: Iterable[str]) -> None:
        """The replication stream saw ``tables`` written (called from its thread)."""
        with self._woken_lock:
            self._woken.update(tables)

    def _moved(self) -> set[str]:
        """The tables to read this tick: those the stream named, and those whose
        ``UPDATE_TIME`` moved. The probe runs every tick when polling a few hundred tables,
        less often with more (``PROBE_TABLES_PER_S``), and every ``FOLLOWING_PROBE_S``
        while following, for the writes the log does not name. When
        following stops, the next tick is a safety read: writes may have gone unseen."""
        now = time.monotonic()
        following = self.following()
        if self._was_following and not following:
            self._last_full = 0.0
        self._was_following = following
        self._absorb_woken(now)
        gap = len(self._signal or ()) / PROBE_TABLES_PER_S
        if following:
            gap = max(gap, FOLLOWING_PROBE_S)
        if now - self._probed_at < gap:
            return self._read_hot(now)
        return self.probe()

    def _absorb_woken(self, now: float) -> None:
        """Make the tables the stream named hot. They stay hot for ``HOT_SECONDS``: the
        binary log is written just before the engine commits, so the first read may come
        too early to see the rows."""
        with self._woken_lock:
            woken, self._woken = self._woken, set()
        if woken:
            watched = set(self._watched_names())
            for name in woken & watched:
                self._hot[name] = now + HOT_SECONDS
                self._uncounted.add(name)

    def _read_hot(self, now: float) -> set[str]:
        """The hot tables to read now. A table whose window just ended is read once more:
        with a probe interval longer than ``HOT_SECONDS`` it might not have been read since a
        commit in the same second as the one that made it hot."""
        hot = set(self._hot)
        self._hot = {name: until for name, until in self._hot.items() if until > now}
        return hot

    def _probe_statement(self, conn: Connection) -> sa.Select[Any]:
        """Built once per schema: every table of the schema, filtered in Python, because
        an IN list of a thousand names costs the server more than the rows it saves."""
        schema = self._schema(conn)
        if self._probe_sql is None or self._probe_sql[0] != schema:
            statement: sa.Select[Any] = sa.select(
                _TABLES.c.TABLE_NAME, _TABLES.c.UPDATE_TIME
            ).where(_TABLES.c.TABLE_SCHEMA == schema)
            self._probe_sql = (schema, statement)
        return self._probe_sql[1]

    # ------------------------------------------------------------------ reading
    def poll(self, tables: Collection[str] | None = None) -> PollReport:
        """Read history and judge new events: of ``tables`` (they moved) since the last read,
        or, with None, of every watched table since the durable watermark (the safety read,
        which alone moves that watermark). Both minus the grace period."""
        started = time.perf_counter()
        full = tables is None
        opened: list[str] = []
        grew: list[str] = []
        with self.engine.connect() as conn:
            catalogue = self.catalogue(conn)
            now = server_now(conn)
            mark = self.store.events.watermark(source=self.source)
            if mark is None:
                self._bootstrap(conn, catalogue, now)
                self._last_full, self._read_at = time.monotonic(), now
                return PollReport(True, seconds=time.perf_counter() - started)
            names = self._watched_names(catalogue)
            if full:
                self._last_full = time.monotonic()
            else:
                mark = self._read_at or mark
                names = [n for n in names if n in tables]  # type: ignore[operator]
            since = mark - timedelta(seconds=self.config.grace_s)
            seen = self.store.events.seen(source=self.source, since=since)
            found = list_events(
                conn,
                catalogue,
                since=since,
                until=now,
                tables=names,
                inserts=False,
                seen=lambda table, point: (table, point) in seen,
            )
            for event in found:
                outcome = self._handle(conn, catalogue, event)
                self._applied(event)
                if outcome is not None:
                    (opened if outcome[0] == "opened" else grew).append(outcome[1])
            conn.rollback()
        if full:
            self.store.events.advance(source=self.source, instant=now)
        self._read_at = now if self._read_at is None else max(self._read_at, now)
        return PollReport(
            full, len(found), tuple(opened), tuple(grew), time.perf_counter() - started
        )

    def catalogue(self, conn: Connection) -> Catalogue:
        fresh = time.monotonic() - self._catalogue_at < self.config.catalogue_ttl_s
        if self._catalogue is None or not fresh:
            self._catalogue = load_catalogue(conn)
            self._catalogue_at = time.monotonic()
        return self._catalogue

    def _schema(self, conn: Connection) -> str:
        return self.catalogue(conn).schema

    def _watched_names(self, catalogue: Catalogue | None = None) -> list[str]:
        if catalogue is None:
            with self.engine.connect() as conn:
                catalogue = self.catalogue(conn)
        names = [t.name for t in catalogue.watched()]
        if self.config.tables is not None:
            names = [n for n in names if n in self.config.tables]
        skipped = self.store.watched.unwatched(source=self.source)  # /vault unwatch
        return [n for n in names if n not in skipped]

    def _bootstrap(self, conn: Connection, catalogue: Catalogue, now: datetime) -> None:
        """First start: learn the baseline from recent history, alert on nothing old."""
        since = now - timedelta(hours=self.config.bootstrap_hours)
        past = list_events(
            conn,
            catalogue,
            since=since,
            until=now,
            tables=self._watched_names(catalogue),
            inserts=False,
        )
        learned = self.store.events.record_baseline(source=self.source, records=_records(past))
        for name in self._watched_names(catalogue):
            self._exact_count(conn, catalogue, name)
        self.store.events.advance(source=self.source, instant=now)
        log.info("watcher started at %s; learned %d past events for the baseline", now, learned)

    # ------------------------------------------------------------------ judging
    def _handle(
        self, conn: Connection, catalogue: Catalogue, event: ChangeEvent
    ) -> tuple[str, str] | None:
        primary = primary_table(catalogue, event)
        impact = event_impact(conn, catalogue, event)
        rows = sum(c.deleted + c.updated for c in event.changes) + sum(i.dangling for i in impact)
        shares = [
            share_of(c.deleted + c.updated, self._before_event(conn, catalogue, c.table, event))
            for c in event.changes
        ] + [share_of(i.dangling, self._rows_before(conn, catalogue, i.table, 0)) for i in impact]
        share = max(shares, default=0.0)
        sizes = self.store.events.recent_sizes(
            source=self.source,
            table=primary,
            since=event.instant - timedelta(days=self.config.baseline_days),
        )
        verdict = judge(rows, share, baseline(sizes), self.config.rules)
        records = _records([event], score=verdict.score)
        window_start = event.instant - timedelta(seconds=self.config.rules.group_window_s)
        active = self.store.incidents.active(source=self.source, table=primary, since=window_start)
        if active is not None and rows:
            summary = active.summary.grown(event, primary, impact, verdict)
            notes = [
                Notification("incident_grew", {"rows": rows, "instant": iso(event.instant)}),
                Notification("root_update"),
            ]
            ok = self.store.record_event(
                source=self.source,
                records=records,
                attach_to=active.id,
                summary=summary,
                notifications=notes,
            )
            return ("grew", active.id) if ok else None
        adopt: list[int] = []
        earlier = (0, 0)
        first = event.instant
        if not verdict.incident and rows:
            burst = self.store.events.unassigned(
                source=self.source, table=primary, since=window_start
            )
            earlier = (sum(b[1] for b in burst), sum(b[2] for b in burst))
            burst_rows = rows + sum(earlier)
            before = self._before_event(conn, catalogue, primary, event) + earlier[0]
            grouped = judge(
                burst_rows, share_of(burst_rows, before), baseline(sizes), self.config.rules
            )
            if burst and grouped.incident:
                verdict, adopt = grouped, [b[0] for b in burst]
                first = min(b[3] for b in burst)
        if not verdict.incident:
            self.store.record_event(source=self.source, records=records)
            return None
        incident = self._new_incident(
            conn, catalogue, event, primary, impact, verdict, len(adopt), earlier, first
        )
        ok = self.store.record_event(
            source=self.source,
            records=records,
            open_incident=incident,
            adopt=adopt,
            notifications=[Notification("incident_opened")],
        )
        return ("opened", incident.id) if ok else None

    def _before_event(
        self, conn: Connection, catalogue: Catalogue, table: str, event: ChangeEvent
    ) -> int:
        """Rows before ``event``: the cached count, plus its deletions if the count saw them."""
        self._rows_before(conn, catalogue, table, 0)
        rows, as_of, _ = self._counts[table]
        change = event.for_table(table)
        if change is not None and as_of >= event.instant:
            rows += change.deleted - change.inserted
        return rows

    def _rows_before(self, conn: Connection, catalogue: Catalogue, table: str, gone: int) -> int:
        """Rows ``table`` had just before a statement that removed ``gone`` of them.

        ``TABLE_ROWS`` counts history rows too, so it cannot give a share; an
        exact count is taken when missing or stale and kept current by
        ``_applied`` as events are judged.
        """
        cached = self._counts.get(table)
        if cached is None or (
            table in self._uncounted and time.monotonic() - cached[2] > COUNT_TTL
        ):
            self._exact_count(conn, catalogue, table)
        return self._counts[table][0] + gone

    def _exact_count(self, conn: Connection, catalogue: Catalogue, table: str) -> None:
        plain = catalogue.tables[table].plain()
        rows, as_of = conn.execute(
            sa.select(sa.func.count(), sa.func.now(6)).select_from(plain)
        ).one()
        self._counts[table] = (int(rows), from_db(as_of), time.monotonic())
        self._uncounted.discard(table)

    def _applied(self, event: ChangeEvent) -> None:
        """Keep cached counts current: counts taken before ``event`` lose its deletions."""
        for change in event.changes:
            cached = self._counts.get(change.table)
            if cached is not None and event.instant > cached[1]:
                rows = max(cached[0] - change.deleted + change.inserted, 0)
                self._counts[change.table] = (rows, event.instant, cached[2])

    def _refresh_one_count(self) -> None:
        """On an idle tick, renew one cached count nearing its expiry. Only tables that moved
        since they were counted can be off (inserts are not read), so a table nobody writes
        is never counted again, however many there are."""
        now = time.monotonic()
        table = next(
            (
                name
                for name in self._uncounted
                if name in self._counts and now - self._counts[name][2] >= COUNT_TTL / 2
            ),
            None,
        )
        if table is None:
            return
        with self.engine.connect() as conn:
            self._exact_count(conn, self.catalogue(conn), table)

    def _new_incident(
        self,
        conn: Connection,
        catalogue: Catalogue,
        event: ChangeEvent,
        primary: str,
        impact: list[Impact],
        verdict: Verdict,
        earlier_statements: int,
        earlier_rows: tuple[int, int] = (0, 0),
        first: datetime | None = None,
    ) -> Incident:
        first = first or event.instant
        table = catalogue.tables[primary]
        change = event.for_table(primary)
        assert change is not None
        rows_before = self._before_event(conn, catalogue, primary, event) + earlier_rows[0]
        summary = IncidentSummary(
            table=primary,
            deleted=change.deleted + earlier_rows[0],
            updated=change.updated + earlier_rows[1],
            statements=1 + earlier_statements,
            rows_before=rows_before,
            share=share_of(change.deleted + change.updated + sum(earlier_rows), rows_before),
            score=verdict.score,
            reason=verdict.reason,
            instant=iso(first),
            last_instant=iso(event.instant),
            transaction_id=event.transaction_id,
            impact=[ImpactLine.of(i) for i in impact],
            sample=self._sample(conn, table, event, change.deleted + change.updated),
        )
        return Incident(
            id=new_id(),
            source=self.source,
            table=primary,
            status=IncidentStatus.OPEN,
            first_instant=first,
            last_instant=event.instant,
            summary=summary,
            channel=None,
            root_ts=None,
        )

    def _sample(
        self, conn: Connection, table: TableInfo, event: ChangeEvent, total: int
    ) -> SampleRows:
        rows = [
            r.before or {} for r in changed_rows(conn, table, event, limit=self.config.sample_rows)
        ]
        sample = make_sample(table, rows, total)
        return SampleRows(
            columns=list(sample.columns), rows=[list(r) for r in sample.rows], more=sample.more
        )


def _records(found: list[ChangeEvent], score: int | None = None) -> list[EventRecord]:
    return [
        EventRecord(
            c.table, e.point, e.instant, e.transaction_id, c.deleted, c.updated, c.inserted, score
        )
        for e in found
        for c in e.changes
    ]
