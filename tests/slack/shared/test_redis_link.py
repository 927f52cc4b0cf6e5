"""The link to Redis: results or DOWN, a breaker while Redis is away, one log line per change."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from bot.metrics import Metrics
from bot.slack.shared.link import DOWN, RedisLink


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_a_call_returns_what_redis_answers(link: RedisLink) -> None:
    key = link.key("t", "k")

    async def op(r: Redis) -> object:
        await r.set(key, "v", px=10_000)
        return await r.get(key)

    assert await link.call("test", op) == "v"
    assert link.up
    assert key.startswith(link.prefix)


async def test_redis_not_there_is_down_at_once_then_tried_after_retry_after(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    now = [100.0]
    metrics = Metrics()
    link = RedisLink.from_url(
        f"redis://:hunter2@127.0.0.1:{closed_port}/0",
        prefix="t:",
        retry_after=5,
        clock=lambda: now[0],
        metrics=metrics,
    )
    tries = 0

    async def op(r: Redis) -> object:
        nonlocal tries
        tries += 1
        return await r.ping()

    caplog.set_level(logging.INFO, logger="mtasts.redis")
    try:
        assert await link.call("cache", op) is DOWN
        assert not link.up
        assert await link.call("cache", op) is DOWN  # within retry_after: not even tried
        assert tries == 1
        now[0] += 5
        assert await link.call("cache", op) is DOWN  # tried again (still not there)
        assert tries == 2
    finally:
        await link.aclose()
    warnings = [r for r in caplog.records if "redis unreachable" in r.getMessage()]
    assert len(warnings) == 1  # one line for the outage, not one per operation
    assert "hunter2" not in caplog.text
    assert sample(metrics, "mtasts_redis_up") == 0
    assert sample(metrics, "mtasts_redis_fallbacks_total", concern="cache") == 3


async def test_probe_says_what_is_wrong_without_the_address(dead_link: RedisLink) -> None:
    probed = await dead_link.probe()
    assert not probed.ok
    assert probed.details == {"error": "ConnectionError", "fallback": "in-process"}


async def test_probe_of_a_working_redis_brings_the_link_up(link: RedisLink) -> None:
    assert (await link.probe()).ok
    assert link.up


async def test_a_refused_command_falls_back_without_declaring_an_outage(
    link: RedisLink, caplog: pytest.LogCaptureFixture
) -> None:
    key = link.key("t", "list")

    async def wrong_type(r: Redis) -> object:
        await r.rpush(key, "x")
        await r.expire(key, 10)
        return await r.get(key)  # WRONGTYPE

    assert await link.call("test", wrong_type) is DOWN
    assert link.up
    assert "redis refused an operation concern=test error=ResponseError" in caplog.text


async def test_warm_opens_the_pool_or_says_redis_is_away(
    link: RedisLink, dead_link: RedisLink
) -> None:
    assert (await link.warm()).ok
    assert not (await dead_link.warm()).ok
