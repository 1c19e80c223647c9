"""Getting a database ready: ``flightvault doctor`` and ``flightvault seed-demo``."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import URL

from core.db import check_reachable, create_database_if_missing, describe_url, make_engine
from core.demo_data import seed_demo
from core.doctor import run_doctor
from usecases.render.doctor import render_doctor


def doctor(url: URL, *, name_schema: bool = False) -> tuple[str, bool]:
    """The doctor's report as text, and whether the database is ready to be watched.
    ``name_schema``: several schemas are watched, so the tables it says how to protect are
    named ``schema.table``, as ``flightvault protect`` and ``/vault protect`` then take them."""
    engine = make_engine(url)
    try:
        check_reachable(engine)
        with engine.connect() as conn:
            report = run_doctor(conn)
    finally:
        engine.dispose()
    if name_schema:
        named = tuple((f"{report.schema}.{t}", said) for t, said in report.unprotected)
        report = replace(report, unprotected=named)
    return render_doctor(report), report.healthy


def doctor_all(urls: list[URL]) -> tuple[str, bool]:
    """One report per watched schema (``VAULT_SCHEMAS``), in order; ready when all are."""
    said = [doctor(url, name_schema=len(urls) > 1) for url in urls]
    return "\n\n".join(text for text, _ in said), all(ok for _, ok in said)


def seed(url: URL, *, routes: int, force: bool) -> str:
    """Load the airports demo data (creating the database); the sentence saying what was done."""
    create_database_if_missing(url)
    engine = make_engine(url)
    try:
        check_reachable(engine)
        with engine.begin() as conn:
            summary = seed_demo(conn, routes=routes, force=force)
    finally:
        engine.dispose()
    verb = "Loaded" if summary.created else "Already loaded"
    return (
        f"{verb} demo data in {describe_url(url)}: {summary.airports:,} airports, "
        f"{summary.airlines:,} airlines, {summary.routes:,} routes."
    )
