"""Shared fixtures: the testbed of real servers, started once per session."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.checker.settings import Settings
from bot.store.engine import Store
from bot.store.migrate import open_store
from bot.store.url import DatabaseUrl, parse
from bot.testbed.bed import Testbed
from bot.testbed.scenarios import SCENARIOS

# Property tests: no wall-clock deadline (a busy 2-core CI machine is not a bug), and
# in CI the same examples every run, so a red build is reproducible.
hypothesis_settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


# -- `--cpu-hog`: the suite on a busy machine -------------------------------------------

_HOG = "while True: pass"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cpu-hog",
        action="count",
        default=0,
        help="keep a core fully busy with a spinning process while the tests run, as on a "
        "loaded machine (repeat it to keep more cores busy)",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the main process hogs
        return
    count = int(session.config.getoption("--cpu-hog") or 0)
    hogs = [subprocess.Popen([sys.executable, "-c", _HOG]) for _ in range(count)]
    session.config.stash[_HOGS] = hogs


def pytest_sessionfinish(session: pytest.Session) -> None:
    for hog in session.config.stash.get(_HOGS, []):
        hog.kill()
        hog.wait()


def pytest_report_header(config: pytest.Config) -> str | None:
    count = int(config.getoption("--cpu-hog") or 0)
    return f"cpu-hog: {count} spinning process(es) keep cores busy" if count else None


_HOGS = pytest.StashKey[list[subprocess.Popen[bytes]]]()


@pytest.fixture(scope="session", autouse=True)
def _stay_on_loopback() -> Iterator[None]:
    """Tests never touch the internet: a connection to anything but loopback fails
    here, as on a machine without a network, before a packet leaves."""
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(address: Any) -> None:
        if isinstance(address, tuple) and address:
            try:
                loopback = ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise OSError(errno.ENETUNREACH, f"tests stay on loopback, not {address[0]}")

    def connect(self: socket.socket, address: Any) -> None:
        refuse(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse(address)
        return original_connect_ex(self, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        yield


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def testbed() -> AsyncIterator[Testbed]:
    """DNS, HTTPS and SMTP servers on 127.77.0.0/16 playing the whole scenario catalogue."""
    async with Testbed(SCENARIOS) as bed:
        yield bed


@pytest.fixture
def settings(testbed: Testbed) -> Settings:
    """Settings pointing a check at the testbed (private access on, testbed CA, ports)."""
    return testbed.settings()


# -- real PostgreSQL and Redis (tests/real_services.py says how they are found and isolated) --


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this session (dropped at the end); skips without one."""
    from real_services import pg_database

    async for url in pg_database():
        yield url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def redis_url() -> AsyncIterator[str]:
    """The test Redis server's URL; this run's keys are deleted at the end."""
    from real_services import delete_run_keys, redis_available

    url = await redis_available()
    try:
        yield url
    finally:
        await delete_run_keys(url)


@pytest.fixture
def redis_prefix() -> str:
    """A Redis key prefix of this test's own."""
    from real_services import redis_prefix as fresh_prefix

    return fresh_prefix()


@pytest_asyncio.fixture
async def own_redis() -> AsyncIterator[object]:
    """A Redis server of this test's own (tests/real_services.RedisServer), started; the
    test may stop and start it. Killed at the end."""
    from real_services import RedisServer

    server = RedisServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# -- the store (bot/store) on a real SQLite file and on the real PostgreSQL ----------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_session_store() -> AsyncIterator[Store]:
    """A PostgreSQL database of its own for the store tests (pg_url stays empty), migrated
    once, dropped at the end."""
    from real_services import pg_database

    async for url in pg_database():
        store = await open_store(DatabaseUrl(parse(url), "MTASTS_DATABASE_URL"))
        try:
            yield store
        finally:
            await store.close()


@pytest_asyncio.fixture
async def fresh_pg_url() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (dropped afterwards); pg_url stays untouched."""
    from real_services import pg_database

    async for url in pg_database():
        yield url


@pytest_asyncio.fixture
async def pg_store(pg_session_store: Store) -> Store:
    """PostgreSQL, emptied for this test."""
    async with pg_session_store.write() as conn:
        await conn.execute(
            sa.text("TRUNCATE alerts, watches, watched_domains RESTART IDENTITY CASCADE")
        )
    return pg_session_store


@pytest_asyncio.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh SQLite file, migrated."""
    store = await open_store(DatabaseUrl(parse(f"sqlite:///{tmp_path}/mtasts.db"), "default"))
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sqlite_store", "pg_store"], ids=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each test that takes `store` runs on both databases."""
    value = request.getfixturevalue(request.param)
    assert isinstance(value, Store)
    return value
