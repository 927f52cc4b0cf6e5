"""Slack's Web API and response_urls failing: retried or delivered another way, never lost silently.

The stand-in answers with the faults Slack really produces: 429 with
Retry-After, 5xx, `not_in_channel` / `channel_not_found`, and a response_url
that has used up its five posts (404 `used_url`). After each, the result
reached the person somewhere (the thread, an ephemeral message, a DM), or the
failure is in the log with the domain; the app never crashes and keeps serving.
"""

from __future__ import annotations

import logging

import pytest
from slack_harness import Harness, running_app

from bot.slack.blocks.ids import ACTION_EXPLAIN, ACTION_MX, ACTION_RECHECK
from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.testbed.slack_standin import RESPONSE_URL_MAX_POSTS


async def use_up(h: Harness, response_url: str) -> None:
    """Spend a response_url's five posts, as if earlier answers had."""
    for _ in range(RESPONSE_URL_MAX_POSTS):
        async with h.session.post(response_url, json={"text": "earlier"}) as r:
            assert r.status == 200


def logged(caplog: pytest.LogCaptureFixture, *needles: str) -> bool:
    return any(all(n in r.getMessage() for n in needles) for r in caplog.records)


# -- mentions: chat.postMessage --------------------------------------------------------


async def test_mention_429_waits_retry_after_then_posts_once(harness: Harness) -> None:
    h = harness
    h.standin.rate_limit_once("chat.postMessage", retry_after=1)
    await h.send(h.slack.mention("wait.example", ts="1700000500.000100"))
    await h.wait_for(lambda calls: any(c.ok for c in h.standin.calls_to("chat.postMessage")))
    await h.idle()
    first, second = h.standin.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.95  # Retry-After honoured, not hammered
    assert second.args["thread_ts"] == "1700000500.000100"


async def test_mention_5xx_twice_is_logged_with_the_domain_and_the_app_goes_on(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO, logger="mtasts.slack")
    h.standin.server_error_once("chat.postMessage", 503)
    h.standin.server_error_once("chat.postMessage", 502)
    await h.send(h.slack.mention("down.example", ts="1700000501.000100"))
    await h.wait_for(lambda calls: len(h.standin.calls_to("chat.postMessage")) == 2)
    await h.idle()
    assert [c.status for c in h.standin.calls_to("chat.postMessage")] == [503, 502]
    assert logged(caplog, "outcome=reply_failed", "down.example")
    # Still serving.
    await h.send(h.slack.mention("up.example", ts="1700000502.000100"))
    await h.wait_for(lambda calls: any(c.ok for c in h.standin.calls_to("chat.postMessage")))


@pytest.mark.parametrize("fault", ["not_in_channel", "channel_not_found"])
async def test_mention_where_the_bot_cannot_post_is_answered_in_a_dm(fault: str) -> None:
    async with running_app() as h:
        if fault == "not_in_channel":
            h.standin.set_not_in_channel("C0LOCKED")
        else:
            h.standin.set_channel_not_found("C0LOCKED")
        await h.send(h.slack.mention("dm.example", channel="C0LOCKED", user="U0ASKER"))
        dm = await h.wait_for(
            lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.ok]
        )
        await h.idle()
        assert dm[0].args["channel"] == "U0ASKER"
        assert "dm.example" in dm[0].args["text"]
        assert "/invite @mtasts" in dm[0].args["text"]
        refused = [c for c in h.standin.calls_to("chat.postMessage") if not c.ok]
        assert [c.error for c in refused] == [fault]


