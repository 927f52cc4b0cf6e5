"""Watches, watched domains and the alert ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "watched_domains",
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("state", sa.JSON, nullable=True),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(8), nullable=True),
        sa.Column("mode", sa.String(8), nullable=True),
        sa.Column("checked_at", TIME, nullable=True),
        sa.Column("next_check_at", TIME, nullable=False),
        sa.Column("suspect_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", TIME, nullable=True),
        sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("domain", name="pk_watched_domains"),
    )
    op.create_index("ix_watched_domains_next_check_at", "watched_domains", ["next_check_at"])

    op.create_table(
        "watches",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("paused_at", TIME, nullable=True),
        sa.Column("paused_reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_watches"),
        sa.ForeignKeyConstraint(
            ["domain"],
            ["watched_domains.domain"],
            name="fk_watches_domain_watched_domains",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "team_id", "channel_id", "domain", name="uq_watches_team_id_channel_id_domain"
        ),
    )
    op.create_index("ix_watches_domain", "watches", ["domain"])
    op.create_index("ix_watches_team_id", "watches", ["team_id"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("incident", sa.Integer, nullable=True),
        sa.Column("resolves", sa.JSON, nullable=True),
        sa.Column("thread_of", sa.Integer, nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("last_error", sa.String(100), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("posted_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint(
            "team_id",
            "channel_id",
            "domain",
            "event_key",
            name="uq_alerts_team_id_channel_id_domain_event_key",
        ),
    )
    op.create_index("ix_alerts_status_next_attempt_at", "alerts", ["status", "next_attempt_at"])
    op.create_index("ix_alerts_domain_incident", "alerts", ["domain", "incident"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("watches")
    op.drop_table("watched_domains")
