"""The one connection to Redis an instance shares its state through, and its outages.

Every Redis operation goes through `RedisLink.call(concern, op)`, which returns
the operation's result or `DOWN`; on `DOWN` the caller does the work in this
process instead (each concern has an in-process fallback). Redis being away
must not slow acknowledgements down (Slack allows 3 s), so:

- every socket operation has a short timeout (REDIS_TIMEOUT; Redis answers in
  well under a millisecond on a LAN) and is retried once, at once (a pooled
  connection broken by a Redis restart is replaced on the retry);
- the connections are a fixed pool (POOL_SIZE), opened at start-up (`warm()`):
  opening one costs redis-py a few round trips and a couple of milliseconds of
  CPU, which a burst of 50 requests each opening its own would spend all at
  once, in front of their acknowledgements; an operation waits for a free
  connection instead (operations take well under a millisecond);
- after an outage error the link stays *down* for RETRY_AFTER seconds: calls
  return `DOWN` at once without touching the network; the first call after
  that tries Redis again, and success brings the link back up;
- the transitions are logged once each (a warning when Redis goes away, a line
  when it is back), never per operation, and `mtasts_redis_up` follows them.

Keys are `<prefix><namespace>:<key>` (MTASTS_REDIS_PREFIX, default `mtasts:`),
so several apps or test runs can share a server; every key is written with
an expiry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Literal, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import BusyLoadingError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.health import Probed
from bot.metrics import Metrics

REDIS_TIMEOUT = 0.5  # seconds per socket operation (connect, send, read)
POOL_SIZE = 16  # connections per instance
CALL_TIMEOUT = 1.5  # seconds for a whole call, its one retry included
RETRY_AFTER = 5.0  # seconds the link stays down before Redis is tried again
DEFAULT_PREFIX = "mtasts:"

# Errors that mean Redis is not there (as opposed to refusing one command).
OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError, TimeoutError)

T = TypeVar("T")
Clock = Callable[[], float]

log = logging.getLogger("mtasts.redis")


class Down(Enum):
    DOWN = "down"


DOWN: Literal[Down.DOWN] = Down.DOWN


def connect(url: str) -> Redis:
    """A client for `url` with this module's timeouts (no connection is made yet)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=CALL_TIMEOUT,  # waiting for a free connection
        decode_responses=True,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 1),
    )
    return Redis(connection_pool=pool)


class RedisLink:
    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        retry_after: float = RETRY_AFTER,
        clock: Clock = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.retry_after = retry_after  # public: tests set 0 to try again at once
        self._clock = clock
        self._metrics = metrics
        self._down_until: float | None = None  # None: up (as far as we know)
        if metrics is not None:
            metrics.redis_state(True)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> RedisLink:
        return cls(connect(url), **kw)

    def key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}{namespace}:{key}"

    @property
    def up(self) -> bool:
        """Whether Redis answered the last time it was asked."""
        return self._down_until is None

    async def call(
        self, concern: str, op: Callable[[Redis], Awaitable[T]]
    ) -> T | Literal[Down.DOWN]:
        """`op(client)`'s result, or DOWN when Redis is (or has just been found) away."""
        if self._down_until is not None and self._clock() < self._down_until:
            return self._fallback(concern)
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                result = await op(self.client)
        except OUTAGE_ERRORS as exc:
            self._went_down(exc)
            return self._fallback(concern)
        except RedisError as exc:  # Redis is there but refused this (a bug, or a full server)
            log.error("redis refused an operation concern=%s error=%s", concern, _name(exc))
            return self._fallback(concern)
        self._came_up()
        return result

    async def probe(self) -> Probed:
        """For /healthz: PING now (whatever the last call said), and record what it says."""
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                await self.client.ping()
        except (*OUTAGE_ERRORS, RedisError) as exc:
            self._went_down(exc)
            return Probed(False, {"error": _name(exc), "fallback": "in-process"})
        self._came_up()
        return Probed(True)

    async def warm(self) -> Probed:
        """At start-up: open the whole pool now (a PING on each connection), and say
        whether Redis answered (logged once if not)."""

        async def ping(r: Redis) -> object:
            return await r.ping()

        results = await asyncio.gather(*(self.call("warm", ping) for _ in range(POOL_SIZE)))
        if any(result is DOWN for result in results):
            return await self.probe()
        return Probed(True)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.client.connection_pool.disconnect()

    def _fallback(self, concern: str) -> Literal[Down.DOWN]:
        if self._metrics is not None:
            self._metrics.redis_fallback(concern)
        return DOWN

    def _went_down(self, exc: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "redis unreachable: shared state falls back to this process error=%s",
                _name(exc),
            )
            if self._metrics is not None:
                self._metrics.redis_state(False)
        self._down_until = self._clock() + self.retry_after

    def _came_up(self) -> None:
        if self._down_until is not None:
            log.info("redis reachable again: shared state is back in redis")
            if self._metrics is not None:
                self._metrics.redis_state(True)
        self._down_until = None


def _name(exc: BaseException) -> str:
    """An error's type only: redis' messages can carry the server's address."""
    return type(exc).__name__
