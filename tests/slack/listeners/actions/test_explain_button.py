"""Explain in thread: a threaded chat.postMessage, or a private note where the bot can't post."""

from __future__ import annotations

from slack_harness import Harness

from bot.slack.blocks.ids import ACTION_EXPLAIN


async def test_explain_posts_in_the_result_thread(harness: Harness) -> None:
    harness.checker.broken.add("broken.example")
    sent, _, _ = await harness.click(
        ACTION_EXPLAIN, "broken.example", channel="C0TEAM", message_ts="1700000030.000100"
    )
    assert sent.status == 200
    update = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.update")))[0]
    await harness.idle()
    post = harness.standin.calls_to("chat.postMessage")[0]
    assert post.ok
    assert post.args["channel"] == "C0TEAM"
    assert post.args["thread_ts"] == "1700000030.000100"
    assert update.ok
    assert ("C0TEAM", update.args["ts"]) in harness.standin.messages  # the placeholder
    assert "broken.example" in update.args["text"]
    assert "mx2.broken.example" in str(update.args["blocks"])


async def test_explain_answers_before_the_check_finishes(harness: Harness) -> None:
    gate = harness.checker.hold("slow.example")
    sent, _, _ = await harness.click(ACTION_EXPLAIN, "slow.example", channel="C0TEAM")
    assert sent.status == 200
    placeholder = (
        await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage"), 3)
    )[0]
    assert not gate.is_set()  # the check is still held
    assert placeholder.ok
    assert "Explaining slow.example" in placeholder.args["text"]
    assert harness.standin.calls_to("chat.update") == []
    gate.set()
    update = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.update")))[0]
    await harness.idle()
    assert update.ok  # it replaced the placeholder (else: message_not_found)
    assert update.args["channel"] == "C0TEAM"
    assert "slow.example" in update.args["text"]
    assert "Explaining" not in update.args["text"]
    assert len(harness.standin.calls_to("chat.postMessage")) == 1


async def test_not_in_channel_is_told_before_the_check_finishes(harness: Harness) -> None:
    harness.standin.set_not_in_channel("C0PRIVATE")
    gate = harness.checker.hold("slow.example")
    _, response_url, _ = await harness.click(ACTION_EXPLAIN, "slow.example", channel="C0PRIVATE")
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url), 3))[
        0
    ]
    assert not gate.is_set()
    assert "/invite" in post.args["text"]
    gate.set()


async def test_explain_uses_the_cached_report_the_message_shows(harness: Harness) -> None:
    _, url = await harness.command("example.com")
    await harness.wait_for(lambda calls: harness.standin.response_posts(url))
    harness.checker.broken.add("example.com")  # a new check would now find a problem
    await harness.click(ACTION_EXPLAIN, "example.com", channel="C0TEAM")
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    await harness.idle()
    assert harness.checker.calls == ["example.com"]  # no second check
    assert "Nothing to fix" in post.args["text"]
    assert harness.standin.calls_to("chat.update") == []


async def test_explain_under_a_thread_reply_answers_in_that_thread(harness: Harness) -> None:
    # Results of mentions and DMs are replies: the thread is the parent's, not the reply's.
    await harness.click(
        ACTION_EXPLAIN,
        "example.com",
        channel="C0TEAM",
        message_ts="1700000040.000200",
        thread_ts="1700000040.000100",
    )
    post = (await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage")))[0]
    await harness.idle()
    assert post.args["thread_ts"] == "1700000040.000100"


async def test_not_in_channel_falls_back_to_an_ephemeral_invite_hint(harness: Harness) -> None:
    harness.standin.set_not_in_channel("C0PRIVATE")
    sent, response_url, _ = await harness.click(ACTION_EXPLAIN, "example.com", channel="C0PRIVATE")
    assert sent.status == 200
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    await harness.idle()
    assert harness.standin.calls_to("chat.postMessage")[0].error == "not_in_channel"
    assert post.args["response_type"] == "ephemeral"
    assert post.args["replace_original"] is False
    assert "/invite" in post.args["text"]


async def test_channel_not_found_falls_back_too(harness: Harness) -> None:
    harness.standin.set_channel_not_found("D0SOMEONE")
    _, response_url, _ = await harness.click(ACTION_EXPLAIN, "example.com", channel="D0SOMEONE")
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    assert "/invite" in post.args["text"]


async def test_explain_under_an_ephemeral_result_answers_ephemerally(harness: Harness) -> None:
    _, response_url, _ = await harness.click(ACTION_EXPLAIN, "example.com", is_ephemeral=True)
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    await harness.idle()
    assert post.args["response_type"] == "ephemeral"
    assert harness.standin.calls_to("chat.postMessage") == []


async def test_other_web_api_failure_is_answered_not_raised(harness: Harness) -> None:
    harness.standin.fail_once("chat.postMessage", "msg_too_long")
    sent, response_url, _ = await harness.click(ACTION_EXPLAIN, "example.com")
    assert sent.status == 200
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    await harness.idle()
    assert post.args["response_type"] == "ephemeral"
    assert "went wrong" in post.args["text"]
    assert "Traceback" not in post.args["text"]
    assert "msg_too_long" not in post.args["text"]


async def test_explain_in_a_channel_that_restricts_posting_says_so(harness: Harness) -> None:
    harness.standin.restrict_posting("C0ANNOUNCE")
    _, response_url, _ = await harness.click(ACTION_EXPLAIN, "example.com", channel="C0ANNOUNCE")
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    await harness.idle()
    assert harness.standin.calls_to("chat.postMessage")[0].error == "restricted_action"
    assert post.args["response_type"] == "ephemeral"
    assert "restricts" in post.args["text"]
    assert "went wrong" not in post.args["text"]
