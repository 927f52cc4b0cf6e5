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
"""

from __future__ import annotations

import math

from redis.asyncio import Redis

from bot.slack.ratelimit import (
    TEAM_LIMIT,
    USER_LIMIT,
    Limit,
    MemoryRateLimiter,
    bucket_names,
    over_burst,
)
from bot.slack.shared.link import DOWN, RedisLink

CONCERN = "rate"

# KEYS: the user's bucket, the team's. ARGV: cost, user burst, user rate, team burst,
# team rate. Returns nil when the tokens were taken, else the seconds to wait (a string).
TAKE_SCRIPT = """
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
local user, team = level(KEYS[1], ub, ur), level(KEYS[2], tb, tr)
local wait = math.max(0, (cost - user) / ur, (cost - team) / tr)
if wait > 1e-9 then return tostring(wait) end
take(KEYS[1], user, ub, ur)
take(KEYS[2], team, tb, tr)
return nil
"""


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

    async def acquire(self, team: str | None, user: str | None, cost: int = 1) -> float | None:
        if over_burst(cost, self._user, self._team):
            return math.inf
        team_name, user_name = bucket_names(team, user)
        keys = [
            self._link.key(CONCERN, f"user:{user_name}"),
            self._link.key(CONCERN, f"team:{team_name}"),
        ]
        args = [
            cost,
            self._user.burst,
            self._user.per_second,
            self._team.burst,
            self._team.per_second,
        ]

        async def take(r: Redis) -> object:
            return await self._script(keys=keys, args=args, client=r)

        result = await self._link.call(CONCERN, take)
        if result is DOWN:
            return await self._local.acquire(team, user, cost)
        return None if result is None else float(str(result))
