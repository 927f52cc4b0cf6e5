"""The result cache in Redis: reports shared between instances, one check per domain
across them, failures and stops handed on, every key expiring."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from redis.asyncio import Redis
from slack_harness import FakeChecker, make_report

from bot.metrics import Metrics
from bot.slack.cache import CheckFailed
from bot.slack.shared.cache import RedisResultCache
from bot.slack.shared.link import RedisLink


def cache(link: RedisLink, checker: FakeChecker, *, ttl: float = 300) -> RedisResultCache:
    return RedisResultCache(checker, link, ttl=ttl, check_timeout=10, metrics=Metrics())


async def joining(instance: RedisResultCache, domain: str, *, fresh: bool = False) -> asyncio.Task:
    """Start `get_or_check` and return once it waits for another instance's check."""
    joined = asyncio.Event()
    instance.on_join = lambda d: joined.set() if d == domain else None
    task = asyncio.create_task(instance.get_or_check(domain, fresh=fresh))
    await asyncio.wait_for(joined.wait(), 10)
    return task


async def keys_of(link: RedisLink) -> dict[str, int]:
    """This test's keys and their remaining lifetimes (ms)."""

    async def scan(r: Redis) -> dict[str, int]:
        return {k: await r.pttl(k) async for k in r.scan_iter(match=link.prefix + "*")}

    found = await link.call("t", scan)
    assert isinstance(found, dict)
    return found


async def test_a_report_checked_by_one_instance_is_served_by_another(
    links: Callable[[], RedisLink],
) -> None:
    one_checker, two_checker = FakeChecker(), FakeChecker()
    one, two = cache(links(), one_checker), cache(links(), two_checker)
    report, age = await one.get_or_check("shared.example")
    assert age is None
    again, age = await two.get_or_check("shared.example")
    assert again == report
    assert age is not None
    assert age >= 0
    assert (one_checker.calls, two_checker.calls) == (["shared.example"], [])
    assert (await two.peek("shared.example")) is not None


async def test_a_domain_being_checked_on_one_instance_is_not_checked_again_by_another(
    links: Callable[[], RedisLink],
) -> None:
    one_checker, two_checker = FakeChecker(), FakeChecker()
    gate = one_checker.hold("slow.example")
    one, two = cache(links(), one_checker), cache(links(), two_checker)
    first = asyncio.create_task(one.get_or_check("slow.example"))
    await one_checker.started.wait()
    assert await two.is_free("slow.example", fresh=True)  # free to join: no rate limit token
    second = await joining(two, "slow.example")
    third = asyncio.create_task(two.get_or_check("slow.example", fresh=True))  # joins too
    gate.set()
    results = await asyncio.wait_for(asyncio.gather(first, second, third), 10)
    assert [age for _, age in results] == [None, None, None]
    assert results[0][0] == results[1][0] == results[2][0]
    assert (one_checker.calls, two_checker.calls) == (["slow.example"], [])
    assert not await two.is_free("slow.example", fresh=True)


async def test_a_failed_check_fails_for_the_instances_that_joined_it(
    links: Callable[[], RedisLink],
) -> None:
    one_checker, two_checker = FakeChecker(), FakeChecker()
    one_checker.failing.add("bug.example")
    gate = one_checker.hold("bug.example")
    one, two = cache(links(), one_checker), cache(links(), two_checker)
    first = asyncio.create_task(one.get_or_check("bug.example"))
    await one_checker.started.wait()
    second = await joining(two, "bug.example")
    gate.set()
    for task in (first, second):
        with pytest.raises(CheckFailed, match="failed unexpectedly"):
            await asyncio.wait_for(task, 10)
    assert two_checker.calls == []
    assert await two.peek("bug.example") is None  # failures are not cached


async def test_an_instance_stopped_mid_check_lets_the_next_one_check(
    links: Callable[[], RedisLink],
) -> None:
    one_checker, two_checker = FakeChecker(), FakeChecker()
    one_checker.hold("stuck.example")
    one, two = cache(links(), one_checker), cache(links(), two_checker)
    first = asyncio.create_task(one.get_or_check("stuck.example"))
    await one_checker.started.wait()
    second = await joining(two, "stuck.example")
    await one.aclose()  # shutdown: its check is cancelled and its lock let go
    with pytest.raises(CheckFailed, match="cancelled"):
        await first
    report, age = await asyncio.wait_for(second, 10)
    assert report.domain == "stuck.example"
    assert age is None
    assert two_checker.calls == ["stuck.example"]


async def test_fresh_checks_again_and_refreshes_the_shared_copy(
    links: Callable[[], RedisLink],
) -> None:
    checker = FakeChecker()
    one, two = cache(links(), checker), cache(links(), checker)
    await one.get_or_check("a.example")
    report, age = await two.get_or_check("a.example", fresh=True)
    assert age is None
    assert checker.calls == ["a.example", "a.example"]
    cached = await one.peek("a.example")
    assert cached is not None
    assert cached.report == report


async def test_every_key_expires_and_the_lock_is_gone_after_a_check(link: RedisLink) -> None:
    one = cache(link, FakeChecker(), ttl=120)
    await one.get_or_check("keys.example")
    found = await keys_of(link)
    assert set(found) == {
        link.key("cache", "result:keys.example"),
        *(k for k in found if ":outcome:" in k),
    }
    assert len(found) == 2  # the result and the outcome; no lock left behind
    assert all(0 < ttl <= 120_000 for ttl in found.values())


async def test_ttl_zero_keeps_no_result_but_still_shares_a_running_check(
    links: Callable[[], RedisLink],
) -> None:
    one_checker, two_checker = FakeChecker(), FakeChecker()
    gate = one_checker.hold("x.example")
    one, two = cache(links(), one_checker, ttl=0), cache(links(), two_checker, ttl=0)
    first = asyncio.create_task(one.get_or_check("x.example"))
    await one_checker.started.wait()
    second = await joining(two, "x.example")
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert two_checker.calls == []
    assert await two.peek("x.example") is None
    await two.get_or_check("x.example")
    assert two_checker.calls == ["x.example"]


async def test_an_unreadable_entry_is_checked_again_not_shown(link: RedisLink) -> None:
    checker = FakeChecker()
    one = cache(link, checker)
    key = link.key("cache", "result:odd.example")

    async def plant(r: Redis) -> object:
        entry = {"at": 0, "report": {**make_report("odd.example").to_json(), "mx": "?"}}
        return await r.set(key, json.dumps(entry), px=60_000)

    await link.call("t", plant)
    assert await one.peek("odd.example") is None
    report, age = await one.get_or_check("odd.example")
    assert (report.domain, age, checker.calls) == ("odd.example", None, ["odd.example"])


async def test_while_redis_is_away_checks_and_reuse_happen_in_this_process(
    dead_link: RedisLink,
) -> None:
    checker = FakeChecker()
    away = cache(dead_link, checker)
    report, age = await away.get_or_check("a.example")
    assert age is None
    again, age = await away.get_or_check("a.example")
    assert again is report
    assert age is not None
    assert checker.calls == ["a.example"]
    assert await away.peek("a.example") is not None
    await away.aclose()


async def test_is_free_says_whether_an_answer_costs_a_check(
    links: Callable[[], RedisLink],
) -> None:
    one, two = cache(links(), FakeChecker()), cache(links(), FakeChecker())
    assert not await two.is_free("free.example")
    await one.get_or_check("free.example")
    assert await two.is_free("free.example")  # cached by the other instance
    assert not await two.is_free("free.example", fresh=True)  # a re-check is not free
