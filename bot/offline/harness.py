"""The whole bot on loopback: Web API stand-in, Bolt app, waitress, signed driver."""

from __future__ import annotations

from contextlib import ExitStack
from tempfile import TemporaryDirectory
from types import TracebackType

from bot.offline.driver import SlackDriver
from bot.offline.wait import wait_until
from bot.offline.webapi import FakeSlackAPI
from bot.runtime import build_runtime
from bot.server import Health, HttpServer, make_wsgi
from bot.settings import Settings

SIGNING_SECRET = "flightvault-offline-signing-secret"
BOT_TOKEN = "xoxb-flightvault-offline"


class OfflineBot:
    """``with OfflineBot(database_url) as bot: bot.driver.slash("help")``."""

    def __init__(
        self,
        database_url: str,
        *,
        watch: bool = False,
        wait_watching: bool = True,
        **settings: object,
    ) -> None:
        """With ``watch``, entering waits until every schema's watcher has taken its first
        look (unless ``wait_watching`` is false): that look learns what happened before as
        the baseline, so a deletion a test makes earlier would not be alerted."""
        self._database_url = database_url
        self._watch = watch
        self._wait_watching = wait_watching
        self._overrides = settings
        self._stack = ExitStack()

    def __enter__(self) -> OfflineBot:
        try:
            return self._start()
        except BaseException:  # a half-started bot still stops what it started
            self._stack.close()
            raise

    def _start(self) -> OfflineBot:
        self.slack = self._stack.enter_context(FakeSlackAPI(token=BOT_TOKEN))
        values: dict[str, object] = {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": self.slack.base_url,
            "vault_database_url": self._database_url,
            "vault_alert_channel": "C0INCIDENT",
            "vault_approvers": ["U0ALICE", "U0BOB", "U0CAROL"],
            "vault_state_url": f"sqlite:///{self._stack.enter_context(TemporaryDirectory())}/s.db",
            # Off unless a test asks: this server runs with secure_timestamp = NO, and a
            # standing health alert would interleave with the messages a test waits for.
            "vault_health_interval": 0,
        }
        values.update(self._overrides)
        self.settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        self.settings.require_slack("http")
        self.runtime = build_runtime(self.settings)
        self._stack.callback(self.runtime.close)
        self.engine, self.store, self.app = (
            self.runtime.deps.engine,
            self.runtime.deps.store,
            self.runtime.app,
        )
        if self._watch:
            self.runtime.start_watching()
            if self._wait_watching:
                self.watching()
        wsgi = make_wsgi(
            self.app, Health(self.runtime.deps, self.app.client), self.runtime.deps.metrics.render
        )
        self.server = HttpServer(wsgi, "127.0.0.1", 0).start()
        self._stack.callback(self.server.close)
        self.driver = SlackDriver(self.server.url, SIGNING_SECRET, self.slack.root, self.slack)
        return self

    def watching(self, timeout: float = 20.0) -> None:
        """Wait until every watched schema has its watermark: its watcher has started."""
        store, views = self.runtime.deps.store, self.runtime.deps.views()
        wait_until(
            lambda: all(store.events.watermark(source=v.source) for v in views),
            timeout=timeout,
            what="every watcher's first look",
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()
