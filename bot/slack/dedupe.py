"""Event dedupe: Slack's retries of an event already handled are acked and ignored.

Slack retries an event it thinks was not delivered (`X-Slack-Retry-Num`); the
first delivery may well have been handled. The `event_id` is remembered in a
TTL cache and a second delivery of it gets a plain 200 without reaching any
listener.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cachetools import TTLCache
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.reqlog import log_request

Clock = Callable[[], float]

# Slack retries three times within about an hour; remember a bit longer.
DEFAULT_TTL = 2 * 3600.0


class EventDeduper:
    def __init__(
        self, *, ttl: float = DEFAULT_TTL, maxsize: int = 50_000, clock: Clock = time.monotonic
    ) -> None:
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=maxsize, ttl=ttl, timer=clock)

    def first_time(self, event_id: str) -> bool:
        """True the first time an event id is seen (and remembers it), False after."""
        if event_id in self._seen:
            return False
        self._seen[event_id] = True
        return True


def dedupe_middleware(
    deduper: EventDeduper, logger: logging.Logger
) -> Callable[..., Awaitable[BoltResponse]]:
    """A Bolt global middleware that drops repeated deliveries of one event."""

    async def dedupe_events(
        req: AsyncBoltRequest,
        resp: BoltResponse,
        body: dict[str, Any],
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not deduper.first_time(event_id):
            retry = req.headers.get("x-slack-retry-num", [""])[0]
            event = body.get("event") or {}
            log_request(
                logger,
                kind="event",
                name=str(event.get("type", "?")),
                team=body.get("team_id"),
                user=event.get("user"),
                outcome="duplicate",
                event_id=event_id,
                retry=retry or None,
            )
            return BoltResponse(status=200, body="")
        await next()
        return resp  # not None: Bolt would answer unmatched requests 404 after a None

    return dedupe_events