@pytest.mark.parametrize(
    "fault",
    [
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
    ],
)
async def test_mention_in_a_channel_that_restricts_posting_is_answered_in_a_dm(
    fault: str,
) -> None:
    async with running_app() as h:
        h.standin.restrict_posting("C0ANNOUNCE", fault)
        await h.send(h.slack.mention("news.example", channel="C0ANNOUNCE", user="U0ASKER"))
        dm = await h.wait_for(
            lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.ok]
        )
        await h.idle()
        assert dm[0].args["channel"] == "U0ASKER"
        assert "news.example" in dm[0].args["text"]
        assert "restricts who can post" in dm[0].args["text"]
        assert "/invite" not in dm[0].args["text"]  # membership is not the problem
        refused = [c for c in h.standin.calls_to("chat.postMessage") if not c.ok]
        assert [c.error for c in refused] == [fault]


async def test_rate_limit_notice_where_the_bot_cannot_post_goes_to_a_dm() -> None:
    limiter = MemoryRateLimiter(user=Limit(burst=1, per_second=0.001), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        await h.send(h.slack.mention("first.example", ts="1700000503.000100"))
        await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage"))
        h.standin.set_not_in_channel("C0GENERAL")
        await h.send(h.slack.mention("second.example", ts="1700000504.000100"))
        dm = await h.wait_for(
            lambda calls: [
                c
                for c in calls
                if c.method == "chat.postMessage" and c.ok and c.args["channel"] == "U0CALLER"
            ]
        )
        await h.idle()
        assert "try again in" in dm[0].args["text"].lower()
        assert h.checker.calls == ["first.example"]


# -- slash commands: the response_url --------------------------------------------------


async def test_response_url_5xx_is_retried_and_the_result_posted_once(harness: Harness) -> None:
    h = harness
    h.standin.server_error_once("response_url", 503)
    _, url = await h.command("flaky.example")
    await h.wait_for(lambda calls: any(c.ok for c in h.standin.response_posts(url)))
    await h.idle()
    assert [c.status for c in h.standin.response_posts(url)] == [503, 200]
    assert h.standin.calls_to("chat.postEphemeral") == []


async def test_response_url_429_waits_and_retries(harness: Harness) -> None:
    h = harness
    h.standin.rate_limit_once("response_url", retry_after=0)
    _, url = await h.command("busy.example")
    await h.wait_for(lambda calls: any(c.ok for c in h.standin.response_posts(url)))
    await h.idle()
    assert [c.status for c in h.standin.response_posts(url)] == [429, 200]


async def test_used_up_response_url_is_logged_and_the_result_comes_ephemerally(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO, logger="mtasts.slack")
    url = h.standin.new_response_url()
    await use_up(h, url)
    sent = await h.send(h.slack.slash_command("late.example", response_url=url))
    assert sent.status == 200
    ephemeral = await h.wait_for(lambda calls: h.standin.calls_to("chat.postEphemeral"))
    await h.idle()
    assert h.standin.response_posts(url)[-1].status == 404  # refused, not retried
    assert len(h.standin.response_posts(url)) == RESPONSE_URL_MAX_POSTS + 1
    assert ephemeral[0].args["channel"] == "C0GENERAL"
    assert ephemeral[0].args["user"] == "U0CALLER"
    assert "late.example" in ephemeral[0].args["text"]
    assert logged(caplog, "outcome=reply_failed", "late.example", "fallback=ephemeral")


async def test_response_url_failing_where_the_bot_is_not_a_member_falls_back_to_a_dm(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO, logger="mtasts.slack")
    h.standin.set_not_in_channel("C0PRIVATE")
    h.standin.server_error_once("response_url", 500)
    h.standin.server_error_once("response_url", 500)
    url = h.standin.new_response_url()
    await h.send(h.slack.slash_command("private.example", response_url=url, channel_id="C0PRIVATE"))
    dm = await h.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.ok]
    )
    await h.idle()
    assert [c.status for c in h.standin.response_posts(url)] == [500, 500]
    assert [c.error for c in h.standin.calls_to("chat.postEphemeral")] == ["not_in_channel"]
    assert dm[0].args["channel"] == "U0CALLER"
    assert "private.example" in dm[0].args["text"]
    assert logged(caplog, "private.example", "fallback=dm")


