"""The token buckets in Redis: the in-process limiter's rules, held across instances."""

from __future__ import annotations

import math
from collections.abc import Callable

from redis.asyncio import Redis

from bot.slack.ratelimit import Limit
from bot.slack.shared.link import RedisLink
from bot.slack.shared.ratelimit import RedisRateLimiter


async def test_burst_then_a_wait_for_one_token_and_other_users_unaffected(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(3, 1 / 60), team=Limit(100, 10.0))
    assert [await limiter.acquire("T1", "U1") for _ in range(3)] == [None, None, None]
    wait = await limiter.acquire("T1", "U1")
    assert wait is not None
    assert 50 < wait <= 60  # one token at one a minute (less what passed meanwhile)
    assert await limiter.acquire("T1", "U2") is None
    assert await limiter.acquire("T2", "U1") is None  # U1 of another workspace


async def test_the_workspace_limit_applies_across_users(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(10, 1.0), team=Limit(4, 1 / 60))
    for user in ("U1", "U2", "U3", "U4"):
        assert await limiter.acquire("T1", user) is None
    assert await limiter.acquire("T1", "U5") is not None


async def test_a_refused_request_takes_nothing_from_either_bucket(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(1, 1 / 600), team=Limit(2, 1 / 600))
    assert await limiter.acquire("T1", "U1") is None
    assert await limiter.acquire("T1", "U1") is not None  # user empty; the team token is kept
    assert await limiter.acquire("T1", "U2") is None  # so this one still gets the team's last


async def test_a_person_s_limit_holds_across_instances(links: Callable[[], RedisLink]) -> None:
    user, team = Limit(4, 1 / 600), Limit(100, 10.0)
    instances = [RedisRateLimiter(links(), user=user, team=team) for _ in range(2)]
    answers = [await instances[i % 2].acquire("T1", "U1") for i in range(6)]
    assert answers[:4] == [None] * 4
    assert all(a is not None and a > 0 for a in answers[4:])


async def test_buckets_expire_once_they_would_be_full(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(2, 1.0), team=Limit(100, 50.0))
    assert await limiter.acquire("T1", "U1") is None
    keys = [link.key("rate", "user:T1:U1"), link.key("rate", "team:T1")]

    async def pttls(r: Redis) -> list[int]:
        return [await r.pttl(k) for k in keys]

    user_ttl, team_ttl = await link.call("t", pttls)  # type: ignore[misc]
    assert 0 < user_ttl <= 1001  # one token short: full again in a second
    assert 0 < team_ttl <= 21


async def test_more_than_a_burst_at_once_is_never_allowed(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(2, 1.0))
    assert await limiter.acquire("T1", "U1", cost=3) == math.inf


async def test_while_redis_is_away_the_limits_hold_in_this_process(dead_link: RedisLink) -> None:
    limiter = RedisRateLimiter(dead_link, user=Limit(2, 1 / 600), team=Limit(100, 10.0))
    assert [await limiter.acquire("T1", "U1") for _ in range(2)] == [None, None]
    assert await limiter.acquire("T1", "U1") is not None
