"""Logging set-up, done by the entry point (never at import)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    level: str, *, error_file: Path | None = None, tracebacks: bool = True
) -> None:
    """Log to stderr; with ``error_file``, full tracebacks go there instead."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter(FORMAT) if tracebacks else _NoTraceback(FORMAT))
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
