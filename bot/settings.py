"""FlightVault's settings, from the environment or a ``.env`` file.

One model covers the whole contract; each command asks only for what it
needs (``doctor`` needs the database, ``serve`` needs Slack too), and any
problem becomes one sentence naming the variable, never a traceback.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL

from core.db import parse_database_url
from core.errors import ConfigError
from core.judge import Rules
from core.watcher import WatchConfig

_USER_OR_GROUP = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_SCHEMA = re.compile(r"^[A-Za-z0-9_$]{1,64}$")  # an unquoted MariaDB identifier

Mode = Literal["socket", "http"]
EXAMPLE_VALUES = frozenset(  # what .env.example says, so a copy left unfilled is caught
    {
        "xoxb-your-bot-token",
        "xapp-your-app-level-token",
        "your-signing-secret",
        "C0123ABCD",
        "U0123ABCD",
        "U0456EFGH",
    }
)


class Settings(BaseSettings):
    """Environment variables, named exactly as documented in the README."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = Field(None, description="Bot token, xoxb-...")
    slack_signing_secret: SecretStr | None = Field(None, description="Verifies HTTP requests")
    slack_app_token: SecretStr | None = Field(None, description="App-level token for Socket Mode")
    slack_api_url: str | None = Field(None, description="Web API base URL; Slack's by default")
    vault_database_url: SecretStr | None = Field(None, description="The watched MariaDB")
    vault_alert_channel: str | None = Field(None, description="Channel ID for alerts")
    vault_approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    vault_viewers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Who may use the read commands (user or group IDs); empty: every member",
    )
    vault_state_url: str = Field("sqlite:///flightvault-state.db", description="Bot state")
    vault_poll_interval: float = Field(
        60.0, gt=0, le=3600, description="Seconds between safety reads of every table's history"
    )
    vault_probe_interval: float = Field(0.1, gt=0, le=60, description="Cheap-signal cadence")
    vault_min_rows: int = Field(50, ge=1)
    vault_min_share: float = Field(0.01, ge=0, le=1)
    vault_min_score: int = Field(60, ge=0, le=100)
    vault_group_window: float = Field(120.0, ge=0, le=86_400)
    vault_commit_grace: float = Field(10.0, ge=0, le=3_600)
    vault_tables: Annotated[list[str], NoDecode] = Field(default_factory=list)
    vault_schemas: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Schemas watched on VAULT_DATABASE_URL's server; empty: the URL's database",
    )
    vault_wake: Literal["auto", "poll", "binlog"] = Field(
        "auto", description="auto: follow the binary log when readable, else poll"
    )
    vault_lease_ttl: float = Field(10.0, ge=1, le=300, description="Watcher lease, seconds")
    vault_required_approvals: int = Field(1, ge=1, le=5, description="Approvers beyond requester")
    vault_plan_ttl: float = Field(900.0, ge=1, le=86_400, description="Seconds a plan stays valid")
    vault_confirm_rows: int = Field(
        10_000, ge=0, description="Restores writing more rows need the table name typed"
    )
    vault_rehearse_rows: int = Field(
        100_000, ge=0, description="Previews rehearse (and roll back) restores up to this size"
    )
    vault_remind_after: float = Field(
        300.0, ge=0, le=86_400, description="Seconds before a pending request reminds approvers"
    )
    vault_drill_interval: float = Field(
        0.0, ge=0, le=7 * 86_400, description="Seconds between scheduled drills; 0 = off"
    )
    vault_drill_window: float = Field(
        3_600.0, gt=0, le=30 * 86_400, description="A drill undoes this many seconds of changes"
    )
    vault_health_interval: float = Field(
        300.0, ge=0, le=86_400, description="Seconds between history health checks; 0 = off"
    )
    vault_history_min: float = Field(
        48 * 3_600.0, ge=0, description="Alert when a table's history is shorter (seconds)"
    )
    vault_retention_interval: float = Field(
        3_600.0, ge=0, le=86_400, description="Seconds between history pruning passes; 0 = off"
    )
    vault_prune_batch: int = Field(
        10_000, ge=100, le=1_000_000, description="History rows one DELETE HISTORY step removes"
    )
    vault_protect_copy_rate: float = Field(
        15_000_000.0,
        gt=0,
        description="Bytes per second an ALTER … ADD SYSTEM VERSIONING copies (bench/protect.py)",
    )
    vault_partition_warn: float = Field(
        0.8, gt=0, le=1, description="Alert when the last history partition is this full"
    )
    vault_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    vault_log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per line, error IDs as their own field"
    )
    vault_ops_port: int | None = Field(
        None, ge=1, le=65535, description="Serve /healthz and /metrics on this port instead"
    )
    port: int = Field(3000, ge=1, le=65535)

    @field_validator("vault_approvers", "vault_viewers", mode="before")
    @classmethod
    def _split_approvers(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            bad = [v for v in value if not _USER_OR_GROUP.match(str(v))]
            if bad:
                raise ValueError(
                    f"expected Slack user IDs (U...) or user-group IDs (S...), got {bad[0]!r}"
                )
        return value

    @field_validator("vault_tables", mode="before")
    @classmethod
    def _split_tables(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("vault_schemas", mode="before")
    @classmethod
    def _split_schemas(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            bad = [v for v in value if not _SCHEMA.match(str(v))]
            if bad:
                raise ValueError(
                    f"expected schema names (letters, digits, _ or $), got {str(bad[0])[:70]!r}"
                )
            if len({str(v) for v in value}) != len(value):
                raise ValueError("a schema is listed twice")
        return value

    @field_validator("vault_lease_ttl")
    @classmethod
    def _lease_outlasts_ticks(cls, value: float, info: ValidationInfo) -> float:
        """The lease is renewed on a tick: one shorter than two ticks lapses between them,
        handing the watching (and the binary-log stream) to whoever asks first."""
        probe = info.data.get("vault_probe_interval")
        if probe is not None and value < 2 * probe:
            raise ValueError(
                f"it must be at least twice VAULT_PROBE_INTERVAL ({probe:g} s), since the "
                f"lease is renewed on each probe; try {max(10.0, 2 * probe):g}"
            )
        return value

    @field_validator("vault_state_url")
    @classmethod
    def _state_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "mariadb", "mysql")):
            raise ValueError("expected sqlite:///path.db or a mariadb+mariadbconnector:// URL")
        return value

    @field_validator("vault_alert_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.match(value):
            raise ValueError("expected a channel ID such as C0123ABCD, not a channel name")
        return value

    @field_validator("vault_log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    def watch_config(self) -> WatchConfig:
        rules = Rules(
            min_rows=self.vault_min_rows,
            min_share=self.vault_min_share,
            min_score=self.vault_min_score,
            group_window_s=self.vault_group_window,
        )
        return WatchConfig(
            rules=rules,
            full_read_every_s=self.vault_poll_interval,
            grace_s=self.vault_commit_grace,
            tables=tuple(self.vault_tables) or None,
        )

    # ------------------------------------------------------------------ requirements

    def database_url(self) -> URL:
        """The watched database's URL; raises ``ConfigError`` if missing or wrong."""
        if self.vault_database_url is None:
            raise ConfigError(
                "VAULT_DATABASE_URL is not set; set it to an SQLAlchemy URL such as "
                "mariadb+mariadbconnector://user:password@127.0.0.1:3306/shop."
            )
        return parse_database_url(self.vault_database_url.get_secret_value())

    def schema_urls(self) -> list[URL]:
        """One URL per watched schema, all on ``VAULT_DATABASE_URL``'s server: the URL's own
        database unless ``VAULT_SCHEMAS`` lists them (the first is the default)."""
        url = self.database_url()
        return [url.set(database=name) for name in self.vault_schemas] or [url]

    def require_slack(self, mode: Mode) -> None:
        """Check everything ``serve`` needs in ``mode`` before anything starts."""
        self.database_url()
        needed = {
            "SLACK_BOT_TOKEN": (self.slack_bot_token, "xoxb-"),
            "VAULT_ALERT_CHANNEL": (self.vault_alert_channel, ""),
        }
        if mode == "http":
            needed["SLACK_SIGNING_SECRET"] = (self.slack_signing_secret, "")
        else:
            needed["SLACK_APP_TOKEN"] = (self.slack_app_token, "xapp-")
        command = "`flightvault serve --http`" if mode == "http" else "`flightvault serve`"
        missing = [name for name, (value, _) in needed.items() if not _raw(value)]
        if missing:
            names = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
            verb = "is" if len(missing) == 1 else "are"
            raise ConfigError(f"{names} {verb} not set; {command} needs them all.")
        for name, (value, prefix) in needed.items():
            raw = _raw(value)
            if prefix and not raw.startswith(prefix):
                raise ConfigError(
                    f"{name} must start with {prefix} (check you pasted the right token)."
                )
            if raw in EXAMPLE_VALUES:
                raise ConfigError(f"{name} is still the example value from .env.example.")
        if not self.vault_approvers:
            raise ConfigError(
                "VAULT_APPROVERS is empty; list the Slack user IDs allowed to approve restores."
            )
        if set(self.vault_approvers) & EXAMPLE_VALUES:
            raise ConfigError("VAULT_APPROVERS still holds the example IDs from .env.example.")


def _raw(value: SecretStr | str | None) -> str:
    return (value.get_secret_value() if isinstance(value, SecretStr) else value) or ""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one sentence naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} is invalid: {reason}.") from None
