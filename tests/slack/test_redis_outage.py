"""Redis going away and coming back, for real: a redis-server of the test's own is killed
(SIGKILL) and started again, empty, on the same port, while the app keeps answering.

What the README promises: while Redis is away each instance answers on its own
(cache, dedupe, replay guard and rate limits in process), `/healthz` still says 200 and
shows Redis down, `mtasts_redis_up` is 0; once it is back, the shared state is used
again (no restart needed)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from redis.asyncio import Redis
from slack_harness import Harness, running_app

from bot.slack.ratelimit import Limit
from bot.slack.shared.ratelimit import RedisRateLimiter


async def get(h: Harness, path: str) -> tuple[int, str]:
    base = h.url.rsplit("/slack/", 1)[0]
    async with aiohttp.ClientSession() as http, http.get(base + path) as r:
        return r.status, await r.text()


async def health(h: Harness) -> tuple[int, dict[str, Any]]:
    status, text = await get(h, "/healthz")
    return status, json.loads(text)


def redis_up(h: Harness) -> float | None:
    return h.services.metrics.registry.get_sample_value("mtasts_redis_up")


async def answered(h: Harness, domain: str, **kw: Any) -> dict[str, Any]:
    sent, url = await h.command(domain, **kw)
    assert sent.status == 200
    if "Checking" not in sent.json()["text"]:
        return dict(sent.json())
    posts = await h.wait_for(lambda calls: h.standin.response_posts(url))
    await h.idle()
    assert len(h.standin.response_posts(url)) == 1
    return dict(posts[0].args)


async def redis_keys(url: str, prefix: str) -> set[str]:
    client = Redis.from_url(url, decode_responses=True)
    try:
        return {k.removeprefix(prefix) async for k in client.scan_iter(match=prefix + "*")}
    finally:
        await client.aclose()


async def test_redis_killed_and_restarted_while_the_app_keeps_answering(
    own_redis: Any, redis_prefix: str
) -> None:
    async with running_app(redis_url=own_redis.url, redis_prefix=redis_prefix) as h:
        link = h.services.redis
        assert link is not None
        link.retry_after = 0  # try Redis again on every call (the default waits 5 s)
        h.services.limiter = RedisRateLimiter(link, user=Limit(2, 1 / 600))

        # Up: shared state goes to Redis.
        assert "before.example" in (await answered(h, "before.example"))["text"]
        assert "cache:result:before.example" in await redis_keys(own_redis.url, redis_prefix)
        assert (await health(h))[1]["checks"]["redis"]["ok"] is True

        await own_redis.stop()

        # Away: still answering, in process.
        assert "during.example" in (await answered(h, "during.example"))["text"]
        status, body = await health(h)
        assert status == 200  # Redis is not something this instance needs to answer
        assert body["ok"] is True
        assert body["checks"]["redis"] == {
            "ok": False,
            "required": False,
            "error": "ConnectionError",
            "fallback": "in-process",
        }
        assert redis_up(h) == 0
        # The rate limit holds in this process (one token left of the two, then none).
        assert "Checking" not in (await answered(h, "limited.example", user_id="U0CALLER"))["text"]
        # An event and Slack's retry of it: answered once (this instance's own marks).
        mention = h.slack.mention("event.example", event_id="EvOUTAGE1", user="U0MENTION")
        event = json.loads(mention.body)["event"]
        assert (await h.send(mention)).status == 200
        retry = h.slack.event(event, event_id="EvOUTAGE1", retry_num=1)
        assert (await h.send(retry)).status == 200
        await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage"))
        await h.idle()
        assert len(h.standin.calls_to("chat.postMessage")) == 1
        # What was checked during the outage is reused from this process' cache; what was
        # cached in Redis before it is out of reach, so it is checked again.
        await answered(h, "during.example")
        assert h.checker.calls.count("during.example") == 1
        await answered(h, "before.example", user_id="U0THIRD")
        assert h.checker.calls.count("before.example") == 2

        await own_redis.start()  # back, empty (no persistence), on the same port

        # Back: shared state is in Redis again, scripts loaded again, without a restart.
        assert "after.example" in (await answered(h, "after.example", user_id="U0OTHER"))["text"]
        keys = await redis_keys(own_redis.url, redis_prefix)
        assert "cache:result:after.example" in keys
        assert any(k.startswith("rate:user:") for k in keys)
        status, body = await health(h)
        assert (status, body["checks"]["redis"]) == (200, {"ok": True, "required": False})
        assert redis_up(h) == 1
        metrics = (await get(h, "/metrics"))[1]
        assert 'mtasts_redis_fallbacks_total{concern="cache"}' in metrics
