"""The whole app with the real checker against the testbed's DNS, HTTPS and SMTP servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from aiohttp import web
from slack_harness import BOT_TOKEN, SIGNING_SECRET

from bot.checker.settings import Settings
from bot.slack.app import build_app, make_client, services_of
from bot.slack.blocks.ids import ACTION_EXPLAIN, ACTION_MX
from bot.slack.config import SlackConfig
from bot.slack.serve import EVENTS_PATH, make_web_app
from bot.testbed.slack_standin import SignedRequest, SlackRequests, SlackStandin


class Live:
    def __init__(self, standin: SlackStandin, url: str, session: aiohttp.ClientSession) -> None:
        self.standin, self.url, self.session = standin, url, session
        self.slack = SlackRequests(SIGNING_SECRET)

    async def send(self, request: SignedRequest) -> tuple[int, str]:
        async with self.session.post(self.url, data=request.body, headers=request.headers) as r:
            return r.status, await r.text()


@pytest_asyncio.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    """The app with its default checker (bot.checker.engine) pointed at the testbed."""
    async with SlackStandin() as standin, aiohttp.ClientSession() as session:
        config = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=standin.api_url,
            settings=settings,
        )
        app = build_app(config, client=make_client(config, retry_backoff=0.01))
        runner = web.AppRunner(make_web_app(app), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield Live(standin, f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}", session)
        finally:
            services = services_of(app)
            await services.tracker.wait_idle(10)
            await runner.cleanup()
            await services.cache.aclose()  # type: ignore[attr-defined]


async def test_slash_command_checks_real_domains_and_posts_each_result(live: Live) -> None:
    response_url = live.standin.new_response_url()
    status, ack = await live.send(
        live.slack.slash_command("good.example typo-key.example", response_url=response_url)
    )
    assert status == 200
    assert "Checking" in json.loads(ack)["text"]
    posts = await live.standin.wait_for(
        lambda calls: (
            len(live.standin.response_posts(response_url)) == 2
            and live.standin.response_posts(response_url)
        ),
        timeout=15,
    )
    by_domain = {
        d: p for p in posts for d in ("good.example", "typo-key.example") if d in p.args["text"]
    }
    assert set(by_domain) == {"good.example", "typo-key.example"}
    assert all(p.args["response_type"] == "in_channel" for p in posts)
    # The verdicts the scenarios expect: good.example passes, typo-key.example fails.
    assert "checks out" in by_domain["good.example"].args["blocks"][0]["text"]["text"]
    assert "has problems" in by_domain["typo-key.example"].args["blocks"][0]["text"]["text"]


async def test_buttons_use_the_real_report(live: Live) -> None:
    # Warm the cache with a real check, then open the MX modal and explain in thread.
    response_url = live.standin.new_response_url()
    await live.send(live.slack.slash_command("testing-backup.example", response_url=response_url))
    await live.standin.wait_for(lambda calls: live.standin.response_posts(response_url), 15)

    trigger = live.standin.new_trigger_id()
    click_url = live.standin.new_response_url()
    await live.send(
        live.slack.block_action(
            ACTION_MX, "testing-backup.example", response_url=click_url, trigger_id=trigger
        )
    )
    opened = (await live.standin.wait_for(lambda calls: live.standin.calls_to("views.open")))[0]
    assert opened.ok
    assert "mx2.testing-backup.example" in json.dumps(opened.args["view"])

    await live.send(
        live.slack.block_action(
            ACTION_EXPLAIN,
            "testing-backup.example",
            response_url=live.standin.new_response_url(),
            trigger_id=live.standin.new_trigger_id(),
            message_ts="1700000060.000100",
        )
    )
    post = (await live.standin.wait_for(lambda calls: live.standin.calls_to("chat.postMessage")))[0]
    assert post.args["thread_ts"] == "1700000060.000100"
    assert "mx2.testing-backup.example" in json.dumps(post.args["blocks"])
