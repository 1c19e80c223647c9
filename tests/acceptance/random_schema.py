"""Random small schemas, data and statements for the property test (hypothesis strategies).

A schema is 2 to 4 system-versioned tables (one versioning style for all:
implicit period columns, explicit timestamps, or transaction-precise), each
with foreign keys to earlier tables (random ON DELETE / ON UPDATE rules), a
self-reference sometimes, a generated column sometimes, the primary key or a
UNIQUE NOT NULL key as row identity, a UNIQUE ``code``, and a trigger or two
(one writes an ``audit`` table, one rewrites values on insert, one on update).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

ON_DELETE = ("CASCADE", "SET NULL", "RESTRICT", "CASCADE")
ON_UPDATE = ("CASCADE", "RESTRICT", "SET NULL")
STYLES = ("implicit", "timestamp", "transaction")


@dataclass(frozen=True)
class Fk:
    column: str
    parent: int
    on_delete: str
    on_update: str


@dataclass(frozen=True)
class Table:
    index: int
    unique_identity: bool  # no primary key: UNIQUE (id) over a NOT NULL column
    fks: tuple[Fk, ...]
    generated: str | None  # STORED or VIRTUAL
    rows: int

    @property
    def name(self) -> str:
        return f"t{self.index}"


@dataclass(frozen=True)
class Schema:
    style: str
    tables: tuple[Table, ...]
    triggers: tuple[str, ...]

    def children_of(self, index: int) -> list[Table]:
        return [t for t in self.tables if any(f.parent == index for f in t.fks)]


def _period(style: str) -> str:
    if style == "implicit":
        return ""
    kind = "TIMESTAMP(6)" if style == "timestamp" else "BIGINT UNSIGNED"
    index = ", INDEX (row_end)" if style == "timestamp" else ""
    return (
        f", row_start {kind} GENERATED ALWAYS AS ROW START INVISIBLE,"
        f" row_end {kind} GENERATED ALWAYS AS ROW END INVISIBLE,"
        f" PERIOD FOR SYSTEM_TIME (row_start, row_end){index}"
    )


def ddl(schema: Schema) -> list[str]:
    engine = " ENGINE=InnoDB" if schema.style == "transaction" else ""
    out = [
        "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, tbl VARCHAR(8) NOT NULL,"
        f" ref INT NOT NULL{_period(schema.style)}){engine} WITH SYSTEM VERSIONING"
    ]
    for t in schema.tables:
        cols = ["id INT NOT NULL", "code INT NOT NULL", "v INT", "s VARCHAR(12)"]
        cols += [f"{f.column} INT NULL" for f in t.fks]
        if t.generated:
            cols.append(f"g INT AS (COALESCE(v, 0) * 2) {t.generated}")
        cols.append("UNIQUE KEY uq_id (id)" if t.unique_identity else "PRIMARY KEY (id)")
        cols.append("UNIQUE KEY uq_code (code)")
        cols += [
            f"CONSTRAINT fk_{t.name}_{f.column} FOREIGN KEY ({f.column}) REFERENCES"
            f" t{f.parent} (id) ON DELETE {f.on_delete} ON UPDATE {f.on_update}"
            for f in t.fks
        ]
        body = ", ".join(cols) + _period(schema.style)
        out.append(f"CREATE TABLE {t.name} ({body}){engine} WITH SYSTEM VERSIONING")
    return out


def data(schema: Schema) -> list[str]:
    out = []
    for t in schema.tables:
        refs = ", ".join(
            f"IF(seq % 5 = 0, NULL, 1 + (seq * {3 + n}) % {schema.tables[f.parent].rows})"
            if f.parent != t.index
            else "IF(seq < 3, NULL, 1 + seq % 2)"
            for n, f in enumerate(t.fks)
        )
        cols = ", ".join(["id", "code", "v", "s", *(f.column for f in t.fks)])
        values = ", ".join(
            ["seq", "seq * 7", "seq % 11", "ELT(1 + seq % 4, 'ab', 'AB', 'Ab ', NULL)"]
            + ([refs] if refs else [])
        )
        out.append(f"INSERT INTO {t.name} ({cols}) SELECT {values} FROM seq_1_to_{t.rows}")
    return out


TRIGGERS = {
    "audit": "CREATE TRIGGER {t}_ad AFTER DELETE ON {t} FOR EACH ROW"
    " INSERT INTO audit (tbl, ref) VALUES ('{t}', OLD.id)",
    "stamp": "CREATE TRIGGER {t}_bi BEFORE INSERT ON {t} FOR EACH ROW"
    " SET NEW.s = CONCAT('+', COALESCE(NEW.s, ''))",
    "bump": "CREATE TRIGGER {t}_bu BEFORE UPDATE ON {t} FOR EACH ROW"
    " SET NEW.v = COALESCE(NEW.v, 0) + 1",
}


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    style = draw(st.sampled_from(STYLES))
    tables: list[Table] = []
    for i in range(draw(st.integers(2, 4))):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
        if draw(st.integers(0, 5)) == 0:
            parents.append(i)  # a self-reference (a manager column)
        fks = tuple(
            Fk(f"p{n}", p, draw(st.sampled_from(ON_DELETE)), draw(st.sampled_from(ON_UPDATE)))
            for n, p in enumerate(parents)
        )
        generated = draw(st.sampled_from((None, None, "STORED", "VIRTUAL")))
        unique = draw(st.integers(0, 3)) == 0
        tables.append(Table(i, unique, fks, generated, draw(st.integers(15, 40))))
    triggers = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(TRIGGERS)), st.integers(0, len(tables) - 1)),
            max_size=2,
            unique=True,
        )
    )
    sql = tuple(TRIGGERS[kind].format(t=f"t{i}") for kind, i in triggers)
    return Schema(style, tuple(tables), sql)


def damage(draw: st.DrawFn, schema: Schema) -> str:
    t = draw(st.sampled_from(schema.tables))
    m, r = draw(st.integers(2, 4)), draw(st.integers(0, 1))
    where = f"WHERE id % {m} = {r}"
    kinds = [
        f"DELETE FROM {t.name} {where}",
        f"UPDATE {t.name} SET v = v * 10 + 1, s = UPPER(s) {where}",
        f"UPDATE {t.name} SET id = id + 1000 {where}",
        f"UPDATE {t.name} SET code = code + 7 {where} ORDER BY code DESC",
    ]
    kinds += [f"UPDATE {t.name} SET {f.column} = NULL {where}" for f in t.fks]
    return draw(st.sampled_from(kinds))


def legit(draw: st.DrawFn, schema: Schema, present: dict[str, list[int]], n: int) -> str:
    """A small legitimate write that stays clear of the rows in ``present``'s complement."""
    t = draw(st.sampled_from(schema.tables))
    ids = present[t.name]
    kinds = ["insert"] + (["update"] if ids else [])
    if ids and not schema.children_of(t.index):
        kinds.append("delete")
    kind = draw(st.sampled_from(kinds))
    if kind == "update":
        value, row = draw(st.integers(0, 99)), draw(st.sampled_from(ids))
        return f"UPDATE {t.name} SET v = {value} WHERE id = {row}"
    if kind == "delete":
        return f"DELETE FROM {t.name} WHERE id = {draw(st.sampled_from(ids))}"
    new_id = 5000 + n
    refs = []
    for f in t.fks:
        parents = present[schema.tables[f.parent].name]
        refs.append(str(draw(st.sampled_from(parents))) if parents else "NULL")
    cols = ", ".join(["id", "code", "v", "s", *(f.column for f in t.fks)])
    values = ", ".join([str(new_id), str(new_id * 7), "5", "'later'", *refs])
    return f"INSERT INTO {t.name} ({cols}) VALUES ({values})"


