"""Opening the database for the app: connect, migrate to the latest schema, or say why not.

`open_store()` is what `mtasts serve` and `mtasts db upgrade` call. Anything
that stops it (a bad URL, a server that does not answer, a file that cannot
be created, a migration that fails, a database newer than this code) is a
`StoreStartError` whose message is one line naming `MTASTS_DATABASE_URL`.

Several instances may start at once on PostgreSQL: the migration holds an
advisory lock, so one migrates and the others find the schema current. On
SQLite, BEGIN IMMEDIATE serialises them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from bot.store.engine import (
    SQLITE_BUSY_TIMEOUT,
    TRANSIENT_ERRORS,
    Store,
    ensure_parent,
    make_engine,
)
from bot.store.url import DatabaseUrl, DatabaseUrlError, database_url

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6D7461737473  # "mtasts": the PostgreSQL advisory lock key
START_TIMEOUT = 30.0  # seconds to connect and migrate before giving up


class StoreStartError(RuntimeError):
    """The database cannot be used; one line for people, naming the variable."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(connection: sa.Connection) -> str | None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(store: Store) -> str | None:
    """Migrate to the latest schema; returns the revision the database is now at."""
    async with store.write() as conn:
        return await conn.run_sync(_upgrade)


async def current_revision(store: Store) -> str | None:
    async with store.read() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def open_store(
    database: DatabaseUrl | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT,
    timeout: float = START_TIMEOUT,  # noqa: ASYNC109 - bounds the whole start-up
) -> Store:
    """Connect and migrate; raises StoreStartError (one line) when that cannot be done."""
    if database is None:
        try:
            database = database_url(environ)
        except DatabaseUrlError as exc:
            raise StoreStartError(str(exc)) from None
    where = f"{database.named} {database.shown}"
    try:
        ensure_parent(database.url)
    except OSError as exc:
        raise StoreStartError(
            f"{where}: cannot create its folder ({exc.strerror or exc})"
        ) from None
    store = make_engine(database, busy_timeout=busy_timeout)
    try:
        async with asyncio.timeout(timeout):
            await upgrade(store)
    except TimeoutError:
        await _close_quietly(store)
        raise StoreStartError(f"{where}: no answer within {timeout:g} s") from None
    except CommandError as exc:  # e.g. a revision this code does not know (a newer schema)
        await _close_quietly(store)
        raise StoreStartError(f"{where}: cannot migrate ({_one_line(exc)})") from None
    except TRANSIENT_ERRORS as exc:
        await _close_quietly(store)
        raise StoreStartError(f"{where}: cannot use the database ({_one_line(exc)})") from None
    except sa.exc.SQLAlchemyError as exc:
        await _close_quietly(store)
        raise StoreStartError(f"{where}: cannot migrate ({_one_line(exc)})") from None
    return store


async def _close_quietly(store: Store) -> None:
    with contextlib.suppress(Exception):
        await store.close()


def _one_line(exc: BaseException) -> str:
    """The error's own first line, without SQLAlchemy's SQL echo and background links."""
    original = getattr(exc, "orig", None)
    source = original if isinstance(original, BaseException) else exc
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    name = type(source).__name__
    return f"{name}: {text}"[:300] if text else name


def run_upgrade(environ: Mapping[str, str] | None = None) -> int:
    """`mtasts db upgrade`: migrate and say where to (0), or one line and 2."""
    import sys

    async def upgrade_once() -> tuple[str, str | None]:
        try:
            database = database_url(environ)
        except DatabaseUrlError as exc:
            raise StoreStartError(str(exc)) from None
        store = await open_store(database)
        try:
            return database.shown, await current_revision(store)
        finally:
            await store.close()

    try:
        shown, revision = asyncio.run(upgrade_once())
    except StoreStartError as exc:
        print(f"mtasts db upgrade: {exc}", file=sys.stderr)
        return 2
    print(f"{shown}: schema at revision {revision} (the latest)")
    return 0
