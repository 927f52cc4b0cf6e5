"""Two instances of the app (two `build_app`, each served over HTTP) sharing one Redis and
one Slack (the stand-in): each request is answered once, limits and results are shared.

Each instance has its own checker, so the tests can say which instance checked what.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import parse_qsl

from redis.asyncio import Redis
from slack_harness import BOT_TOKEN, SIGNING_SECRET, FakeChecker, Harness, running_app

from bot.slack.app import build_app, make_client
from bot.slack.config import SlackConfig
from bot.slack.ratelimit import TEAM_LIMIT, USER_LIMIT, Limit
from bot.slack.serve import serve
from bot.slack.shared.ratelimit import RedisRateLimiter
from bot.testbed.slack_standin import SlackRequests, SlackStandin

APP_TOKEN = "xapp-1-A0STANDAPP-0000-secret"


@asynccontextmanager
async def deployment(
    redis_url: str,
    redis_prefix: str,
    count: int = 2,
    *,
    user: Limit = USER_LIMIT,
    team: Limit = TEAM_LIMIT,
) -> AsyncIterator[list[Harness]]:
    """`count` instances on one stand-in and one Redis, with these rate limits."""
    async with AsyncExitStack() as stack:
        standin = await stack.enter_async_context(SlackStandin())
        instances = []
        for _ in range(count):
            h = await stack.enter_async_context(
                running_app(standin=standin, redis_url=redis_url, redis_prefix=redis_prefix)
            )
            assert h.services.redis is not None
            h.services.limiter = RedisRateLimiter(h.services.redis, user=user, team=team)
            instances.append(h)
        yield instances


GENEROUS = Limit(1000, 100.0)


def checks(instances: list[Harness]) -> Counter[str]:
    return Counter(d for h in instances for d in h.checker.calls)


async def idle(instances: list[Harness]) -> None:
    for h in instances:
        await h.idle()


async def test_an_event_delivered_to_each_instance_is_answered_once(
    redis_url: str, redis_prefix: str
) -> None:
    async with deployment(redis_url, redis_prefix) as (one, two):
        first = one.slack.mention("twice.example", event_id="EvMULTI1", ts="1700000200.000100")
        event = json.loads(first.body)["event"]
        retry = one.slack.event(event, event_id="EvMULTI1", retry_num=1)  # re-signed by Slack
        assert (await one.send(first)).status == 200
        assert (await two.send(retry)).status == 200
        await one.wait_for(lambda calls: one.standin.calls_to("chat.postMessage"))
        await idle([one, two])
        assert len(one.standin.calls_to("chat.postMessage")) == 1
        assert checks([one, two]) == {"twice.example": 1}
        assert two.services.tracker.started == 0  # the retry never reached a listener


async def test_a_signed_request_replayed_to_the_other_instance_is_refused(
    redis_url: str, redis_prefix: str
) -> None:
    async with deployment(redis_url, redis_prefix) as (one, two):
        url = one.standin.new_response_url()
        request = one.slack.slash_command("replay.example", response_url=url)
        assert (await one.send(request)).status == 200
        assert (await two.send(request)).status == 401
        await one.wait_for(lambda calls: one.standin.response_posts(url))
        await idle([one, two])
        assert len(one.standin.response_posts(url)) == 1


async def test_two_hundred_commands_spread_over_both_are_each_answered_exactly_once(
    redis_url: str, redis_prefix: str
) -> None:
    domains = [f"d{i}.example" for i in range(10)]
    async with deployment(redis_url, redis_prefix, user=GENEROUS, team=GENEROUS) as instances:
        standin = instances[0].standin
        jobs = []
        for i in range(200):
            instance = instances[i % 2]
            url = standin.new_response_url()
            request = instance.slack.slash_command(
                domains[i % 10], response_url=url, user_id=f"U{i % 40:04d}"
            )
            jobs.append((instance, url, request))
        sent = await asyncio.gather(*(h.send(request) for h, _, request in jobs))
        assert [s.status for s in sent] == [200] * 200
        assert all("Checking" in s.json()["text"] for s in sent)
        await standin.wait_for(lambda calls: len(standin.response_posts()) >= 200, timeout=30)
        await idle(instances)
        for _, url, request in jobs:
            posts = standin.response_posts(url)
            assert len(posts) == 1, url
            assert posts[0].args["response_type"] == "in_channel"
            assert dict(parse_qsl(request.body))["text"] in posts[0].args["text"]
        assert len(standin.response_posts()) == 200
        # One check per domain in the whole deployment: the others were cache hits or
        # joined the check another instance was running.
        assert checks(instances) == Counter({d: 1 for d in domains})


async def test_a_person_s_rate_limit_holds_across_instances(
    redis_url: str, redis_prefix: str
) -> None:
    async with deployment(redis_url, redis_prefix, user=Limit(3, 1 / 600)) as instances:
        acks = []
        for i in range(6):
            sent, _ = await instances[i % 2].command(f"limit{i}.example")
            acks.append(sent.json()["text"])
        await idle(instances)
        assert ["Checking" in text for text in acks] == [True] * 3 + [False] * 3
        assert all("try again in" in text.lower() for text in acks[3:])
        # Another person is not held back by the first one's limit.
        sent, _ = await instances[1].command("other.example", user_id="U0OTHER")
        assert "Checking" in sent.json()["text"]
        await idle(instances)


async def test_a_result_cached_by_one_instance_is_served_by_the_other(
    redis_url: str, redis_prefix: str
) -> None:
    async with deployment(redis_url, redis_prefix) as (one, two):
        _, first_url = await one.command("cached.example")
        await one.wait_for(lambda calls: one.standin.response_posts(first_url))
        _, second_url = await two.command("cached.example")
        posts = await two.wait_for(lambda calls: two.standin.response_posts(second_url))
        await idle([one, two])
        assert "cached" in json.dumps(posts[0].args["blocks"])
        assert (one.checker.calls, two.checker.calls) == (["cached.example"], [])
        hits = two.services.metrics.registry.get_sample_value(
            "mtasts_cache_lookups_total", {"result": "hit"}
        )
        assert hits == 1


async def test_every_key_the_deployment_writes_expires(redis_url: str, redis_prefix: str) -> None:
    async with deployment(redis_url, redis_prefix) as (one, two):
        mention = one.slack.mention("keys.example", event_id="EvKEYS1")
        assert (await one.send(mention)).status == 200
        _, url = await two.command("keys.example")
        await one.wait_for(lambda calls: one.standin.response_posts(url))
        await one.wait_for(lambda calls: one.standin.calls_to("chat.postMessage"))
        await idle([one, two])
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = [k async for k in client.scan_iter(match=redis_prefix + "*")]
        kinds = {k.removeprefix(redis_prefix).split(":")[0] for k in keys}
        assert kinds == {"cache", "dedupe", "replay", "rate"}
        ttls = [await client.pttl(k) for k in keys]
    finally:
        await client.aclose()
    assert all(ttl > 0 for ttl in ttls), dict(zip(keys, ttls, strict=True))


# -- Socket Mode: Slack sends each envelope over one of the app's connections; these two
# instances both hold one, and the stand-in sends every envelope to every connection, as
# a redelivery to another instance would.


@asynccontextmanager
async def socket_instances(
    standin: SlackStandin, redis_url: str, redis_prefix: str, count: int = 2
) -> AsyncIterator[list[FakeChecker]]:
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        api_url=standin.api_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
    )
    stop = asyncio.Event()
    checkers, tasks = [], []
    for _ in range(count):
        checker = FakeChecker()
        app = build_app(config, check=checker, client=make_client(config, retry_backoff=0.01))
        bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        tasks.append(
            asyncio.create_task(
                serve(
                    config, port=0, host="127.0.0.1", app=app, stop=stop, started=bound.set_result
                )
            )
        )
        await asyncio.wait_for(bound, 10)
        checkers.append(checker)
    try:
        yield checkers
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)


async def test_socket_mode_an_envelope_reaching_both_instances_is_answered_once(
    redis_url: str, redis_prefix: str
) -> None:
    async with (
        SlackStandin() as standin,
        socket_instances(standin, redis_url, redis_prefix) as checkers,
    ):
        assert standin.socket_connections == 2
        slack = SlackRequests(SIGNING_SECRET)
        url = standin.new_response_url()
        form = dict(parse_qsl(slack.slash_command("sock.example", response_url=url).body))
        first = await standin.send_envelope("slash_commands", form)
        again = await standin.send_envelope("slash_commands", form, retry_attempt=1)

        def acks() -> list[dict[str, object]]:
            return [c.args for c in standin.calls_to("socket_ack")]

        await standin.wait_until(lambda: len(acks()) == 4)  # 2 envelopes x 2 connections
        await standin.wait_for(lambda calls: standin.response_posts(url))
        with_message = [a for a in acks() if "Checking" in json.dumps(a.get("payload"))]
        # Exactly one of the four deliveries is handled (whichever got there first).
        assert len(with_message) == 1
        assert with_message[0]["envelope_id"] in (first, again)
        assert sorted(str(a["envelope_id"]) for a in acks()) == sorted([first, first, again, again])
        assert all(a.get("payload") in (None, {}) for a in acks() if a not in with_message)
        assert sum(len(c.calls) for c in checkers) == 1
        assert len(standin.response_posts(url)) == 1
