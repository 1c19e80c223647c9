"""Triggers a restore's own writes fire, and what their text says they do.

A restore re-inserts, updates and deletes rows, so the users' triggers run on
its writes as on anyone's: Sakila's ``BEFORE INSERT ... SET NEW.payment_date
= NOW()`` would stamp today's date on every restored payment, and ``AFTER
INSERT ON film`` writes ``film_text`` rows the plan also restores. The
preview names each trigger and its known effect; the restore re-asserts
history's values after triggers ran, and the preview rehearses the restore
(rolled back) so a trigger that defeats it refuses the plan before anyone
approves it. FlightVault's own freeze triggers never fire for its account
and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from core.catalogue import Catalogue, TableInfo, Trigger
from core.footprint import trigger_targets
from core.rowsets import StepAction

OWN_PREFIX = "fv_freeze_"
EVENT_OF = {
    StepAction.REINSERT: "INSERT",
    StepAction.REVERT: "UPDATE",
    StepAction.REMOVE: "DELETE",
}
_SETS_RE = re.compile(r"\bSET\s+NEW\s*\.\s*`?([\w$]+)`?\s*=", re.IGNORECASE)
_ALSO_RE = re.compile(r",\s*NEW\s*\.\s*`?([\w$]+)`?\s*=", re.IGNORECASE)


class _Step(Protocol):
    @property
    def table(self) -> str: ...

    @property
    def action(self) -> StepAction: ...


@dataclass(frozen=True, slots=True)
class TriggerNote:
    table: str
    name: str
    timing: str
    event: str
    effect: str

    def describe(self) -> str:
        return f"`{self.name}` ({self.timing} {self.event} ON `{self.table}`): {self.effect}"


def effect_of(trigger: Trigger) -> str:
    """What the trigger's text shows it does, in a few words."""
    body = trigger.statement
    parts = []
    sets = _SETS_RE.findall(body) + _ALSO_RE.findall(body)
    if sets and trigger.timing == "BEFORE":
        parts.append("rewrites " + ", ".join(f"`{c}`" for c in dict.fromkeys(sets)))
    targets = sorted(trigger_targets(trigger))
    if targets:
        parts.append("writes " + ", ".join(f"`{t}`" for t in targets))
    if re.search(r"\bCALL\b", body, re.IGNORECASE):
        parts.append("calls a procedure")
    if re.search(r"\bSIGNAL\b", body, re.IGNORECASE):
        parts.append("may refuse the write")
    return "; ".join(parts) or "no effect on rows that its text shows"


def user_triggers(table: TableInfo) -> list[Trigger]:
    """The table's triggers, FlightVault's own freeze triggers left out."""
    return [t for t in table.triggers if not t.name.startswith(OWN_PREFIX)]


def firing_triggers(catalogue: Catalogue, steps: Iterable[_Step]) -> list[TriggerNote]:
    """Triggers on the tables and events the restore writes (re-asserting values after a
    trigger changed them is an UPDATE, so UPDATE triggers of re-inserted tables count)."""
    events: dict[str, set[str]] = {}
    for s in steps:
        events.setdefault(s.table, set()).add(EVENT_OF[s.action])
    out: list[TriggerNote] = []
    for table, wanted in events.items():
        mine = user_triggers(catalogue.tables[table])
        if any(t.event in wanted for t in mine):
            wanted = wanted | {"UPDATE"}
        for t in mine:
            if t.event in wanted:
                out.append(TriggerNote(table, t.name, t.timing, t.event, effect_of(t)))
    return out


def write_order(catalogue: Catalogue, tables: set[str]) -> Mapping[str, int]:
    """Depth of each table among ``tables``: parents (by foreign key, or a trigger's table
    over the tables the trigger writes) come before children."""
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for name in tables:
        info = catalogue.tables[name]
        parents[name] |= {fk.parent_table for fk in info.outgoing if fk.parent_table in tables}
        for trig in info.triggers:
            for target in trigger_targets(trig) & tables:
                parents[target].add(name)
    depth: dict[str, int] = {}

    def walk(name: str, path: frozenset[str]) -> int:
        if name not in depth:
            above = [walk(p, path | {name}) for p in parents[name] if p not in path | {name}]
            depth[name] = 1 + max(above, default=-1)
        return depth[name]

    for name in sorted(tables):
        walk(name, frozenset())
    return depth
