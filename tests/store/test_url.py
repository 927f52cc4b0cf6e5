"""Which database: MTASTS_DATABASE_URL, DATABASE_URL as platforms set it, or a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.url import DatabaseUrlError, database_url


def test_default_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    chosen = database_url({"MTASTS_DATA_DIR": str(tmp_path)})
    assert chosen.url.drivername == "sqlite+aiosqlite"
    assert chosen.url.database == str(tmp_path / "mtasts.db")
    assert chosen.source == "default"
    assert chosen.dialect == "sqlite"


def test_default_without_a_data_dir_is_the_current_directory() -> None:
    chosen = database_url({})
    assert chosen.url.database == str(Path.cwd() / "mtasts.db")


@pytest.mark.parametrize(
    "given",
    ["postgres://u:secret@db.example:5432/app", "postgresql://u:secret@db.example:5432/app"],
)
def test_platform_database_url_means_asyncpg(given: str) -> None:
    chosen = database_url({"DATABASE_URL": given})
    assert chosen.url.drivername == "postgresql+asyncpg"
    assert chosen.source == "DATABASE_URL"
    assert chosen.dialect == "postgresql"
    assert "secret" not in chosen.shown
    assert "MTASTS_DATABASE_URL" in chosen.named


def test_our_variable_wins_over_the_platform_one() -> None:
    chosen = database_url(
        {"MTASTS_DATABASE_URL": "sqlite:////data/x.db", "DATABASE_URL": "postgres://h/db"}
    )
    assert chosen.source == "MTASTS_DATABASE_URL"
    assert chosen.url.drivername == "sqlite+aiosqlite"


def test_sslmode_becomes_asyncpgs_ssl() -> None:
    chosen = database_url({"DATABASE_URL": "postgres://u@h/db?sslmode=require"})
    assert chosen.url.query == {"ssl": "require"}


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("mysql://u@h/db", "not supported"),
        ("postgresql+psycopg2://u@h/db", "asyncpg"),
        ("postgres:///db", "no host"),
        ("sqlite://", "give a file"),
        ("sqlite:///:memory:", "give a file"),
        ("not a url", "not a database URL"),
        ("postgres://u@h/db?sslmode=sometimes", "sslmode"),
    ],
)
def test_bad_urls_are_one_line_naming_the_variable(given: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        database_url({"MTASTS_DATABASE_URL": given})
    message = str(caught.value)
    assert message.startswith("MTASTS_DATABASE_URL")
    assert says in message
    assert "\n" not in message


def test_passwords_never_reach_the_message() -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        database_url({"DATABASE_URL": "mysql://user:hunter2@h/db"})
    assert "hunter2" not in str(caught.value)
    assert str(caught.value).startswith("DATABASE_URL")
