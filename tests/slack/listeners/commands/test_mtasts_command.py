"""/mtasts over real HTTP: the ack, the in-channel results, usage and errors."""

from __future__ import annotations

import asyncio
import logging

import pytest
from slack_harness import Harness, running_app

from bot.slack.ratelimit import Limit, MemoryRateLimiter


def _texts(blocks: list[dict]) -> str:
    import json

    return json.dumps(blocks)


async def test_ack_is_fast_and_ephemeral_while_the_check_is_still_running(
    harness: Harness,
) -> None:
    gate = harness.checker.hold("example.com")
    sent, response_url = await harness.command("example.com")

    assert sent.status == 200
    ack = sent.json()
    assert ack["response_type"] == "ephemeral"
    assert "Checking" in ack["text"]
    assert "example.com" in ack["text"]
    # The check had started but not finished when Slack got its answer.
    assert harness.checker.calls == ["example.com"]
    assert harness.standin.response_posts(response_url) == []

    gate.set()
    posts = await harness.wait_for(lambda calls: harness.standin.response_posts(response_url))
    await harness.idle()
    posts = harness.standin.response_posts(response_url)
    assert len(posts) == 1
    assert posts[0].args["response_type"] == "in_channel"
    assert "example.com" in posts[0].args["text"]
    assert posts[0].args["blocks"]


async def test_each_domain_posted_once_in_channel_and_nothing_else(harness: Harness) -> None:
    domains = ["a.example", "b.example", "c.example", "d.example", "e.example"]
    sent, response_url = await harness.command(" ".join(domains))
    assert sent.status == 200
    await harness.wait_for(lambda calls: len(harness.standin.response_posts(response_url)) == 5)
    await harness.idle()

    posts = harness.standin.response_posts(response_url)
    assert len(posts) == 5
    assert all(p.ok and p.args["response_type"] == "in_channel" for p in posts)
    assert sorted(p.args["blocks"][0]["text"]["text"].split()[1].rstrip(":") for p in posts) == (
        domains
    )
    # No other in-channel message: no chat.postMessage at all.
    assert harness.standin.calls_to("chat.postMessage") == []
    assert sorted(harness.checker.calls) == domains


async def test_domains_are_checked_concurrently_and_posted_as_they_finish(
    harness: Harness,
) -> None:
    slow = harness.checker.hold("slow.example")
    _, response_url = await harness.command("slow.example fast.example")
    # fast.example is posted while slow.example is still held.
    posts = await harness.wait_for(lambda calls: harness.standin.response_posts(response_url))
    assert len(posts) == 1
    assert "fast.example" in posts[0].args["text"]
    slow.set()
    await harness.wait_for(lambda calls: len(harness.standin.response_posts(response_url)) == 2)


async def test_linked_domain_and_email_forms_are_accepted(harness: Harness) -> None:
    sent, response_url = await harness.command(
        "<http://Example.COM|Example.COM> <mailto:a@example.org|a@example.org>"
    )
    assert sent.status == 200
    await harness.wait_for(lambda calls: len(harness.standin.response_posts(response_url)) == 2)
    assert sorted(harness.checker.calls) == ["example.com", "example.org"]


async def test_empty_and_help_answer_usage_to_the_caller_only(harness: Harness) -> None:
    for text in ("", "help", "  HELP  "):
        sent, response_url = await harness.command(text)
        assert sent.status == 200
        ack = sent.json()
        assert ack["response_type"] == "ephemeral"
        assert "/mtasts" in ack["text"]
        await harness.idle()
        assert harness.standin.response_posts(response_url) == []
    assert harness.checker.calls == []


async def test_more_than_five_domains_is_refused_ephemerally(harness: Harness) -> None:
    sent, response_url = await harness.command(" ".join(f"d{i}.example" for i in range(6)))
    ack = sent.json()
    assert ack["response_type"] == "ephemeral"
    assert "6" in ack["text"]
    assert "5" in ack["text"]
    await harness.idle()
    assert harness.checker.calls == []
    assert harness.standin.response_posts(response_url) == []


async def test_invalid_input_names_the_input_and_checks_the_rest(harness: Harness) -> None:
    sent, response_url = await harness.command("192.0.2.1 good.example")
    ack = sent.json()
    assert ack["response_type"] == "ephemeral"
    assert "192.0.2.1" in ack["text"]
    assert "good.example" in ack["text"]  # "Checking good.example"
    await harness.wait_for(lambda calls: harness.standin.response_posts(response_url))
    await harness.idle()
    assert harness.checker.calls == ["good.example"]
    assert len(harness.standin.response_posts(response_url)) == 1


