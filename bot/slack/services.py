"""What the listeners share: the result cache, the rate limiter, dedupe, logging, tracking,
metrics, health checks and watching.

`build_services` (bot/slack/app.py) chooses the in-process implementations, or
the Redis ones (bot/slack/shared/) when REDIS_URL is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.health import Health
from bot.metrics import Metrics
from bot.slack.cache import ResultCache
from bot.slack.dedupe import Deduper
from bot.slack.ratelimit import MemoryRateLimiter, RateLimiter
from bot.slack.replay import ReplayGuard
from bot.slack.reqlog import LOGGER_NAME
from bot.slack.tracker import Tracker

if TYPE_CHECKING:
    from bot.slack.shared.link import RedisLink
    from bot.watch.service import WatchService

MAX_DOMAINS = 5  # per command, mention or DM (and per response_url: at most 5 posts)


@dataclass(slots=True)
class Services:
    cache: ResultCache
    limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    deduper: Deduper = field(default_factory=Deduper)
    tracker: Tracker = field(default_factory=Tracker)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger(LOGGER_NAME))
    max_domains: int = MAX_DOMAINS
    # HTTP mode: signature check + replay refusal in front of Bolt (None: Bolt's check only)
    replay: ReplayGuard | None = None
    metrics: Metrics = field(default_factory=Metrics)
    health: Health = field(default_factory=Health)
    redis: RedisLink | None = None  # set when REDIS_URL is: the state above lives there
    # Watching (bot/watch): None where the app runs without a database (some tests)
    watch: WatchService | None = None

    async def aclose(self) -> None:
        """At shutdown: cancel checks still running, close the Redis connections."""
        await self.cache.aclose()
        if self.redis is not None:
            await self.redis.aclose()
