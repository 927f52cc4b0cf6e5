"""`mtasts db upgrade`, and `mtasts serve` refusing a database it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.slack.serve import run

DB_VARS = ("MTASTS_DATABASE_URL", "DATABASE_URL", "MTASTS_DATA_DIR")


@pytest.fixture(autouse=True)
def _no_database_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DB_VARS:
        monkeypatch.delenv(name, raising=False)


def test_db_upgrade_creates_and_migrates_the_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MTASTS_DATA_DIR", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "mtasts.db").exists()
    assert "schema at revision 0001" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0  # again: nothing to do, still fine


def test_db_upgrade_on_postgres(
    fresh_pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_pg_url.replace("postgresql+asyncpg://", "postgres://")
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert "postgresql+asyncpg://" in capsys.readouterr().out


def test_db_upgrade_refuses_a_bad_url_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MTASTS_DATABASE_URL", "mysql://u:pw@h/db")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("mtasts db upgrade: MTASTS_DATABASE_URL")
    assert "pw" not in err


def test_serve_stops_with_one_line_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.setenv("MTASTS_DATABASE_URL", "postgresql://u:hunter2@127.0.0.1:9/db")
    assert run(0) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "mtasts serve: MTASTS_DATABASE_URL postgresql+asyncpg://u:***@127.0.0.1:9/db" in err
    assert "hunter2" not in err


def test_serve_refuses_a_bad_watch_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("MTASTS_WATCH_INTERVAL", "5")
    assert run(0) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "MTASTS_WATCH_INTERVAL '5': use 60 to 604800" in err
