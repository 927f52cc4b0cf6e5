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


async def test_admit_takes_a_token_only_for_domains_that_are_not_free(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(2, 1 / 600), team=Limit(100, 10.0))
    cached, running = link.key("cache", "result:a.example"), link.key("cache", "checking:b")

    async def arrange(r: Redis) -> None:
        await r.set(cached, "x", px=60_000)
        await r.set(running, "token", px=60_000)

    await link.call("t", arrange)
    free_keys = [
        [link.key("cache", "checking:a.example"), cached],  # cached: free
        [running],  # being checked: free
        None,  # checked on this instance: free
        [link.key("cache", "checking:c"), link.key("cache", "result:c")],  # a token
        [link.key("cache", "checking:d")],  # a token (fresh: results do not count)
        [link.key("cache", "checking:e")],  # none left: the wait (one token at 1/600 s)
    ]
    waits = await limiter.admit(free_keys, "T1", "U1")
    assert waits[:5] == [None] * 5  # type: ignore[index]
    assert 590 < waits[5] <= 600  # type: ignore[index,operator]
    assert await limiter.acquire("T1", "U1") is not None  # the two tokens are gone


async def test_admit_is_one_round_trip_for_five_domains(link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, user=Limit(10, 1.0), team=Limit(100, 10.0))
    calls: list[str] = []
    original = link.call

    async def counting(concern: str, op):  # type: ignore[no-untyped-def]
        calls.append(concern)
        return await original(concern, op)

    link.call = counting  # type: ignore[method-assign]
    keys = [[link.key("cache", f"checking:d{n}")] for n in range(5)]
    assert await limiter.admit(keys, "T1", "U1") == [None] * 5
    assert calls == ["rate"]
