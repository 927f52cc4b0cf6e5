"""The Slack Web API stand-in enforces the rules that bite, and signs like Slack."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.testbed.slack_standin import SlackRequests, SlackStandin

VIEW = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_trigger_ids_expire_after_3_seconds_and_work_once() -> None:
    clock = Clock()
    async with SlackStandin(clock=clock) as slack:
        client = AsyncWebClient(token="xoxb-1", base_url=slack.api_url)
        fresh, stale = slack.new_trigger_id(), slack.new_trigger_id()
        clock.now += 2.9
        resp = await client.views_open(trigger_id=fresh, view=VIEW)
        assert resp["view"]["id"]
        with pytest.raises(SlackApiError) as used:
            await client.views_open(trigger_id=fresh, view=VIEW)
        assert used.value.response["error"] == "exchanged_trigger_id"
        clock.now += 0.2
        with pytest.raises(SlackApiError) as expired:
            await client.views_open(trigger_id=stale, view=VIEW)
        assert expired.value.response["error"] == "expired_trigger_id"
        with pytest.raises(SlackApiError) as unknown:
            await client.views_open(trigger_id="made-up", view=VIEW)
        assert unknown.value.response["error"] == "invalid_trigger_id"
        # views.update replaces the opened view
        updated = await client.views_update(view_id=resp["view"]["id"], view={**VIEW, "x": 1})
        assert slack.view(resp["view"]["id"]) == updated["view"]


async def test_response_url_takes_five_posts() -> None:
    async with SlackStandin() as slack, aiohttp.ClientSession() as http:
        url = slack.new_response_url()
        statuses = []
        for i in range(6):
            async with http.post(url, json={"text": f"post {i}"}) as r:
                statuses.append(r.status)
        assert statuses == [200] * 5 + [404]
        assert [c.ok for c in slack.response_posts(url)] == [True] * 5 + [False]
        assert slack.response_posts(slack.new_response_url()) == []


async def test_not_in_channel_auth_and_one_shot_faults() -> None:
    async with SlackStandin() as slack:
        client = AsyncWebClient(token="xoxb-1", base_url=slack.api_url)
        slack.set_not_in_channel("C1")
        with pytest.raises(SlackApiError, match="not_in_channel"):
            await client.chat_postMessage(channel="C1", text="hi")
        assert (await client.chat_postMessage(channel="C2", text="hi"))["ok"]
        slack.server_error_once("chat.postMessage", 503)
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C2", text="hi")
        assert (await client.chat_postMessage(channel="C2", text="hi"))["ok"]
        bad = AsyncWebClient(token="nope", base_url=slack.api_url)
        with pytest.raises(SlackApiError, match="invalid_auth"):
            await bad.auth_test()
        auth = await client.auth_test()
        assert auth["user_id"] == slack.bot_user_id


async def test_wait_for_returns_the_value_or_times_out() -> None:
    async with SlackStandin() as slack:
        client = AsyncWebClient(token="xoxb-1", base_url=slack.api_url)
        waiting = asyncio.create_task(
            slack.wait_for(lambda calls: slack.calls_to("chat.postMessage"), timeout=5)
        )
        await client.chat_postMessage(channel="C2", text="hello")
        (call,) = await waiting
        assert call.args["text"] == "hello"
        with pytest.raises(TimeoutError):
            await slack.wait_for(lambda calls: slack.calls_to("views.open"), timeout=0.05)


def test_signed_requests_pass_slack_sdks_verifier() -> None:
    requests = SlackRequests("s3cret")
    verifier = SignatureVerifier("s3cret")
    built = [
        requests.slash_command("example.com", response_url="http://x/response/1"),
        requests.mention("example.com"),
        requests.direct_message("example.com"),
        requests.block_action("a", "example.com", response_url="http://x", trigger_id="t"),
        requests.url_verification("c"),
    ]
    for request in built:
        assert verifier.is_valid_request(request.body, request.headers)
    wrong = requests.mention("example.com", secret="other")
    assert not verifier.is_valid_request(wrong.body, wrong.headers)
    stale = requests.mention("example.com", timestamp=int(time.time()) - 400)
    assert not verifier.is_valid_request(stale.body, stale.headers)
