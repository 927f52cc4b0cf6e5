"""One watch scheduler per SQLite file: a second is refused with one line; a crash frees it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.testbed.bed import Testbed
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


async def test_a_second_mtasts_serve_on_one_sqlite_file_exits_2_saying_why(
    testbed: Testbed, tmp_path: Path
) -> None:
    from deployment import BOT_TOKEN, SIGNING_SECRET

    from bot.testbed.instances import ServeProcesses, serve_env
    from bot.testbed.slack_standin import SlackStandin

    async with SlackStandin() as standin:
        env = serve_env(
            testbed,
            api_url=standin.api_url,
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            MTASTS_DATA_DIR=str(tmp_path),
        )
        async with ServeProcesses(env, 1) as first:
            with pytest.raises(RuntimeError) as caught:
                async with ServeProcesses(env, 1):
                    pass
            message = str(caught.value)
            assert "exited (2) before serving" in message
            assert (
                f"another watch scheduler is running on the SQLite database {tmp_path}" in message
            )
            assert f"pid {first[0].proc.pid}" in message
            assert "MTASTS_WATCH=off" in message
            # with the scheduler off, a second instance starts (its requests still work)
            async with ServeProcesses({**env, "MTASTS_WATCH": "off"}, 1) as second:
                assert second[0].port
