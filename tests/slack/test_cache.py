"""The result cache: TTL, one shared check per domain, failures reach every waiter."""

from __future__ import annotations

import asyncio

import pytest
from slack_harness import make_report

from bot.checker.model import Report
from bot.slack.cache import CheckFailed, MemoryResultCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Checker:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.entered = asyncio.Event()

    async def __call__(self, domain: str) -> Report:
        self.calls.append(domain)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return make_report(domain)


async def test_two_concurrent_requests_share_one_check() -> None:
    checker = Checker()
    checker.gate = asyncio.Event()
    cache = MemoryResultCache(checker, ttl=300)
    first = asyncio.create_task(cache.get_or_check("example.com"))
    second = asyncio.create_task(cache.get_or_check("example.com"))
    await checker.entered.wait()
    assert await cache.is_free("example.com", fresh=True)
    checker.gate.set()
    (r1, age1), (r2, age2) = await asyncio.gather(first, second)
    assert checker.calls == ["example.com"]
    assert r1 is r2
    assert age1 is None
    assert age2 is None
    assert not await cache.is_free("example.com", fresh=True)  # the in-flight entry is gone


async def test_cached_report_is_reused_with_its_age_until_the_ttl() -> None:
    clock, checker = Clock(), Checker()
    cache = MemoryResultCache(checker, ttl=300, clock=clock)
    report, age = await cache.get_or_check("example.com")
    assert age is None
    clock.now += 120
    again, age = await cache.get_or_check("example.com")
    assert again is report
    assert age == pytest.approx(120)
    cached = await cache.peek("example.com")
    assert cached is not None
    assert cached.age == pytest.approx(120)
    clock.now += 181  # 301 s after the check: expired
    assert await cache.peek("example.com") is None
    _, age = await cache.get_or_check("example.com")
    assert age is None
    assert checker.calls == ["example.com", "example.com"]


async def test_fresh_bypasses_the_cache_and_refreshes_it() -> None:
    clock, checker = Clock(), Checker()
    cache = MemoryResultCache(checker, ttl=300, clock=clock)
    await cache.get_or_check("example.com")
    clock.now += 100
    _, age = await cache.get_or_check("example.com", fresh=True)
    assert age is None
    assert checker.calls == ["example.com", "example.com"]
    cached = await cache.peek("example.com")
    assert cached is not None
    assert cached.age == 0


async def test_a_failing_check_reaches_every_waiter_as_a_message() -> None:
    checker = Checker()
    checker.gate = asyncio.Event()
    checker.error = RuntimeError("boom\nTraceback (most recent call last)")
    cache = MemoryResultCache(checker, ttl=300)
    waiters = [asyncio.create_task(cache.get_or_check("bad.example")) for _ in range(3)]
    await checker.entered.wait()
    checker.gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, CheckFailed) for r in results)
    assert all("bad.example" in str(r) and "Traceback" not in str(r) for r in results)
    assert checker.calls == ["bad.example"]
    assert not await cache.is_free("bad.example", fresh=True)
    assert await cache.peek("bad.example") is None  # failures are not cached
    checker.error = None
    report, _ = await cache.get_or_check("bad.example")
    assert report.domain == "bad.example"


async def test_a_hung_check_is_stopped_by_the_guard_timeout() -> None:
    checker = Checker()
    checker.gate = asyncio.Event()  # never set
    cache = MemoryResultCache(checker, ttl=300, check_timeout=0.05)
    with pytest.raises(CheckFailed, match="too long"):
        await cache.get_or_check("slow.example")
    assert not await cache.is_free("slow.example", fresh=True)


async def test_one_cancelled_waiter_does_not_cancel_the_shared_check() -> None:
    checker = Checker()
    checker.gate = asyncio.Event()
    cache = MemoryResultCache(checker, ttl=300)
    impatient = asyncio.create_task(cache.get_or_check("example.com"))
    patient = asyncio.create_task(cache.get_or_check("example.com"))
    await checker.entered.wait()
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    checker.gate.set()
    report, _ = await patient
    assert report.domain == "example.com"


async def test_size_is_bounded() -> None:
    cache = MemoryResultCache(Checker(), ttl=300, maxsize=3)
    for i in range(5):
        await cache.get_or_check(f"d{i}.example")
    present = [i for i in range(5) if await cache.peek(f"d{i}.example") is not None]
    assert len(present) == 3


async def test_ttl_zero_disables_reuse() -> None:
    checker = Checker()
    cache = MemoryResultCache(checker, ttl=0)
    await cache.get_or_check("example.com")
    await cache.get_or_check("example.com")
    assert checker.calls == ["example.com", "example.com"]


async def test_aclose_cancels_running_checks_and_waiters_get_a_message() -> None:
    checker = Checker()
    checker.gate = asyncio.Event()
    cache = MemoryResultCache(checker, ttl=300)
    waiter = asyncio.create_task(cache.get_or_check("example.com"))
    await checker.entered.wait()
    await cache.aclose()
    with pytest.raises(CheckFailed, match="cancelled"):
        await waiter
