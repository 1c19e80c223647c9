"""Several schemas from one deployment (``VAULT_SCHEMAS``), over signed HTTP.

Both schemas hold the same ``stations`` table, so a bare name is ambiguous and
a restore in one must leave the other alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.scheduler import Watchers
from bot.settings import load_settings
from core.db import make_engine
from core.errors import ConfigError
from core.freeze import table_frozen
from core.watcher import PollReport
from handlers.slack_port import SlackPort
from tests.conftest import fresh_database
from tests.core.detect_schema import STATIONS
from tests.support.flows import approve, buttons, find_and_preview, posted, request
from tests.support.slack import assert_valid_message
from tests.support.sql import run_sql
from tests.usecases.test_protect import ORDERS, versioned
from tests.usecases.test_retention import build, history_ends, set_retention
from usecases.health_watch import check_history_health
from usecases.retention import PruneSummary, prune_all

MUMBAI = "SELECT COUNT(*) FROM stations WHERE city = 'Mumbai'"


@dataclass
class Two:
    """The default schema and a second one, each with the stations tables."""

    first: str
    second: str
    url: str  # VAULT_DATABASE_URL: the first schema
    one: Engine
    two: Engine


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def two(database_url: str, server_url: URL) -> Iterator[Two]:
    with fresh_database(server_url, "fvsecond") as second_url:
        one, two = make_engine(database_url), make_engine(second_url)
        try:
            run_sql(one, *STATIONS)
            run_sql(two, *STATIONS)
            first, second = make_url(database_url).database, make_url(second_url).database
            assert first and second
            yield Two(first, second, database_url, one, two)
        finally:
            one.dispose()
            two.dispose()


def bot_over(two: Two, **settings: object) -> OfflineBot:
    return OfflineBot(two.url, vault_schemas=[two.first, two.second], **settings)


def source(bot: OfflineBot, schema: str) -> str:
    return bot.runtime.deps.in_schema(schema).source


def answer(bot: OfflineBot, text: str, user: str = "U0ALICE") -> str:
    reply = bot.driver.slash(text, user=user)
    assert reply.status == 200
    return str(reply.json()["text"])


def test_a_disaster_in_the_second_schema_alerts_naming_it(two: Two) -> None:
    with bot_over(two, watch=True) as bot:
        run_sql(two.two, "DELETE FROM stations WHERE city = 'Mumbai'")
        (alert,) = bot.slack.wait_for("chat.postMessage")
        assert_valid_message(alert.text, alert.blocks)
        header = alert.blocks[0]["text"]["text"]
        assert header == f":rotating_light: 100 rows deleted from {two.second}.stations"
        assert f"`{two.second}.stations`" in alert.blocks[1]["fields"][0]["text"]
        incident_id = alert.blocks[-2]["elements"][0]["value"]
        incident = bot.store.incidents.get(incident_id)
        assert incident is not None and incident.source.endswith(f"/{two.second}")
        # The alert's Find restore point button searches the second schema.
        wait_until(lambda: (i := bot.store.incidents.get(incident_id)) and i.root_ts, what="ts")
        bot.driver.click(Action.FIND_RESTORE_POINT.value, incident_id)
        _, searching = bot.slack.wait_for("chat.postMessage", 2)
        assert searching.params["thread_ts"] == alert.params["ts"]
        (found,) = bot.slack.wait_for("chat.update")
        assert "*Restore point for `stations`:" in found.blocks[0]["text"]["text"]
        # The full diff reads the second schema's history too.
        bot.driver.click(Action.SHOW_FULL_DIFF.value, incident_id)
        # Not the first upload: the finder's timeline PNG may complete before the diff is posted.
        diff = posted(bot, "Full diff")
        assert "`stations`: 100 deleted" in diff.blocks[0]["text"]["text"]
        assert bot.store.incidents.open(source=source(bot, two.first)) == []


def test_find_preview_and_two_person_restore_in_the_second_schema(two: Two) -> None:
    run_sql(two.one, "DELETE FROM stations WHERE city = 'Mumbai'")
    run_sql(two.two, "DELETE FROM stations WHERE city = 'Mumbai'")
    with bot_over(two) as bot:
        plan_id = find_and_preview(bot, f"{two.second}.stations")
        plan = bot.store.plans.get(plan_id)
        assert plan is not None and plan.source.endswith(f"/{two.second}")
        request(bot, plan_id, user="U0ALICE")
        approve(bot, plan_id, user="U0BOB")
        assert count(two.two, MUMBAI) == 100  # the second schema is restored, cascades too
        assert count(two.two, "SELECT COUNT(*) FROM trips") == 3000
        assert count(two.one, MUMBAI) == 0  # and the first is left as it was
        assert count(two.one, "SELECT COUNT(*) FROM trips") == 2700
        trail = bot.store.audit.trail(incident_id=None)
        assert any(e["action"] == "executed" for e in trail)


def test_a_bare_name_in_both_schemas_names_them(two: Two) -> None:
    with bot_over(two) as bot:
        said = answer(bot, "find stations")
        assert said == (
            f"`stations` is in {two.first} and {two.second}; "
            f"say `{two.first}.stations` or `{two.second}.stations`."
        )
        assert bot.slack.calls_to("chat.postMessage") == []


def test_a_name_in_one_schema_needs_no_prefix(two: Two) -> None:
    run_sql(two.two, "CREATE TABLE depots (id INT PRIMARY KEY) WITH SYSTEM VERSIONING")
    with bot_over(two) as bot:
        said = answer(bot, "unwatch depots")
        assert said == f"`{two.second}.depots` is no longer watched."
        assert bot.store.watched.unwatched(source=source(bot, two.second)) == {"depots"}
        assert bot.store.watched.unwatched(source=source(bot, two.first)) == set()


def test_unknown_schema_and_unknown_table_get_clear_sentences(two: Two) -> None:
    with bot_over(two) as bot:
        said = answer(bot, "find nowhere.stations")
        assert said == (
            f"`nowhere` is not a schema FlightVault watches; it watches `{two.first}` "
            f"and `{two.second}`."
        )
        said = answer(bot, "at nosuch 1h")
        assert said.startswith(f"There is no table `nosuch` in {two.first} or {two.second}.")
        said = answer(bot, f"find {two.second}.nosuch")
        assert said.startswith(f"There is no table `nosuch` in database `{two.second}`.")
        assert bot.slack.calls_to("chat.postMessage") == []


def test_freeze_and_two_person_unfreeze_in_the_second_schema(two: Two) -> None:
    with bot_over(two) as bot:
        assert answer(bot, f"freeze {two.second}.stations").startswith("Freezing")
        wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Frozen:" in c.text],
            what="the freeze notice",
        )
        with two.one.connect() as conn:
            assert table_frozen(conn, two.second, "stations")
            assert not table_frozen(conn, two.first, "stations")
        bot.driver.slash(f"unfreeze {two.second}.stations", user="U0ALICE")
        (ask,) = wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Unfreeze" in c.text],
            what="the unfreeze request",
        )
        freeze_id = buttons(ask)[Action.APPROVE_UNFREEZE.value]
        bot.driver.click(Action.APPROVE_UNFREEZE.value, freeze_id, user="U0BOB")
        wait_until(
            lambda: [c for c in bot.slack.calls_to("chat.update") if "lifted" in c.text],
            what="the unfreeze",
        )
        with two.one.connect() as conn:
            assert not table_frozen(conn, two.second, "stations")


def test_status_lists_the_tables_of_every_schema(two: Two) -> None:
    with bot_over(two) as bot:
        bot.driver.slash("status")
        (shown,) = wait_until(
            lambda: [c for c in bot.slack.calls if c.kind == "response" and c.blocks],
            what="status",
        )
        text = shown.blocks[0]["text"]["text"]
        for schema in (two.first, two.second):
            assert f"`{schema}.stations`" in text and f"`{schema}.trips`" in text


def test_one_schema_keeps_bare_names(database_url: str, engine: Engine) -> None:
    run_sql(engine, *STATIONS)
    schema = make_url(database_url).database
    with OfflineBot(database_url) as bot:
        assert answer(bot, "unwatch stations") == "`stations` is no longer watched."
        assert answer(bot, f"watch {schema}.stations") == "`stations` is now watched."


def test_vault_schemas_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_DATABASE_URL", "mariadb+mariadbconnector://u:p@db:3306/shop")
    default = load_settings(_env_file=None)
    assert [u.database for u in default.schema_urls()] == ["shop"]
    monkeypatch.setenv("VAULT_SCHEMAS", " billing, shop ")
    urls = load_settings(_env_file=None).schema_urls()
    assert [(u.host, u.database) for u in urls] == [("db", "billing"), ("db", "shop")]
    for bad, reason in [
        ("shop;drop", "VAULT_SCHEMAS is invalid: expected schema names"),
        ("shop,`x`", "VAULT_SCHEMAS is invalid: expected schema names"),
        ("shop,shop", "VAULT_SCHEMAS is invalid: a schema is listed twice"),
    ]:
        monkeypatch.setenv("VAULT_SCHEMAS", bad)
        with pytest.raises(ConfigError) as caught:
            load_settings(_env_file=None)
        assert str(caught.value).startswith(reason) and "\n" not in str(caught.value)


def test_one_digest_per_kind_lists_both_schemas_and_the_server_once(two: Two) -> None:
    """Young tables in both schemas: one short-history digest naming ``schema.table`` for
    each, and the server's settings said once, not once per schema."""
    with bot_over(two) as bot:
        deps = bot.runtime.deps
        for view in deps.views():
            check_history_health(view, SlackPort.of(view, bot.app.client))
        short = [c for c in roots(bot) if "short history" in c.text]
        assert len(short) == 1, [c.text for c in roots(bot)]
        ts = short[0].params["ts"]
        wait_until(lambda: edits(bot, ts), what="the digest edited for the second schema")
        text = edits(bot, ts)[-1].block_text
        assert f"`{two.first}.stations`" in text and f"`{two.second}.stations`" in text
        assert "4 tables" in text
        assert len([c for c in roots(bot) if "forged" in c.text]) <= 1
        assert len(roots(bot)) <= 2, [c.text for c in roots(bot)]


