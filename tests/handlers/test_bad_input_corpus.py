"""Malformed and hostile input: a clear answer each, nothing raised, nothing changed, no SQL.

The database's general log is switched on for the corpus: none of the hostile
text may appear in any statement the server received. That takes a server of its
own: switching the log on is a global setting, and another run's statements on a
shared server would be logged too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.private_server import PrivateServer
from core.db import make_engine
from tests.core.detect_schema import STATIONS
from tests.support.flows import approve, find_and_preview, request
from tests.support.sql import run_sql

SLASH = [
    "frobnicate",
    "drop table stations",
    "FIND stations",
    "find",
    "find stations; DROP TABLE trips",
    "find `stations`",
    "find 'stations'",
    'find "stations"',
    "find stations`; DROP TABLE trips; --",
    "find stations' OR '1'='1",
    "find Stations",
    "find STATIONS",
    "find ѕtations",
    "find stаtions",
    "find stations\u200b",
    "find mysql.user",
    "find information_schema.tables",
    "find ../stations",
    "find *",
    "find %",
    "find stations since 999999d",
    "find stations since -5m",
    "find stations since 2099-01-01",
    "find stations before 1970-01-01",
    "find stations before tomorrow",
    "find stations check nonexistent",
    "find stations check count check fk",
    "find stations since",
    "find stations since 5 parsecs",
    "find " + "a" * 300,
    "x" * 600,
    "at stations 1999-01-01",
    "at stations 2099-01-01",
    "at stations <!date^99999999999^{date}|later>",
    "at nope now",
    "at stations now; DROP TABLE trips",
    "audit '; DROP TABLE fv_audit; --",
    "audit ../../etc/passwd",
    "dismiss",
    "dismiss 0000000000000000000",
    "dismiss ' OR 1=1 --",
    "watch",
    "watch stations; DROP TABLE trips",
    "unwatch mysql.user",
    "unwatch information_schema.TABLES",
    "help me",
    "find stations since 1h before 2h",
    "find stations since 2026-13-45",
    "at stations 25:61",
    "find \x00stations",
    "find stations\n; DROP TABLE trips",
    "🙂",
    "find 🙂",
    "find stations check `fare`",
    "find stations check fare; DROP TABLE trips",
    "find stations check count' --",
    "at `stations` now",
    "find SELECT",
    "find NULL",
    "status; DROP TABLE trips",
    "freeze",
    "freeze a b",
    "freeze stations; DROP TABLE trips",
    "freeze mysql.user",
    "freeze ../stations",
    "unfreeze ' OR 1=1 --",
    "unfreeze stations",
    "drill",
    "drill nope",
    "drill stations yesterday",
    "drill stations at 2099-01-01",
    "drill stations at 1970-01-01",
    "drill stations; DROP TABLE trips",
    "report '; DROP TABLE fv_audit; --",
    "report ../../etc/passwd",
    "report 0000000000000000",
]
HOSTILE = (
    "DROP TABLE",
    "OR '1'='1",
    "OR 1=1",
    "../",
    "\u0455tations",
    "st\u0430tions",
    "etc/passwd",
)
FORGED = ["", "0" * 16, "'; DROP TABLE fv_plans; --", "../../", "z" * 3000, "6e1d2f3a4b5c6d7e"]
BUTTONS = [a for a in Action]


def checksum(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("CHECKSUM TABLE stations, trips, notes"))]


@pytest.fixture
def private_url() -> Iterator[str]:
    """A throwaway server whose general log records every statement from now on."""
    with PrivateServer(binlog=False) as server:
        url = server.url.render_as_string(hide_password=False)
        engine = make_engine(url)
        run_sql(
            engine,
            "SET GLOBAL log_output = 'TABLE'",
            "TRUNCATE TABLE mysql.general_log",
            "SET GLOBAL general_log = 1",
        )
        engine.dispose()
        yield url


def answers(bot: OfflineBot) -> list[str]:
    return [
        str(c.params.get("text") or "")
        for c in bot.slack.calls
        if c.kind == "response" and c.params.get("text")
    ]


def test_corpus(private_url: str) -> None:
    engine = make_engine(private_url)
    try:
        _corpus(private_url, engine)
    finally:
        engine.dispose()


def _corpus(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS, "CREATE TABLE notes (id INT PRIMARY KEY)")
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    with OfflineBot(database_url) as bot:
        executed = _executed_plan(bot)
        before = checksum(engine)
        inputs = 0
        for text in SLASH:
            seen = len(bot.slack.calls)
            reply = bot.driver.slash(text)
            inputs += 1
            assert reply.status == 200, text
            said = reply.json().get("text", "")
            assert said and "Traceback" not in said and "Something went wrong" not in said, text
            if said.startswith(("Searching", "Gathering", "Freezing", "Asking", "Writing")):
                wait_until(
                    lambda s=seen: any(c.kind == "response" for c in bot.slack.calls[s:]),
                    what=f"an answer to {text!r}",
                )
        asked = len(answers(bot))  # the commands' answers are not the clicks'
        for action in BUTTONS:
            for value in [*FORGED, executed]:
                assert bot.driver.click(action.value, value).status == 200
                inputs += 1
        wait_until(
            lambda: len(answers(bot)) - asked >= len(BUTTONS) * len(FORGED),
            timeout=30,
            what="every forged click answered",
        )
        wait_until(  # answered on a worker, in no particular order with the forged ones
            lambda: any("already been carried out" in s for s in answers(bot)),
            what="the late approval of the executed plan refused",
        )
        for said in answers(bot):
            assert "Something went wrong" not in said and "Traceback" not in said, said
        assert checksum(engine) == before
    assert inputs >= 60
    with engine.connect() as conn:
        logged = (
            conn.execute(sa.text("SELECT CONVERT(argument USING utf8mb4) FROM mysql.general_log"))
            .scalars()
            .all()
        )
    assert len(logged) > 100, "the general log recorded the corpus run"
    assert any("FOR SYSTEM_TIME" in text for text in logged)
    for text in logged:
        for marker in HOSTILE:
            assert marker not in text, f"{marker!r} reached the server: {text[:200]}"


def _executed_plan(bot: OfflineBot) -> str:
    """A restore run to completion, so a late approval of it can be refused."""
    plan_id = find_and_preview(bot)
    request(bot, plan_id)
    approve(bot, plan_id)
    return plan_id
