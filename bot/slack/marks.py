"""Marks: "has this been seen before?", remembered for a while. The memory behind
event de-duplication, Socket Mode redeliveries and the signature replay guard.

`first_time(key, ttl)` is True the first time a key is seen (and marks it for
`ttl` seconds), False while the mark lasts. `MemoryMarks` keeps them in this
process, bounded; `RedisMarks` (bot/slack/shared/marks.py) in Redis, so that
every instance sees one mark.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TLRUCache

Clock = Callable[[], float]


class Marks(Protocol):
    async def first_time(self, key: str, ttl: float) -> bool:
        """True the first time `key` is seen (it is then marked for `ttl` s), else False."""
        ...


class MemoryMarks:
    """At most `maxsize` marks (the least recently used go first beyond that)."""

    def __init__(self, *, maxsize: int, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        # key -> the time (on `clock`) its mark ends
        self._seen: TLRUCache[str, float] = TLRUCache(
            maxsize=maxsize, ttu=lambda _key, ends, _now: ends, timer=clock
        )

    def __len__(self) -> int:
        self._seen.expire()
        return len(self._seen)

    async def first_time(self, key: str, ttl: float) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = self._clock() + ttl
        return True
