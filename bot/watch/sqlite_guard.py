"""One watch scheduler per SQLite file: refused at start-up when another already runs.

SQLite serves one instance (its single writer, and its file on one machine);
several schedulers need PostgreSQL. The scheduler holds an exclusive lock on a
file beside the database (`mtasts.db.scheduler`) while it runs. The kernel
releases the lock when the process ends, however it ends (a crash, SIGKILL),
so unlike a heartbeat row there is no stale period: a restarted instance is
never refused because of the one it replaces, and a second live one always is.
The file names the holder (host, pid, since when) for the message.

Where `fcntl` does not exist (Windows), the guard does nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms we deploy to
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".scheduler"


class SchedulerRunning(Exception):
    """Another scheduler holds this SQLite database; the message is one line saying what to do."""


class SqliteSchedulerGuard:
    """`with SqliteSchedulerGuard(path):` while this instance's scheduler runs."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + SUFFIX)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise SchedulerRunning naming the scheduler that has it."""
        if fcntl is None or self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise SchedulerRunning(
                f"another watch scheduler is running on the SQLite database {self.database}"
                f"{f' ({holder})' if holder else ''}; SQLite serves one instance: use "
                "PostgreSQL for several (MTASTS_DATABASE_URL=postgresql://...), or set "
                "MTASTS_WATCH=off on this one"
            ) from None
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {since}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock; the file stays (it is harmless)
            self._fd = None

    def __enter__(self) -> SqliteSchedulerGuard:
        self.acquire()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        return ""
