"""``flightvault demo``: the seed story, end to end, with no Slack workspace.

It loads the demo data into a database of its own on the configured MariaDB
server (or 127.0.0.1:3306), starts the whole bot in HTTP mode against the
built-in Web API stand-in, deletes Mumbai's airports, and drives the alert,
``/vault find``, the preview, a refused self-approval, the approval and the
restore through real signed requests, printing every Slack message.

With no server reachable (or ``--private-server`` / ``FV_PRIVATE_SERVER=1``)
it starts a private throwaway ``mariadbd`` instead and removes it at the end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from bot import private_server
from bot.ids import Action
from bot.offline.harness import OfflineBot
from bot.offline.transcript import describe
from bot.offline.wait import wait_until
from bot.offline.webapi import Call
from core.db import check_reachable, create_database_if_missing, describe_url, make_engine
from core.demo_data import seed_demo
from core.errors import DatabaseUnavailable

DEMO_DATABASE = "flightvault_offline_demo"
LOCAL_SERVER = "mariadb+mariadbconnector://root@127.0.0.1:3306/mysql"
ALICE, BOB = "U0ALICE", "U0BOB"
MUMBAI = "SELECT COUNT(*) FROM airports WHERE city = 'Mumbai'"


@contextmanager
def demo_server(
    configured: URL | None, *, force: bool, out: Callable[[str], None]
) -> Iterator[URL | None]:
    """The server the demo runs on: the configured one (or 127.0.0.1:3306) when it answers,
    else a private throwaway ``mariadbd``, announced in one line and removed on exit."""
    if force:
        out("Starting a private throwaway MariaDB server for the demo (removed at the end).")
    else:
        candidate = configured or make_url(LOCAL_SERVER)
        problem = _unreachable(candidate)
        if problem is None:
            yield configured
            return
        if not private_server.available():
            raise DatabaseUnavailable(
                f"{problem} There is no mariadbd here to start a private server either: "
                f"{private_server.BOOTSTRAP_HINT}."
            )
        out(
            f"MariaDB at {describe_url(candidate)} cannot be used ({_reason(problem)}); "
            "starting a private throwaway server for the demo (removed at the end)."
        )
    with private_server.PrivateServer() as server:
        yield server.url


def _reason(problem: str) -> str:
    """The server's own words from ``DatabaseUnavailable``'s sentence (refused, access
    denied...), without its advice, which the fallback makes moot."""
    said = problem.split(": ", 1)[-1]
    return said.split(". Check that", 1)[0].rstrip(".")


def _unreachable(url: URL) -> str | None:
    """Why the server behind ``url`` cannot be used, or None when it answers."""
    engine = make_engine(url.set(database="mysql"), poolclass=sa.pool.NullPool)
    try:
        check_reachable(engine)
        return None
    except DatabaseUnavailable as exc:
        return str(exc)
    finally:
        engine.dispose()


class Demo:
    def __init__(
        self,
        server: URL | None,
        save_json: Path | None,
        out: Callable[[str], None],
        *,
        database: str = DEMO_DATABASE,
    ):
        self.database = database  # replaced on every run: never a user's database
        self.url = (server or make_url(LOCAL_SERVER)).set(database=database)
        self.save_json = save_json
        self.out = out
        self.shown = 0
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        self.out(f"\n[{time.monotonic() - self.started:5.1f}s] {text}")

    def show(self, bot: OfflineBot) -> None:
        """Print every Slack message since the last call."""
        calls = [c for c in bot.slack.calls if c.kind in ("api", "response")]
        for call in calls[self.shown :]:
            if text := describe(call):
                self.out(text)
            if self.save_json is not None and call.blocks:
                name = f"{len(list(self.save_json.glob('*.json'))):03d}-{call.method}.json"
                (self.save_json / name).write_text(json.dumps(call.blocks, indent=2))
        self.shown = len(calls)

    def wait(self, what: str, found: Callable[[], Any], timeout: float = 15) -> Any:
        return wait_until(found, timeout, what)

    def run(self) -> dict[str, Any]:
        if self.save_json is not None:
            self.save_json.mkdir(parents=True, exist_ok=True)
        engine = self._fresh_database()
        try:
            return self._story(engine)
        finally:
            engine.dispose()

    def _fresh_database(self) -> sa.Engine:
        admin = make_engine(self.url.set(database="mysql"), poolclass=sa.pool.NullPool)
        check_reachable(admin)
        with admin.begin() as conn:
            name = conn.dialect.identifier_preparer.quote_identifier(self.database)
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
        create_database_if_missing(self.url)
        engine = make_engine(self.url)
        self.say(f"Loading the demo data into `{self.database}`…")
        with engine.begin() as conn:
            summary = seed_demo(conn)
        self.out(
            f"  {summary.airports:,} airports, {summary.airlines} airlines, "
            f"{summary.routes:,} routes (system-versioned)"
        )
        return engine

    def _story(self, engine: sa.Engine) -> dict[str, Any]:
        def count(sql: str) -> int:
            with engine.connect() as conn:
                return int(conn.execute(sa.text(sql)).scalar_one())

        before = {
            "airports": count("SELECT COUNT(*) FROM airports"),
            "routes": count("SELECT COUNT(*) FROM routes"),
        }
        url = self.url.render_as_string(hide_password=False)
        with OfflineBot(url, watch=True, vault_approvers=[ALICE, BOB]) as bot:
            self.say("FlightVault is running in HTTP mode against a local stand-in of Slack.")
            self.say("Someone runs:  DELETE FROM airports WHERE city = 'Mumbai'")
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM airports WHERE city = 'Mumbai'"))
            deleted_at = time.monotonic()
            alert = self.wait("the alert", lambda: bot.slack.calls_to("chat.postMessage"))[0]
            detection = alert.at - deleted_at
            self.show(bot)
            self.say("Business goes on: a new airport is added after the disaster.")
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO airports (id, icao, name, city, country, lat, lon, tz) VALUES"
                        " (99999, 'ZZNM', 'Navi Mumbai International', 'Navi Mumbai', 'IN', 18.99,"
                        " 73.07, 'Asia/Kolkata')"
                    )
                )
            self.say("@alice types:  /vault find airports")
            bot.driver.slash("find airports", user=ALICE)
            answer = self.wait("the finder", lambda: _with_button(bot, Action.PREVIEW_RESTORE))
            self.show(bot)
            self.say("@alice clicks [Preview restore]")
            bot.driver.click(
                Action.PREVIEW_RESTORE.value, _button(answer, Action.PREVIEW_RESTORE), user=ALICE
            )
            preview = self.wait("the preview", lambda: _with_button(bot, Action.REQUEST_RESTORE))
            self.show(bot)
            plan_id = _button(preview, Action.REQUEST_RESTORE)
            self.say("@alice clicks [Request restore]")
            bot.driver.click(Action.REQUEST_RESTORE.value, plan_id, user=ALICE)
            self.wait("the request", lambda: _state(bot, plan_id) == "requested")
            self.say("@alice clicks [Approve] on her own request")
            bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=ALICE)
            self.wait(
                "the refusal",
                lambda: any(
                    "different person" in str(c.params.get("text")) for c in bot.slack.calls
                ),
            )
            self.show(bot)
            self.say("@bob clicks [Approve]")
            clicked = time.monotonic()
            bot.driver.click(Action.APPROVE_RESTORE.value, plan_id, user=BOB)
            self.wait("the restore", lambda: _state(bot, plan_id) == "executed", timeout=60)
            outcome = self.wait(
                "the outcome",
                lambda: [c for c in bot.slack.calls_to("chat.postMessage") if "Restored" in c.text],
            )
            restore_time = outcome[0].at - clicked
            self.show(bot)
        after = {
            "airports": count("SELECT COUNT(*) FROM airports"),
            "routes": count("SELECT COUNT(*) FROM routes"),
            "mumbai": count(MUMBAI),
            "later": count("SELECT COUNT(*) FROM airports WHERE id = 99999"),
        }
        self.say("Done.")
        self.out(
            f"  airports: {before['airports']:,} before, {after['airports']:,} now "
            f"(Mumbai's {after['mumbai']} back, plus the 1 added after the disaster)"
        )
        self.out(
            f"  routes:   {before['routes']:,} before, {after['routes']:,} now "
            "(cascaded rows restored)"
        )
        self.out(
            f"  detection {detection * 1000:.0f} ms from commit to alert; approval to "
            f"outcome {restore_time * 1000:.0f} ms; whole demo "
            f"{time.monotonic() - self.started:.1f} s"
        )
        return {"before": before, "after": after, "detection": detection, "restore": restore_time}


def _with_button(bot: OfflineBot, action: Action) -> Call | None:
    found = [c for c in bot.slack.calls if c.kind == "api" and _button(c, action)]
    return found[-1] if found else None


def _button(call: Call, action: Action) -> str:
    for block in call.blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action.value:
                return str(element["value"])
    return ""


def _state(bot: OfflineBot, plan_id: str) -> str:
    plan = bot.store.plans.get(plan_id)
    return plan.state.value if plan else ""
