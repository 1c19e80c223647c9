"""Restore plans: exactly what a surgical restore would write, and nothing else.

A plan undoes specific statements: for each statement and table, rows it
deleted are re-inserted, rows it updated are reverted, rows it inserted are
removed. The rows are never listed in Python: each step names a statement's
instant (or transaction) and the server finds the rows in history, so a plan
for a million rows is as small as one for ten. A row that changed again
since (or a key re-used since) is a conflict: counted, sampled, skipped.

The fingerprint is computed by the server over the rows the plan would
write and the current state of their keys; if anything among them changes
between preview and execution, the fingerprint changes and the plan is stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, FromClause

from core.catalogue import Catalogue, TableInfo
from core.errors import VaultError
from core.history import ChangeEvent, period_value
from core.impact import count_dangling
from core.privileges import grantee, missing_restore_privileges
from core.timeutil import fmt_instant, from_db

_TABLES = sa.table(
    "TABLES",
    *(sa.column(c) for c in ("TABLE_SCHEMA", "TABLE_NAME", "CREATE_TIME")),
    schema="information_schema",
)
SAMPLE = 5


class PlanRefused(VaultError):
    """The restore cannot be planned safely (DDL after the damage, nothing to do)."""


class StepAction(StrEnum):
    REINSERT = "reinsert"  # rows the statement deleted
    REVERT = "revert"  # rows the statement updated
    REMOVE = "remove"  # rows the statement inserted


@dataclass(frozen=True, slots=True)
class Step:
    table: str
    action: StepAction
    instant: datetime
    transaction_id: int | None
    rows: int = 0
    conflicts: int = 0
    checksum: int = 0  # of the history rows to write back: immutable, so computed once
    only_deletes: bool = False  # the statement deleted but rewrote nothing in this table

    @property
    def writes(self) -> int:
        return self.rows - self.conflicts


@dataclass(frozen=True, slots=True)
class TableSummary:
    table: str
    reinsert: int = 0
    revert: int = 0
    remove: int = 0
    conflicts: int = 0
    repaired: int = 0  # dangling references in other tables the re-inserts repair
    conflict_sample: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestorePlan:
    table: str
    restore_point: datetime
    steps: tuple[Step, ...]
    tables: tuple[TableSummary, ...]
    unrecoverable: tuple[str, ...] = ()
    fingerprint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(s.writes for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["restore_point"] = self.restore_point.isoformat()
        for step in data["steps"]:
            step["instant"] = step["instant"].isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RestorePlan:
        steps = tuple(
            Step(
                **{
                    **s,
                    "instant": datetime.fromisoformat(s["instant"]),
                    "action": StepAction(s["action"]),
                }
            )
            for s in data["steps"]
        )
        tables = tuple(
            TableSummary(**{**t, "conflict_sample": tuple(t["conflict_sample"])})
            for t in data["tables"]
        )
        return cls(
            table=data["table"],
            restore_point=datetime.fromisoformat(data["restore_point"]),
            steps=steps,
            tables=tables,
            unrecoverable=tuple(data["unrecoverable"]),
            fingerprint=data["fingerprint"],
            extra=dict(data.get("extra") or {}),
        )


# --------------------------------------------------------------------------- row sets


@dataclass(frozen=True)
class RowSet:
    """The rows of one step, as SQL: ``old`` is the version to go back to (or the
    inserted version for REMOVE), ``new`` its successor, ``cur`` the current row."""

    table: TableInfo
    old: FromClause
    new: FromClause
    cur: FromClause
    where: ColumnElement[bool]
    joined: FromClause
    conflict: ColumnElement[bool]


def row_set(table: TableInfo, step: Step) -> RowSet:
    assert table.period is not None
    start, end = table.period.start, table.period.end
    point = period_value(
        table, step.transaction_id if step.transaction_id is not None else step.instant
    )
    old = table.all_versions().alias("old")
    new = table.all_versions().alias("new")
    cur = table.plain_with_period().alias("cur")
    key = table.primary_key
    same_key_new = sa.and_(*(new.c[k] == old.c[k] for k in key))
    same_key_cur = sa.and_(*(cur.c[k] == old.c[k] for k in key))
    successor = sa.exists().where(same_key_new, new.c[start] == old.c[end])
    predecessor = sa.exists().where(same_key_new, new.c[end] == old.c[start])
    matches_new = sa.and_(*(cur.c[c].is_not_distinct_from(new.c[c]) for c in table.data_columns))
    matches_old = sa.and_(*(cur.c[c].is_not_distinct_from(old.c[c]) for c in table.data_columns))
    where: ColumnElement[bool]
    conflict: ColumnElement[bool]
    joined: FromClause
    if step.action is StepAction.REINSERT:
        # Every version the statement closed was deleted unless it also rewrote rows.
        where = (
            old.c[end] == point if step.only_deletes else sa.and_(old.c[end] == point, ~successor)
        )
        joined = old.outerjoin(cur, same_key_cur)
        conflict = cur.c[key[0]].is_not(None)
    elif step.action is StepAction.REVERT:
        where = old.c[end] == point
        joined = old.join(new, sa.and_(same_key_new, new.c[start] == old.c[end])).outerjoin(
            cur, same_key_cur
        )
        conflict = sa.or_(cur.c[key[0]].is_(None), sa.not_(matches_new))
    else:
        where = sa.and_(old.c[start] == point, ~predecessor)
        joined = old.outerjoin(cur, same_key_cur)
        conflict = sa.or_(cur.c[key[0]].is_(None), sa.not_(matches_old))
    return RowSet(table, old, new, cur, where, joined, conflict)


def _hash(cols: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    """64 bits of MD5 over the values, NULL-safe: combined with BIT_XOR, order-free."""
    parts = [sa.func.ifnull(sa.cast(c, sa.String), sa.literal("\x00")) for c in cols]
    digest = sa.func.md5(sa.func.concat_ws(sa.literal("\x1f"), *parts))
    return sa.func.conv(sa.func.left(digest, 16), 16, 10)


def _step_stats(
    conn: Connection, table: TableInfo, step: Step, *, history: bool = True
) -> tuple[int, int, int, int]:
    """(rows, conflicts, checksum of rows, checksum of the current state of their keys).

    ``history=False`` skips the checksum of the history rows (they cannot change),
    which is all the staleness check before execution needs.
    """
    rs = row_set(table, step)
    cur_present = rs.cur.c[table.primary_key[0]].is_not(None)
    cur_hash = sa.case((cur_present, _hash([rs.cur.c[c] for c in table.version_columns])), else_=0)
    old_hash = _hash([rs.old.c[c] for c in table.data_columns]) if history else sa.literal(0)
    stmt = (
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((rs.conflict, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.bit_xor(old_hash), 0),
            sa.func.coalesce(sa.func.bit_xor(cur_hash), 0),
        )
        .select_from(rs.joined)
        .where(rs.where)
    )
    rows, conflicts, old_sum, cur_sum = conn.execute(stmt).one()
    return int(rows), int(conflicts), int(old_sum), int(cur_sum)


def _current_state(conn: Connection, table: TableInfo, step: Step) -> tuple[int, int]:
    """(conflicts, checksum of current rows on planned keys), reading only those rows.

    An inner join from the current table: when few planned keys are occupied
    (a table emptied by the damage) this touches almost nothing, where walking
    the history rows again would cost as much as the restore itself.
    """
    rs = row_set(table, step)
    inner = rs.joined
    if step.action is not StepAction.REVERT:
        same_key = sa.and_(*(rs.cur.c[k] == rs.old.c[k] for k in table.primary_key))
        inner = rs.cur.join(rs.old, same_key)
    else:
        same_key = sa.and_(*(rs.cur.c[k] == rs.old.c[k] for k in table.primary_key))
        successor = sa.and_(
            *(rs.new.c[k] == rs.old.c[k] for k in table.primary_key),
            rs.new.c[table.period.start] == rs.old.c[table.period.end],  # type: ignore[union-attr]
        )
        inner = rs.cur.join(rs.old, same_key).join(rs.new, successor)
    cur_hash = _hash([rs.cur.c[c] for c in table.version_columns])
    stmt = (
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((rs.conflict, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.bit_xor(cur_hash), 0),
        )
        .select_from(inner)
        .where(rs.where)
    )
    occupied, occupied_conflicts, cur_sum = conn.execute(stmt).one()
    if step.action is StepAction.REINSERT:
        return int(occupied), int(cur_sum)  # every occupied key is a conflict
    fine = int(occupied) - int(occupied_conflicts)
    return step.rows - fine, int(cur_sum)  # missing rows are conflicts too


def _digest_part(step: Step, cur_sum: int) -> bytes:
    parts = [step.table, step.action, step.instant.isoformat(), step.rows, step.conflicts]
    return json.dumps([*parts, step.checksum, cur_sum]).encode()


def _conflict_sample(conn: Connection, table: TableInfo, step: Step) -> list[str]:
    rs = row_set(table, step)
    keys = [rs.old.c[k] for k in table.primary_key]
    stmt = sa.select(*keys).select_from(rs.joined).where(rs.where, rs.conflict).limit(SAMPLE)
    return [", ".join(str(v) for v in row) for row in conn.execute(stmt)]


# --------------------------------------------------------------------------- building


def _depth(catalogue: Catalogue, name: str, seen: frozenset[str] = frozenset()) -> int:
    """How many versioned parents stand above ``name``: parents are written first."""
    info = catalogue.tables[name]
    parents = [
        fk.parent_table
        for fk in info.outgoing
        if fk.parent_table in catalogue.tables
        and fk.parent_table != name
        and fk.parent_table not in seen
    ]
    return 1 + max((_depth(catalogue, p, seen | {name}) for p in parents), default=-1)


def _order(catalogue: Catalogue, steps: list[Step]) -> list[Step]:
    """Removals children-first, then re-inserts and reverts parents-first; newest first."""

    def key(s: Step) -> tuple[int, int, float]:
        depth = _depth(catalogue, s.table)
        phase = 0 if s.action is StepAction.REMOVE else 1
        return (phase, -depth if phase == 0 else depth, -s.instant.timestamp())

    return sorted(steps, key=key)


def last_ddl(conn: Connection, catalogue: Catalogue, tables: set[str]) -> datetime | None:
    """When any of ``tables`` was last created or altered (second precision)."""
    value = conn.execute(
        sa.select(sa.func.max(_TABLES.c.CREATE_TIME)).where(
            _TABLES.c.TABLE_SCHEMA == catalogue.schema, _TABLES.c.TABLE_NAME.in_(sorted(tables))
        )
    ).scalar_one_or_none()
    return from_db(value) if value is not None else None


def check_no_ddl_since(
    conn: Connection, catalogue: Catalogue, tables: set[str], since: datetime
) -> None:
    rows = conn.execute(
        sa.select(_TABLES.c.TABLE_NAME, _TABLES.c.CREATE_TIME).where(
            _TABLES.c.TABLE_SCHEMA == catalogue.schema, _TABLES.c.TABLE_NAME.in_(sorted(tables))
        )
    )
    for name, created in rows:
        if created is not None and from_db(created) > since.replace(microsecond=0):
            raise PlanRefused(
                f"`{name}` was altered at {fmt_instant(from_db(created))}, after the damage; "
                "FlightVault will not restore across DDL. Restore by hand or from a backup."
            )


def check_restore_privileges(conn: Connection, catalogue: Catalogue, tables: set[str]) -> None:
    """Refuse, naming the grant, when the account could not write ``tables`` back."""
    missing = missing_restore_privileges(conn, catalogue.schema, tables)
    if missing:
        who = grantee(conn)
        raise PlanRefused(
            f"FlightVault's database account {who} can watch but not restore: it needs "
            f"GRANT {', '.join(missing)} ON `{catalogue.schema}`.* TO {who}. Nothing changed."
        )


def build_plan(
    conn: Connection,
    catalogue: Catalogue,
    *,
    table: str,
    events: list[ChangeEvent],
    restore_point: datetime,
    extra: dict[str, Any] | None = None,
) -> RestorePlan:
    """Plan the undoing of ``events`` (oldest first) on every versioned table they touched."""
    raw: list[Step] = []
    for event in events:
        for change in event.changes:
            info = catalogue.tables.get(change.table)
            if info is None or not info.watchable:
                continue
            only_deletes = not (change.updated or change.unchanged)
            for action, count in (
                (StepAction.REINSERT, change.deleted),
                (StepAction.REVERT, change.updated),
                (StepAction.REMOVE, change.inserted),
            ):
                if count:
                    step = Step(change.table, action, event.instant, event.transaction_id)
                    raw.append(replace(step, only_deletes=only_deletes))
    if not raw:
        raise PlanRefused("Those statements left nothing to restore in versioned tables.")
    touched = {s.table for s in raw}
    check_restore_privileges(conn, catalogue, touched)
    check_no_ddl_since(conn, catalogue, touched, min(e.instant for e in events))
    steps, digest = [], hashlib.sha256()
    for step in _order(catalogue, raw):
        rows, conflicts, old_sum, cur_sum = _step_stats(conn, catalogue.tables[step.table], step)
        done = replace(step, rows=rows, conflicts=conflicts, checksum=old_sum)
        steps.append(done)
        digest.update(_digest_part(done, cur_sum))
    summaries = _summaries(conn, catalogue, steps, events)
    return RestorePlan(
        table=table,
        restore_point=restore_point,
        steps=tuple(steps),
        tables=summaries,
        unrecoverable=tuple(_unrecoverable(catalogue, touched)),
        fingerprint=digest.hexdigest()[:16],
        extra=dict(extra or {}),
    )


def current_fingerprint(conn: Connection, catalogue: Catalogue, plan: RestorePlan) -> str:
    """The fingerprint the plan would have if it were built now.

    Only the current state of the planned keys is read again: the history rows
    the plan writes back cannot change, so their checksum is taken from the plan.
    """
    digest = hashlib.sha256()
    for step in plan.steps:
        conflicts, cur_sum = _current_state(conn, catalogue.tables[step.table], step)
        digest.update(_digest_part(replace(step, conflicts=conflicts), cur_sum))
    return digest.hexdigest()[:16]


def _summaries(
    conn: Connection, catalogue: Catalogue, steps: list[Step], events: list[ChangeEvent]
) -> tuple[TableSummary, ...]:
    out: list[TableSummary] = []
    for name in dict.fromkeys(s.table for s in steps):
        mine = [s for s in steps if s.table == name]
        sample: list[str] = []
        for s in mine:
            if s.conflicts and len(sample) < SAMPLE:
                sample += _conflict_sample(conn, catalogue.tables[name], s)
        out.append(
            TableSummary(
                table=name,
                reinsert=sum(s.writes for s in mine if s.action is StepAction.REINSERT),
                revert=sum(s.writes for s in mine if s.action is StepAction.REVERT),
                remove=sum(s.writes for s in mine if s.action is StepAction.REMOVE),
                conflicts=sum(s.conflicts for s in mine),
                repaired=repaired_references(conn, catalogue, name, events),
                conflict_sample=tuple(sample[:SAMPLE]),
            )
        )
    return tuple(out)


def repaired_references(
    conn: Connection, catalogue: Catalogue, name: str, events: list[ChangeEvent]
) -> int:
    """Rows elsewhere pointing at keys of ``name`` that ``events`` deleted and are still gone."""
    parent = catalogue.tables[name]
    total = 0
    for fk in parent.incoming:
        child = catalogue.tables.get(fk.child_table)
        if child is None or fk.child_schema != catalogue.schema:
            continue
        for event in events:
            change = event.for_table(name)
            if change and change.deleted:
                total += count_dangling(conn, parent, child, fk, event)
    return total


def _unrecoverable(catalogue: Catalogue, touched: set[str]) -> list[str]:
    out = []
    for name in sorted(touched):
        for fk in catalogue.tables[name].incoming:
            child = catalogue.tables.get(fk.child_table)
            if child is not None and child.period is None and fk.on_delete == "CASCADE":
                out.append(
                    f"rows ON DELETE CASCADE removed from `{child.name}` cannot be restored: "
                    "that table keeps no history"
                )
    return out
