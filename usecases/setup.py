"""Getting a database ready: ``flightvault doctor`` and ``flightvault seed-demo``."""

from __future__ import annotations

from sqlalchemy.engine import URL

from core.db import check_reachable, create_database_if_missing, describe_url, make_engine
from core.demo_data import seed_demo
from core.doctor import run_doctor
from usecases.render.doctor import render_doctor


def doctor(url: URL) -> tuple[str, bool]:
    """The doctor's report as text, and whether the database is ready to be watched."""
    engine = make_engine(url)
    try:
        check_reachable(engine)
        with engine.connect() as conn:
            report = run_doctor(conn)
    finally:
        engine.dispose()
    return render_doctor(report), report.healthy


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