async def test_only_invalid_input_is_an_ephemeral_error(harness: Harness) -> None:
    sent, response_url = await harness.command("localhost")
    ack = sent.json()
    assert ack["response_type"] == "ephemeral"
    assert "localhost" in ack["text"]
    assert "not a domain" in ack["text"]
    await harness.idle()
    assert harness.checker.calls == []
    assert harness.standin.response_posts(response_url) == []


async def test_hostile_input_is_escaped_in_the_ack(harness: Harness) -> None:
    sent, _ = await harness.command("<!channel> &lt;@U123&gt;evil")
    body = sent.text
    assert "<!channel>" not in body
    assert "<@U123>" not in body


async def test_a_checker_bug_reaches_the_caller_as_a_message_not_a_traceback(
    harness: Harness,
) -> None:
    harness.checker.failing.add("bug.example")
    _, response_url = await harness.command("bug.example ok.example")
    await harness.wait_for(lambda calls: len(harness.standin.response_posts(response_url)) == 2)
    await harness.idle()
    posts = {p.args["response_type"]: p for p in harness.standin.response_posts(response_url)}
    assert set(posts) == {"ephemeral", "in_channel"}
    error = posts["ephemeral"].args["text"]
    assert "bug.example" in error
    assert "Traceback" not in error
    assert "RuntimeError" in error
    assert "ok.example" in posts["in_channel"].args["text"]


async def test_a_cached_result_is_reused_and_says_so(harness: Harness) -> None:
    _, first = await harness.command("cached.example")
    await harness.wait_for(lambda calls: harness.standin.response_posts(first))
    _, second = await harness.command("cached.example")
    posts = await harness.wait_for(lambda calls: harness.standin.response_posts(second))
    assert harness.checker.calls == ["cached.example"]
    assert posts[0].args["text"] == harness.standin.response_posts(first)[0].args["text"]
    assert "cached" in str(posts[0].args["blocks"]).lower()


async def test_rate_limit_answers_with_a_friendly_ephemeral_and_cache_hits_are_free() -> None:
    limiter = MemoryRateLimiter(user=Limit(burst=2, per_second=0.01), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        _, url1 = await h.command("one.example two.example")
        await h.wait_for(lambda calls: len(h.standin.response_posts(url1)) == 2)
        sent, url2 = await h.command("three.example")
        ack = sent.json()
        assert ack["response_type"] == "ephemeral"
        assert "try again in" in ack["text"].lower()
        # A domain already in the cache does not count against the limit.
        sent, url3 = await h.command("one.example")
        assert "Checking" in sent.json()["text"]
        await h.wait_for(lambda calls: h.standin.response_posts(url3))
        await h.idle()
        assert h.standin.response_posts(url2) == []
        assert sorted(h.checker.calls) == ["one.example", "two.example"]


async def test_a_refused_response_url_post_is_logged_not_raised(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mtasts.slack")
    # Use up the response_url's five posts first, as if earlier answers had.
    response_url = harness.standin.new_response_url()
    async with harness.session.post(response_url, json={"text": "x"}) as r:
        assert r.status == 200
    for _ in range(4):
        async with harness.session.post(response_url, json={"text": "x"}):
            pass
    sent = await harness.send(
        harness.slack.slash_command("late.example", response_url=response_url)
    )
    assert sent.status == 200
    await harness.wait_for(lambda calls: len(harness.standin.response_posts(response_url)) == 6)
    await harness.idle()
    assert harness.standin.response_posts(response_url)[-1].status == 404
    assert any(
        "outcome=reply_failed" in r.getMessage() and "late.example" in r.getMessage()
        for r in caplog.records
    )


async def test_many_commands_at_once_all_acked_quickly() -> None:
    async with running_app(limiter=MemoryRateLimiter(user=Limit(100, 1), team=Limit(100, 1))) as h:
        gates = [h.checker.hold(f"d{i}.example") for i in range(20)]
        results = await asyncio.gather(
            *(h.command(f"d{i}.example", user_id=f"U{i}") for i in range(20))
        )
        # Every ack came while every check was still held: none waited for a check.
        assert all(sent.status == 200 and "Checking" in sent.text for sent, _ in results)
        assert h.standin.response_posts() == []
        for gate in gates:
            gate.set()
        await h.wait_for(lambda calls: len(h.standin.response_posts()) == 20)
