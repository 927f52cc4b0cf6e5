"""The result cache in Redis: a report checked by one instance is reused by all, and a
domain being checked on one instance is not checked again by another meanwhile.

Keys (all with an expiry):
- `result:<domain>`: `{"at": <unix time>, "report": <the JSON report>}` for the
  cache TTL (none when MTASTS_CACHE_TTL is 0);
- `checking:<domain>`: the token of the instance checking it, a lock that
  expires after the longest a check may take (so an instance that dies
  mid-check holds nobody up for longer than that);
- `outcome:<token>`: that check's outcome, the report or why it failed, for
  OUTCOME_TTL seconds: what the instances that joined the check read.

An instance that finds the lock taken polls the outcome (from 20 ms, backing
off to 0.5 s): checks take from a tenth of a second to several seconds, so
this costs a handful of GETs and at most a fraction of a check's time, and
needs no subscription to keep alive. If the lock goes without an outcome
(its instance died or was stopped), the next waiter checks itself.

Within one instance, concurrent askers share one task per domain
(`SingleFlight`), as in process, and an entry read again unchanged is not
decoded again (the last DECODED entries are kept by their text): reading a
report back costs more CPU than fetching it, and a popular cached domain is
read by every ask. While Redis is away everything goes to an
in-process `MemoryResultCache` (its own reports, for this instance only).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache
from redis.asyncio import Redis

from bot.checker.model import Report, ReportJsonError, report_from_json
from bot.metrics import Metrics
from bot.slack.cache import (
    DEFAULT_MAXSIZE,
    Cached,
    CheckFailed,
    CheckFn,
    Clock,
    MemoryResultCache,
    SingleFlight,
    run_check,
    timed_out,
)
from bot.slack.shared.link import DOWN, RedisLink

CONCERN = "cache"
OUTCOME_TTL = 60.0  # seconds an outcome waits for the instances that joined its check
POLL_FIRST = 0.02
POLL_MAX = 0.5
LOCK_MARGIN = 1.0  # seconds the lock outlives the longest check
DECODED = 256  # entries kept decoded, by their text

# KEYS: lock, outcome, result. ARGV: token, entry, outcome ttl ms, result ttl ms (0: not
# cached). The lock is released only if it is still this check's.
FINISH_SCRIPT = """
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '0' then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: lock, result. ARGV: token, lock ttl ms, '1' when a cached result will do.
# One round trip for what an ask needs: {'cached', entry}, {'holder', token} when another
# check is running, or {'mine'} when the lock is now this ask's.
ACQUIRE_SCRIPT = """
if ARGV[3] == '1' then
  local cached = redis.call('GET', KEYS[2])
  if cached then return {'cached', cached} end
end
local holder = redis.call('GET', KEYS[1])
if holder then return {'holder', holder} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {'mine'}
"""

log = logging.getLogger(__name__)

Obtained = tuple[Report, float | None]


