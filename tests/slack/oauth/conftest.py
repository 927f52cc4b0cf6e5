"""Fixtures for OAuth mode: the app's store (the shared `sqlite_store` and `pg_store` of
tests/conftest.py, migrated: the OAuth tables come from the app's migration), and the app
served in OAuth mode against the stand-in, which plays Slack's install."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from oauth_browser import OAuthApp, oauth_app

from bot.store import Store

OAUTH_TABLES = "slack_installations, slack_bots, slack_oauth_states"


@pytest_asyncio.fixture
async def sqlite_db(sqlite_store: Store) -> Store:
    return sqlite_store


@pytest_asyncio.fixture
async def pg_db(pg_store: Store) -> Store:
    """PostgreSQL, its OAuth tables emptied for this test too."""
    async with pg_store.write() as conn:
        await conn.execute(sa.text(f"TRUNCATE {OAUTH_TABLES} RESTART IDENTITY"))
    return pg_store


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
