"""Getting reports for listeners: who may start a check, and a check that never raises.

A domain is *admitted* when its answer costs nothing (a cached report, or a
check of it already running) or when the rate limiter gives the person and
their workspace a token. `obtain` then returns the report or a message saying
why there is none; it never raises (except cancellation).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.checker.model import Report
from bot.slack.blocks.help_builder import build_error_message, build_rate_limited_message
from bot.slack.blocks.result_builder import build_result_message
from bot.slack.cache import Cached, CheckFailed
from bot.slack.services import Services


@dataclass(slots=True)
class Admission:
    allowed: list[str] = field(default_factory=list)
    limited: list[str] = field(default_factory=list)
    retry_after: float = 0.0  # the longest wait among the limited ones

    def limited_message(self) -> dict[str, Any]:
        wait = self.retry_after
        return build_rate_limited_message(math.ceil(wait) if math.isfinite(wait) else 60)


async def admit(
    services: Services,
    domains: Sequence[str],
    *,
    team: str | None,
    user: str | None,
    fresh: bool = False,
) -> Admission:
    """Decide, without waiting on the network, which domains may be answered now."""
    admission = Admission()
    for domain in domains:
        free = await services.cache.is_free(domain, fresh=fresh)
        wait = None if free else await services.limiter.acquire(team, user)
        if wait is None:
            admission.allowed.append(domain)
        else:
            admission.limited.append(domain)
            admission.retry_after = max(admission.retry_after, wait)
    return admission


@dataclass(frozen=True, slots=True)
class Outcome:
    domain: str
    report: Report | None = None
    age: float | None = None  # seconds, when the report came from the cache
    error: str | None = None  # for people, when there is no report

    def message(self) -> dict[str, Any]:
        """The result message, or an error message when the check broke."""
        if self.report is not None:
            return build_result_message(self.report, cached_age=self.age)
        return build_error_message(self.error or f"I couldn't check {self.domain}.")


async def obtain(services: Services, domain: str, *, fresh: bool = False) -> Outcome:
    """The report for `domain` (cached unless `fresh`), or why there is none. Never raises."""
    try:
        report, age = await services.cache.get_or_check(domain, fresh=fresh)
    except CheckFailed as exc:
        return Outcome(domain, error=f"{exc.message} Please try again in a minute.")
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        services.logger.exception("cache failed domain=%s", domain)
        return Outcome(
            domain,
            error=f"I couldn't check {domain} ({type(exc).__name__}). Please try again.",
        )
    services.metrics.cache_lookup(hit=age is not None)
    return Outcome(domain, report=report, age=age)


async def peek_cached(services: Services, domain: str) -> Cached | None:
    """A cached report to show at once (counted as a cache hit), or None."""
    cached = await services.cache.peek(domain)
    if cached is not None:
        services.metrics.cache_lookup(hit=True)
    return cached