class RedisResultCache:
    def __init__(
        self,
        check: CheckFn,
        link: RedisLink,
        *,
        ttl: float,
        check_timeout: float,
        maxsize: int = DEFAULT_MAXSIZE,
        wall: Clock = time.time,
        metrics: Metrics | None = None,
    ) -> None:
        self._check = check
        self._link = link
        self._ttl = ttl
        self._check_timeout = check_timeout
        self._wall = wall
        self._metrics = metrics
        self._local = MemoryResultCache(  # while Redis is away
            check, ttl=ttl, maxsize=maxsize, check_timeout=check_timeout, metrics=metrics
        )
        self._inflight: SingleFlight[Obtained] = SingleFlight()
        self._decoded: LRUCache[str | bytes, dict[str, Any]] = LRUCache(maxsize=DECODED)
        # Called with the domain when this instance starts waiting for another's check.
        self.on_join: Callable[[str], None] | None = None
        client = link.client
        self._acquire = client.register_script(ACQUIRE_SCRIPT)
        self._finish = client.register_script(FINISH_SCRIPT)
        self._release = client.register_script(RELEASE_SCRIPT)

    def _result_key(self, domain: str) -> str:
        return self._link.key(CONCERN, f"result:{domain}")

    def _lock_key(self, domain: str) -> str:
        return self._link.key(CONCERN, f"checking:{domain}")

    def _outcome_key(self, token: str) -> str:
        return self._link.key(CONCERN, f"outcome:{token}")

    async def peek(self, domain: str) -> Cached | None:
        if self._ttl <= 0:
            return None
        key = self._result_key(domain)

        async def get(r: Redis) -> str | bytes | None:
            return await r.get(key)

        raw = await self._link.call(CONCERN, get)
        if raw is DOWN:
            return await self._local.peek(domain)
        return self._cached(domain, raw)

    def _cached(self, domain: str, raw: str | bytes | None) -> Cached | None:
        """A stored result entry as a Cached, or None (absent or unreadable)."""
        if raw is None:
            return None
        entry = self._decode(domain, raw)
        if entry is None or "report" not in entry:
            return None
        age = max(0.0, self._wall() - float(entry.get("at", 0.0)))
        return Cached(entry["report"], age)

    def free_keys(self, domain: str, *, fresh: bool = False) -> list[str] | None:
        """The keys whose existence makes answering `domain` free (a running check to join,
        a cached result); None when it is free already (this instance is checking it)."""
        if domain in self._inflight:
            return None
        keys = [self._lock_key(domain)]
        if not fresh and self._ttl > 0:
            keys.append(self._result_key(domain))
        return keys

    async def is_free(self, domain: str, *, fresh: bool = False) -> bool:
        keys = self.free_keys(domain, fresh=fresh)
        if keys is None:
            return True

        async def exists(r: Redis) -> int:
            return await r.exists(*keys)  # one round trip, nothing decoded

        found = await self._link.call(CONCERN, exists)
        if found is DOWN:
            return await self._local.is_free(domain, fresh=fresh)
        return bool(found)

    async def get_or_check(
        self, domain: str, *, fresh: bool = False
    ) -> tuple[Report, float | None]:
        # The cached report, if any, comes with the lock attempt (one round trip).
        report, age = await self._join(domain, fresh)
        if fresh and age is not None:  # joined an ask that found a cached report: check anew
            report, age = await self._join(domain, True)
        return report, age

    async def _join(self, domain: str, fresh: bool) -> Obtained:
        return await self._inflight.join(domain, functools.partial(self._obtain, domain, fresh))

    async def _obtain(self, domain: str, fresh: bool) -> Obtained:
        """Check `domain` here, or wait for the instance already checking it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._check_timeout + LOCK_MARGIN
        lock = self._lock_key(domain)
        lock_ms = int((self._check_timeout + LOCK_MARGIN) * 1000)
        keys = [lock, self._result_key(domain)]
        use_cached = "1" if not fresh and self._ttl > 0 else "0"
        while True:
            args: list[str | int] = [secrets.token_hex(8), lock_ms, use_cached]
            token = str(args[0])

            async def acquire(r: Redis, args: list[str | int] = args) -> Any:
                return await self._acquire(keys=keys, args=args, client=r)

            answer = await self._link.call(CONCERN, acquire)
            if answer is DOWN:
                return await self._local.get_or_check(domain, fresh=fresh)
            kind, value = answer[0], answer[1] if len(answer) > 1 else None
            if kind == "cached" and (cached := self._cached(domain, value)) is not None:
                return cached.report, cached.age
            if kind == "mine":
                return await self._check_holding(domain, token)
            if kind != "holder":  # an unreadable cached entry: check without it
                use_cached = "0"
                continue
            holder = value
            if self._metrics is not None:
                self._metrics.check_joined()
            if self.on_join is not None:
                self.on_join(domain)
            joined = await self._wait_for(domain, str(holder), deadline)
            if joined is not None:
                return joined, None
            # The holder went without an outcome (it stopped or died): try to take over.

    async def _check_holding(self, domain: str, token: str) -> Obtained:
        """With the lock held: check, publish the outcome, release the lock."""
        try:
            report = await run_check(
                self._check, domain, limit=self._check_timeout, metrics=self._metrics
            )
        except CheckFailed as exc:
            await self._publish(domain, token, {"error": exc.message}, cache=False)
            raise
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self._let_go(domain, token)  # the next asker need not wait for the lock
            raise
        entry = {"at": self._wall(), "report": report.to_json()}
        await self._publish(domain, token, entry, cache=self._ttl > 0)
        return report, None

    async def _publish(self, domain: str, token: str, entry: dict[str, Any], cache: bool) -> None:
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        keys = [self._lock_key(domain), self._outcome_key(token), self._result_key(domain)]
        args: list[str | int] = [
            token,
            text,
            int(OUTCOME_TTL * 1000),
            int(self._ttl * 1000) if cache else 0,
        ]

        async def finish(r: Redis) -> Any:
            return await self._finish(keys=keys, args=args, client=r)

        if await self._link.call(CONCERN, finish) is DOWN:
            log.info("redis away: a report was not shared domain=%s", domain)

    async def _let_go(self, domain: str, token: str) -> None:
        lock = self._lock_key(domain)

        async def release(r: Redis) -> Any:
            return await self._release(keys=[lock], args=[token], client=r)

        await self._link.call(CONCERN, release)

    async def _wait_for(self, domain: str, holder: str, deadline: float) -> Report | None:
        """The outcome of the check `holder` runs; None when it went without one (or Redis
        did). Raises CheckFailed with the holder's message when its check broke."""
        loop = asyncio.get_running_loop()
        keys = [self._outcome_key(holder), self._lock_key(domain)]
        delay = POLL_FIRST

        async def look(r: Redis) -> list[str | bytes | None]:
            return await r.mget(keys)

        while True:
            seen = await self._link.call(CONCERN, look)
            if seen is DOWN:
                return None
            outcome, current = seen
            if outcome is not None:
                entry = self._decode(domain, outcome)
                if entry is not None and "error" in entry:
                    raise CheckFailed(domain, str(entry["error"]))
                return entry["report"] if entry is not None and "report" in entry else None
            if current != holder:
                return None
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise timed_out(domain)
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, POLL_MAX)

    def _decode(self, domain: str, raw: str | bytes) -> dict[str, Any] | None:
        """A stored entry, its report read back; None (and a log line) if unreadable.
        The same text read again gives the same entry (its report shared, as in process)."""
        if (known := self._decoded.get(raw)) is not None:
            return known
        try:
            entry = json.loads(raw)
            if not isinstance(entry, dict):
                raise ReportJsonError("not an object")
            if "report" in entry:
                entry["report"] = report_from_json(entry["report"])
        except (ValueError, TypeError) as exc:  # ReportJsonError is a ValueError
            log.warning("unreadable cache entry in redis domain=%s error=%s", domain, exc)
            return None
        self._decoded[raw] = entry
        return entry

    async def aclose(self) -> None:
        """Cancel checks still running (at shutdown); their locks are let go."""
        await self._inflight.aclose()
        await self._local.aclose()  # closes the check function (e.g. its worker process)
