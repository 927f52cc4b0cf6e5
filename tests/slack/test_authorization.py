"""Authorization: one bot token through Bolt's `authorize=` hook, auth.test asked once."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest
from slack_harness import running_app

from bot.slack.app import BotAuthorization
from bot.slack.ratelimit import Limit, MemoryRateLimiter


async def test_oauth_environment_variables_do_not_switch_the_app_to_oauth(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret-not-for-logs")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    caplog.set_level(logging.INFO, logger="mtasts.slack.bolt")
    async with running_app() as h:
        # Bolt neither loads OAuth settings nor warns about tokens it would ignore
        assert [r.getMessage() for r in caplog.records if r.name == "mtasts.slack.bolt"] == []
        assert h.app.oauth_flow is None
        assert h.app.installation_store is None
        sent, url = await h.command("example.com")
        assert sent.status == 200
        assert "no longer available" not in sent.text
        assert "Checking" in sent.text
        posts = await h.wait_for(lambda calls: h.standin.response_posts(url))
        assert posts[0].args["response_type"] == "in_channel"
        assert "example.com" in posts[0].args["text"]
    # the variables are back for whoever else reads them
    assert os.environ["SLACK_CLIENT_ID"] == "1234.5678"


async def test_thirty_simultaneous_first_requests_ask_auth_test_once() -> None:
    async with running_app(
        limiter=MemoryRateLimiter(user=Limit(100, 1.0), team=Limit(100, 1.0))
    ) as h:
        auth = h.app.bot_authorization  # type: ignore[attr-defined]
        assert isinstance(auth, BotAuthorization)
        assert not auth.authorized
        sent = await asyncio.gather(*(h.command(f"d{i}.example") for i in range(30)))
        assert [s.status for s, _ in sent] == [200] * 30
        await h.wait_for(lambda calls: len(h.standin.response_posts()) == 30)
        assert len(h.standin.calls_to("auth.test")) == 1
        assert auth.calls == 1
        # and the token the listeners used is the bot token, handed out by the authorizer
        assert all(c.token == h.config.bot_token for c in h.standin.calls_to("auth.test"))


async def test_url_verification_does_not_wait_on_auth_test() -> None:
    async with running_app() as h:
        gate = h.standin.hold("auth.test")
        command = asyncio.create_task(h.command("example.com"))  # starts the held auth.test
        await h.standin.wait_until(lambda: h.standin.arrived["auth.test"] == 1)
        sent = await asyncio.wait_for(h.send(h.slack.url_verification("xyz")), 2)
        assert sent.status == 200
        assert sent.json() == {"challenge": "xyz"}
        assert not command.done()  # the command is still waiting for auth.test
        gate.set()
        ack, _ = await command
        assert ack.status == 200
        assert "Checking" in ack.text


async def test_a_refused_token_tells_the_person_and_is_asked_again_next_time() -> None:
    async with running_app() as h:
        h.standin.fail_once("auth.test", "invalid_auth")
        sent, url = await h.command("example.com")
        assert sent.status == 200
        told = await h.wait_for(lambda calls: h.standin.response_posts(url))
        assert "couldn't confirm my own Slack token" in told[0].args["text"]
        assert "Traceback" not in told[0].args["text"]
        assert h.checker.calls == []
        sent, url = await h.command("example.com")
        assert "Checking" in sent.text
        await h.wait_for(lambda calls: h.standin.response_posts(url))
        assert len(h.standin.calls_to("auth.test")) == 2
