"""Logging set-up, done by the entry point (never at import)."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


ERROR_ID = re.compile(r"\bE-[0-9A-F]{6}\b")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers; the error ID a user was shown is its own
    field, so a support request finds its line without a text search."""

    def __init__(self, *, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if (found := ERROR_ID.search(message)) is not None:
            entry["error_id"] = found.group(0)
        if record.exc_info and self.tracebacks:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _NoTraceback(logging.Formatter):
    """For a terminal: the message (which quotes the error ID), not the stack."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def configure_logging(
    level: str,
    *,
    error_file: Path | None = None,
    tracebacks: bool = True,
    json_lines: bool = False,
) -> None:
    """Log to stderr; with ``error_file``, full tracebacks go there instead."""
    root = logging.getLogger()
    for old in root.handlers:  # configured again (tests, a second run): close files, not leak
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers.clear()
    root.setLevel(level)
    console = logging.StreamHandler(sys.stderr)
    if json_lines:
        formatter: logging.Formatter = JsonFormatter(tracebacks=tracebacks)
    else:
        formatter = logging.Formatter(FORMAT) if tracebacks else _NoTraceback(FORMAT)
    console.setFormatter(formatter)
    root.addHandler(console)
    # APScheduler logs every run of every job at INFO: two lines per 0.1 s watcher tick.
    if root.level > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if error_file is not None:
        error_file.parent.mkdir(parents=True, exist_ok=True)
        detail = logging.FileHandler(error_file, encoding="utf-8")
        detail.setLevel(logging.ERROR)
        detail.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(detail)
