"""The tests' own view of a database, independent of FlightVault's code.

``snapshot`` reads every row of every table, every column (invisible and
generated ones included, period columns left out), textual, binary, spatial
and BIT values as hex so that comparisons are byte-exact whatever the
collation. ``expected_after`` says what a perfect surgical restore leaves:
the state before the damage with the later legitimate writes applied, where
the later writes' effect is measured on the real database (so values set by
``NOW()``, triggers or AUTO_INCREMENT are whatever they really were).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

_HEX_TYPES = re.compile(
    r"char|text|blob|binary|enum|set|json|geometry|point|linestring|polygon|collection|bit"
)
_PERIOD = re.compile(r"PERIOD FOR SYSTEM_TIME \(`((?:[^`]|``)+)`, `((?:[^`]|``)+)`\)")
Row = tuple[Any, ...]


@dataclass
class TableRows:
    columns: tuple[str, ...]
    key: tuple[int, ...]  # positions of the key columns; () means "no key": a multiset
    rows: dict[Row, Row] = field(default_factory=dict)  # key -> row
    bag: Counter[Row] = field(default_factory=Counter)  # keyless tables


Snapshot = dict[str, TableRows]


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _columns(conn: Connection, table: str) -> list[tuple[str, str]]:
    ddl = conn.execute(sa.text(f"SHOW CREATE TABLE {_q(table)}")).one()[1]
    period = set()
    if (m := _PERIOD.search(ddl)) is not None:
        period = {g.replace("``", "`") for g in m.groups()}
    elif "WITH SYSTEM VERSIONING" in ddl:
        period = {"ROW_START", "ROW_END"}
    rows = conn.execute(
        sa.text(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t ORDER BY ORDINAL_POSITION"
        ),
        {"t": table},
    )
    return [(n, t) for n, t in rows if n not in period]


def _key(conn: Connection, table: str, columns: list[str]) -> tuple[int, ...]:
    rows = conn.execute(
        sa.text(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND INDEX_NAME = 'PRIMARY'"
            " ORDER BY SEQ_IN_INDEX"
        ),
        {"t": table},
    )
    return tuple(columns.index(c) for _, c in rows if c in columns)


def snapshot(engine: Engine) -> Snapshot:
    out: Snapshot = {}
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                " AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME"
            )
        ).scalars()
        for table in list(tables):
            cols = _columns(conn, table)
            names = [c for c, _ in cols]
            exprs = [f"HEX({_q(c)})" if _HEX_TYPES.search(t) else _q(c) for c, t in cols]
            data = TableRows(tuple(names), _key(conn, table, names))
            for row in conn.execute(sa.text(f"SELECT {', '.join(exprs)} FROM {_q(table)}")):
                row = tuple(row)
                if data.key:
                    data.rows[tuple(row[i] for i in data.key)] = row
                else:
                    data.bag[row] += 1
            out[table] = data
    return out


def expected_after(before: Snapshot, damaged: Snapshot, later: Snapshot) -> Snapshot:
    """``before`` with the later writes (the change from ``damaged`` to ``later``) applied."""
    out: Snapshot = {}
    for name, base in before.items():
        d, l_ = damaged[name], later[name]
        result = TableRows(base.columns, base.key, dict(base.rows), Counter(base.bag))
        for key in d.rows.keys() - l_.rows.keys():
            result.rows.pop(key, None)
        for key, row in l_.rows.items():
            if d.rows.get(key) != row:
                result.rows[key] = row
        result.bag.update(l_.bag)  # before + later - damaged, as multisets
        result.bag.subtract(d.bag)
        result.bag = +result.bag
        out[name] = result
    return out


def differences(actual: Snapshot, expected: Snapshot, limit: int = 5) -> list[str]:
    """What differs, table by table, in words (empty when the two are equal)."""
    out: list[str] = []
    for name in sorted(expected.keys() | actual.keys()):
        a, e = actual.get(name), expected.get(name)
        if a is None or e is None:
            out.append(f"{name}: table {'missing' if a is None else 'unexpected'}")
            continue
        if a.rows != e.rows:
            missing = [k for k in e.rows if k not in a.rows]
            extra = [k for k in a.rows if k not in e.rows]
            wrong = [k for k in e.rows if k in a.rows and a.rows[k] != e.rows[k]]
            out.append(
                f"{name}: {len(missing)} missing {missing[:limit]}, {len(extra)} extra "
                f"{extra[:limit]}, {len(wrong)} wrong "
                + "; ".join(f"{k}: {a.rows[k]} != {e.rows[k]}" for k in wrong[:limit])
            )
        if a.bag != e.bag:
            out.append(f"{name}: keyless rows differ: {(a.bag - e.bag) + (e.bag - a.bag)}")
    return out
