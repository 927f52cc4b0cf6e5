"""One watch scheduler per SQLite file: a second is refused with one line; a crash frees it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.watch.sqlite_guard import SchedulerRunning, SqliteSchedulerGuard

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bot.watch.sqlite_guard import SqliteSchedulerGuard
    guard = SqliteSchedulerGuard(Path(sys.argv[1]))
    guard.acquire()
    print("held", flush=True)
    sys.stdin.read()  # until the test closes stdin (or kills us)
    """
)


def _holder(database: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_scheduler_on_the_same_file_is_refused_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "mtasts.db"
    proc = _holder(database)
    try:
        with pytest.raises(SchedulerRunning) as caught:
            SqliteSchedulerGuard(database).acquire()
        message = str(caught.value)
        assert "\n" not in message
        assert str(database) in message
        assert f"pid {proc.pid}" in message
        assert "PostgreSQL" in message
        assert "MTASTS_WATCH=off" in message
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_scheduler_frees_the_file_at_once(tmp_path: Path) -> None:
    database = tmp_path / "mtasts.db"
    proc = _holder(database)
    proc.kill()  # SIGKILL: nothing is cleaned up
    proc.wait()
    with SqliteSchedulerGuard(database) as guard:
        assert guard.path.exists()


def test_another_database_in_the_same_folder_is_not_affected(tmp_path: Path) -> None:
    with SqliteSchedulerGuard(tmp_path / "a.db"), SqliteSchedulerGuard(tmp_path / "b.db"):
        pass


def test_released_at_a_clean_stop(tmp_path: Path) -> None:
    database = tmp_path / "mtasts.db"
    first = SqliteSchedulerGuard(database)
    first.acquire()
    first.release()
    with SqliteSchedulerGuard(database):
        pass
