"""Everything FlightVault shows people: Block Kit builders and plain text.

Layouts live here and in ``usecases/templates``, one place per message. Builders
return a ``Message`` whose blocks were produced by slack_sdk's models, so
Slack's per-field limits are checked as the message is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_ENV = Environment(
    loader=PackageLoader("usecases", "templates"),
    undefined=StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    keep_trailing_newline=False,
)


def rows(n: int) -> str:
    """``1 row``, ``2,000 rows``."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


_ENV.globals["rows"] = rows

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000


@dataclass(frozen=True)
class Message:
    """A Slack message: plain-text fallback plus blocks (and, where the terminal shows the
    same answer, its plain rendering)."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    plain: str = ""

    def as_kwargs(self) -> dict[str, Any]:
        if not self.blocks:
            return {"text": self.text}
        return {"text": self.text, "blocks": self.blocks}


def clip_lines(lines: list[str], limit: int = MAX_SECTION_TEXT) -> str:
    """As many whole lines as fit in ``limit`` characters, then "… and N more"."""
    kept: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        rest = len(lines) - n
        tail = len(f"\n… and {rest:,} more") if rest > 1 else 0
        if used + len(line) + 1 + tail > limit and n:
            kept.append(f"… and {rest:,} more")
            break
        kept.append(line[:limit])
        used += len(line) + 1
    return "\n".join(kept)


def render_template(name: str, /, **context: Any) -> str:
    return _ENV.get_template(name).render(**context).strip()


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; user and database text pass through this."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_data(value: object) -> str:
    """Every value that comes from the database (keys, samples, names) passes through this
    one escape before any layout shows it: Slack's control characters, and backticks, so a
    value can neither ping (``<!here>``) nor leave the code span or block it sits in."""
    return escape_mrkdwn(str(value)).replace("`", "'")


_ENV.filters["esc"] = lambda value: escape_mrkdwn(str(value))
_ENV.filters["data"] = escape_data
