"""docker compose keeps its data and its least privilege: MariaDB's data (the state store
included) on a named volume, an init script creating the bot's account with exactly the
README's grants, and the bot connecting as that account, never as root. There is no Docker
engine here, so the compose file is checked structurally and the init scripts are run
against the real MariaDB under a unique account and databases."""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError

from bot.offline.harness import OfflineBot
from bot.settings import Settings
from core.db import make_engine
from core.errors import ConfigError
from core.privileges import RESTORE, missing_restore_privileges
from tests.core.detect_schema import STATIONS
from tests.support.flows import approve, find_and_preview, request
from tests.support.sql import run_sql

ROOT = Path(__file__).resolve().parents[2]
INITDB = ROOT / "deploy" / "initdb"
GRANT = re.compile(r"^\s*GRANT (?P<privileges>[A-Z ,]+?) ON (?P<on>\S+) TO (?P<to>\S+);", re.M)
INTERPOLATION = re.compile(r"\$\{[^}]*\}")
COMPOSE_ONLY = {"MARIADB_ROOT_PASSWORD", "MARIADB_VAULT_PASSWORD"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def url_of(value: str) -> URL:
    """A compose URL with its ``${...}`` interpolations replaced by a placeholder."""
    return make_url(INTERPOLATION.sub("secret", value))


def grants(text: str) -> dict[str, set[str]]:
    """GRANT statements as {database: privileges}, whatever the database's name or quoting."""
    found: dict[str, set[str]] = {}
    for match in GRANT.finditer(text):
        database = match["on"].strip("`").removesuffix(".*").strip("`")
        found.setdefault(database, set()).update(p.strip() for p in match["privileges"].split(","))
    return found


def test_compose_keeps_mariadb_data_on_a_named_volume_and_runs_the_init_scripts() -> None:
    spec = compose()
    mariadb = spec["services"]["mariadb"]
    assert "mariadb-data:/var/lib/mysql" in mariadb["volumes"]
    assert "mariadb-data" in spec["volumes"]
    assert "./deploy/initdb:/docker-entrypoint-initdb.d:ro" in mariadb["volumes"]
    assert sorted(p.name for p in INITDB.iterdir()) == [
        "01-flightvault-account.sh",
        "02-flightvault-grants.sql",
    ]
    # The entrypoint sources a non-executable *.sh, so docker_process_sql is defined for it.
    assert not (INITDB / "01-flightvault-account.sh").stat().st_mode & 0o111
    for name in COMPOSE_ONLY:
        assert f"${{{name}:?" in str(mariadb["environment"]), name


def test_the_bot_connects_as_its_own_account_and_never_sees_root() -> None:
    bot = compose()["services"]["flightvault"]
    watched = url_of(bot["environment"]["VAULT_DATABASE_URL"])
    state = url_of(bot["environment"]["VAULT_STATE_URL"])
    assert watched.username == state.username == "vault"
    assert (watched.database, state.database) == ("flightvault_demo", "flightvault_state")
    assert state.drivername.startswith("mariadb"), "the state store lives on the volume too"
    assert "env_file" not in bot, "an env_file would hand the bot the root password"
    assert "MARIADB_ROOT_PASSWORD" not in str(bot)
    expected = {name.upper() for name in Settings.model_fields}
    assert set(bot["environment"]) == expected, "every setting reaches the bot, nothing else"


def test_init_grants_are_exactly_the_readmes_and_what_restores_check() -> None:
    readme = ROOT.joinpath("README.md").read_text()
    notes = readme.split("## Database notes", 1)[1].split("\n## ", 1)[0]
    documented = grants(notes)
    initdb = grants((INITDB / "02-flightvault-grants.sql").read_text())
    assert documented == {"shop": {"SELECT", *RESTORE}}
    assert initdb["flightvault_demo"] == documented["shop"]
    assert set(initdb) == {"flightvault_demo", "flightvault_state"}
    assert "ALL" not in str(initdb) and "GRANT OPTION" not in str(initdb)


def test_env_example_names_only_real_settings_and_every_required_one() -> None:
    text = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))
    fields = {name.upper() for name in Settings.model_fields}
    assert named - COMPOSE_ONLY <= fields, named - COMPOSE_ONLY - fields
    assert fields <= named, f"document {fields - named} in .env.example"
    compose_text = (ROOT / "docker-compose.yml").read_text()
    assert all(f"${{{name}" in compose_text for name in COMPOSE_ONLY)
    active = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    for mode in ("http", "socket"):  # every required setting is there, and still an example
        with pytest.raises(ConfigError, match=r"still the example value from \.env\.example"):
            active.require_slack(mode)  # type: ignore[arg-type]
    filled = {  # what a newcomer pastes over the examples passes the start-up checks
        "slack_bot_token": "xoxb-1-2-real",
        "slack_app_token": "xapp-1-real",
        "slack_signing_secret": "real-secret",
        "vault_alert_channel": "C0REAL",
        "vault_approvers": ["U0REAL", "U0OTHER"],
    }
    real = Settings(_env_file=ROOT / ".env.example", **filled)  # type: ignore[call-arg]
    real.require_slack("http")
    real.require_slack("socket")


