"""Three real `mtasts serve` processes (HTTP mode) sharing PostgreSQL and Redis, checking
against the testbed's real servers, with the Slack stand-in playing Slack: what several
instances behind a load balancer must do, end to end (tests/deployment.py runs them)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest_asyncio
from deployment import Deployment, deployment

from bot.testbed.bed import Testbed


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def three(testbed: Testbed, redis_url: str) -> AsyncIterator[Deployment]:
    async with deployment(testbed, redis_url, count=3, MTASTS_WATCH_INTERVAL="3600") as d:
        yield d


async def test_each_reports_its_database_redis_and_slack(three: Deployment) -> None:
    for one in three.instances:
        status, body = await three.health(one)
        assert status == 200
        checks = body["checks"]
        assert checks["database"] == {"ok": True, "required": True, "dialect": "postgresql"}
        assert checks["redis"] == {"ok": True, "required": False}
        assert checks["slack"]["ok"] is True


async def test_an_event_and_slacks_retries_to_other_instances_are_answered_once(
    three: Deployment,
) -> None:
    d = three
    one, two, three_ = d.instances.processes
    before = len(d.standin.calls_to("chat.postMessage"))
    mention = d.slack.mention("good.example", event_id="EvPROC1", channel="C0PROC")
    stamp = int(mention.headers["X-Slack-Request-Timestamp"])
    event = json.loads(mention.body)["event"]
    retries = [  # Slack re-signs each retry
        d.slack.event(event, event_id="EvPROC1", retry_num=n, timestamp=stamp + n) for n in (1, 2)
    ]
    assert (await d.send(one, mention))[0] == 200
    assert (await d.send(two, retries[0])) == (200, "")
    assert (await d.send(three_, retries[1])) == (200, "")
    posts = await d.standin.wait_for(
        lambda calls: [
            c for c in d.standin.calls_to("chat.postMessage") if c.args.get("channel") == "C0PROC"
        ],
        timeout=30,
    )
    assert len(posts) == 1
    assert "good.example" in posts[0].args["text"]
    assert len(d.standin.calls_to("chat.postMessage")) == before + 1


async def test_200_commands_spread_over_three_are_each_answered_once_and_checked_once(
    three: Deployment,
) -> None:
    d = three
    domains = ["testing.example", "none.example", "wildcard.example", "no-record.example"]
    checks_before = await d.metric("mtasts_checks")
    jobs = [
        d.command(d.instances[i % 3], domains[i % len(domains)], user=f"U0SPREAD{i % 20}")
        for i in range(200)
    ]
    answers = await asyncio.gather(*jobs)
    assert all("Checking" in ack for ack, _ in answers)
    urls = [url for _, url in answers]
    await d.standin.wait_until(lambda: all(d.standin.response_posts(u) for u in urls), timeout=90)
    for i, (_, url) in enumerate(answers):
        posts = d.standin.response_posts(url)
        assert len(posts) == 1
        assert domains[i % len(domains)] in posts[0].args["text"]
    # Four domains, two hundred askers, three instances: four checks in all.
    assert await d.metric("mtasts_checks") - checks_before == len(domains)


async def test_a_result_checked_by_one_is_served_by_the_others(three: Deployment) -> None:
    d = three
    before = [await d.metric("mtasts_checks", one) for one in d.instances]
    _, first = await d.command(d.instances[0], "mx-expired.example", user="U0CACHE1")
    await d.standin.wait_until(lambda: bool(d.standin.response_posts(first)), timeout=30)
    hits = [await d.metric("mtasts_cache_lookups", one) for one in d.instances]
    for n, one in enumerate(d.instances.processes[1:], 1):
        _, url = await d.command(one, "mx-expired.example", user=f"U0CACHE{n + 1}")
        await d.standin.wait_until(lambda url=url: bool(d.standin.response_posts(url)), timeout=30)
        (post,) = d.standin.response_posts(url)
        assert "mx-expired.example" in post.args["text"]
        assert await d.metric("mtasts_cache_lookups", one) == hits[n] + 1
    after = [await d.metric("mtasts_checks", one) for one in d.instances]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 0, 0]


async def test_a_person_s_limit_holds_across_all_three(three: Deployment) -> None:
    d = three
    started = time.monotonic()
    acks = [
        (await d.command(d.instances[i % 3], f"limit{i}.example", user="U0LIMITED"))[0]
        for i in range(14)
    ]
    elapsed = time.monotonic() - started
    allowed = sum("Checking" in ack for ack in acks)
    # 10 at once, then one every 6 s (USER_LIMIT): whichever instance was asked.
    assert 10 <= allowed <= 10 + int(elapsed / 6), (allowed, elapsed)
    assert allowed < 14 or elapsed > 24
    assert all("try again in" in ack.lower() for ack in acks if "Checking" not in ack)
