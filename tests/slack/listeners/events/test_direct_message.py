"""Direct messages to the bot: answered in the DM's thread; edits, bots and itself ignored."""

from __future__ import annotations

from slack_harness import Harness, running_app, web_calls

from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.testbed.slack_standin import BOT_ID, BOT_USER_ID


async def test_dm_is_answered(harness: Harness) -> None:
    sent = await harness.send(harness.slack.direct_message("example.com", ts="1700000010.000100"))
    assert sent.status == 200
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    assert post.args["channel"] == "D0CALLER"
    assert post.args["thread_ts"] == "1700000010.000100"
    assert "example.com" in post.args["text"]
    assert harness.checker.calls == ["example.com"]


async def test_dm_help(harness: Harness) -> None:
    await harness.send(harness.slack.direct_message("help"))
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    assert "/mtasts" in post.args["text"]


async def test_edits_bots_own_messages_and_channel_messages_are_ignored(harness: Harness) -> None:
    ignored = [
        harness.slack.direct_message("a.example", extra={"subtype": "message_changed"}),
        harness.slack.direct_message("b.example", extra={"bot_id": "B0OTHER"}),
        harness.slack.direct_message("c.example", user=BOT_USER_ID, extra={"bot_id": BOT_ID}),
        harness.slack.direct_message("d.example", extra={"channel_type": "channel"}),
        harness.slack.direct_message("e.example", extra={"subtype": "message_deleted"}),
    ]
    for request in ignored:
        sent = await harness.send(request)
        assert sent.status == 200
    # A real DM afterwards is answered, and it is the only answer.
    await harness.send(harness.slack.direct_message("real.example"))
    await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage"))
    await harness.idle()
    assert harness.checker.calls == ["real.example"]
    assert [c.method for c in web_calls(harness.standin.calls)] == ["chat.postMessage"]


async def test_rate_limited_dm_is_told_in_the_thread() -> None:
    limiter = MemoryRateLimiter(user=Limit(burst=1, per_second=0.001), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        await h.send(h.slack.direct_message("a.example b.example", ts="1700000011.000100"))
        await h.wait_for(lambda calls: len(h.standin.calls_to("chat.postMessage")) == 2)
        await h.idle()
        texts = [c.args["text"] for c in h.standin.calls_to("chat.postMessage")]
        assert sum("try again" in t.lower() for t in texts) == 1
        assert all(
            c.args["thread_ts"] == "1700000011.000100"
            for c in h.standin.calls_to("chat.postMessage")
        )
        assert h.standin.calls_to("chat.postEphemeral") == []
        assert h.checker.calls == ["a.example"]