def test_status_lists_the_same_condition_in_each_schema(two: Two) -> None:
    """Both schemas' young ``stations``: two standing warnings, not one overwriting the
    other."""
    with bot_over(two) as bot:
        for view in bot.runtime.deps.views():
            check_history_health(view, SlackPort.of(view, bot.app.client))
        bot.driver.slash("status")
        (shown,) = wait_until(
            lambda: [c for c in bot.slack.calls if c.kind == "response" and c.blocks],
            what="status",
        )
        health = shown.blocks[0]["text"]["text"].split("*History health:*")[1]
        for schema in (two.first, two.second):
            assert f"• `{schema}.stations`: " in health and f"• `{schema}.trips`: " in health


def edits(bot: OfflineBot, ts: str) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.update") if c.params["ts"] == ts]


def roots(bot: OfflineBot) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if "History health" in c.text and not c.params.get("thread_ts")
    ]


def test_protect_in_the_second_schema_versions_only_that_table(two: Two) -> None:
    """Two people protect ``second.orders``; ``first.orders`` (same name) stays unversioned."""
    run_sql(two.one, *ORDERS[:2])
    run_sql(two.two, *ORDERS[:2])
    with bot_over(two) as bot:
        bot.driver.slash("protect orders", user="U0ALICE")
        said = bot.slack.wait_for_response("`orders` is in").text
        assert said == (
            f"`orders` is in {two.first} and {two.second}; "
            f"say `{two.first}.orders` or `{two.second}.orders`."
        )
        bot.driver.slash(f"protect {two.second}.orders", user="U0ALICE")
        ask = posted(bot, f"Protect {two.second}.orders: requested")
        assert f"*Protect `{two.second}.orders`*" in ask.blocks[0]["text"]["text"]
        change_id = buttons(ask)[Action.APPROVE_CHANGE.value]
        change = bot.store.changes.get(change_id)
        assert change is not None and change.source == source(bot, two.second)
        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0ALICE")
        assert "second, different person" in bot.slack.wait_for_response("second, different").text
        assert not versioned(two.two, "orders"), "the requester alone changed nothing"
        bot.driver.click(Action.APPROVE_CHANGE.value, change_id, user="U0BOB")
        done = posted(bot, "is now system-versioned")
        assert f"{two.second}.orders is now system-versioned with row_end indexed" in done.text
        assert versioned(two.two, "orders")
        assert not versioned(two.one, "orders"), "the same-named table in the first untouched"


