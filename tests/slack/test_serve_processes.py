"""Two real `mtasts serve` processes (HTTP mode) sharing one Redis, checking against the
testbed's real servers, with the Slack stand-in playing Slack: what several instances
behind a load balancer must do, end to end (bot/testbed/instances.py runs them)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from slack_harness import BOT_TOKEN, SIGNING_SECRET

from bot.testbed.bed import Testbed
from bot.testbed.instances import ServeProcess, ServeProcesses, serve_env
from bot.testbed.slack_standin import SignedRequest, SlackRequests, SlackStandin


@dataclass
class Deployment:
    instances: ServeProcesses
    standin: SlackStandin
    slack: SlackRequests
    http: aiohttp.ClientSession

    async def send(self, one: ServeProcess, request: SignedRequest) -> tuple[int, str]:
        async with self.http.post(one.events_url, data=request.body, headers=request.headers) as r:
            return r.status, await r.text()

    async def command(self, one: ServeProcess, text: str, user: str) -> tuple[str, str]:
        """`/mtasts text` to `one`: (the ack's text, the response_url)."""
        url = self.standin.new_response_url()
        status, body = await self.send(
            one, self.slack.slash_command(text, response_url=url, user_id=user)
        )
        assert status == 200, body
        return json.loads(body)["text"], url

    async def checks_run(self) -> float:
        """Checks run by the whole deployment, from each instance's /metrics."""
        total = 0.0
        for one in self.instances:
            async with self.http.get(f"{one.base_url}/metrics") as r:
                text = await r.text()
            for family in text_string_to_metric_families(text):
                if family.name == "mtasts_checks":
                    total += sum(s.value for s in family.samples if s.name.endswith("_total"))
        return total


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def deployment(testbed: Testbed, redis_url: str) -> AsyncIterator[Deployment]:
    from real_services import redis_prefix

    async with SlackStandin() as standin, aiohttp.ClientSession() as http:
        env = serve_env(
            testbed,
            api_url=standin.api_url,
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            REDIS_URL=redis_url,
            MTASTS_REDIS_PREFIX=redis_prefix(),
        )
        async with ServeProcesses(env, 2) as instances:
            yield Deployment(instances, standin, SlackRequests(SIGNING_SECRET), http)
        for one in instances:
            assert one.proc.returncode == 0, one.text()
            assert "Traceback" not in one.text()
            assert BOT_TOKEN not in one.text()
            assert SIGNING_SECRET not in one.text()


async def test_both_report_healthy_with_redis(deployment: Deployment) -> None:
    for one in deployment.instances:
        async with deployment.http.get(f"{one.base_url}/healthz") as r:
            body = await r.json()
        assert r.status == 200
        assert body["checks"]["redis"] == {"ok": True, "required": False}
        assert body["checks"]["slack"]["ok"] is True


async def test_an_event_and_slacks_retry_to_the_other_instance_are_answered_once(
    deployment: Deployment,
) -> None:
    d, (one, two) = deployment, deployment.instances.processes
    before = len(d.standin.calls_to("chat.postMessage"))
    mention = d.slack.mention("good.example", event_id="EvPROC1", channel="C0PROC")
    stamp = int(mention.headers["X-Slack-Request-Timestamp"]) + 1  # Slack re-signs a retry
    retry = d.slack.event(
        json.loads(mention.body)["event"], event_id="EvPROC1", retry_num=1, timestamp=stamp
    )
    assert (await d.send(one, mention))[0] == 200
    assert (await d.send(two, retry)) == (200, "")
    posts = await d.standin.wait_for(
        lambda calls: [
            c for c in d.standin.calls_to("chat.postMessage") if c.args.get("channel") == "C0PROC"
        ],
        timeout=30,
    )
    assert len(posts) == 1
    assert "good.example" in posts[0].args["text"]
    assert len(d.standin.calls_to("chat.postMessage")) == before + 1


async def test_commands_spread_over_both_are_each_answered_once_and_checked_once(
    deployment: Deployment,
) -> None:
    d = deployment
    domains = ["testing.example", "none.example", "wildcard.example", "no-record.example"]
    checks_before = await d.checks_run()
    jobs = [
        d.command(d.instances[i % 2], domains[i % len(domains)], user=f"U0SPREAD{i % 10}")
        for i in range(40)
    ]
    answers = await asyncio.gather(*jobs)
    assert all("Checking" in ack for ack, _ in answers)
    urls = [url for _, url in answers]
    await d.standin.wait_until(lambda: all(d.standin.response_posts(u) for u in urls), timeout=60)
    for (_, url), i in zip(answers, range(40), strict=True):
        posts = d.standin.response_posts(url)
        assert len(posts) == 1
        assert domains[i % len(domains)] in posts[0].args["text"]
    # Four domains, forty askers, two instances: four checks in all (cache and joins).
    assert await d.checks_run() - checks_before == len(domains)


async def test_a_person_s_limit_holds_across_both(deployment: Deployment) -> None:
    d = deployment
    started = time.monotonic()
    acks = [
        (await d.command(d.instances[i % 2], f"limit{i}.example", user="U0LIMITED"))[0]
        for i in range(14)
    ]
    elapsed = time.monotonic() - started
    allowed = sum("Checking" in ack for ack in acks)
    # 10 at once, then one every 6 s (USER_LIMIT): whichever instance was asked.
    assert 10 <= allowed <= 10 + int(elapsed / 6), (allowed, elapsed)
    assert allowed < 14 or elapsed > 24
    assert all("try again in" in ack.lower() for ack in acks if "Checking" not in ack)
