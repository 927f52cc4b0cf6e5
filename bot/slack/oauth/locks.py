"""Locks across instances, so two of them never refresh one workspace's token at once.

`Locks.hold(name)` is an async context manager that yields True once the lock
is held, or False when it could not be had within `wait` seconds (the caller
then goes on without it: for token rotation, with the token it has, which
still works until it expires). Three kinds, chosen by `rotation_locks()`:

- `RedisLocks` (REDIS_URL set): redis-py's lock (SET NX PX with a random owner
  token, released only by its owner); it expires after `ttl` seconds, so an
  instance that dies holding it blocks nobody for longer. While Redis is
  away, the fallback (below) is used instead.
- `PostgresLocks` (PostgreSQL): a transaction-scoped advisory lock, released
  when the transaction ends, and by the server when the connection drops.
- `ProcessLocks` (SQLite: one instance): an asyncio lock per name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol
from weakref import WeakValueDictionary

import sqlalchemy as sa
from redis.exceptions import LockError, RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from bot.slack.shared.link import RedisLink

LOCK_TTL = 30.0  # seconds a Redis lock outlives a holder that died (a refresh takes < 1 s)
LOCK_WAIT = 15.0  # seconds to wait for another instance's refresh before going on without
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait

log = logging.getLogger("mtasts.slack.oauth")


class Locks(Protocol):
    def hold(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """Hold the lock `name` (yields True), or give up after the wait (yields False)."""
        ...


class ProcessLocks:
    """One instance: an asyncio lock per name (dropped when nobody holds or awaits it)."""

    def __init__(self, *, wait: float = LOCK_WAIT) -> None:
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._wait = wait

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        try:
            async with asyncio.timeout(self._wait):
                await lock.acquire()
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()


def advisory_key(name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, from the lock's name."""
    digest = hashlib.blake2b(f"mtasts:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresLocks:
    """PostgreSQL's advisory locks, held for a transaction on a connection of their own."""

    def __init__(self, engine: AsyncEngine, *, wait: float = LOCK_WAIT) -> None:
        self._engine = engine
        self._wait = wait

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        async with self._engine.connect() as conn, conn.begin():
            # lock_timeout bounds the wait on the server, whatever happens to this task
            await conn.execute(sa.text(f"SET LOCAL lock_timeout = '{int(self._wait * 1000)}ms'"))
            try:
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)}
                )
            except sa.exc.DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                yield False
                return
            yield True  # released when the transaction ends (or the connection drops)


class RedisLocks:
    """redis-py's lock under this deployment's key prefix; `fallback` while Redis is away."""

    def __init__(
        self,
        link: RedisLink,
        fallback: Locks,
        *,
        ttl: float = LOCK_TTL,
        wait: float = LOCK_WAIT,
    ) -> None:
        self._link = link
        self._fallback = fallback
        self._ttl = ttl
        self._wait = wait

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        from bot.slack.shared.link import OUTAGE_ERRORS

        lock = self._link.client.lock(
            self._link.key("lock", name), timeout=self._ttl, blocking_timeout=self._wait
        )
        try:
            held = await lock.acquire()
        except (*OUTAGE_ERRORS, RedisError) as exc:
            log.warning("redis lock unavailable, using the fallback error=%s", type(exc).__name__)
            async with self._fallback.hold(name) as held_there:
                yield held_there
            return
        if not held:
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(LockError, *OUTAGE_ERRORS, RedisError):
                await lock.release()  # expired already (or Redis gone): it frees itself


def rotation_locks(engine: AsyncEngine, redis: RedisLink | None) -> Locks:
    """Redis when the deployment has it, else the database's (PostgreSQL) or the process's."""
    local: Locks = PostgresLocks(engine) if engine.dialect.name == "postgresql" else ProcessLocks()
    return RedisLocks(redis, local) if redis is not None else local
