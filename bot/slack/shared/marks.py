"""Marks in Redis: `SET key 1 NX PX ttl`, one mark for every instance.

This instance's own marks are kept too (in memory, bounded) and asked first:
what this instance has seen it knows without a round trip, and while Redis is
away they still refuse a repeat that reaches the same instance. What then
reaches another instance gets through: the documented cost of an outage.
"""

from __future__ import annotations

import math

from redis.asyncio import Redis

from bot.slack.marks import MemoryMarks
from bot.slack.shared.link import DOWN, RedisLink


class RedisMarks:
    def __init__(self, link: RedisLink, concern: str, *, local: MemoryMarks) -> None:
        self._link = link
        self._concern = concern  # the key namespace, and the metrics label of fallbacks
        self._local = local

    async def first_time(self, key: str, ttl: float) -> bool:
        if not await self._local.first_time(key, ttl):
            return False
        name = self._link.key(self._concern, key)
        ms = max(1, math.ceil(ttl * 1000))

        async def mark(r: Redis) -> object:
            return await r.set(name, "1", nx=True, px=ms)

        result = await self._link.call(self._concern, mark)
        if result is DOWN:
            return True  # this instance had not seen it
        return bool(result)
