"""``create_app``: the Bolt app, built from settings, nothing at import time."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

import handlers
from bot.errors import log_unexpected, unexpected_sentence
from handlers.replay import ReplayGuard
from handlers.reporting import sentence
from usecases.context import Context
from usecases.errors import ConfigError, VaultError

log = logging.getLogger(__name__)


def make_client(token: str, base_url: str | None) -> WebClient:
    """A Web API client that honours 429 Retry-After and retries 5xx and dropped connections."""
    kwargs: dict[str, Any] = {"token": token}
    if base_url:
        kwargs["base_url"] = base_url
    client = WebClient(**kwargs)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=3),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=3),
    ]
    return client


def create_app(
    deps: Context, *, socket_mode: bool = False, executor: ThreadPoolExecutor | None = None
) -> App:
    """Build the Bolt app for one workspace and register every listener."""
    settings = deps.settings
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.get_secret_value()
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    try:
        app = App(  # checks the token with auth.test before anything listens
            signing_secret=secret,
            client=make_client(token, settings.slack_api_url),
            request_verification_enabled=not socket_mode,
            process_before_response=False,
            listener_executor=executor or ThreadPoolExecutor(16, thread_name_prefix="listener"),
            logger=_bolt_logger(),
        )
    except BoltError as exc:
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN ({_reason(exc)}); paste the Bot User OAuth "
            "Token (xoxb-…) from the app's OAuth & Permissions page."
        ) from None
    except OSError as exc:  # URLError, refused connections, DNS
        where = settings.slack_api_url or "https://slack.com/api/"
        raise ConfigError(
            f"Cannot reach Slack at {where} ({type(exc).__name__}); check the network, a "
            "proxy, or SLACK_API_URL."
        ) from None
    app.use(ReplayGuard())  # after Bolt's signature check, before any listener
    handlers.register(app, deps)
    app.error(_on_error)
    return app


class _TokenNotice(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and says it is unused when a
    client is given; the client carries that same token, so the line only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("flightvault.bolt")
    if not any(isinstance(f, _TokenNotice) for f in logger.filters):
        logger.addFilter(_TokenNotice())
    return logger


def _reason(exc: BoltError) -> str:
    """Slack's error code from Bolt's message (``… (error: invalid_auth)``), else the text."""
    text = str(exc)
    for code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
        if code in text:
            return code
    return text[:80]


def _on_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
    """One place turns exceptions into the sentence the user sees."""
    if isinstance(error, VaultError):
        said = sentence(error)
    else:
        ref = log_unexpected(log, f"handling {body.get('command') or body.get('type')}")
        said = unexpected_sentence(ref)
    if body.get("response_url"):
        # A slash command's "Searching…" is ephemeral and is replaced by the sentence;
        # a button's message is public and must never be replaced by an error.
        replace = bool(body.get("command"))
        respond(text=said, response_type="ephemeral", replace_original=replace)