def test_retention_in_the_second_schema_prunes_only_there(two: Two) -> None:
    """A retention on ``second.ledger`` prunes that history, not ``first.ledger``'s; the
    scheduled pass and status see it in its own schema."""
    build(two.one, "ledger")
    build(two.two, "ledger")
    with bot_over(two, vault_history_min=2 * 86400, vault_prune_batch=100) as bot:
        set_retention(bot, f"{two.second}.ledger", "3d")
        done = posted(bot, f"{two.second}.ledger keeps 3 days of history")
        assert "300 history rows older than that were removed" in done.text
        assert len(history_ends(two.two, "ledger")) == 15
        assert len(history_ends(two.one, "ledger")) == 315, "the first schema keeps its history"
        kept = bot.store.changes.retentions(source=source(bot, two.second))
        assert [r.table for r in kept] == ["ledger"]
        assert bot.store.changes.retentions(source=source(bot, two.first)) == []
        assert prune_all(bot.runtime.deps) == PruneSummary(tables=1, rows=0)  # already pruned
        assert len(history_ends(two.one, "ledger")) == 315

        bot.driver.slash("status", user="U0CAROL")
        status = bot.slack.wait_for_response("History windows").block_text
        windows = status[status.index("History windows") :].splitlines()
        second = next(line for line in windows if f"`{two.second}.ledger`" in line)
        first = next(line for line in windows if f"`{two.first}.ledger`" in line)
        assert "15 rows" in second and "keep 3 days (delete)" in second
        assert "315 rows" in first and "kept forever" in first


def test_a_schema_that_fails_does_not_stop_the_others(two: Two) -> None:
    """The first schema's watcher fails on every tick (a fault injected in its tick, as a
    revoked grant would): a disaster in the second schema still alerts, and delivery goes on."""
    with bot_over(two, watch=True) as bot:
        loop = bot.runtime.loop.watcher
        assert isinstance(loop, Watchers) and loop.watchers[0].source == source(bot, two.first)

        def broken() -> PollReport:
            raise sa.exc.OperationalError("probe", {}, Exception("access denied"))

        loop.watchers[0].tick = broken  # type: ignore[method-assign]
        time.sleep(0.3)  # some failing ticks
        run_sql(two.two, "DELETE FROM stations WHERE city = 'Mumbai'")
        (alert,) = bot.slack.wait_for("chat.postMessage")
        assert f"from {two.second}.stations" in alert.blocks[0]["text"]["text"]