def conflicting(draw: st.DrawFn, schema: Schema, damaged: dict[str, list[int]], n: int) -> str:
    """A later write aimed at the damage: edit a row it changed, re-create a key it deleted
    (by hand, with other values), or point a new child at a row it left."""
    t = draw(st.sampled_from(schema.tables))
    ids = damaged[t.name]
    if not ids:
        return f"UPDATE {t.name} SET v = 77 WHERE id = 1"
    row = draw(st.sampled_from(ids))
    kind = draw(st.sampled_from(("edit", "recreate", "child")))
    if kind == "edit":
        return f"UPDATE {t.name} SET v = 88, s = 'edited' WHERE id = {row}"
    if kind == "recreate":
        cols = ", ".join(["id", "code", "v", "s"])
        return f"INSERT INTO {t.name} ({cols}) VALUES ({row}, {9000 + n}, 99, 'again')"
    kids = schema.children_of(t.index)
    if not kids:
        return f"UPDATE {t.name} SET v = 66 WHERE id = {row}"
    kid = draw(st.sampled_from(kids))
    fk = next(f for f in kid.fks if f.parent == t.index)
    cols = ", ".join(["id", "code", "v", "s", fk.column])
    return f"INSERT INTO {kid.name} ({cols}) VALUES ({7000 + n}, {7000 + n}, 1, 'kid', {row})"
