"""Result cache: reuse a recent report, and share one check among concurrent askers.

`ResultCache` is the interface the listeners use, so a shared cache (e.g.
Redis) can replace the in-process `MemoryResultCache` later.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache

from bot.checker.model import Report

CheckFn = Callable[[str], Awaitable[Report]]
Clock = Callable[[], float]

DEFAULT_MAXSIZE = 2048

log = logging.getLogger(__name__)


class CheckFailed(Exception):
    """The check itself broke (a bug or a hang, not a finding); the message is for people."""

    def __init__(self, domain: str, message: str) -> None:
        super().__init__(message)
        self.domain = domain
        self.message = message


@dataclass(frozen=True, slots=True)
class Cached:
    report: Report
    age: float  # seconds since the check finished


class ResultCache(Protocol):
    async def peek(self, domain: str) -> Cached | None:
        """The cached report for `domain`, if one is fresh enough; never checks."""
        ...

    def is_pending(self, domain: str) -> bool:
        """Whether a check of `domain` is running right now (joining it costs nothing)."""
        ...

    async def get_or_check(
        self, domain: str, *, fresh: bool = False
    ) -> tuple[Report, float | None]:
        """The report and its age in seconds (None when checked for this call).

        With `fresh`, the cache is bypassed (a check already running is joined).
        Raises CheckFailed when the check broke.
        """
        ...


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
    ) -> None:
        self._check = check
        self._clock = clock
        self._ttl = ttl
        self._check_timeout = check_timeout
        # ttl 0 disables reuse; TTLCache needs a positive ttl, so keep nothing then.
        self._results: TTLCache[str, tuple[Report, float]] = TTLCache(
            maxsize=maxsize, ttl=max(ttl, 1e-9), timer=clock
        )
        self._inflight: dict[str, asyncio.Task[Report]] = {}

    async def peek(self, domain: str) -> Cached | None:
        if self._ttl <= 0:
            return None
        entry = self._results.get(domain)
        if entry is None:
            return None
        report, finished = entry
        return Cached(report, max(0.0, self._clock() - finished))

    def is_pending(self, domain: str) -> bool:
        return domain in self._inflight

    async def get_or_check(
        self, domain: str, *, fresh: bool = False
    ) -> tuple[Report, float | None]:
        if not fresh and (cached := await self.peek(domain)) is not None:
            return cached.report, cached.age
        task = self._inflight.get(domain)
        if task is None:
            task = asyncio.create_task(self._run(domain), name=f"mtasts-check:{domain}")
            self._inflight[domain] = task  # the strong reference, until done
            task.add_done_callback(functools.partial(self._done, domain))
        try:
            # shield: one impatient waiter being cancelled does not cancel the others' check
            report = await asyncio.shield(task)
        except CheckFailed:
            raise
        except asyncio.CancelledError:
            if task.cancelled():
                raise CheckFailed(domain, f"The check of {domain} was cancelled.") from None
            raise
        return report, None

    async def _run(self, domain: str) -> Report:
        try:
            async with asyncio.timeout(self._check_timeout):
                report = await self._check(domain)
        except TimeoutError:
            log.warning("check timed out domain=%s", domain)
            raise CheckFailed(
                domain, f"The check of {domain} took too long and was stopped."
            ) from None
        except Exception as exc:
            log.exception("check failed domain=%s", domain)
            raise CheckFailed(
                domain,
                f"The check of {domain} failed unexpectedly ({type(exc).__name__}).",
            ) from exc
        if self._ttl > 0:
            self._results[domain] = (report, self._clock())
        return report

    def _done(self, domain: str, task: asyncio.Task[Report]) -> None:
        if self._inflight.get(domain) is task:
            del self._inflight[domain]
        if not task.cancelled():
            task.exception()  # mark retrieved: every waiter got it already

    async def aclose(self) -> None:
        """Cancel checks still running (at shutdown)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        close = getattr(self._check, "close", None)
        if callable(close):
            close()  # e.g. the worker thread the checks run on
