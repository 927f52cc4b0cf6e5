"""Re-check: bypass the cache and replace the message in place."""

from __future__ import annotations

from slack_harness import Harness, make_report, running_app

from bot.slack.blocks.ids import ACTION_RECHECK
from bot.slack.blocks.result_builder import build_result_message
from bot.slack.ratelimit import Limit, MemoryRateLimiter


async def test_recheck_bypasses_the_cache_and_replaces_the_message(harness: Harness) -> None:
    _, first = await harness.command("example.com")
    await harness.wait_for(lambda calls: harness.standin.response_posts(first))
    sent, response_url, _ = await harness.click(ACTION_RECHECK, "example.com")
    assert sent.status == 200
    await harness.wait_for(lambda calls: len(harness.standin.response_posts(response_url)) == 2)
    await harness.idle()
    post = harness.standin.response_posts(response_url)[-1]  # after "Re-checking…"
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
    limiter = MemoryRateLimiter(user=Limit(burst=1, per_second=0.001), team=Limit(60, 1.0))
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


async def test_recheck_shows_rechecking_on_the_message_before_the_check_ends(
    harness: Harness,
) -> None:
    original = build_result_message(make_report("slow.example"))
    gate = harness.checker.hold("slow.example")
    sent, response_url, _ = await harness.click(
        ACTION_RECHECK,
        "slow.example",
        message_blocks=original["blocks"],
        message_text=original["text"],
    )
    assert sent.status == 200
    first = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url), 3))[
        0
    ]
    assert not gate.is_set()  # the check is still held
    assert first.args["replace_original"] is True
    assert first.args["blocks"][:-1] == original["blocks"]  # buttons and all, as they were
    assert "Re-checking" in str(first.args["blocks"][-1])
    assert first.args["text"] == original["text"]
    gate.set()
    posts = await harness.wait_for(
        lambda calls: (
            len(harness.standin.response_posts(response_url)) == 2
            and harness.standin.response_posts(response_url)
        )
    )
    await harness.idle()
    assert posts[1].args["replace_original"] is True
    assert "Re-checking" not in str(posts[1].args["blocks"])
    assert "slow.example" in posts[1].args["text"]


async def test_recheck_without_the_message_says_rechecking_privately(harness: Harness) -> None:
    gate = harness.checker.hold("slow.example")
    _, response_url, _ = await harness.click(ACTION_RECHECK, "slow.example")
    first = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url), 3))[
        0
    ]
    assert not gate.is_set()
    assert first.args["response_type"] == "ephemeral"
    assert first.args["replace_original"] is False
    assert "Re-checking slow.example" in first.args["text"]
    gate.set()
    posts = await harness.wait_for(
        lambda calls: (
            len(harness.standin.response_posts(response_url)) == 2
            and harness.standin.response_posts(response_url)
        )
    )
    await harness.idle()
    assert posts[1].args["replace_original"] is True


async def test_a_broken_recheck_puts_the_message_back(harness: Harness) -> None:
    original = build_result_message(make_report("bad.example"))
    harness.checker.failing.add("bad.example")
    _, response_url, _ = await harness.click(
        ACTION_RECHECK, "bad.example", message_blocks=original["blocks"], message_text="r"
    )
    posts = await harness.wait_for(
        lambda calls: (
            len(harness.standin.response_posts(response_url)) == 3
            and harness.standin.response_posts(response_url)
        )
    )
    await harness.idle()
    assert posts[1].args["replace_original"] is True
    assert posts[1].args["blocks"] == original["blocks"]
    assert posts[2].args["response_type"] == "ephemeral"
    assert "Traceback" not in posts[2].args["text"]


async def test_a_second_recheck_click_does_not_stack_rechecking_lines(harness: Harness) -> None:
    original = build_result_message(make_report("slow.example"))
    gate = harness.checker.hold("slow.example")
    _, first_url, _ = await harness.click(
        ACTION_RECHECK, "slow.example", message_blocks=original["blocks"]
    )
    marked = (await harness.wait_for(lambda calls: harness.standin.response_posts(first_url)))[0]
    # Slack sends the message as it now stands: with the "Re-checking…" line
    _, second_url, _ = await harness.click(
        ACTION_RECHECK, "slow.example", message_blocks=marked.args["blocks"]
    )
    again = (await harness.wait_for(lambda calls: harness.standin.response_posts(second_url)))[0]
    gate.set()
    await harness.idle()
    assert again.args["blocks"] == marked.args["blocks"]
    assert str(again.args["blocks"]).count("Re-checking") == 1
    assert harness.checker.calls == ["slow.example"]  # the second click joined the check