@pytest.fixture
def init_account(server_url: URL, database_url: str) -> Iterator[tuple[str, str, str]]:
    """Run deploy/initdb for a unique account and state database: (user, state db, URL)."""
    user, password = f"fv_{secrets.token_hex(4)}", secrets.token_hex(10)
    watched, state_db = make_url(database_url).database, f"fvstate_{secrets.token_hex(6)}"

    def rename(sql: str) -> str:
        sql = sql.replace("'vault'@'%'", f"'{user}'@'%'")
        return sql.replace("`flightvault_demo`", f"`{watched}`").replace(
            "`flightvault_state`", f"`{state_db}`"
        )

    created = subprocess.run(  # the .sh as the image sources it, its SQL captured
        ["bash", "-c", f'docker_process_sql() {{ cat; }}; . "{INITDB}/01-flightvault-account.sh"'],
        env={"MARIADB_VAULT_PASSWORD": password},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    grants_sql = (INITDB / "02-flightvault-grants.sql").read_text()
    code = "\n".join(line for line in grants_sql.splitlines() if not line.startswith("--"))
    statements = [created, *code.split(";")]
    root = make_engine(server_url, poolclass=sa.pool.NullPool)
    try:
        run_sql(root, *(rename(s) for s in statements if s.strip()))
        url = make_url(database_url).set(username=user, password=password)
        yield user, state_db, url.render_as_string(hide_password=False)
    finally:
        run_sql(root, f"DROP USER IF EXISTS '{user}'@'%'", f"DROP DATABASE IF EXISTS `{state_db}`")
        root.dispose()


def test_init_account_watches_and_restores_with_its_state_in_mariadb(
    engine: Engine, init_account: tuple[str, str, str]
) -> None:
    user, state_db, url = init_account
    run_sql(engine, *STATIONS)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    state_url = make_url(url).set(database=state_db).render_as_string(hide_password=False)
    with OfflineBot(url, vault_state_url=state_url) as bot:
        with bot.engine.connect() as conn:
            who = conn.execute(sa.text("SELECT CURRENT_USER()")).scalar_one()
        assert who == f"{user}@%", "the bot runs as the init script's account"
        plan_id = find_and_preview(bot)
        request(bot, plan_id)
        approve(bot, plan_id)
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT COUNT(*) FROM stations WHERE city = 'Mumbai'"))
        assert back.scalar_one() > 0
        stored = conn.execute(
            sa.text("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = :s"),
            {"s": state_db},
        )
        assert stored.scalar_one() > 5, "the state store made its tables in its own database"


def test_init_account_can_do_nothing_more(
    engine: Engine, init_account: tuple[str, str, str]
) -> None:
    run_sql(engine, *STATIONS)
    _user, state_db, url = init_account
    account = make_engine(url, poolclass=sa.pool.NullPool)
    schema = make_url(url).database
    try:
        with account.connect() as conn:
            assert missing_restore_privileges(conn, str(schema), ["stations"]) == []
        for forbidden in (
            "DROP TABLE stations",
            "TRUNCATE TABLE stations",
            "ALTER TABLE stations ADD COLUMN x INT",
            "CREATE TABLE intruder (id INT)",
            "SELECT COUNT(*) FROM mysql.user",
            f"DROP DATABASE `{state_db}`",
        ):
            with pytest.raises(DBAPIError), account.begin() as conn:
                conn.execute(sa.text(forbidden))
    finally:
        account.dispose()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stations")).scalar_one() > 0
