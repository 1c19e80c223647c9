"""The rows an incident's statements touched, table by table, streamed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy.engine import Connection

from core.catalogue import Catalogue
from core.history import ChangeEvent, RowChange, TableChange, changed_rows
from core.state.incidents import EventRecord


def incident_tables(records: Sequence[EventRecord]) -> dict[str, tuple[int, int]]:
    """table -> (rows deleted, rows updated), in the order tables were first hit."""
    totals: dict[str, tuple[int, int]] = {}
    for rec in records:
        deleted, updated = totals.get(rec.table, (0, 0))
        totals[rec.table] = (deleted + rec.deleted, updated + rec.updated)
    return totals


def incident_rows(
    conn: Connection, catalogue: Catalogue, records: Sequence[EventRecord], table: str
) -> Iterator[RowChange]:
    """Before-images (after-images too, for updates) of the rows the incident touched."""
    info = catalogue.watchable(table)
    for rec in records:
        if rec.table != table or not (rec.deleted or rec.updated):
            continue
        event = ChangeEvent(
            rec.instant, rec.transaction_id, (TableChange(table, rec.deleted, rec.updated),)
        )
        yield from changed_rows(conn, info, event)
