"""Emergency freeze: one approver freezes, other accounts' writes are refused, FlightVault's
restore still runs, and lifting it takes two people."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.wait import wait_until
from bot.private_server import PrivateServer
from core.db import make_engine
from core.freeze import server_read_only, table_frozen
from tests.support.flows import approve, buttons, find_and_preview, posted, request
from tests.support.sql import run_sql

LATER = "INSERT INTO stations (id, code, name, city) VALUES ({n}, 'N{n}', 'New', 'Pune')"


@pytest.fixture
def app_engine(engine: Engine, account: tuple[str, str, str]) -> Iterator[Engine]:
    """The application's own account: may write the schema, is not FlightVault."""
    user, schema, url = account
    run_sql(engine, f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{schema}`.* TO '{user}'@'%'")
    app = make_engine(url, poolclass=sa.pool.NullPool)
    yield app
    app.dispose()


def refused_write(app: Engine, n: int) -> str:
    with pytest.raises(sa.exc.DBAPIError) as caught:
        run_sql(app, LATER.format(n=n))
    return str(caught.value.orig)


def test_table_freeze_blocks_other_accounts_until_two_people_unfreeze(
    database_url: str, engine: Engine, app_engine: Engine
) -> None:
    schema = make_engine(database_url).url.database or ""
    with OfflineBot(database_url, watch=True) as bot:
        run_sql(app_engine, "DELETE FROM stations WHERE city = 'Mumbai'")
        alert = bot.slack.wait_for("chat.postMessage")[0]
        assert "100 rows deleted from stations" in alert.text
        wait_until(
            lambda: [
                i for i in bot.store.incidents.open(source=bot.runtime.deps.source) if i.root_ts
            ],
            what="the alert's ts recorded",
        )

        bot.driver.slash("freeze stations", user="U0ALICE")
        notice = posted(bot, "Frozen: stations")
        assert notice.params.get("thread_ts"), "the freeze is told in the incident's thread"
        root = wait_until(
            lambda: [
                c
                for c in bot.slack.calls_to("chat.update")
                if any(b.get("block_id") == "freeze" for b in c.blocks)
            ],
            what="the alert showing the freeze",
        )[-1]
        assert "Frozen by FlightVault" in refused_write(app_engine, 90001)
        with engine.connect() as conn:
            assert table_frozen(conn, schema, "stations")

        # A second freeze of the same table is refused, and says since when.
        bot.driver.slash("freeze stations", user="U0BOB")
        assert (
            "already frozen since" in bot.slack.wait_for_response("already frozen").params["text"]
        )

        # FlightVault's own restore still runs while frozen.
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        approve(bot, plan_id)
        assert run_count(engine, "SELECT COUNT(*) FROM stations WHERE city = 'Mumbai'") == 100

        # Lifting needs two people: the requester cannot approve their own unfreeze.
        bot.driver.slash("unfreeze stations", user="U0ALICE")
        ask = posted(bot, "Unfreeze stations: unfreezing")
        freeze_id = buttons(ask)[Action.APPROVE_UNFREEZE.value]
        bot.driver.click(Action.APPROVE_UNFREEZE.value, freeze_id, user="U0ALICE")
        assert (
            "second, different person"
            in bot.slack.wait_for_response("second, different").params["text"]
        )
        assert "Frozen by FlightVault" in refused_write(app_engine, 90002)
        bot.driver.click(Action.APPROVE_UNFREEZE.value, freeze_id, user="U0BOB")
        lifted = posted(bot, "Unfreeze stations: lifted", "chat.update")
        assert not [b for b in lifted.blocks if b["type"] == "actions"], "no dead buttons"
        run_sql(app_engine, LATER.format(n=90003))  # writes are accepted again
        with engine.connect() as conn:
            assert not table_frozen(conn, schema, "stations")
        wait_until(
            lambda: [
                c
                for c in bot.slack.calls_to("chat.update")
                if c.params.get("ts") == root.params["ts"]
                and not any(b.get("block_id") == "freeze" for b in c.blocks)
                and c.at > lifted.at
            ],
            what="the alert without the freeze",
        )
        actions = [e["action"] for e in bot.store.audit.trail(limit=None)]
        assert ["freeze", "unfreeze request", "unfreeze"] == [
            a for a in actions if "freeze" in a and not a.startswith("refused")
        ]


def run_count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_freeze_names_the_missing_grant(
    engine: Engine, account: tuple[str, str, str], tmp_path: Path
) -> None:
    user, schema, url = account
    run_sql(
        engine,
        f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES ON `{schema}`.*"
        f" TO '{user}'@'%'",
    )
    with OfflineBot(url, vault_state_url=f"sqlite:///{tmp_path}/s.db") as bot:
        bot.driver.slash("freeze stations")
        said = bot.slack.wait_for_response("cannot freeze").params
        assert f"GRANT TRIGGER ON `{schema}`.* TO '{user}'@'%'" in said["text"]
        assert said["response_type"] == "ephemeral"
        bot.driver.slash("freeze database")
        assert (
            "GRANT READ_ONLY ADMIN ON *.*"
            in bot.slack.wait_for_response("read-only").params["text"]
        )
        assert bot.store.freezes.active(source=bot.runtime.deps.source) == []
        bot.driver.slash("unfreeze stations")
        bot.slack.wait_for_response("is not frozen by FlightVault")
        assert "Name one table" in bot.driver.slash("freeze").json()["text"]
        bot.driver.slash("freeze no_such_table")
        bot.slack.wait_for_response("There is no table `no_such_table`")


class TestServerFreeze:
    """``read_only`` is global: these run on a private server, never on the shared one."""

    @pytest.fixture
    def database_url(self) -> Iterator[str]:  # overrides the shared server's for this class
        with PrivateServer(binlog=False) as server:
            yield server.url.render_as_string(hide_password=False)

    def test_server_freeze_uses_read_only_and_lifts_with_two_people(
        self, database_url: str, engine: Engine, app_engine: Engine
    ) -> None:
        with engine.connect() as conn:
            assert not server_read_only(conn)
        _server_freeze(database_url, app_engine)
        with engine.connect() as conn:
            assert not server_read_only(conn)


def _server_freeze(database_url: str, app_engine: Engine) -> None:
    with OfflineBot(database_url) as bot:
        bot.driver.slash("freeze database", user="U0CAROL")
        posted(bot, "Frozen: the whole server")
        assert "read-only" in refused_write(app_engine, 90010)
        bot.driver.slash("unfreeze database", user="U0CAROL")
        ask = posted(bot, "Unfreeze the whole server: unfreezing")
        bot.driver.click(
            Action.APPROVE_UNFREEZE.value,
            buttons(ask)[Action.APPROVE_UNFREEZE.value],
            user="U0OUTSIDER",
        )
        bot.slack.wait_for_response("Only people listed in VAULT_APPROVERS")
        bot.driver.click(
            Action.APPROVE_UNFREEZE.value,
            buttons(ask)[Action.APPROVE_UNFREEZE.value],
            user="U0ALICE",
        )
        posted(bot, "Unfreeze the whole server: lifted", "chat.update")
        run_sql(app_engine, LATER.format(n=90011))
