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
    index = f"{p.end} indexed" if p.end_indexed else f"{p.end} NOT indexed"
    return f"{p.start}/{p.end} ({kind}, {p.precision.value}); {index}"


def _status(t: TableReport) -> str:
    if t.error:
        return "unreadable"
    return "watched" if t.info.watchable else "no: " + (t.info.problem or "")


def _window(t: TableReport) -> str:
    if t.stats is None or t.stats.versions_since is None:
        return "-"
    return fmt_instant(t.stats.versions_since)


def _table_rows(report: DoctorReport) -> list[list[object]]:
    return [
        [
            t.info.name,
            _status(t),
            _period(t),
            t.info.describe_key(),
            _window(t),
            t.stats.history_rows if t.stats else "-",
            t.info.estimated_rows,
        ]
        for t in report.tables
    ]


def _foreign_keys(report: DoctorReport) -> list[str]:
    seen = {fk for t in report.tables for fk in (*t.info.outgoing, *t.info.incoming)}
    return sorted(
        f"{fk.child_table}({', '.join(fk.child_columns)}) -> "
        f"{fk.parent_table}({', '.join(fk.parent_columns)}) ON DELETE {fk.on_delete}"
        for fk in seen
    )


def render_doctor(report: DoctorReport) -> str:
    headers = ["table", "status", "period", "key", "history since", "history rows", "~rows"]
    lines = [
        f"FlightVault doctor: {report.schema} on MariaDB {report.server_version} as {report.user}",
        "",
        tabulate(_table_rows(report), headers=headers, maxcolwidths=[None, 36, 44]),
    ]
    if fks := _foreign_keys(report):
        lines += ["", "Foreign keys:", *(f"  {fk}" for fk in fks)]
    lines += [
        "",
        "Server settings: "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.server_settings.items())),
    ]
    problems = [f"  ! {t.info.name}: {t.error}" for t in report.tables if t.error]
    if problems:
        lines += ["", "Problems:", *problems]
    if report.warnings:
        lines += ["", "Warnings:", *(f"  ! {w}" for w in report.warnings)]
    if report.unprotected:
        lines += [
            "",
            "Not versioned yet (`flightvault protect TABLE` previews; `/vault protect` runs):",
        ]
        for table, said in report.unprotected:
            lines += [f"  {table}:", *(f"    {line}" for line in said.splitlines())]
    if report.advice:
        lines += ["", "Advice:", *(f"  - {a}" for a in report.advice)]
    return "\n".join(lines)
