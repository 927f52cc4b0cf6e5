"""The real PostgreSQL and Redis servers the tests may use, and what to do without them.

Every machine of ours (and CI's) runs PostgreSQL 15 and Redis 7 on loopback. The
tests find them through `MTASTS_TEST_DATABASE_URL` and `MTASTS_TEST_REDIS_URL`
(defaulting to the local ones). Where one is not reachable (a laptop), the tests
that need it are skipped with a reason that says how to run them; with
`MTASTS_REQUIRE_SERVICES=1` (set by `.ci/run`) that skip is a failure instead,
so CI always runs them.

Isolation, so that parallel runs and earlier runs never see each other's data:
- `pg_database_url()` creates a fresh database (`mtasts_t_<random>`) on the
  server and drops it when the session ends;
- `redis_prefix()` hands out a unique key prefix per test; the whole run's keys
  share `mtasts-test-<random>:` and are deleted when the session ends.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.testbed.postgres import create_database, drop_database, with_database

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
REQUIRE_VAR = "MTASTS_REQUIRE_SERVICES"
CONNECT_TIMEOUT = 5.0


def required() -> bool:
    return os.environ.get(REQUIRE_VAR, "").strip() not in ("", "0", "false", "no")


def unavailable(what: str, variable: str, url: str, error: BaseException) -> None:
    """Skip (or, under MTASTS_REQUIRE_SERVICES=1, fail) with a reason saying how to fix it."""
    reason = (
        f"{what} is not reachable at {_redact(url)} ({type(error).__name__}: {error}); "
        f"start it or point {variable} at one to run these tests"
    )
    if required():
        pytest.fail(f"{reason} [{REQUIRE_VAR}=1 makes this a failure]", pytrace=False)
    pytest.skip(reason)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def test_database_url() -> str:
    return os.environ.get("MTASTS_TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL


def test_redis_url() -> str:
    return os.environ.get("MTASTS_TEST_REDIS_URL", "").strip() or DEFAULT_TEST_REDIS_URL


async def create_pg_database() -> tuple[str, str]:
    """A fresh, empty database on the test server: (SQLAlchemy URL, its name)."""
    import asyncpg

    base = test_database_url()
    try:
        name = await create_database(base, "mtasts_t_", connect_timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        unavailable("PostgreSQL", "MTASTS_TEST_DATABASE_URL", base, exc)
        raise  # unreachable: unavailable() skips or fails
    url = with_database(base, name)
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url, name


async def drop_pg_database(name: str) -> None:
    await drop_database(test_database_url(), name)


async def pg_database() -> AsyncIterator[str]:
    """Body of a fixture: yields a fresh database's URL, drops it afterwards."""
    url, name = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


async def redis_available() -> str:
    """The test Redis URL, after a PING; skips or fails when it does not answer."""
    from redis.asyncio import Redis

    url = test_redis_url()
    client = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT)
    try:
        await asyncio.wait_for(client.ping(), CONNECT_TIMEOUT)
    except Exception as exc:  # OSError, TimeoutError, and redis's own ConnectionError
        unavailable("Redis", "MTASTS_TEST_REDIS_URL", url, exc)
    finally:
        await client.aclose()
    return url


RUN_PREFIX = f"mtasts-test-{secrets.token_hex(4)}:"


def redis_prefix() -> str:
    """A key prefix no other test (or run) uses."""
    return f"{RUN_PREFIX}{secrets.token_hex(4)}:"


async def delete_run_keys(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=RUN_PREFIX + "*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()


class RedisServer:
    """A Redis server of the test's own on a Unix socket in a folder of its own, to stop
    and start again at the same address (an outage, for real): unlike a free TCP port,
    no other process (another pytest worker) can take it in between. No persistence: it
    comes back empty, as after a crash.

    Skips (or fails under MTASTS_REQUIRE_SERVICES=1) when `redis-server` is not installed.
    """

    def __init__(self) -> None:
        import shutil
        import tempfile

        binary = shutil.which("redis-server")
        if binary is None:
            unavailable(
                "redis-server (the binary)", "PATH", "redis-server", FileNotFoundError("not found")
            )
        self._binary = str(binary)
        self._folder = tempfile.TemporaryDirectory(prefix="mtasts-redis-")
        self.socket = f"{self._folder.name}/redis.sock"
        self.url = f"unix://{self.socket}?db=0"
        self._proc: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[bytes] | None = None

    async def start(self) -> None:
        """Start it and wait until it says it is ready (its own log line)."""
        self._proc = await asyncio.create_subprocess_exec(
            self._binary, "--port", "0", "--unixsocket", self.socket,
            "--save", "", "--appendonly", "no",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self._proc.stdout is not None
        seen: list[str] = []
        async with asyncio.timeout(20):
            while "ready to accept connections" not in (seen[-1].lower() if seen else ""):
                line = (await self._proc.stdout.readline()).decode(errors="replace")
                if not line:
                    raise RuntimeError("redis-server did not start:\n" + "".join(seen[-10:]))
                seen.append(line)
        # keep reading its log, so that the pipe never fills up
        self._drain = asyncio.create_task(self._proc.stdout.read())

    async def stop(self) -> None:
        """Kill it (SIGKILL: an outage, not a shutdown) and wait until it is gone."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()
        if self._drain is not None:
            await self._drain
        self._proc = self._drain = None
