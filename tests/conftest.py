"""Shared fixtures: the testbed of real servers, started once per session."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.checker.settings import Settings
from bot.testbed.bed import Testbed
from bot.testbed.scenarios import SCENARIOS

# Property tests: no wall-clock deadline (a busy 2-core CI machine is not a bug), and
# in CI the same examples every run, so a red build is reproducible.
hypothesis_settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
