"""Start-up: migrate to the latest schema, or stop with one line naming the variable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.store.engine import Store
from bot.store.migrate import StoreStartError, current_revision, head_revision, open_store, upgrade
from bot.store.tables import metadata


async def test_migrations_build_exactly_the_tables_the_code_uses(store: Store) -> None:
    def differences(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with store.read() as conn:
        assert await conn.run_sync(differences) == []
    assert await current_revision(store) == head_revision()


async def test_upgrading_again_changes_nothing(store: Store) -> None:
    assert await upgrade(store) == head_revision()


async def test_default_data_dir_is_created(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "data"
    store = await open_store(environ={"MTASTS_DATA_DIR": str(folder)})
    try:
        assert (folder / "mtasts.db").exists()
        assert await current_revision(store) == head_revision()
    finally:
        await store.close()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store: Store) -> None:
    async with sqlite_store.read() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    assert (mode, keys) == ("wal", 1)


async def test_unreachable_postgres_stops_start_up_in_one_line() -> None:
    with pytest.raises(StoreStartError) as caught:
        await open_store(
            environ={"MTASTS_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:9/db"}, timeout=10
        )
    message = str(caught.value)
    assert message.startswith("MTASTS_DATABASE_URL postgresql+asyncpg://u:***@127.0.0.1:9/db")
    assert "cannot use the database" in message
    assert "hunter2" not in message
    assert "\n" not in message


async def test_a_folder_that_cannot_be_made_stops_start_up(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreStartError) as caught:
        await open_store(environ={"MTASTS_DATA_DIR": str(blocker / "sub")})
    assert "MTASTS_DATABASE_URL (unset; the default SQLite file is used)" in str(caught.value)


async def test_a_file_that_is_not_a_database_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "mtasts.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreStartError) as caught:
        await open_store(environ={"MTASTS_DATABASE_URL": f"sqlite:///{path}"})
    assert "cannot use the database" in str(caught.value) or "cannot migrate" in str(caught.value)


async def test_a_newer_schema_than_this_code_knows_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "mtasts.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    with pytest.raises(StoreStartError) as caught:
        await open_store(environ={"MTASTS_DATABASE_URL": f"sqlite:///{path}"})
    assert "cannot migrate" in str(caught.value)
    assert "9999" in str(caught.value)


def test_the_migrations_ship_with_the_package() -> None:
    """`pip install .` carries them: the revisions are a package, the template package data."""
    import tomllib

    from setuptools import find_packages

    root = Path(__file__).resolve().parents[2]
    assert "bot.store.migrations.versions" in find_packages(str(root), include=["bot*"])
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]["bot.store.migrations"]
    assert "script.py.mako" in data
    assert (root / "bot/store/migrations/script.py.mako").exists()
