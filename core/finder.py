"""The restore point: the last healthy instant before the damage, to the microsecond.

Two ways to find the damage, both probing only at change events' instants:

* by default, from the statements themselves: the most recent statement (or
  burst of statements close together) in the window whose size is a
  disaster by the same rules the watcher uses. No snapshot is read.
* with a ``check`` (``count``, ``fk`` or a column), by health: a binary
  search over the event list for the first event after which the table is
  worse than at the window's start; log2(events) snapshot probes.

Either way the restore point is 1 µs before the first damaging statement,
so everything committed before it survives, and the report says what a
naive whole-table restore to that point would also wipe out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.catalogue import Catalogue, Precision, TableInfo
from core.errors import InvalidInput, VaultError
from core.footprint import downstream
from core.health import Health, health_at, is_unhealthy, validate_check
from core.history import ChangeEvent, TableChange, list_events, server_now
from core.impact import event_impact
from core.judge import Rules, baseline, judge, share_of
from core.timeutil import ONE_MICROSECOND, fmt_instant, from_db

DEFAULT_WINDOW = timedelta(hours=24)
SMALL_TABLE = 200_000  # versions; below this a scan of row_start is cheap
SCALE = 100  # a statement two orders of magnitude smaller than a burst's largest is not in it


class NoDamageFound(VaultError):
    """The window holds no statement or health change that looks like damage."""


@dataclass(frozen=True, slots=True)
class Probe:
    instant: datetime
    health: str
    healthy: bool


@dataclass(frozen=True, slots=True)
class LossWindow:
    """What a naive whole-table restore to the restore point would also undo."""

    statements: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    last: datetime | None = None
    # False when rows inserted since were not counted (no index on row_start, large
    # table): then ``statements`` and ``inserted`` leave out inserts, a lower bound.
    inserts_counted: bool = True


@dataclass(frozen=True)
class Finding:
    table: str
    restore_point: datetime
    damage: tuple[ChangeEvent, ...]
    method: str
    confidence: str
    why: str
    rows_before: int
    rows_now: int
    counts_exact: bool
    probes: tuple[Probe, ...] = ()
    loss: LossWindow = field(default_factory=LossWindow)
    window: tuple[datetime, datetime] | None = None
    events_in_window: int = 0
    seconds: float = 0.0

    def damage_totals(self) -> dict[str, TableChange]:
        totals: dict[str, TableChange] = {}
        for event in self.damage:
            for c in event.changes:
                t = totals.get(c.table, TableChange(c.table))
                totals[c.table] = TableChange(
                    c.table, t.deleted + c.deleted, t.updated + c.updated, t.inserted + c.inserted
                )
        return totals


def related_tables(catalogue: Catalogue, table: TableInfo) -> list[str]:
    """The table and the versioned tables its statements reach, at any depth: cascades,
    SET NULL, ON UPDATE CASCADE and triggers (the footprint a statement can have)."""
    return [
        name
        for name in downstream(catalogue, table.name)
        if name in catalogue.tables and catalogue.tables[name].watchable
    ]


def find_restore_point(
    conn: Connection,
    catalogue: Catalogue,
    name: str,
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    check: str | None = None,
    rules: Rules | None = None,
) -> Finding:
    started = time.perf_counter()
    rules = rules or Rules()
    table = catalogue.watchable(name)
    now = server_now(conn)
    until = min(before or now, now)
    since = since or until - DEFAULT_WINDOW
    if since >= until:
        raise InvalidInput("`since` must come before `before`; try `since 2h`.")
    if check is not None:
        check = validate_check(table, check)
    events = list_events(
        conn,
        catalogue,
        since=since,
        until=until,
        tables=related_tables(catalogue, table),
        inserts=check is not None,
    )
    own = [e for e in events if (c := e.for_table(name)) and (c.deleted or c.updated or c.inserted)]
    rows_now, exact = estimate_rows(conn, table)
    try:
        if check is None:
            orphans = _orphans(conn, catalogue, table, own)
            damage, method, confidence, why, probes = _by_size(own, name, rows_now, rules, orphans)
        else:
            damage, method, confidence, why, probes = _by_health(
                conn, catalogue, table, check, own, since, until, rules
            )
    except NoDamageFound as exc:
        hint = (
            "`check count`, `check fk` or a column (`--check` in the CLI)"
            if check is None
            else "a wider window"
        )
        raise NoDamageFound(
            f"No damage found in `{name}` between {fmt_instant(since)} and "
            f"{fmt_instant(until)}: {exc}. Try `since 7d` (`--since 7d` in the CLI) or {hint}."
        ) from None
    first = damage[0].instant
    loss = loss_window(
        conn, catalogue, table, after=first - ONE_MICROSECOND, now=now, damage=damage
    )
    gone_since = sum((e.for_table(name) or TableChange(name)).deleted for e in damage)
    return Finding(
        table=name,
        restore_point=first - ONE_MICROSECOND,
        damage=tuple(damage),
        method=method,
        confidence=confidence,
        why=why,
        rows_before=rows_now + gone_since - loss.inserted + loss.deleted,
        rows_now=rows_now,
        counts_exact=exact and loss.inserts_counted,  # else rows_before is at most
        probes=tuple(probes),
        loss=loss,
        window=(since, until),
        events_in_window=len(own),
        seconds=time.perf_counter() - started,
    )


def estimate_rows(
    conn: Connection, table: TableInfo, exact_below: int = 200_000
) -> tuple[int, bool]:
    """Current rows: the optimizer's range estimate, exact when the table is small."""
    quoted = conn.dialect.identifier_preparer.quote_identifier(table.name)
    plan = conn.execute(sa.text(f"EXPLAIN SELECT COUNT(*) FROM {quoted}")).mappings().first()
    estimate = int(plan["rows"] or 0) if plan is not None else 0
    if estimate < exact_below:
        plain = table.plain()
        return int(conn.execute(sa.select(sa.func.count()).select_from(plain)).scalar_one()), True
    return estimate, False


