"""Per-user and per-workspace limits on checks, over HTTP through the real app.

The limiter runs on a clock the test moves, so "try again in N seconds" can
be checked exactly and the wait can pass without sleeping. Answers from the
cache and joining a check already running cost nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest_asyncio
from slack_harness import SIGNING_SECRET, Harness, running_app

from bot.slack.blocks.ids import ACTION_DNS, ACTION_RECHECK
from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.testbed.slack_standin import SlackRequests


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_in(text: str) -> int:
    match = re.search(r"try again in (\d+) seconds?", text.lower())
    assert match, text
    return int(match.group(1))


@pytest_asyncio.fixture
async def limited() -> AsyncIterator[tuple[Harness, Clock]]:
    clock = Clock()
    # 2 checks per person, refilled one per 10 s; 4 per workspace, one per 20 s.
    limiter = MemoryRateLimiter(user=Limit(2, 0.1), team=Limit(4, 0.05), clock=clock)
    async with running_app(limiter=limiter) as h:
        yield h, clock


async def test_limit_message_says_when_and_the_wait_is_right(
    limited: tuple[Harness, Clock],
) -> None:
    h, clock = limited
    _, url = await h.command("a.example b.example")
    await h.wait_for(lambda calls: len(h.standin.response_posts(url)) == 2)
    sent, refused_url = await h.command("c.example")
    ack = sent.json()
    assert ack["response_type"] == "ephemeral"
    assert wait_in(ack["text"]) == 10  # one token at 0.1/s
    assert "Checking" not in ack["text"]
    clock.now += 9.5
    sent, _ = await h.command("c.example")
    assert wait_in(sent.json()["text"]) == 1  # rounded up, never "0 seconds"
    clock.now += 0.5
    sent, ok_url = await h.command("c.example")
    assert "Checking" in sent.json()["text"]
    await h.wait_for(lambda calls: h.standin.response_posts(ok_url))
    await h.idle()
    assert h.standin.response_posts(refused_url) == []  # nothing posted for a refusal
    assert h.checker.calls == ["a.example", "b.example", "c.example"]


async def test_cache_hits_and_running_checks_are_exempt(limited: tuple[Harness, Clock]) -> None:
    h, _ = limited
    gate = h.checker.hold("slow.example")
    _, url = await h.command("cached.example slow.example")  # both tokens spent
    await h.wait_for(lambda calls: h.standin.response_posts(url))
    # Limited for a new domain...
    sent, _ = await h.command("new.example")
    assert "try again" in sent.json()["text"].lower()
    # ...but a cached domain, and one whose check is running, are answered.
    sent, cached_url = await h.command("cached.example slow.example")
    assert "Checking" in sent.json()["text"]
    assert "try again" not in sent.json()["text"].lower()
    await h.send(h.slack.mention("cached.example", ts="1700000700.000100"))
    await h.click(ACTION_DNS, "cached.example")  # the modal opens from the cache
    gate.set()
    await h.wait_for(
        lambda calls: (
            len(h.standin.response_posts(cached_url)) == 2
            and h.standin.calls_to("chat.postMessage")
            and h.standin.calls_to("views.open")
        )
    )
    await h.idle()
    assert sorted(h.checker.calls) == ["cached.example", "slow.example"]
    assert h.standin.calls_to("chat.postEphemeral") == []  # no limit notice for free answers
    # Re-check is never free: it checks again, so it is limited.
    _, click_url, _ = await h.click(ACTION_RECHECK, "cached.example")
    told = await h.wait_for(lambda calls: h.standin.response_posts(click_url))
    assert told[0].args["response_type"] == "ephemeral"
    assert wait_in(told[0].args["text"]) >= 1


async def test_other_people_are_unaffected_until_the_workspace_limit(
    limited: tuple[Harness, Clock],
) -> None:
    h, _ = limited
    sent, _ = await h.command("u1a.example u1b.example", user_id="U1")
    assert "Checking" in sent.json()["text"]
    sent, _ = await h.command("u1c.example", user_id="U1")
    assert "try again" in sent.json()["text"].lower()  # U1 is out
    sent, _ = await h.command("u2a.example u2b.example", user_id="U2")
    assert "Checking" in sent.json()["text"]  # U2 is not
    # The workspace's 4 are now spent: U3 waits for the workspace bucket (20 s per token).
    sent, _ = await h.command("u3a.example", user_id="U3")
    assert wait_in(sent.json()["text"]) == 20
    # Another workspace has its own bucket.
    other = SlackRequests(SIGNING_SECRET, team_id="T0OTHER")  # same app, other workspace
    url = h.standin.new_response_url()
    sent_other = await h.send(other.slash_command("t2.example", response_url=url, user_id="U3"))
    assert "Checking" in sent_other.json()["text"]
    await h.wait_for(lambda calls: h.standin.response_posts(url))
    await h.idle()
    assert sorted(h.checker.calls) == sorted(
        ["u1a.example", "u1b.example", "u2a.example", "u2b.example", "t2.example"]
    )


async def test_partly_limited_command_checks_what_fits_and_says_the_rest(
    limited: tuple[Harness, Clock],
) -> None:
    h, _ = limited
    sent, url = await h.command("p1.example p2.example p3.example")
    text = sent.json()["text"]
    assert "Checking" in text
    assert "try again in 10 seconds" in text.lower()
    await h.wait_for(lambda calls: len(h.standin.response_posts(url)) == 2)
    await h.idle()
    assert h.checker.calls == ["p1.example", "p2.example"]
    assert len(h.standin.response_posts(url)) == 2
