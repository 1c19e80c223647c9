"""Tables of the state store (SQLAlchemy Core), created on start-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC with microseconds in the database."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("state store only accepts aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


_ID = sa.String(32)
_NAME = sa.String(191)  # fits a utf8mb4 index on MariaDB

watermarks = sa.Table(
    "fv_watermarks",
    metadata,
    sa.Column("source", _NAME, primary_key=True),
    sa.Column("instant", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

incidents = sa.Table(
    "fv_incidents",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("table_name", _NAME, nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("first_instant", UTCDateTime, nullable=False),
    sa.Column("last_instant", UTCDateTime, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("root_ts", sa.String(32)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_fv_incidents_open", "source", "table_name", "status"),
)

events = sa.Table(
    "fv_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("table_name", _NAME, nullable=False),
    sa.Column("point", sa.String(40), nullable=False),  # instant or transaction id
    sa.Column("instant", UTCDateTime, nullable=False),
    sa.Column("transaction_id", sa.BigInteger),
    sa.Column("deleted", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("score", sa.Integer),
    sa.Column("baseline_only", sa.Boolean, nullable=False, default=False),
    sa.Column("incident_id", _ID, sa.ForeignKey("fv_incidents.id")),
    sa.UniqueConstraint("source", "table_name", "point", name="uq_fv_events_point"),
    sa.Index("ix_fv_events_recent", "source", "table_name", "instant"),
)

outbox = sa.Table(
    "fv_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", _ID, sa.ForeignKey("fv_incidents.id")),  # None: a plain message
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, sending, sent, dead
    sa.Column("lane", sa.String(96)),  # one destination: messages in a lane keep their order
    sa.Column("claim", sa.String(32)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.String(255)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Index("ix_fv_outbox_pending", "status", "id"),
    sa.Index("ix_fv_outbox_lane", "lane", "status", "id"),
)

leases = sa.Table(
    "fv_leases",
    metadata,
    sa.Column("name", _NAME, primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

views = sa.Table(
    "fv_views",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("table_name", _NAME, nullable=False),
    sa.Column("instant", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

plans = sa.Table(
    "fv_plans",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("incident_id", _ID),
    sa.Column("table_name", _NAME, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # restore, undo
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("plan", sa.JSON, nullable=False),
    sa.Column("fingerprint", sa.String(32), nullable=False),
    sa.Column("requester", sa.String(32)),
    sa.Column("approvals", sa.JSON, nullable=False),
    sa.Column("required", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("thread_ts", sa.String(32)),
    sa.Column("ts", sa.String(32)),
    sa.Column("outcome", sa.JSON),
    sa.Column("undo_of", _ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

findings = sa.Table(
    "fv_findings",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("table_name", _NAME, nullable=False),
    sa.Column("restore_point", UTCDateTime, nullable=False),
    sa.Column("damage", sa.JSON, nullable=False),
    sa.Column("incident_id", _ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

audit = sa.Table(
    "fv_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("plan_id", _ID),
    sa.Column("incident_id", _ID),
    sa.Column("actor", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(500), nullable=False),
    sa.Column("fingerprint", sa.String(32)),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_fv_audit_incident", "incident_id", "at"),
)

unwatched = sa.Table(
    "fv_unwatched",
    metadata,
    sa.Column("source", _NAME, primary_key=True),
    sa.Column("table_name", _NAME, primary_key=True),
    sa.Column("actor", sa.String(32), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

jobs = sa.Table(
    "fv_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # remind, expire
    sa.Column("plan_id", _ID, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, done
    sa.Column("done_at", UTCDateTime),
    sa.UniqueConstraint("kind", "plan_id", name="uq_fv_jobs_plan"),
    sa.Index("ix_fv_jobs_due", "status", "due_at"),
)

freezes = sa.Table(
    "fv_freezes",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),  # table, server
    sa.Column("table_name", _NAME),
    sa.Column("active_key", _NAME, unique=True),  # one active freeze per target; NULL once lifted
    sa.Column("state", sa.String(16), nullable=False),  # frozen, unfreezing, lifted
    sa.Column("frozen_by", sa.String(32), nullable=False),
    sa.Column("frozen_at", UTCDateTime, nullable=False),
    sa.Column("requester", sa.String(32)),
    sa.Column("approvals", sa.JSON, nullable=False),
    sa.Column("lifted_at", UTCDateTime),
    sa.Column("incident_id", _ID),
    sa.Column("channel", sa.String(32)),
    sa.Column("thread_ts", sa.String(32)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_fv_freezes_active", "source", "state"),
)

conditions = sa.Table(
    "fv_conditions",
    metadata,
    sa.Column("source", _NAME, primary_key=True),
    sa.Column("key", _NAME, primary_key=True),  # e.g. "short_history:airports"
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("detail", sa.String(500), nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
)

changes = sa.Table(  # schema change requests (protect, retention): two-person, like plans
    "fv_changes",
    metadata,
    sa.Column("id", _ID, primary_key=True),
    sa.Column("source", _NAME, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # protect, retention
    sa.Column("table_name", _NAME, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("requester", sa.String(32)),
    sa.Column("approvals", sa.JSON, nullable=False),
    sa.Column("required", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("thread_ts", sa.String(32)),
    sa.Column("ts", sa.String(32)),
    sa.Column("outcome", sa.JSON),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

retention = sa.Table(
    "fv_retention",
    metadata,
    sa.Column("source", _NAME, primary_key=True),
    sa.Column("table_name", _NAME, primary_key=True),
    sa.Column("keep_seconds", sa.Float, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),  # partitions, delete
    sa.Column("set_by", sa.String(32), nullable=False),
    sa.Column("set_at", UTCDateTime, nullable=False),
    sa.Column("pruned_at", UTCDateTime),
    sa.Column("pruned_rows", sa.BigInteger, nullable=False, default=0),
)

digests = sa.Table(
    "fv_digests",
    metadata,
    sa.Column("source", _NAME, primary_key=True),
    sa.Column("kind", _NAME, primary_key=True),  # e.g. "short", "server", "drill"
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("ts", sa.String(32), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("listed", sa.JSON),  # [schema prefix, key] pairs it showed: who joined since
)
