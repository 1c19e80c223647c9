"""Bad settings stop start-up with one sentence; the CLI never shows a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, load_settings
from core.errors import ConfigError
from tests.support.process import cli


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VAULT_APPROVERS": "alice,bob"}, "VAULT_APPROVERS is invalid: expected Slack user IDs"),
        (
            {"VAULT_ALERT_CHANNEL": "#incidents"},
            "VAULT_ALERT_CHANNEL is invalid: expected a channel ID",
        ),
        ({"PORT": "99999"}, "PORT is invalid"),
        ({"SLACK_API_URL": "slack.local"}, "SLACK_API_URL is invalid: expected an http(s) URL"),
        ({"VAULT_LOG_LEVEL": "LOUD"}, "VAULT_LOG_LEVEL is invalid"),
        (
            {"VAULT_PROBE_INTERVAL": "5", "VAULT_LEASE_TTL": "6"},
            "VAULT_LEASE_TTL is invalid: it must be at least twice VAULT_PROBE_INTERVAL (5 s)",
        ),
    ],
)
def test_invalid_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_approvers_are_split_and_database_url_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_APPROVERS", "U01ALICE, U02BOB,S03ONCALL")
    monkeypatch.setenv("VAULT_DATABASE_URL", "postgresql://localhost/db")
    settings = load_settings(_env_file=None)
    assert settings.vault_approvers == ["U01ALICE", "U02BOB", "S03ONCALL"]
    with pytest.raises(ConfigError, match="must point at MariaDB"):
        settings.database_url()


def test_serve_requirements_per_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_DATABASE_URL", "mariadb+mariadbconnector://u@h:3306/db")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("VAULT_ALERT_CHANNEL", "C0INCIDENT")
    monkeypatch.setenv("VAULT_APPROVERS", "U0ALICE")
    settings = load_settings(_env_file=None)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set"):
        settings.require_slack("socket")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        settings.require_slack("http")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN must start with xapp-"):
        load_settings(_env_file=None).require_slack("socket")


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("VAULT_APPROVERS=U0FROMFILE\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().vault_approvers == ["U0FROMFILE"]


def test_cli_missing_database_url_exits_2_with_one_sentence(tmp_path: Path) -> None:
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("flightvault: VAULT_DATABASE_URL is not set")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_cli_bad_setting_exits_2(tmp_path: Path) -> None:
    done = cli("serve", "--http", cwd=tmp_path, VAULT_APPROVERS="nobody")
    assert done.returncode == 2
    assert "VAULT_APPROVERS is invalid" in done.stderr and "Traceback" not in done.stderr


def test_cli_serve_names_missing_slack_setting(tmp_path: Path, database_url: str) -> None:
    done = cli("serve", "--http", cwd=tmp_path, VAULT_DATABASE_URL=database_url)
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "not set" in done.stderr


def test_cli_unreachable_database_is_one_clear_sentence(tmp_path: Path) -> None:
    url = "mariadb+mariadbconnector://root:s3cret@127.0.0.1:1/nowhere"
    done = cli("doctor", cwd=tmp_path, VAULT_DATABASE_URL=url)
    assert done.returncode == 1
    assert "Cannot reach the database at 127.0.0.1:1/nowhere" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_cli_doctor_and_seed_demo(tmp_path: Path, database_url: str) -> None:
    seeded = cli("seed-demo", "--routes", "500", cwd=tmp_path, VAULT_DATABASE_URL=database_url)
    assert seeded.returncode == 0, seeded.stderr
    assert "Loaded demo data" in seeded.stdout and "28," in seeded.stdout
    doctor = cli("doctor", cwd=tmp_path, VAULT_DATABASE_URL=database_url)
    assert doctor.returncode == 0, doctor.stderr
    assert "airports" in doctor.stdout and "watched" in doctor.stdout


def test_cli_find_prints_the_same_answer_in_plain_text(tmp_path: Path, database_url: str) -> None:
    from core.db import make_engine
    from tests.core.detect_schema import STATIONS
    from tests.support.sql import run_sql

    engine = make_engine(database_url)
    run_sql(engine, *STATIONS)
    run_sql(engine, "DELETE FROM stations WHERE city = 'Mumbai'")
    engine.dispose()
    done = cli("find", "stations", "--since", "1h", cwd=tmp_path, VAULT_DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Restore point for stations: 20")
    assert "trips: 300 rows deleted (ON DELETE CASCADE)" in done.stdout
    assert "*" not in done.stdout and "`" not in done.stdout
    missing = cli("find", "nope", cwd=tmp_path, VAULT_DATABASE_URL=database_url)
    assert missing.returncode == 1
    assert missing.stderr.startswith("flightvault: There is no table `nope`")
    assert "Traceback" not in missing.stderr


def test_every_setting_is_documented_in_the_reference() -> None:
    """The README links to docs/REFERENCE.md for the settings: each one has a row there."""
    reference = (Path(__file__).resolve().parents[2] / "docs" / "REFERENCE.md").read_text()
    table = reference.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name in Settings.model_fields:
        row = f"| `{name.upper()}` |"
        assert row in table, f"{name.upper()} is missing from docs/REFERENCE.md's settings table"


def test_a_plain_mariadb_url_uses_the_connector(tmp_path: Path, database_url: str) -> None:
    """``mariadb://`` (and ``mysql://``) name no driver, which SQLAlchemy maps to one that
    is not installed; FlightVault uses Connector/Python for them."""
    plain = database_url.replace("mariadb+mariadbconnector://", "mariadb://")
    assert plain.startswith("mariadb://")
    seeded = cli("seed-demo", "--routes", "50", cwd=tmp_path, VAULT_DATABASE_URL=plain)
    assert seeded.returncode == 0, seeded.stderr
    doctor = cli("doctor", cwd=tmp_path, VAULT_DATABASE_URL=plain)
    assert doctor.returncode == 0, doctor.stderr
    assert "airports" in doctor.stdout


def test_manifest_http_takes_an_https_base_or_a_pasted_request_url(tmp_path: Path) -> None:
    pasted = cli("manifest", "--http", "https://vault.example.com/slack/events/", cwd=tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.count("url: https://vault.example.com/slack/events\n") == 2
    assert "/slack/events/slack/events" not in pasted.stdout
    for bad in ("vault.example.com", "http://vault.example.com", ""):
        done = cli("manifest", "--http", bad, cwd=tmp_path)
        assert done.returncode == 2, (bad, done.stdout)
        assert "--http needs the bot's public HTTPS address" in done.stderr
        assert "Traceback" not in done.stderr


def test_serve_names_every_missing_setting_at_once(tmp_path: Path, database_url: str) -> None:
    done = cli("serve", "--http", cwd=tmp_path, VAULT_DATABASE_URL=database_url)
    assert done.returncode == 2
    assert (
        "SLACK_BOT_TOKEN, VAULT_ALERT_CHANNEL and SLACK_SIGNING_SECRET are not set; "
        "`flightvault serve --http` needs them all."
    ) in done.stderr
