"""@mtasts in a channel: answered in the thread of the mention."""

from __future__ import annotations

from slack_harness import Harness, running_app

from bot.slack.ratelimit import Limit, MemoryRateLimiter


async def test_mention_is_answered_in_its_thread(harness: Harness) -> None:
    sent = await harness.send(
        harness.slack.mention("<http://example.com|example.com>", ts="1700000001.000100")
    )
    assert sent.status == 200
    posts = await harness.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage"]
    )
    await harness.idle()
    assert len(harness.standin.calls_to("chat.postMessage")) == 1
    post = posts[0]
    assert post.ok
    assert post.args["channel"] == "C0GENERAL"
    assert post.args["thread_ts"] == "1700000001.000100"
    assert "example.com" in post.args["text"]
    assert post.args["blocks"]
    assert post.token == harness.config.bot_token  # the configured bot token is used


async def test_mention_inside_a_thread_answers_in_that_thread(harness: Harness) -> None:
    await harness.send(
        harness.slack.mention("example.org", ts="1700000002.000200", thread_ts="1700000000.000001")
    )
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    assert post.args["thread_ts"] == "1700000000.000001"


async def test_each_domain_gets_its_own_threaded_reply(harness: Harness) -> None:
    await harness.send(harness.slack.mention("a.example b.example", ts="1700000003.000300"))
    await harness.wait_for(lambda calls: len(harness.standin.calls_to("chat.postMessage")) == 2)
    await harness.idle()
    posts = harness.standin.calls_to("chat.postMessage")
    assert len(posts) == 2
    assert {p.args["thread_ts"] for p in posts} == {"1700000003.000300"}
    assert sorted(harness.checker.calls) == ["a.example", "b.example"]


async def test_bare_mention_gets_usage_in_the_thread(harness: Harness) -> None:
    await harness.send(harness.slack.mention("", ts="1700000004.000400"))
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    assert post.args["thread_ts"] == "1700000004.000400"
    assert "/mtasts" in post.args["text"]
    assert harness.checker.calls == []


async def test_bad_input_gets_an_error_in_the_thread(harness: Harness) -> None:
    await harness.send(harness.slack.mention("not_a_domain!", ts="1700000005.000500"))
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    assert post.args["thread_ts"] == "1700000005.000500"
    assert "not a domain" in post.args["text"]
    assert harness.checker.calls == []


async def test_rate_limited_mention_is_told_privately() -> None:
    limiter = MemoryRateLimiter(user=Limit(burst=1, per_second=0.01), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        await h.send(h.slack.mention("a.example b.example", ts="1700000006.000600"))
        await h.wait_for(
            lambda calls: (
                h.standin.calls_to("chat.postEphemeral") and h.standin.calls_to("chat.postMessage")
            )
        )
        await h.idle()
        ephemeral = h.standin.calls_to("chat.postEphemeral")[0]
        assert ephemeral.args["user"] == "U0CALLER"
        # a top-level mention has no thread yet: Slack would not show the notice in one
        assert "thread_ts" not in ephemeral.args
        assert ephemeral.args["channel"] == "C0GENERAL"
        assert "try again" in ephemeral.args["text"].lower()
        assert h.checker.calls == ["a.example"]
        assert len(h.standin.calls_to("chat.postMessage")) == 1


async def test_rate_limited_mention_in_a_thread_is_told_in_that_thread() -> None:
    limiter = MemoryRateLimiter(user=Limit(burst=1, per_second=0.01), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        mention = h.slack.mention(
            "a.example b.example", ts="1700000006.000700", thread_ts="1700000006.000100"
        )
        await h.send(mention)
        ephemeral = (await h.wait_for(lambda calls: h.standin.calls_to("chat.postEphemeral")))[0]
        await h.idle()
        assert ephemeral.args["thread_ts"] == "1700000006.000100"
        assert "try again" in ephemeral.args["text"].lower()


async def test_failed_post_is_logged_and_does_not_break_the_app(harness: Harness) -> None:
    harness.standin.set_not_in_channel("C0GONE")
    await harness.send(harness.slack.mention("example.com", channel="C0GONE"))
    call = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    await harness.idle()
    assert call.error == "not_in_channel"
    # The app still answers the next request.
    await harness.send(harness.slack.mention("example.net", ts="1700000007.000700"))
    await harness.wait_for(
        lambda calls: any(c.ok for c in harness.standin.calls_to("chat.postMessage"))
    )


async def test_rate_limited_web_api_call_is_retried_after_retry_after(harness: Harness) -> None:
    harness.standin.rate_limit_once("chat.postMessage", retry_after=0)
    await harness.send(harness.slack.mention("example.com", ts="1700000008.000800"))
    await harness.wait_for(
        lambda calls: any(c.ok for c in harness.standin.calls_to("chat.postMessage"))
    )
    await harness.idle()
    statuses = [c.status for c in harness.standin.calls_to("chat.postMessage")]
    assert statuses == [429, 200]


async def test_server_error_is_retried_once(harness: Harness) -> None:
    harness.standin.server_error_once("chat.postMessage", 503)
    await harness.send(harness.slack.mention("example.com", ts="1700000009.000900"))
    await harness.wait_for(
        lambda calls: any(c.ok for c in harness.standin.calls_to("chat.postMessage"))
    )
    statuses = [c.status for c in harness.standin.calls_to("chat.postMessage")]
    assert statuses == [503, 200]
