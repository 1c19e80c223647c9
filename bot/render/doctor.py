"""``flightvault doctor`` as text for a terminal."""

from __future__ import annotations

from tabulate import tabulate

from core.doctor import DoctorReport, TableReport
from core.timeutil import fmt_instant


def _period(t: TableReport) -> str:
    p = t.info.period
    if p is None:
        return "-"
    kind = "implicit" if p.implicit else "explicit"
    index = "indexed" if p.end_indexed else "no index"
    return f"{kind} {p.start}/{p.end}, {p.precision.value}, {p.end} {index}"


def _window(t: TableReport) -> str:
    if t.error:
        return "unreadable"
    if t.stats is None or t.stats.versions_since is None:
        return "-"
    return "since " + fmt_instant(t.stats.versions_since)


def _fks(t: TableReport) -> str:
    out = [
        f"{','.join(fk.child_columns)} -> {fk.parent_table} ({fk.on_delete})"
        for fk in t.info.outgoing
    ]
    out += [
        f"<- {fk.child_table}.{','.join(fk.child_columns)} ({fk.on_delete})"
        for fk in t.info.incoming
    ]
    return "; ".join(out) or "-"


def render_doctor(report: DoctorReport) -> str:
    rows = [
        [
            t.info.name,
            "watched" if t.info.watchable else "no: " + (t.info.problem or ""),
            _period(t),
            ", ".join(t.info.primary_key) or "-",
            _window(t),
            t.stats.history_rows if t.stats else "-",
            t.info.estimated_rows,
            _fks(t),
        ]
        for t in report.tables
    ]
    headers = [
        "table",
        "versioned",
        "period",
        "key",
        "history",
        "history rows",
        "~rows",
        "foreign keys",
    ]
    lines = [
        f"FlightVault doctor — {report.schema} on MariaDB {report.server_version} as {report.user}",
        "",
        tabulate(
            rows,
            headers=headers,
            tablefmt="simple",
            maxcolwidths=[None, 40, 40, None, None, None, None, 48],
        ),
        "",
        "Server settings: "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.server_settings.items())),
    ]
    problems = [f"  ! {t.info.name}: {t.error}" for t in report.tables if t.error]
    if problems:
        lines += ["", "Problems:", *problems]
    if report.warnings:
        lines += ["", "Warnings:", *(f"  ! {w}" for w in report.warnings)]
    if report.advice:
        lines += ["", "Advice:", *(f"  - {a}" for a in report.advice)]
    return "\n".join(lines)