async def test_everything_refused_is_still_logged_and_nothing_crashes(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO, logger="mtasts.slack")
    h.standin.set_channel_not_found("C0GONE")
    url = h.standin.new_response_url()
    await use_up(h, url)
    h.standin.fail_once("chat.postMessage", "cannot_dm_bot")
    sent = await h.send(
        h.slack.slash_command("lost.example", response_url=url, channel_id="C0GONE")
    )
    assert sent.status == 200
    await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage"))
    await h.idle()
    assert logged(caplog, "outcome=reply_failed", "lost.example", "fallback=failed")
    assert h.services.tracker.active == 0
    # The next command is served normally.
    _, ok_url = await h.command("next.example")
    await h.wait_for(lambda calls: any(c.ok for c in h.standin.response_posts(ok_url)))


# -- buttons ---------------------------------------------------------------------------


async def test_explain_429_is_retried_in_the_thread(harness: Harness) -> None:
    h = harness
    h.standin.rate_limit_once("chat.postMessage", retry_after=0)
    await h.click(ACTION_EXPLAIN, "explain.example", message_ts="1700000600.000100")
    await h.wait_for(lambda calls: any(c.ok for c in h.standin.calls_to("chat.postMessage")))
    await h.idle()
    posts = h.standin.calls_to("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert posts[1].args["thread_ts"] == "1700000600.000100"


async def test_explain_not_in_channel_and_used_up_url_still_reaches_the_clicker(
    harness: Harness,
) -> None:
    h = harness
    h.standin.set_not_in_channel("C0NOBOT")
    url = h.standin.new_response_url()
    await use_up(h, url)
    request = h.slack.block_action(
        ACTION_EXPLAIN,
        "hint.example",
        response_url=url,
        trigger_id=h.standin.new_trigger_id(),
        channel="C0NOBOT",
        user_id="U0CLICKER",
    )
    assert (await h.send(request)).status == 200
    dm = await h.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.ok]
    )
    await h.idle()
    assert dm[0].args["channel"] == "U0CLICKER"
    assert "/invite @mtasts" in dm[0].args["text"]


async def test_recheck_refused_by_the_response_url_comes_ephemerally(harness: Harness) -> None:
    h = harness
    url = h.standin.new_response_url()
    await use_up(h, url)
    request = h.slack.block_action(
        ACTION_RECHECK, "again.example", response_url=url, trigger_id=h.standin.new_trigger_id()
    )
    assert (await h.send(request)).status == 200
    ephemeral = await h.wait_for(lambda calls: h.standin.calls_to("chat.postEphemeral"))
    await h.idle()
    assert "again.example" in ephemeral[0].args["text"]


async def test_failed_views_update_tells_the_clicker(harness: Harness) -> None:
    h = harness
    gate = h.checker.hold("modal.example")
    h.standin.fail_once("views.update", "internal_error")
    _, url, _ = await h.click(ACTION_MX, "modal.example")
    await h.wait_for(lambda calls: h.standin.calls_to("views.open"))
    gate.set()
    told = await h.wait_for(lambda calls: h.standin.response_posts(url))
    await h.idle()
    assert [c.error for c in h.standin.calls_to("views.update")] == ["internal_error"]
    assert told[0].args["response_type"] == "ephemeral"
    assert "modal.example" in told[0].args["text"]


async def test_views_update_of_a_closed_window_is_not_reported_to_the_clicker(
    harness: Harness,
) -> None:
    h = harness
    gate = h.checker.hold("closed.example")
    h.standin.fail_once("views.update", "not_found")  # what Slack says once it was closed
    _, url, _ = await h.click(ACTION_MX, "closed.example")
    await h.wait_for(lambda calls: h.standin.calls_to("views.open"))
    gate.set()
    await h.wait_for(lambda calls: h.standin.calls_to("views.update"))
    await h.idle()
    assert h.standin.response_posts(url) == []
    assert h.standin.calls_to("chat.postEphemeral") == []
