"""Token buckets per user and per workspace."""

from __future__ import annotations

import math

import pytest

from bot.slack.ratelimit import Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_user_burst_then_wait_then_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(user=Limit(3, 1.0), team=Limit(100, 10.0), clock=clock)
    assert [limiter.acquire("T1", "U1") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("T1", "U1")
    assert wait == pytest.approx(1.0)
    # Another user in the same workspace is not affected.
    assert limiter.acquire("T1", "U2") is None
    clock.now += 1.0
    assert limiter.acquire("T1", "U1") is None
    assert limiter.acquire("T1", "U1") == pytest.approx(1.0)


def test_workspace_limit_applies_across_users() -> None:
    clock = Clock()
    limiter = RateLimiter(user=Limit(10, 1.0), team=Limit(4, 0.5), clock=clock)
    for user in ("U1", "U2", "U3", "U4"):
        assert limiter.acquire("T1", user) is None
    assert limiter.acquire("T1", "U5") == pytest.approx(2.0)
    assert limiter.acquire("T2", "U5") is None  # another workspace has its own bucket


def test_refused_request_takes_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(user=Limit(1, 1.0), team=Limit(2, 0.001), clock=clock)
    assert limiter.acquire("T1", "U1") is None
    assert limiter.acquire("T1", "U1") is not None  # user empty; the team token is kept
    assert limiter.acquire("T1", "U2") is None  # so this one still gets the team's last


def test_buckets_refill_to_full_and_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(user=Limit(2, 1.0), team=Limit(100, 10.0), clock=clock)
    limiter.acquire("T1", "U1")
    limiter.acquire("T1", "U1")
    clock.now += 1000
    assert [limiter.acquire("T1", "U1") for _ in range(3)][:2] == [None, None]


def test_cost_larger_than_the_burst_is_never_allowed() -> None:
    limiter = RateLimiter(user=Limit(2, 1.0))
    assert limiter.acquire("T1", "U1", cost=3) == math.inf
