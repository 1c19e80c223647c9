"""The bot's own state: watermarks, seen events, incidents, the Slack outbox, plans, audit,
leases, jobs, freezes; one module per aggregate, composed by ``StateStore``.

SQLite by default, MariaDB when several bot processes share it. Every state
change that must happen once (an event alerted, a message sent, a lease
taken) is a unique constraint or a compare-and-set ``UPDATE ... WHERE``, so
two processes racing cannot both win.
"""

from core.state.store import StateStore

__all__ = ["StateStore"]
