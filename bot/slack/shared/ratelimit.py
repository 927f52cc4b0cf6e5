"""Rate limits in Redis: the same two token buckets as in process, in one Lua script.

Why a script rather than the `limits` library: `limits` offers fixed, moving
and sliding windows, not token buckets, so "10 at once, then 10 a minute"
would change meaning (a moving window of 10 a minute makes the 11th check wait
a whole minute, not six seconds); and a check must take a token from the
person's bucket *and* the workspace's, or from neither, which one script does
atomically where two separate limiters would need a rollback. The script is
short, uses Redis' own clock (instances' clocks need not agree), and is loaded
again by redis-py if Redis restarts (EVALSHA falls back to EVAL).

Each bucket is a hash {tokens, at} that expires once it would be full again,
so an idle bucket costs nothing, as in process.

`admit()` is what an acknowledgement waits on: for each domain of a request,
whether it is free (a cached result or a running check exists: its keys are
given) and, if not, a token from both buckets, all in one script, so a request
costs one round trip to Redis for its admission whatever its number of domains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from redis.asyncio import Redis

from bot.slack.ratelimit import (
    TEAM_LIMIT,
    USER_LIMIT,
    Limit,
    MemoryRateLimiter,
    bucket_names,
    over_burst,
)
from bot.slack.shared.link import DOWN, Down, RedisLink

CONCERN = "rate"

# KEYS: the user's bucket, the team's. ARGV: cost, user burst, user rate, team burst,
# team rate. attempt() returns nil when the tokens were taken, else the seconds to wait
# (a string).
BUCKETS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local cost = tonumber(ARGV[1])
local function level(key, burst, rate)
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(v[1]), tonumber(v[2])
  if tokens == nil or at == nil then return burst end
  return math.min(burst, tokens + math.max(0, now - at) * rate)
end
local function take(key, tokens, burst, rate)
  redis.call('HSET', key, 'tokens', tostring(tokens - cost), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens + cost) / rate * 1000) + 1)
end
local ub, ur = tonumber(ARGV[2]), tonumber(ARGV[3])
local tb, tr = tonumber(ARGV[4]), tonumber(ARGV[5])
local function attempt()
  local user, team = level(KEYS[1], ub, ur), level(KEYS[2], tb, tr)
  local wait = math.max(0, (cost - user) / ur, (cost - team) / tr)
  if wait > 1e-9 then return tostring(wait) end
  take(KEYS[1], user, ub, ur)
  take(KEYS[2], team, tb, tr)
  return nil
end
"""
TAKE_SCRIPT = (
    BUCKETS
    + """
return attempt()
"""
)
# KEYS: the two buckets, then each domain's keys that make it free. ARGV: as above, then
# how many keys each domain has (-1: free already). Returns, per domain: 'free', 'taken',
# or the seconds to wait (nothing taken for that one).
ADMIT_SCRIPT = (
    BUCKETS
    + """
local out, k = {}, 3
for i = 6, #ARGV do
  local n = tonumber(ARGV[i])
  local free = n < 0 or (n > 0 and redis.call('EXISTS', unpack(KEYS, k, k + n - 1)) > 0)
  k = k + math.max(n, 0)
  if free then out[#out + 1] = 'free' else out[#out + 1] = attempt() or 'taken' end
end
return out
"""
)


class RedisRateLimiter:
    def __init__(
        self,
        link: RedisLink,
        *,
        user: Limit = USER_LIMIT,
        team: Limit = TEAM_LIMIT,
        local: MemoryRateLimiter | None = None,
    ) -> None:
        self._link = link
        self._user, self._team = user, team
        self._local = local or MemoryRateLimiter(user=user, team=team)  # while Redis is away
        self._script = link.client.register_script(TAKE_SCRIPT)
        self._admit = link.client.register_script(ADMIT_SCRIPT)

    def _keys_and_args(
        self, team: str | None, user: str | None, cost: int
    ) -> tuple[list[str], list[float]]:
        team_name, user_name = bucket_names(team, user)
        keys = [
            self._link.key(CONCERN, f"user:{user_name}"),
            self._link.key(CONCERN, f"team:{team_name}"),
        ]
        args: list[float] = [
            cost,
            self._user.burst,
            self._user.per_second,
            self._team.burst,
            self._team.per_second,
        ]
        return keys, args

    async def admit(
        self, free_keys: Sequence[Sequence[str] | None], team: str | None, user: str | None
    ) -> list[float | None] | Literal[Down.DOWN]:
        """Per domain (given by the keys that make it free; None: free already): None when
        it may be answered (free, or a check taken from both buckets), else the seconds
        to wait. DOWN while Redis is away (nothing taken)."""
        keys, args = self._keys_and_args(team, user, 1)
        for domain_keys in free_keys:
            keys.extend(domain_keys or ())
            args.append(len(domain_keys) if domain_keys is not None else -1)

        async def admit(r: Redis) -> Any:
            return await self._admit(keys=keys, args=args, client=r)

        answer = await self._link.call(CONCERN, admit)
        if answer is DOWN:
            return DOWN
        return [None if a in ("free", "taken") else float(str(a)) for a in answer]

    async def acquire(self, team: str | None, user: str | None, cost: int = 1) -> float | None:
        if over_burst(cost, self._user, self._team):
            return math.inf
        keys, args = self._keys_and_args(team, user, cost)

        async def take(r: Redis) -> object:
            return await self._script(keys=keys, args=args, client=r)

        result = await self._link.call(CONCERN, take)
        if result is DOWN:
            return await self._local.acquire(team, user, cost)
        return None if result is None else float(str(result))
