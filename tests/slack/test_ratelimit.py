"""Token buckets per user and per workspace."""

from __future__ import annotations

import math

import pytest

from bot.slack.ratelimit import Limit, MemoryRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


async def test_user_burst_then_wait_then_refill() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(user=Limit(3, 1.0), team=Limit(100, 10.0), clock=clock)
    assert [await limiter.acquire("T1", "U1") for _ in range(3)] == [None, None, None]
    wait = await limiter.acquire("T1", "U1")
    assert wait == pytest.approx(1.0)
    # Another user in the same workspace is not affected.
    assert await limiter.acquire("T1", "U2") is None
    clock.now += 1.0
    assert await limiter.acquire("T1", "U1") is None
    assert await limiter.acquire("T1", "U1") == pytest.approx(1.0)


async def test_workspace_limit_applies_across_users() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(user=Limit(10, 1.0), team=Limit(4, 0.5), clock=clock)
    for user in ("U1", "U2", "U3", "U4"):
        assert await limiter.acquire("T1", user) is None
    assert await limiter.acquire("T1", "U5") == pytest.approx(2.0)
    assert await limiter.acquire("T2", "U5") is None  # another workspace has its own bucket


async def test_refused_request_takes_nothing() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(user=Limit(1, 1.0), team=Limit(2, 0.001), clock=clock)
    assert await limiter.acquire("T1", "U1") is None
    assert await limiter.acquire("T1", "U1") is not None  # user empty; the team token is kept
    assert await limiter.acquire("T1", "U2") is None  # so this one still gets the team's last


async def test_buckets_refill_to_full_and_are_forgotten() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(user=Limit(2, 1.0), team=Limit(100, 10.0), clock=clock)
    await limiter.acquire("T1", "U1")
    await limiter.acquire("T1", "U1")
    clock.now += 1000
    assert [await limiter.acquire("T1", "U1") for _ in range(3)][:2] == [None, None]


async def test_cost_larger_than_the_burst_is_never_allowed() -> None:
    limiter = MemoryRateLimiter(user=Limit(2, 1.0))
    assert await limiter.acquire("T1", "U1", cost=3) == math.inf
