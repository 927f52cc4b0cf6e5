"""The database engine: one code path for SQLite (aiosqlite) and PostgreSQL (asyncpg).

`Store.write()` is a write transaction, `Store.read()` a read-only one.

Durability: a write is flushed to disk before it commits (SQLite
`synchronous=FULL`, PostgreSQL's default), so what a person was told is stored
survives a power cut. The scheduler's own bookkeeping (claims, a domain's
state after a check, with its alert intents) is written with
`durable=False` (SQLite `synchronous=NORMAL`, PostgreSQL `synchronous_commit
off`): it survives the app crashing, and a power cut can only lose the last
moments of it, which the next check recomputes (the lost state and its
alert intents together, never one without the other). The alert ledger's
"sending" mark is durable, so an alert posted before a power cut is not posted
again after it.

SQLite: WAL (readers never wait for the writer), a busy timeout, foreign keys
on, and one writer: writes are serialised in the process (an asyncio lock)
and begin with `BEGIN IMMEDIATE`, so a write transaction takes the database's
write lock up front (waiting up to the busy timeout) instead of failing
half-way when another connection writes. SQLite serves one instance.

PostgreSQL: a small pool, pre-ping (a connection the server dropped is
replaced instead of failing a request), a connect timeout; writes run
concurrently, and claims use `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.health import Probed
from bot.store.url import DatabaseUrl

SQLITE_BUSY_TIMEOUT = 5.0  # seconds a write waits for SQLite's write lock
CONNECT_TIMEOUT = 5.0  # seconds to reach PostgreSQL
POOL_SIZE = 5
_WRITE_OPTION = "mtasts_write"  # a write transaction: BEGIN IMMEDIATE, on SQLite
_LAZY_OPTION = "mtasts_lazy"  # a write that need not reach the disk before it commits

# Errors that mean "the database is unavailable or busy right now" (retry later), as
# opposed to a bug: SQLAlchemy's operational/interface errors, and the network's.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DBAPIError,
    OSError,
    TimeoutError,
)


class Store:
    """An engine plus the rules for using it (see the module doc)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" or "postgresql"
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self, *, durable: bool = True) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on success, rolled back on error.

        `durable=False`: flushed to disk lazily (see the module doc).
        """
        if self._write_lock is None:
            async with self.engine.connect() as conn:
                await _postgres_sync(conn, lazy=not durable)
                async with conn.begin():
                    yield conn
            return
        async with self._write_lock, self.engine.connect() as conn:
            options = {_WRITE_OPTION: True, _LAZY_OPTION: not durable}
            conn = await conn.execution_options(**options)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction (a consistent snapshot; never takes SQLite's write lock)."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    async def ping(self) -> Probed:
        """For /healthz: can the database answer a query now?"""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return Probed(True, {"dialect": self.dialect})

    async def serialise(self, conn: AsyncConnection, name: str) -> None:
        """Within a write transaction: wait for any other transaction (of any instance)
        serialised under `name` to end first. On PostgreSQL a transaction-scoped advisory
        lock; SQLite has one writer already."""
        if not self.is_sqlite:
            await conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name}
            )

    def insert(self, table: sa.Table) -> Any:
        """INSERT that can say ON CONFLICT DO NOTHING on either database."""
        if self.is_sqlite:
            return sqlite.insert(table)
        return postgresql.insert(table)

    async def close(self) -> None:
        await self.engine.dispose()


async def _postgres_sync(conn: AsyncConnection, *, lazy: bool) -> None:
    """Set the session's synchronous_commit for this write, only when it changes (one round
    trip saved per write: most writes are the scheduler's lazy ones)."""
    wanted = "off" if lazy else "on"
    if conn.info.get("synchronous_commit") != wanted:
        await conn.exec_driver_sql(f"SET SESSION synchronous_commit TO {wanted}")
        await conn.commit()
        conn.info["synchronous_commit"] = wanted


def make_engine(database: DatabaseUrl | URL, *, busy_timeout: float = SQLITE_BUSY_TIMEOUT) -> Store:
    """A Store for the URL (no connection is made yet)."""
    url = database.url if isinstance(database, DatabaseUrl) else database
    if url.get_backend_name() == "sqlite":
        # Every use is inside begin() (committed or rolled back), so a connection going back
        # to the pool needs no reset: one round trip to aiosqlite's thread less per use.
        engine = create_async_engine(
            url, connect_args={"timeout": busy_timeout}, pool_reset_on_return=None
        )
        _sqlite_rules(engine, busy_timeout)
    else:
        engine = create_async_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            pool_pre_ping=True,
            pool_timeout=30,
            connect_args={"timeout": CONNECT_TIMEOUT},
        )
    return Store(engine)


def ensure_parent(url: URL) -> None:
    """Create the folder of a SQLite file if it is missing (the default data dir)."""
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_rules(engine: AsyncEngine, busy_timeout: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below), so the driver's legacy transaction control is off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut too
            _record.info["synchronous"] = "FULL"
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if not options.get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN")
            return
        wanted = "NORMAL" if options.get(_LAZY_OPTION) else "FULL"
        if conn.info.get("synchronous") != wanted:  # per database connection, kept across uses
            conn.exec_driver_sql(f"PRAGMA synchronous={wanted}")
            conn.info["synchronous"] = wanted
        conn.exec_driver_sql("BEGIN IMMEDIATE")
