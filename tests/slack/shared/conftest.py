"""Fixtures for the Redis implementations: links to the test Redis (a prefix per test),
and a link to a Redis that is not there."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot.metrics import Metrics
from bot.slack.shared.link import RedisLink


@pytest_asyncio.fixture
async def links(redis_url: str, redis_prefix: str) -> AsyncIterator[Callable[[], RedisLink]]:
    """Makes links to the test Redis, all with this test's prefix: each is one instance."""
    made: list[RedisLink] = []

    def make() -> RedisLink:
        link = RedisLink.from_url(redis_url, prefix=redis_prefix, metrics=Metrics())
        made.append(link)
        return link

    yield make
    for link in made:
        await link.aclose()


@pytest.fixture
def link(links: Callable[[], RedisLink]) -> RedisLink:
    return links()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture
async def dead_link(closed_port: int) -> AsyncIterator[RedisLink]:
    """A link to a Redis that is not there, tried again on every call (retry_after=0)."""
    link = RedisLink.from_url(
        f"redis://127.0.0.1:{closed_port}/0", prefix="t:", retry_after=0, metrics=Metrics()
    )
    yield link
    await link.aclose()