def _size(event: ChangeEvent, table: str, orphans: dict[str, int] | None = None) -> int:
    """Rows a statement took from the table, its cascade children, and references it broke."""
    if event.for_table(table) is None:
        return 0
    rows = sum(c.deleted + c.updated for c in event.changes)  # the table and its cascades
    return rows + (orphans or {}).get(event.point, 0)


def _orphans(
    conn: Connection, catalogue: Catalogue, table: TableInfo, own: list[ChangeEvent]
) -> dict[str, int]:
    """Rows elsewhere each deleting statement left pointing at nothing, as the watcher counts."""
    out: dict[str, int] = {}
    for event in own:
        change = event.for_table(table.name)
        if not change or not change.deleted:
            continue
        dangling = sum(i.dangling for i in event_impact(conn, catalogue, event))
        if dangling:
            out[event.point] = dangling
    return out


def _by_size(
    own: list[ChangeEvent], name: str, rows_now: int, rules: Rules, orphans: dict[str, int]
) -> tuple[list[ChangeEvent], str, str, str, list[Probe]]:
    """The most recent disastrous statement or burst, judged as the watcher would."""
    if not own:
        raise NoDamageFound("no statement changed the table in the window")
    bursts = _bursts(own, name, rules.group_window_s)
    remaining = rows_now
    found: list[tuple[list[ChangeEvent], str, str, str]] = []
    for burst in reversed(bursts):
        rows = sum(_size(e, name, orphans) for e in burst)
        deleted = sum((e.for_table(name) or TableChange(name)).deleted for e in burst)
        remaining += deleted
        members = {id(e) for e in burst}  # judged against the others, never against itself
        base = baseline([_size(e, name, orphans) for e in own if id(e) not in members])
        verdict = judge(rows, share_of(rows, remaining), base, rules)
        if not verdict.incident:
            continue
        orphaned = sum(orphans.get(e.point, 0) for e in burst)
        extra = f", leaving {orphaned:,} rows elsewhere pointing at nothing" if orphaned else ""
        if len(burst) == 1:
            why = (
                f"one statement changed {rows - orphaned:,} rows{extra} ({verdict.share:.1%} of "
                f"the table, anomaly score {verdict.score}/100); its instant is read from row_end"
            )
            sure = "exact" if verdict.score >= 90 or verdict.share >= 0.1 else "high"
            found.append((burst, "statement size", sure, why))
        else:
            span = (burst[-1].instant - burst[0].instant).total_seconds()
            why = (
                f"{len(burst)} statements within {span:.0f} s changed {rows - orphaned:,} rows "
                f"together{extra} ({verdict.share:.1%} of the table); the restore point "
                "precedes the first"
            )
            found.append((burst, "burst of statements", "high", why))
        break
    if not found:
        raise NoDamageFound(
            f"none of the {len(own)} statements in the window is large or unusual enough"
        )
    burst, method, sure, why = found[0]
    return burst, method, sure, why, []


def _kind(event: ChangeEvent, name: str) -> str:
    c = event.for_table(name)
    if c is None or not (c.deleted or c.updated):
        return ""
    return "delete" if c.deleted >= c.updated else "update"


