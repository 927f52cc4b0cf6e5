"""Redelivery dedupe: what Slack delivers again is acked and ignored.

- Events API: Slack retries an event it thinks was not delivered
  (`X-Slack-Retry-Num`); the first delivery may well have been handled. The
  `event_id` is marked on receipt, and a second delivery of it gets a plain
  200 without reaching any listener (HTTP and Socket Mode alike).
- Socket Mode: Slack sends an envelope (a command, an interaction, an event)
  again when it thinks it was not acknowledged, under the same `envelope_id`
  or as the same payload in a new envelope (perhaps over another of the app's
  connections). Both are marked; a repeat is acked empty and not processed.

The marks live in `Marks`: in this process for one instance, in Redis for
several (so a retry that reaches another instance is still a repeat).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.metrics import Metrics
from bot.slack.marks import Clock, Marks, MemoryMarks
from bot.slack.reqlog import log_request

# Slack retries three times within about an hour; remember a bit longer.
DEFAULT_TTL = 2 * 3600.0
DEFAULT_MAXSIZE = 50_000


class Deduper:
    def __init__(
        self,
        marks: Marks | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        maxsize: int = DEFAULT_MAXSIZE,
        clock: Clock = time.monotonic,
    ) -> None:
        self.marks: Marks = (
            marks if marks is not None else MemoryMarks(maxsize=maxsize, clock=clock)
        )
        self._ttl = ttl

    async def first_time(self, event_id: str) -> bool:
        """True the first time an event id is seen (and marks it), False after."""
        return await self.marks.first_time(f"event:{event_id}", self._ttl)

    async def first_delivery(self, envelope_id: str, payload: Mapping[str, Any]) -> bool:
        """True unless this Socket Mode envelope, or its very payload, came before."""
        digest = hashlib.sha256(
            json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        # One after the other, and the payload only for a new envelope: two instances given
        # the same envelope, or two envelopes of one payload, must not each mark one of the
        # two and both conclude they came second.
        if not await self.marks.first_time(f"envelope:{envelope_id}", self._ttl):
            return False
        return await self.marks.first_time(f"payload:{digest}", self._ttl)


def dedupe_middleware(
    deduper: Deduper, logger: logging.Logger, metrics: Metrics | None = None
) -> Callable[..., Awaitable[BoltResponse]]:
    """A Bolt global middleware that drops repeated deliveries of one event."""

    async def dedupe_events(
        req: AsyncBoltRequest,
        resp: BoltResponse,
        body: dict[str, Any],
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not await deduper.first_time(event_id):
            retry = req.headers.get("x-slack-retry-num", [""])[0]
            event = body.get("event") or {}
            log_request(
                logger,
                metrics=metrics,
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
