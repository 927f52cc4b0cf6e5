"""The tables (SQLAlchemy Core), as the migrations create them.

- `watched_domains`: one row per domain anyone watches: its last confirmed
  state (enough to compute every alert), when it is next due, and the
  scheduler's lease. A domain watched from several conversations or
  workspaces has one row, so it is checked once per interval.
- `watches`: who watches what: one row per (workspace, conversation, domain),
  multi-tenant from the start (`team_id`, `enterprise_id`), with a pause.
- `alerts`: the alert ledger. One row per (workspace, conversation, domain,
  event key): the intent to post an alert is recorded with the state that
  caused it, in one transaction; the row then records the post (its `ts`).
  The unique key is what makes an event post at most once per conversation.

Times are UNIX seconds (float): comparable on both databases, and easy to
drive from a test clock. Table names leave room for slack_sdk's OAuth stores
(`slack_installations`, `slack_bots`, `slack_oauth_states`) in the same
database.
"""

from __future__ import annotations

import sqlalchemy as sa

# Constraint names fixed by convention, so later migrations (batch mode on SQLite) can
# name what they alter.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

DOMAIN = sa.String(253)
SLACK_ID = sa.String(32)
TIME = sa.Float(precision=53)

watched_domains = sa.Table(
    "watched_domains",
    metadata,
    sa.Column("domain", DOMAIN, primary_key=True),
    # The last confirmed state (bot.watch.state.DomainState as JSON); null before the baseline.
    sa.Column("state", sa.JSON, nullable=True),
    # Bumped whenever `state` changes: a writer that read an older one loses (optimistic lock).
    sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(8), nullable=True),  # of the confirmed state, for listings
    sa.Column("mode", sa.String(8), nullable=True),
    sa.Column("checked_at", TIME, nullable=True),  # the last check looked at (even a doubted one)
    sa.Column("next_check_at", TIME, nullable=False),
    # Consecutive checks with a new transient failure, not yet believed (flap damping).
    sa.Column("suspect_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", TIME, nullable=True),
    sa.Column("checks", sa.Integer, nullable=False, server_default="0"),  # checks looked at
    sa.Column("created_at", TIME, nullable=False),
    sa.Index(None, "next_check_at"),
)

watches = sa.Table(
    "watches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", SLACK_ID, nullable=False),
    sa.Column("enterprise_id", SLACK_ID, nullable=True),
    sa.Column("channel_id", SLACK_ID, nullable=False),
    sa.Column(
        "domain",
        DOMAIN,
        sa.ForeignKey("watched_domains.domain", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_by", SLACK_ID, nullable=True),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("paused_at", TIME, nullable=True),
    sa.Column("paused_reason", sa.String(64), nullable=True),  # e.g. channel_not_found
    sa.UniqueConstraint("team_id", "channel_id", "domain"),
    sa.Index(None, "domain"),
    sa.Index(None, "team_id"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", SLACK_ID, nullable=False),
    sa.Column("enterprise_id", SLACK_ID, nullable=True),
    sa.Column("channel_id", SLACK_ID, nullable=False),
    sa.Column("domain", DOMAIN, nullable=False),
    sa.Column("event_key", sa.String(200), nullable=False),  # the event's stable identity
    sa.Column("kind", sa.String(32), nullable=False),  # worse, recovered, mode_changed, ...
    sa.Column("incident", sa.Integer, nullable=True),  # the incident this alert opened
    sa.Column("resolves", sa.JSON, nullable=True),  # recovered: the incidents it closes
    sa.Column("thread_of", sa.Integer, nullable=True),  # recovered: the incident to thread under
    sa.Column("payload", sa.JSON, nullable=False),  # the message (text, blocks)
    # pending → sending → posted; or failed (given up, or the conversation is gone),
    # dropped (its watch went away first), unconfirmed (a post cut off by a crash).
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TIME, nullable=False),
    sa.Column("last_error", sa.String(100), nullable=True),
    sa.Column("message_ts", sa.String(32), nullable=True),
    sa.Column("thread_ts", sa.String(32), nullable=True),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("posted_at", TIME, nullable=True),
    sa.UniqueConstraint("team_id", "channel_id", "domain", "event_key"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "domain", "incident"),
)
