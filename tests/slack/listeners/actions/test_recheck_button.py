"""Re-check: bypass the cache and replace the message in place."""

from __future__ import annotations

from slack_harness import Harness, running_app

from bot.slack.blocks.ids import ACTION_RECHECK
from bot.slack.ratelimit import Limit, RateLimiter


async def test_recheck_bypasses_the_cache_and_replaces_the_message(harness: Harness) -> None:
    _, first = await harness.command("example.com")
    await harness.wait_for(lambda calls: harness.standin.response_posts(first))
    sent, response_url, _ = await harness.click(ACTION_RECHECK, "example.com")
    assert sent.status == 200
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    await harness.idle()
    assert harness.checker.calls == ["example.com", "example.com"]
    assert post.args["replace_original"] is True
    assert "example.com" in post.args["text"]
    assert "cached" not in str(post.args["blocks"]).lower()


async def test_recheck_result_is_what_the_cache_serves_next(harness: Harness) -> None:
    _, response_url, _ = await harness.click(ACTION_RECHECK, "fresh.example")
    await harness.wait_for(lambda calls: harness.standin.response_posts(response_url))
    harness.checker.broken.add("fresh.example")  # would change the result if checked again
    _, url = await harness.command("fresh.example")
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(url)))[0]
    assert harness.checker.calls == ["fresh.example"]
    assert "cached" in str(post.args["blocks"]).lower()


async def test_rate_limited_recheck_leaves_the_message_and_says_why() -> None:
    limiter = RateLimiter(user=Limit(burst=1, per_second=0.001), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        _, first = await h.command("example.com")
        await h.wait_for(lambda calls: h.standin.response_posts(first))
        _, response_url, _ = await h.click(ACTION_RECHECK, "example.com")
        post = (await h.wait_for(lambda calls: h.standin.response_posts(response_url)))[0]
        await h.idle()
        assert post.args["replace_original"] is False
        assert post.args["response_type"] == "ephemeral"
        assert "try again" in post.args["text"].lower()
        assert h.checker.calls == ["example.com"]