def _bursts(own: list[ChangeEvent], name: str, window_s: float) -> list[list[ChangeEvent]]:
    """Runs of same-kind statements closer than ``window_s`` to each other, each kept to the
    statements of comparable scale.

    A batched cleanup's batches (and its smaller last batch) are one burst; a
    one-row UPDATE just before or after a 26,000-row UPDATE is a legitimate
    write that happened to be near, not damage: it is left out of the burst,
    so the restore keeps it, and it shows in the data-loss window.
    """
    runs: list[list[ChangeEvent]] = []
    for event in own:
        kind = _kind(event, name)
        if not kind:
            continue
        last = runs[-1] if runs else None
        if (
            last
            and _kind(last[-1], name) == kind
            and (event.instant - last[-1].instant).total_seconds() <= window_s
        ):
            last.append(event)
        else:
            runs.append([event])
    return [_comparable(run, name) for run in runs]


def _comparable(run: list[ChangeEvent], name: str) -> list[ChangeEvent]:
    """The statements of a run within ``SCALE`` of its largest (by rows changed)."""
    largest = max(_size(e, name) for e in run)
    return [e for e in run if _size(e, name) * SCALE >= largest]


def _by_health(
    conn: Connection,
    catalogue: Catalogue,
    table: TableInfo,
    check: str,
    own: list[ChangeEvent],
    since: datetime,
    until: datetime,
    rules: Rules,
) -> tuple[list[ChangeEvent], str, str, str, list[Probe]]:
    """Binary search over the events for the first one after which health is worse."""
    start = max(since, first_version(conn, table) or since)
    own = [e for e in own if e.instant > start]
    reference = health_at(conn, catalogue, table, check, start)
    probes = [Probe(start, reference.describe(), True)]

    def bad(h: Health) -> bool:
        return is_unhealthy(reference, h, min_rows=rules.min_rows, min_share=rules.min_share)

    latest = health_at(conn, catalogue, table, check, until)
    probes.append(Probe(until, latest.describe(), not bad(latest)))
    if not own or not bad(latest):
        raise NoDamageFound(
            f"by `{check}` the table is as healthy at the end of the window "
            f"({latest.describe()}) as at its start ({reference.describe()})"
        )
    lo, hi = -1, len(own) - 1  # healthy after own[lo] (or at since); unhealthy after own[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        probe = health_at(conn, catalogue, table, check, own[mid].instant)
        healthy = not bad(probe)
        probes.append(Probe(own[mid].instant, probe.describe(), healthy))
        lo, hi = (mid, hi) if healthy else (lo, mid)
    damage = own[hi]
    after = health_at(conn, catalogue, table, check, damage.instant)
    why = (
        f"by `{check}`: {reference.describe()} at the window's start, {after.describe()} "
        f"right after the statement at {fmt_instant(damage.instant)}; "
        f"{len(probes) - 2} binary-search probes over {len(own)} events"
    )
    return [damage], f"health check `{check}`", "high", why, probes


def first_version(conn: Connection, table: TableInfo) -> datetime | None:
    """When the table's oldest stored version began (the start of its history)."""
    assert table.period is not None
    v = table.all_versions()
    value = conn.execute(sa.select(sa.func.min(v.c[table.period.start]))).scalar_one_or_none()
    if value is None or table.period.precision is not Precision.TIMESTAMP:
        return None
    return from_db(value)


def loss_window(
    conn: Connection,
    catalogue: Catalogue,
    table: TableInfo,
    *,
    after: datetime,
    now: datetime,
    damage: Sequence[ChangeEvent] = (),
) -> LossWindow:
    """Statements after ``after`` that a whole-table restore to it would wipe out: every
    later statement on the table that is not part of the damage, including legitimate ones
    that ran between a burst's statements.

    Deletes and updates come from the ``row_end`` index, and the damage's own (often
    huge) statements are skipped before the join that tells them apart. Rows inserted
    since can only be found by ``row_start``: they are counted when it has an index or
    the table is small, and otherwise left out (``inserts_counted=False``) rather than
    paid for with a scan of every version.
    """
    damaged = {e.point for e in damage}
    inserts = counts_inserts_cheaply(table)
    later = list_events(
        conn,
        catalogue,
        since=after,
        until=now,
        tables=[table.name],
        inserts=inserts,
        seen=lambda _table, point: point in damaged,
    )
    kept = [e for e in later if e.point not in damaged]
    mine = [c for e in kept if (c := e.for_table(table.name))]
    return LossWindow(
        statements=len(mine),
        inserted=sum(c.inserted for c in mine),
        updated=sum(c.updated for c in mine),
        deleted=sum(c.deleted for c in mine),
        last=kept[-1].instant if kept else None,
        inserts_counted=inserts,
    )


def counts_inserts_cheaply(table: TableInfo, small: int = SMALL_TABLE) -> bool:
    """Whether counting inserted rows costs little: ``row_start`` is indexed, or the table
    (history included, by the server's estimate) is small enough to scan."""
    assert table.period is not None
    return table.period.start_indexed or table.estimated_rows < small
