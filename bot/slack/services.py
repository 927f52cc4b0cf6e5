"""What the listeners share: the result cache, the rate limiter, dedupe, logging, tracking,
and watching."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.slack.cache import ResultCache
from bot.slack.dedupe import EventDeduper
from bot.slack.ratelimit import RateLimiter
from bot.slack.replay import ReplayGuard
from bot.slack.reqlog import LOGGER_NAME
from bot.slack.tracker import Tracker

if TYPE_CHECKING:
    from bot.watch.service import WatchService

MAX_DOMAINS = 5  # per command, mention or DM (and per response_url: at most 5 posts)


@dataclass(slots=True)
class Services:
    cache: ResultCache
    limiter: RateLimiter = field(default_factory=RateLimiter)
    deduper: EventDeduper = field(default_factory=EventDeduper)
    tracker: Tracker = field(default_factory=Tracker)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger(LOGGER_NAME))
    max_domains: int = MAX_DOMAINS
    # HTTP mode: signature check + replay refusal in front of Bolt (None: Bolt's check only)
    replay: ReplayGuard | None = None
    # Watching (bot/watch): None where the app runs without a database (some tests)
    watch: WatchService | None = None
