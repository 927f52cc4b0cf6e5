"""The protections as `mtasts serve` wires them (serve() on a real port, HTTP mode)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from slack_harness import BOT_TOKEN, SIGNING_SECRET, FakeChecker

from bot.slack.app import build_app, make_client, services_of
from bot.slack.config import SlackConfig
from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.slack.serve import EVENTS_PATH, serve
from bot.testbed.slack_standin import SignedRequest, SlackRequests, SlackStandin


@asynccontextmanager
async def serving(standin: SlackStandin) -> AsyncIterator[str]:
    config = SlackConfig(
        bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=standin.api_url
    )
    checker = FakeChecker()
    app = build_app(config, check=checker, client=make_client(config, retry_backoff=0.01))
    services_of(app).limiter = MemoryRateLimiter(user=Limit(100, 1.0), team=Limit(100, 1.0))
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(config, port=0, host="127.0.0.1", app=app, stop=stop, started=bound.set_result)
    )
    try:
        port = await asyncio.wait_for(bound, 5)
        yield f"http://127.0.0.1:{port}{EVENTS_PATH}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def post(http: aiohttp.ClientSession, url: str, request: SignedRequest) -> int:
    async with http.post(url, data=request.body, headers=request.headers) as r:
        await r.read()
        return r.status


async def test_served_app_refuses_a_replay_and_asks_auth_test_only_at_start_up() -> None:
    slack = SlackRequests(SIGNING_SECRET)
    async with (
        SlackStandin() as standin,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        serving(standin) as url,
    ):
        assert len(standin.calls_to("auth.test")) == 1  # the start-up token check
        requests = [
            slack.slash_command(f"d{i}.example", response_url=standin.new_response_url())
            for i in range(30)
        ]
        statuses = await asyncio.gather(*(post(http, url, r) for r in requests))
        assert statuses == [200] * 30
        await standin.wait_for(lambda calls: len(standin.response_posts()) == 30)
        # Bolt was handed the start-up answer: 30 concurrent first requests, no auth.test.
        assert len(standin.calls_to("auth.test")) == 1
        assert await post(http, url, requests[0]) == 401  # the same signed bytes again
        assert len(standin.response_posts()) == 30
