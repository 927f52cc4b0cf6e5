"""slack_sdk's SQLAlchemy installation and OAuth state stores, on the app's database.

The tables (`slack_installations`, `slack_bots`, `slack_oauth_states`) are
created by the app's own migration (bot/store/migrations), never by the
stores' `create_tables()` at run time: one schema, migrated once, by one
instance at a time.

The stores open their own transactions (`engine.begin()` / `engine.connect()`).
They are given the store's engine behind `StoreEngine`, whose `begin()` is the
store's write transaction: on SQLite that is the one writer's lock and
`BEGIN IMMEDIATE` (a state consumed while the scheduler writes waits for its
turn instead of failing as "invalid state"); on PostgreSQL, a plain
transaction.

`/slack/install` needs no signature, so anyone can make the app issue states:
`BoundedStateStore` deletes expired ones as it issues new ones and refuses
past `MAX_STATES` live ones, so the table stays small whatever comes in.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any, Protocol, cast
from uuid import uuid4

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

STATE_EXPIRATION = 600  # seconds an install link's `state` stays valid (slack_sdk's default)
INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
STATES_TABLE = "slack_oauth_states"
MAX_STATES = 10_000  # install links issued and not yet used or expired


class TooManyStates(Exception):
    """MAX_STATES install links are outstanding: no new one until some are used or expire."""


log = logging.getLogger("mtasts.slack.oauth")


class Database(Protocol):
    """What the stores need of bot.store.Store: its engine and its write transactions."""

    @property
    def engine(self) -> AsyncEngine: ...

    def write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]: ...


class StoreEngine:
    """The two engine methods slack_sdk's stores call, with the store's write rules."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def begin(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self._database.write()

    def connect(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self._database.engine.connect()


def installation_store(database: Database, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    return AsyncSQLAlchemyInstallationStore(
        client_id=client_id,
        engine=cast(AsyncEngine, StoreEngine(database)),
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
        logger=log,
    )


class BoundedStateStore(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's state store, whose table cannot grow without bound (see the module doc)."""

    def __init__(self, database: Database, *, expiration: int, limit: int = MAX_STATES) -> None:
        super().__init__(
            expiration_seconds=expiration,
            engine=cast(AsyncEngine, StoreEngine(database)),
            logger=log,
            table_name=STATES_TABLE,
        )
        self.limit = limit

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state (raises TooManyStates past the limit)."""
        state = str(uuid4())
        now = time.time()
        table, c = self.oauth_states, self.oauth_states.c
        async with self.engine.begin() as conn:
            await conn.execute(table.delete().where(c.expire_at <= _db_time(now)))
            live = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
            if (live or 0) >= self.limit:
                raise TooManyStates(f"{live} install links outstanding")
            expire_at = _db_time(now + self.expiration_seconds)
            await conn.execute(table.insert(), {"state": state, "expire_at": expire_at})
        return state

    async def async_consume(self, state: str) -> bool:
        """Whether `state` was issued here and is still valid (it is used up either way).

        Unlike slack_sdk's, a database error is raised, not reported as an invalid state."""
        table, c = self.oauth_states, self.oauth_states.c
        async with self.engine.begin() as conn:
            result = await conn.execute(
                table.delete().where(c.state == state, c.expire_at > _db_time(time.time()))
            )
        return bool(result.rowcount)


def _db_time(timestamp: float) -> datetime:
    """A UNIX time as slack_sdk stores it: a naive UTC datetime."""
    return datetime.fromtimestamp(timestamp, tz=UTC).replace(tzinfo=None)


def state_store(database: Database, *, expiration: int = STATE_EXPIRATION) -> BoundedStateStore:
    return BoundedStateStore(database, expiration=expiration)
