"""Queries on `alerts`, the alert ledger: record intents, claim them, record the posts.

Life of a row: `pending` (recorded with the state that caused it, in one
transaction) → `sending` (claimed by a deliverer, with a lease) → `posted`
(with Slack's `ts`). A post Slack refused for good is `failed`; one whose
watch went away before it was posted is `dropped`. A row left in `sending`
past its lease (the process died between asking Slack and recording the
answer) becomes `unconfirmed` and is never posted again: at most once wins
over at least once, since Slack has no idempotency key for chat.postMessage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import alerts as a

PENDING, SENDING, POSTED = "pending", "sending", "posted"
FAILED, DROPPED, UNCONFIRMED = "failed", "dropped", "unconfirmed"


@dataclass(frozen=True, slots=True)
class Intent:
    team_id: str
    enterprise_id: str | None
    channel_id: str
    domain: str
    event_key: str
    kind: str
    payload: dict[str, Any]
    incident: int | None = None
    resolves: tuple[int, ...] = ()
    thread_of: int | None = None


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    team_id: str
    enterprise_id: str | None
    channel_id: str
    domain: str
    event_key: str
    kind: str
    incident: int | None
    resolves: list[int]
    thread_of: int | None
    payload: dict[str, Any]
    status: str
    attempts: int
    message_ts: str | None
    thread_ts: str | None
    last_error: str | None


def _row(r: Any) -> AlertRow:
    return AlertRow(
        id=r.id,
        team_id=r.team_id,
        enterprise_id=r.enterprise_id,
        channel_id=r.channel_id,
        domain=r.domain,
        event_key=r.event_key,
        kind=r.kind,
        incident=r.incident,
        resolves=list(r.resolves or []),
        thread_of=r.thread_of,
        payload=r.payload,
        status=r.status,
        attempts=r.attempts,
        message_ts=r.message_ts,
        thread_ts=r.thread_ts,
        last_error=r.last_error,
    )


async def record(
    conn: AsyncConnection, insert_stmt: Any, intents: Sequence[Intent], *, now: float
) -> int:
    """Record intents to post (an event already recorded for a conversation is skipped)."""
    if not intents:
        return 0
    rows = [
        {
            "team_id": i.team_id,
            "enterprise_id": i.enterprise_id,
            "channel_id": i.channel_id,
            "domain": i.domain,
            "event_key": i.event_key[:200],
            "kind": i.kind,
            "incident": i.incident,
            "resolves": list(i.resolves) or None,
            "thread_of": i.thread_of,
            "payload": i.payload,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in intents
    ]
    result = await conn.execute(
        insert_stmt.on_conflict_do_nothing(
            index_elements=[a.c.team_id, a.c.channel_id, a.c.domain, a.c.event_key]
        ),
        rows,
    )
    return max(int(result.rowcount), 0)


async def claim(conn: AsyncConnection, *, now: float, lease: float, limit: int) -> list[AlertRow]:
    """Claim up to `limit` pending alerts that are due, oldest first."""
    due = (
        sa.select(a.c.id)
        .where(a.c.status == PENDING, a.c.next_attempt_at <= now)
        .order_by(a.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await conn.execute(
        sa.update(a)
        .where(a.c.id.in_(due.scalar_subquery()))
        .values(status=SENDING, attempts=a.c.attempts + 1, next_attempt_at=now + lease)
        .returning(*a.c)
    )
    return sorted((_row(r) for r in result), key=lambda r: r.id)


async def posted(
    conn: AsyncConnection, alert_id: int, *, ts: str, thread_ts: str | None, now: float
) -> None:
    await conn.execute(
        sa.update(a)
        .where(a.c.id == alert_id)
        .values(status=POSTED, message_ts=ts, thread_ts=thread_ts, posted_at=now, last_error=None)
    )


async def retry_later(conn: AsyncConnection, alert_id: int, *, error: str, at: float) -> None:
    await conn.execute(
        sa.update(a)
        .where(a.c.id == alert_id, a.c.status == SENDING)
        .values(status=PENDING, next_attempt_at=at, last_error=error[:100])
    )


async def put_back(conn: AsyncConnection, alert_ids: Iterable[int], *, at: float) -> None:
    """Claimed alerts that were not attempted (one before them in their conversation was
    not posted): pending again, due at `at`, their claim not counted as an attempt."""
    await conn.execute(
        sa.update(a)
        .where(a.c.id.in_(list(alert_ids)), a.c.status == SENDING)
        .values(status=PENDING, next_attempt_at=at, attempts=a.c.attempts - 1)
    )


async def give_up(conn: AsyncConnection, alert_id: int, *, status: str, error: str) -> None:
    await conn.execute(
        sa.update(a).where(a.c.id == alert_id).values(status=status, last_error=error[:100])
    )


async def drop_conversation(
    conn: AsyncConnection,
    *,
    team_id: str,
    channel_id: str | None,
    reason: str,
    domains: Iterable[str] | None = None,
) -> None:
    """Pending alerts of a conversation (or, with channel_id None, a workspace) that will
    never be posted: dropped. With `domains`: only theirs (it stopped watching them)."""
    where = [a.c.team_id == team_id, a.c.status == PENDING]
    if channel_id is not None:
        where.append(a.c.channel_id == channel_id)
    if domains is not None:
        where.append(a.c.domain.in_(list(domains)))
    await conn.execute(sa.update(a).where(*where).values(status=DROPPED, last_error=reason[:100]))


async def expire_sending(conn: AsyncConnection, *, now: float) -> list[int]:
    """Posts cut off mid-way (their lease ran out): `unconfirmed`, never posted again."""
    result = await conn.execute(
        sa.update(a)
        .where(a.c.status == SENDING, a.c.next_attempt_at < now)
        .values(status=UNCONFIRMED, last_error="cut off before Slack's answer was recorded")
        .returning(a.c.id)
    )
    return [r.id for r in result]


async def openers(
    conn: AsyncConnection, *, team_id: str, channel_id: str, domain: str, incidents: Iterable[int]
) -> list[AlertRow]:
    """The alerts that opened these incidents in this conversation (any status)."""
    ids = list(incidents)
    if not ids:
        return []
    result = await conn.execute(
        sa.select(a).where(
            a.c.team_id == team_id,
            a.c.channel_id == channel_id,
            a.c.domain == domain,
            a.c.incident.in_(ids),
        )
    )
    return sorted((_row(r) for r in result), key=lambda r: r.id)


async def of_conversation(
    conn: AsyncConnection, team_id: str, channel_id: str, domain: str | None = None
) -> list[AlertRow]:
    where = [a.c.team_id == team_id, a.c.channel_id == channel_id]
    if domain is not None:
        where.append(a.c.domain == domain)
    result = await conn.execute(sa.select(a).where(*where).order_by(a.c.id))
    return [_row(r) for r in result]


async def delete_team(conn: AsyncConnection, team_id: str) -> None:
    await conn.execute(sa.delete(a).where(a.c.team_id == team_id))
