"""Queries on `watched_domains`: the scheduler's claims and each domain's state.

Every function takes a connection inside a transaction (`Store.write()` /
`Store.read()`), so callers compose them atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.tables import alerts as a
from bot.store.tables import watched_domains as d
from bot.store.tables import watches as w


@dataclass(frozen=True, slots=True)
class DomainRow:
    domain: str
    state: dict[str, Any] | None
    seq: int
    status: str | None
    mode: str | None
    checked_at: float | None
    next_check_at: float
    suspect_count: int
    lease_owner: str | None
    lease_until: float | None
    checks: int


def _row(r: Any) -> DomainRow:
    return DomainRow(
        domain=r.domain,
        state=r.state,
        seq=r.seq,
        status=r.status,
        mode=r.mode,
        checked_at=r.checked_at,
        next_check_at=r.next_check_at,
        suspect_count=r.suspect_count,
        lease_owner=r.lease_owner,
        lease_until=r.lease_until,
        checks=r.checks,
    )


_ACTIVE = sa.exists().where(w.c.domain == d.c.domain, w.c.paused_at.is_(None))


async def claim_due(
    conn: AsyncConnection, *, owner: str, now: float, lease: float, limit: int
) -> list[DomainRow]:
    """Lease up to `limit` due domains that someone actively watches; returns their rows
    (as leased), so that the check's outcome can be judged without reading them again.

    A domain is due when its next check time has come and nobody holds a live
    lease on it (an expired lease, e.g. of an instance that died, is fair game).
    PostgreSQL skips rows another claimer has locked; SQLite's single writer
    serialises claims.
    """
    due = (
        sa.select(d.c.domain)
        .where(
            d.c.next_check_at <= now,
            sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now),
            _ACTIVE,
        )
        .order_by(d.c.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await conn.execute(
        sa.update(d)
        .where(d.c.domain.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(*d.c)
    )
    return sorted((_row(r) for r in result), key=lambda r: r.next_check_at)


async def next_due(conn: AsyncConnection) -> float | None:
    """When the next actively watched domain can be claimed (None: nothing is watched):
    its next check time, or the end of a lease someone holds on it, whichever is later."""
    ready = sa.case(
        (
            sa.and_(d.c.lease_until.is_not(None), d.c.lease_until > d.c.next_check_at),
            d.c.lease_until,
        ),
        else_=d.c.next_check_at,
    )
    result = await conn.execute(sa.select(sa.func.min(ready)).where(_ACTIVE))
    value = result.scalar()
    return float(value) if value is not None else None


async def get(conn: AsyncConnection, domain: str) -> DomainRow | None:
    result = await conn.execute(sa.select(d).where(d.c.domain == domain))
    row = result.first()
    return _row(row) if row is not None else None


async def get_many(conn: AsyncConnection, domains: Iterable[str]) -> dict[str, DomainRow]:
    names = list(domains)
    if not names:
        return {}
    result = await conn.execute(sa.select(d).where(d.c.domain.in_(names)))
    return {r.domain: _row(r) for r in result}


async def insert(
    conn: AsyncConnection,
    insert_stmt: Any,
    *,
    domain: str,
    state: dict[str, Any] | None,
    status: str | None,
    mode: str | None,
    checked_at: float | None,
    next_check_at: float,
    now: float,
) -> bool:
    """Add a domain row unless one exists (True if added). `insert_stmt`: Store.insert(d)."""
    result = await conn.execute(
        insert_stmt.values(
            domain=domain,
            state=state,
            seq=1 if state is not None else 0,
            status=status,
            mode=mode,
            checked_at=checked_at,
            next_check_at=next_check_at,
            suspect_count=0,
            checks=1 if checked_at is not None else 0,
            created_at=now,
        ).on_conflict_do_nothing(index_elements=[d.c.domain])
    )
    return bool(result.rowcount)


async def save(
    conn: AsyncConnection,
    domain: str,
    *,
    expect_seq: int,
    owner: str | None,
    state: dict[str, Any] | None,
    status: str | None,
    mode: str | None,
    checked_at: float,
    next_check_at: float,
    suspect_count: int,
) -> bool:
    """Store a check's outcome and release the lease, if the row is still as read.

    `state` None keeps the stored state (a doubted check). The update applies
    only when nobody stored another state since (`expect_seq`) and, for the
    scheduler (`owner`), the lease is still ours; False otherwise.
    """
    params: dict[str, Any] = {
        "w_domain": domain,
        "w_seq": expect_seq,
        "w_owner": owner,
        "checked_at": checked_at,
        "next_check_at": next_check_at,
        "suspect_count": suspect_count,
    }
    if state is not None:
        params.update(state=state, seq=expect_seq + 1, status=status, mode=mode)
    statement = _SAVES[(state is not None, owner is not None)]
    result = await conn.execute(statement, params)
    return bool(result.rowcount)


def _save_statement(new_state: bool, leased: bool) -> sa.Update:
    """The UPDATE of save(), built once per shape (building one per call costs more CPU than
    running it): with or without a new state, with or without a lease to hold."""
    where = [d.c.domain == sa.bindparam("w_domain"), d.c.seq == sa.bindparam("w_seq")]
    if leased:
        where.append(d.c.lease_owner == sa.bindparam("w_owner"))
    values: dict[str, Any] = {
        "checked_at": sa.bindparam("checked_at"),
        "next_check_at": sa.bindparam("next_check_at"),
        "suspect_count": sa.bindparam("suspect_count"),
        "lease_owner": None,
        "lease_until": None,
        "checks": d.c.checks + 1,
    }
    if new_state:
        values.update(
            state=sa.bindparam("state", type_=d.c.state.type),
            seq=sa.bindparam("seq"),
            status=sa.bindparam("status"),
            mode=sa.bindparam("mode"),
        )
    return sa.update(d).where(*where).values(**values)


_SAVES = {(n, o): _save_statement(n, o) for n in (True, False) for o in (True, False)}


async def release(conn: AsyncConnection, domain: str, *, owner: str, next_check_at: float) -> None:
    """Give a lease back without a result (the check itself broke): due again later."""
    await conn.execute(
        sa.update(d)
        .where(d.c.domain == domain, d.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, next_check_at=next_check_at)
    )


async def delete_unwatched(conn: AsyncConnection, domains: Iterable[str]) -> list[str]:
    """Forget those of `domains` that nobody watches any more: their state and their
    alert history (so a later watch starts afresh, its event keys from the start).
    Returns the names forgotten."""
    names = list(domains)
    if not names:
        return []
    result = await conn.execute(
        sa.delete(d)
        .where(d.c.domain.in_(names), ~sa.exists().where(w.c.domain == d.c.domain))
        .returning(d.c.domain)
    )
    gone = [r.domain for r in result]
    if gone:
        await conn.execute(sa.delete(a).where(a.c.domain.in_(gone)))
    return gone
