"""Fixtures for OAuth mode: the app's store (SQLite or PostgreSQL, migrated: the OAuth tables
come from the app's migration), and the app served in OAuth mode against the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from oauth_browser import OAuthApp, oauth_app

from bot.store import Store, open_store
from bot.store.url import DatabaseUrl, parse

OAUTH_TABLES = "slack_installations, slack_bots, slack_oauth_states"


@pytest_asyncio.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(DatabaseUrl(parse(f"sqlite:///{tmp_path / 'mtasts.db'}"), "default"))
    try:
        yield store
    finally:
        await store.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_session_db() -> AsyncIterator[Store]:
    """A PostgreSQL database of its own for these tests, migrated once, dropped at the end."""
    from real_services import pg_database

    async for url in pg_database():
        store = await open_store(DatabaseUrl(parse(url), "MTASTS_DATABASE_URL"))
        try:
            yield store
        finally:
            await store.close()


@pytest_asyncio.fixture
async def pg_db(pg_session_db: Store) -> Store:
    """PostgreSQL, its OAuth tables emptied for this test."""
    async with pg_session_db.write() as conn:
        await conn.execute(sa.text(f"TRUNCATE {OAUTH_TABLES} RESTART IDENTITY"))
    return pg_session_db


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Store:
    value = request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")
    assert isinstance(value, Store)
    return value


@pytest_asyncio.fixture
async def app(sqlite_db: Store) -> AsyncIterator[OAuthApp]:
    """The app in OAuth mode on SQLite, the stand-in's OAuth app registered."""
    async with oauth_app(sqlite_db) as served:
        yield served
