"""Queries on `watches`: who watches which domain where, and pausing.

A conversation is (team_id, channel_id); every query is scoped to a
workspace (`team_id`) so nothing of one workspace reaches another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import watched_domains as d
from bot.store.tables import watches as w


@dataclass(frozen=True, slots=True)
class Conversation:
    team_id: str
    channel_id: str
    enterprise_id: str | None = None


@dataclass(frozen=True, slots=True)
class WatchRow:
    id: int
    team_id: str
    enterprise_id: str | None
    channel_id: str
    domain: str
    created_by: str | None
    created_at: float
    paused_at: float | None
    paused_reason: str | None
    # the domain's last confirmed check
    status: str | None
    mode: str | None
    checked_at: float | None
    next_check_at: float | None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def conversation(self) -> Conversation:
        return Conversation(self.team_id, self.channel_id, self.enterprise_id)


_COLUMNS = (
    w.c.id,
    w.c.team_id,
    w.c.enterprise_id,
    w.c.channel_id,
    w.c.domain,
    w.c.created_by,
    w.c.created_at,
    w.c.paused_at,
    w.c.paused_reason,
    d.c.status,
    d.c.mode,
    d.c.checked_at,
    d.c.next_check_at,
)


def _row(r: Any) -> WatchRow:
    return WatchRow(*r)


def _joined() -> sa.Select[Any]:
    return sa.select(*_COLUMNS).select_from(w.join(d, w.c.domain == d.c.domain))


async def of_conversation(conn: AsyncConnection, team_id: str, channel_id: str) -> list[WatchRow]:
    result = await conn.execute(
        _joined().where(w.c.team_id == team_id, w.c.channel_id == channel_id).order_by(w.c.domain)
    )
    return [_row(r) for r in result]


async def of_team(
    conn: AsyncConnection, team_id: str, *, limit: int | None = None
) -> list[WatchRow]:
    query = _joined().where(w.c.team_id == team_id).order_by(w.c.domain, w.c.channel_id)
    if limit is not None:
        query = query.limit(limit)
    return [_row(r) for r in await conn.execute(query)]


async def count_team(conn: AsyncConnection, team_id: str) -> int:
    """How many watches the workspace has (a domain watched in two conversations: two)."""
    result = await conn.execute(
        sa.select(sa.func.count()).select_from(w).where(w.c.team_id == team_id)
    )
    return int(result.scalar() or 0)


async def count_team_domains(conn: AsyncConnection, team_id: str) -> int:
    """How many domains the workspace watches, each once however many conversations watch
    it: what MTASTS_WATCH_LIMIT bounds."""
    result = await conn.execute(
        sa.select(sa.func.count(sa.distinct(w.c.domain))).where(w.c.team_id == team_id)
    )
    return int(result.scalar() or 0)


async def team_watches(conn: AsyncConnection, team_id: str, domains: Iterable[str]) -> set[str]:
    """Those of `domains` the workspace watches already, in any conversation."""
    names = list(domains)
    if not names:
        return set()
    result = await conn.execute(
        sa.select(w.c.domain).where(w.c.team_id == team_id, w.c.domain.in_(names)).distinct()
    )
    return {r.domain for r in result}


async def find(
    conn: AsyncConnection, team_id: str, channel_id: str, domains: Iterable[str]
) -> dict[str, WatchRow]:
    names = list(domains)
    if not names:
        return {}
    result = await conn.execute(
        _joined().where(w.c.team_id == team_id, w.c.channel_id == channel_id, w.c.domain.in_(names))
    )
    return {r.domain: _row(r) for r in result}


async def active_watchers(conn: AsyncConnection, domain: str) -> list[Conversation]:
    """The conversations that hear about `domain` (paused ones do not)."""
    result = await conn.execute(
        sa.select(w.c.team_id, w.c.channel_id, w.c.enterprise_id)
        .where(w.c.domain == domain, w.c.paused_at.is_(None))
        .order_by(w.c.id)
    )
    return [Conversation(r.team_id, r.channel_id, r.enterprise_id) for r in result]


async def add(
    conn: AsyncConnection,
    insert_stmt: Any,
    where: Conversation,
    domain: str,
    *,
    user: str | None,
    now: float,
) -> bool:
    """Add a watch unless this conversation has one already (True if added)."""
    result = await conn.execute(
        insert_stmt.values(
            team_id=where.team_id,
            enterprise_id=where.enterprise_id,
            channel_id=where.channel_id,
            domain=domain,
            created_by=user,
            created_at=now,
        ).on_conflict_do_nothing(index_elements=[w.c.team_id, w.c.channel_id, w.c.domain])
    )
    return bool(result.rowcount)


async def resume(conn: AsyncConnection, where: Conversation, domains: Iterable[str]) -> None:
    await conn.execute(
        sa.update(w)
        .where(
            w.c.team_id == where.team_id,
            w.c.channel_id == where.channel_id,
            w.c.domain.in_(list(domains)),
        )
        .values(paused_at=None, paused_reason=None)
    )


async def remove(conn: AsyncConnection, where: Conversation, domains: Iterable[str]) -> list[str]:
    """Delete this conversation's watches of `domains`; returns those that existed."""
    result = await conn.execute(
        sa.delete(w)
        .where(
            w.c.team_id == where.team_id,
            w.c.channel_id == where.channel_id,
            w.c.domain.in_(list(domains)),
        )
        .returning(w.c.domain)
    )
    return [r.domain for r in result]


async def remove_team(conn: AsyncConnection, team_id: str) -> list[str]:
    """Delete every watch of a workspace (uninstalled); returns the domains they were on."""
    result = await conn.execute(sa.delete(w).where(w.c.team_id == team_id).returning(w.c.domain))
    return sorted({r.domain for r in result})


async def pause(
    conn: AsyncConnection, *, team_id: str, channel_id: str | None, reason: str, now: float
) -> int:
    """Pause the watches of a conversation (or, with channel_id None, a whole workspace)."""
    where = [w.c.team_id == team_id, w.c.paused_at.is_(None)]
    if channel_id is not None:
        where.append(w.c.channel_id == channel_id)
    result = await conn.execute(
        sa.update(w).where(*where).values(paused_at=now, paused_reason=reason[:64])
    )
    return int(result.rowcount)
