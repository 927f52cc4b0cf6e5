"""The whole app watching testbed domains: signed Slack requests in, alerts out.

`watching_app()` runs the real app (tests/slack/slack_harness.py: HTTP,
signatures, the Web API stand-in) with a real store, real checks against the
session's testbed, and the scheduler and deliverer driven by hand:
`await app.tick()` runs one scheduler round and posts what it recorded; the
clock moves only when a test says so.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fakes import Clock
from slack_harness import BOT_TOKEN, Harness, Sent, running_app

from bot.checker.engine import check
from bot.checker.model import Report
from bot.slack.blocks.alert_builder import ALERT_ACTIONS_BLOCK_ID
from bot.slack.tokens import SingleWorkspaceToken
from bot.store.engine import Store
from bot.testbed.bed import Testbed
from bot.testbed.scenario import Scenario, make
from bot.testbed.slack_standin import Call
from bot.watch.config import WatchConfig
from bot.watch.delivery import Deliverer, Pass
from bot.watch.scheduler import Round, Scheduler
from bot.watch.service import WatchService

HOUR = 3600.0
_names = itertools.count(1)


def fresh_domain(label: str) -> str:
    """A domain no other test uses (the testbed is shared by the session)."""
    return f"{label}-{next(_names)}.watch.example"


def blocks_of(call: Call) -> list[dict[str, Any]]:
    blocks = call.args.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return blocks if isinstance(blocks, list) else []


def is_alert(call: Call) -> bool:
    return call.method == "chat.postMessage" and any(
        b.get("block_id") == ALERT_ACTIONS_BLOCK_ID for b in blocks_of(call)
    )


def header_of(call: Call) -> str:
    for block in blocks_of(call):
        if block.get("type") == "header":
            return str(block["text"]["text"])
    return ""


@dataclass
class WatchApp:
    h: Harness
    service: WatchService
    scheduler: Scheduler
    deliverer: Deliverer
    clock: Clock
    bed: Testbed
    store: Store

    async def serve(self, scenario: Scenario) -> str:
        """Serve a scenario (new domain), or change the served one."""
        if scenario.domain in self.bed.scenarios:
            await self.bed.change(scenario)
        else:
            await self.bed.add(scenario)
        return scenario.domain

    async def command(self, text: str, **kw: Any) -> tuple[Sent, str]:
        sent, response_url = await self.h.command(text, **kw)
        await self.h.idle()
        return sent, response_url

    def answers(self, response_url: str) -> list[str]:
        """What was posted to a command's response_url (the caller's private answers): each
        post's text fallback and the text of its blocks."""
        return [said(c) for c in self.h.standin.response_posts(response_url)]

    async def watch(self, domain: str, channel: str = "C0GENERAL", **kw: Any) -> str:
        _, url = await self.command(f"watch {domain}", channel_id=channel, **kw)
        answers = " ".join(self.answers(url))
        assert "Now watching" in answers or "again" in answers, answers
        return url

    async def tick(self, advance: float = 0.0) -> tuple[Round, Pass]:
        """Move the clock, run one scheduler round, then post what it recorded."""
        self.clock.advance(advance)
        done = await self.scheduler.tick()
        posted = await self.deliverer.deliver_due()
        return done, posted

    async def next_interval(self) -> tuple[Round, Pass]:
        """The next regular check of everything watched (one and a half intervals on)."""
        return await self.tick(1.5 * HOUR)

    def alerts(self, channel: str | None = None) -> list[Call]:
        return [
            c
            for c in self.h.standin.calls
            if is_alert(c) and c.ok and (channel is None or c.args.get("channel") == channel)
        ]

    def updates(self) -> list[Call]:
        return [c for c in self.h.standin.calls_to("chat.update") if c.ok]


@asynccontextmanager
async def watching_app(
    store: Store,
    bed: Testbed,
    *,
    confirm: int = 2,
    limit: int = 200,
    interval: float = HOUR,
    backoff: float = 1.0,
) -> AsyncIterator[WatchApp]:
    clock = Clock()
    config = WatchConfig(interval=interval, confirm=confirm, limit=limit)
    service = WatchService(store, config, clock=clock)
    settings = bed.settings()

    async def real(domain: str) -> Report:
        return await check(domain, settings)

    async with running_app(check=real, cache_ttl=0, watch=service, settings=settings) as h:
        scheduler = Scheduler(store, config, real, clock=clock, owner="test", retry_delays=())
        deliverer = Deliverer(
            store, h.app.client, SingleWorkspaceToken(BOT_TOKEN), clock=clock, backoff_base=backoff
        )
        service.scheduler, service.deliverer = scheduler, deliverer
        yield WatchApp(h, service, scheduler, deliverer, clock, bed, store)


def healthy(domain: str, **kw: Any) -> Scenario:
    return make(domain, "healthy, watched", **kw)


NEW_POLICY_ID = (("v=STSv1; id=20261201T000000",),)  # `sts=`: an id after the baseline's


def withdrawn(domain: str) -> Scenario:
    """`domain` made worse: mode none, under a new policy id (one mode_changed alert)."""
    return healthy(domain, mode="none", sts=NEW_POLICY_ID)


def said(call: Call) -> str:
    """A message's text fallback, then every text in its blocks, one per line."""
    found = [str(call.args.get("text", ""))]
    stack: list[Any] = list(blocks_of(call))
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if isinstance(item.get("text"), str):
                found.append(item["text"])
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(item)
    return "\n".join(found)


def texts(calls: Sequence[Call]) -> list[str]:
    return [str(c.args.get("text", "")) for c in calls]
