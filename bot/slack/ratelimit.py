"""Per-user and per-workspace limits on checks (answers from the cache are free).

Token buckets keyed by user and by team: `burst` checks at once, refilled at
`per_second`. A check takes a token from both buckets or from neither.
`MemoryRateLimiter` keeps them in TTL caches in this process (a bucket unused
for long enough to refill completely is dropped, which is the same as full);
`RedisRateLimiter` (bot/slack/shared/ratelimit.py) keeps the same buckets in
Redis, so limits hold across instances.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Limit:
    burst: int  # checks allowed at once
    per_second: float  # refill rate

    @property
    def refill_time(self) -> float:
        return self.burst / self.per_second


USER_LIMIT = Limit(burst=10, per_second=10 / 60)  # 10 at once, then 10 a minute
TEAM_LIMIT = Limit(burst=60, per_second=1.0)  # 60 at once, then one a second


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class _Buckets:
    def __init__(self, limit: Limit, clock: Clock, maxsize: int) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: TTLCache[str, _Bucket] = TTLCache(
            maxsize=maxsize, ttl=limit.refill_time, timer=clock
        )

    def _current(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            return _Bucket(float(self.limit.burst), now)
        tokens = min(
            float(self.limit.burst), bucket.tokens + (now - bucket.updated) * self.limit.per_second
        )
        return _Bucket(tokens, now)

    def wait_time(self, key: str, cost: int) -> float:
        """Seconds until `cost` tokens are available (0 when they are now)."""
        bucket = self._current(key)
        missing = cost - bucket.tokens
        return 0.0 if missing <= 1e-9 else missing / self.limit.per_second

    def take(self, key: str, cost: int) -> None:
        bucket = self._current(key)
        bucket.tokens -= cost
        self._buckets[key] = bucket  # (re)sets its expiry: it is full again by then


class RateLimiter(Protocol):
    async def acquire(self, team: str | None, user: str | None, cost: int = 1) -> float | None:
        """Take `cost` checks; None when allowed, else the seconds to wait (nothing taken)."""
        ...


def bucket_names(team: str | None, user: str | None) -> tuple[str, str]:
    """The (team, user) bucket names; a user's bucket is within their workspace."""
    return team or "-", f"{team or '-'}:{user or '-'}"


def over_burst(cost: int, user: Limit, team: Limit) -> bool:
    """More at once than a bucket ever holds: never allowed."""
    return cost > user.burst or cost > team.burst


class MemoryRateLimiter:
    """`acquire(team, user)` takes one check from both buckets, or says how long to wait."""

    def __init__(
        self,
        *,
        user: Limit = USER_LIMIT,
        team: Limit = TEAM_LIMIT,
        clock: Clock = time.monotonic,
        maxsize: int = 10_000,
    ) -> None:
        self._users = _Buckets(user, clock, maxsize)
        self._teams = _Buckets(team, clock, maxsize)

    async def acquire(self, team: str | None, user: str | None, cost: int = 1) -> float | None:
        """Take `cost` checks; None when allowed, else the seconds to wait (nothing taken)."""
        team_key, user_key = bucket_names(team, user)
        if over_burst(cost, self._users.limit, self._teams.limit):
            return math.inf
        wait = max(self._users.wait_time(user_key, cost), self._teams.wait_time(team_key, cost))
        if wait > 0:
            return wait
        self._users.take(user_key, cost)
        self._teams.take(team_key, cost)
        return None
