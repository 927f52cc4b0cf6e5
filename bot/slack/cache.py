"""Result cache: reuse a recent report, and share one check among concurrent askers.

`ResultCache` is the interface the listeners use. `MemoryResultCache` keeps
reports in this process (one instance); `RedisResultCache`
(bot/slack/shared/cache.py) shares them, and running checks, between
instances, and falls back to a `MemoryResultCache` while Redis is away.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from cachetools import TTLCache

from bot.checker.model import Report
from bot.metrics import Metrics

CheckFn = Callable[[str], Awaitable[Report]]
Clock = Callable[[], float]
T = TypeVar("T")

DEFAULT_MAXSIZE = 2048

log = logging.getLogger(__name__)


class CheckFailed(Exception):
    """The check itself broke (a bug or a hang, not a finding); the message is for people."""

    def __init__(self, domain: str, message: str) -> None:
        super().__init__(message)
        self.domain = domain
        self.message = message


def timed_out(domain: str) -> CheckFailed:
    """A check of `domain` that took too long (run here, or awaited from another instance)."""
    return CheckFailed(domain, f"The check of {domain} took too long and was stopped.")


@dataclass(frozen=True, slots=True)
class Cached:
    report: Report
    age: float  # seconds since the check finished


class ResultCache(Protocol):
    async def peek(self, domain: str) -> Cached | None:
        """The cached report for `domain`, if one is fresh enough; never checks."""
        ...

    async def is_free(self, domain: str, *, fresh: bool = False) -> bool:
        """Whether answering for `domain` costs no check: a check of it is running (to
        join), or, unless `fresh`, a cached report is there. Cheaper than `peek`."""
        ...

    async def get_or_check(
        self, domain: str, *, fresh: bool = False
    ) -> tuple[Report, float | None]:
        """The report and its age in seconds (None when checked for this call).

        With `fresh`, the cache is bypassed (a check already running is joined).
        Raises CheckFailed when the check broke.
        """
        ...

    async def aclose(self) -> None:
        """Cancel checks still running (at shutdown)."""
        ...


async def run_check(
    check: CheckFn, domain: str, *, limit: float | None, metrics: Metrics | None = None
) -> Report:
    """One check, stopped after `limit` seconds; a hang or a crash becomes CheckFailed."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            report = await check(domain)
    except TimeoutError:
        log.warning("check timed out domain=%s", domain)
        _count(metrics, "error", start)
        raise timed_out(domain) from None
    except Exception as exc:
        log.exception("check failed domain=%s", domain)
        _count(metrics, "error", start)
        raise CheckFailed(
            domain,
            f"The check of {domain} failed unexpectedly ({type(exc).__name__}).",
        ) from exc
    _count(metrics, report.status, start)
    return report


def _count(metrics: Metrics | None, status: str, start: float) -> None:
    if metrics is not None:
        metrics.check_done(status, time.perf_counter() - start)


def close_check(check: CheckFn) -> None:
    """Release what the check function holds (e.g. the worker process checks run in)."""
    close = getattr(check, "close", None)
    if callable(close):
        close()


class SingleFlight(Generic[T]):
    """One running task per domain, joined by every caller.

    A caller that is cancelled does not cancel the others' task (it is shielded);
    the task itself cancelled (at shutdown) is CheckFailed for everyone waiting.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[T]] = {}

    def __contains__(self, domain: str) -> bool:
        return domain in self._tasks

    async def join(self, domain: str, start: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._tasks.get(domain)
        if task is None:
            task = asyncio.create_task(start(), name=f"mtasts-check:{domain}")
            self._tasks[domain] = task  # the strong reference, until done
            task.add_done_callback(functools.partial(self._done, domain))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise CheckFailed(domain, f"The check of {domain} was cancelled.") from None
            raise

    def _done(self, domain: str, task: asyncio.Task[T]) -> None:
        if self._tasks.get(domain) is task:
            del self._tasks[domain]
        if not task.cancelled():
            task.exception()  # mark retrieved: every waiter got it already

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class MemoryResultCache:
    """In-process cache on a TTLCache, with one shared in-flight check per domain."""

    def __init__(
        self,
        check: CheckFn,
        *,
        ttl: float,
        maxsize: int = DEFAULT_MAXSIZE,
        check_timeout: float | None = None,
        clock: Clock = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._check = check
        self._clock = clock
        self._ttl = ttl
        self._check_timeout = check_timeout
        self._metrics = metrics
        # ttl 0 disables reuse; TTLCache needs a positive ttl, so keep nothing then.
        self._results: TTLCache[str, tuple[Report, float]] = TTLCache(
            maxsize=maxsize, ttl=max(ttl, 1e-9), timer=clock
        )
        self._inflight: SingleFlight[Report] = SingleFlight()

    async def peek(self, domain: str) -> Cached | None:
        if self._ttl <= 0:
            return None
        entry = self._results.get(domain)
        if entry is None:
            return None
        report, finished = entry
        return Cached(report, max(0.0, self._clock() - finished))

    async def is_free(self, domain: str, *, fresh: bool = False) -> bool:
        return domain in self._inflight or (not fresh and await self.peek(domain) is not None)

    async def get_or_check(
        self, domain: str, *, fresh: bool = False
    ) -> tuple[Report, float | None]:
        if not fresh and (cached := await self.peek(domain)) is not None:
            return cached.report, cached.age
        report = await self._inflight.join(domain, functools.partial(self._run, domain))
        return report, None

    async def _run(self, domain: str) -> Report:
        report = await run_check(
            self._check, domain, limit=self._check_timeout, metrics=self._metrics
        )
        if self._ttl > 0:
            self._results[domain] = (report, self._clock())
        return report

    async def aclose(self) -> None:
        """Cancel checks still running (at shutdown)."""
        await self._inflight.aclose()
        close_check(self._check)  # e.g. the worker process the checks run in
