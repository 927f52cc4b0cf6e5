"""Fixtures for OAuth mode: the app's database (SQLite or PostgreSQL) with the OAuth tables,
and the app served in OAuth mode against the stand-in, which plays Slack's install."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from oauth_browser import OAuthApp, oauth_app
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.slack.oauth.stores import installation_store, state_store


class PlainDatabase:
    """The two things the OAuth stores need of the app's store: an engine, write transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def write(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self.engine.begin()


async def _database(url: str) -> AsyncIterator[PlainDatabase]:
    engine = create_async_engine(url)
    database = PlainDatabase(engine)
    metadata = sa.MetaData()
    for table in (
        *installation_store(database, "x").metadata.tables.values(),
        *state_store(database).metadata.tables.values(),
    ):
        table.to_metadata(metadata)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    try:
        yield database
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[PlainDatabase]:
    async for database in _database(f"sqlite+aiosqlite:///{tmp_path / 'mtasts.db'}"):
        yield database


@pytest_asyncio.fixture
async def pg_db(pg_url: str) -> AsyncIterator[PlainDatabase]:
    async for database in _database(pg_url):
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> PlainDatabase:
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest_asyncio.fixture
async def app(sqlite_db: PlainDatabase) -> AsyncIterator[OAuthApp]:
    """The app in OAuth mode on SQLite, the stand-in's OAuth app registered."""
    async with oauth_app(sqlite_db) as served:
        yield served
