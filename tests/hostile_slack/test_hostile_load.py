"""200 slash commands at once for 50 domains, with the real checker against the testbed.

50 healthy domains served by the testbed's shared servers (real DNS, HTTPS and
SMTP with STARTTLS on loopback); each domain is asked for by four commands
from four people, all 200 sent at the same moment over their own connections.
Rate limits are raised for this test (a limiter passed in), everything else is
the production path.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter

import aiohttp
import pytest
from slack_harness import running_app

from bot.checker.engine import check
from bot.checker.model import Report
from bot.slack.cache import MemoryResultCache
from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.testbed.bed import Testbed
from bot.testbed.scenario import healthy_domain

N_DOMAINS = 50
PER_DOMAIN = 4
ACK_BUDGET = 3.0  # Slack's limit for an ack


@pytest.mark.slow
async def test_200_concurrent_commands_for_50_domains_all_acked_and_answered_once(
    testbed: Testbed,
) -> None:
    domains = [f"load{i:02d}.slack-load.example" for i in range(N_DOMAINS)]
    missing = [healthy_domain(d) for d in domains if d not in testbed.scenarios]
    if missing:
        await testbed.add(*missing)
    settings = testbed.settings()
    checks: Counter[str] = Counter()

    async def real_check(domain: str) -> Report:
        checks[domain] += 1
        return await check(domain, settings)

    limiter = MemoryRateLimiter(user=Limit(1000, 100.0), team=Limit(1000, 100.0))
    async with (
        running_app(check=real_check, limiter=limiter) as h,
        # One connection per command, as Slack would open them (no client-side queue).
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        jobs = [
            (domain, f"U{n:03d}{k}", h.standin.new_response_url())
            for n, domain in enumerate(domains)
            for k in range(PER_DOMAIN)
        ]
        requests = [
            h.slack.slash_command(domain, response_url=url, user_id=user)
            for domain, user, url in jobs
        ]
        go = asyncio.Event()

        async def send(i: int) -> tuple[int, str, float]:
            await go.wait()
            start = time.perf_counter()
            request = requests[i]
            async with session.post(h.url, data=request.body, headers=request.headers) as r:
                text = await r.text()
            return r.status, text, time.perf_counter() - start

        senders = [asyncio.create_task(send(i)) for i in range(len(jobs))]
        go.set()
        acks = await asyncio.gather(*senders)

        latencies = [seconds for _, _, seconds in acks]
        assert all(status == 200 for status, _, _ in acks)
        assert all("Checking" in text for _, text, _ in acks)
        assert max(latencies) < ACK_BUDGET, (max(latencies), statistics.median(latencies))

        # Every command's response_url gets exactly one post: its domain's result.
        await h.wait_for(lambda calls: len(h.standin.response_posts()) >= len(jobs), timeout=30)
        await h.idle()
        for domain, _, url in jobs:
            posts = h.standin.response_posts(url)
            assert len(posts) == 1, (domain, len(posts))
            assert posts[0].ok
            assert posts[0].args["response_type"] == "in_channel"
            assert domain in posts[0].args["text"]
            assert "checks out" in posts[0].args["blocks"][0]["text"]["text"]
        assert len(h.standin.response_posts()) == len(jobs)
        assert [c.method for c in h.standin.calls if c.method != "response_url"] in (
            [],
            ["auth.test"],
        )

        # One check per domain, shared by its four commands; nothing left running or queued.
        assert checks == Counter({d: 1 for d in domains})
        cache = h.services.cache
        assert isinstance(cache, MemoryResultCache)
        assert not [d for d in domains if await cache.is_free(d, fresh=True)]
        assert h.services.tracker.active == 0
        assert h.services.tracker.started == h.services.tracker.finished == len(jobs)
