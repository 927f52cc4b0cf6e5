"""Real `mtasts serve` processes as one deployment: a PostgreSQL database of its own, one
Redis prefix, the Slack stand-in, the session testbed (bot/testbed/instances.py runs them).

Used by the multi-instance tests (tests/slack/test_serve_processes.py,
tests/watch/test_watch_instances.py, tests/slack/oauth/test_oauth_instances.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.store import Store, open_store
from bot.store.url import DatabaseUrl, parse
from bot.testbed.bed import Testbed
from bot.testbed.instances import SERVE, ServeProcess, ServeProcesses, serve_env
from bot.testbed.slack_standin import SignedRequest, SlackRequests, SlackStandin

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-0000-secret-token"
T = TypeVar("T")


@dataclass
class Deployment:
    instances: ServeProcesses
    standin: SlackStandin
    slack: SlackRequests
    http: aiohttp.ClientSession
    store: Store  # the deployment's database, as the test sees it

    async def send(self, one: ServeProcess, request: SignedRequest) -> tuple[int, str]:
        async with self.http.post(one.events_url, data=request.body, headers=request.headers) as r:
            return r.status, await r.text()

    async def command(self, one: ServeProcess, text: str, user: str, **kw: Any) -> tuple[str, str]:
        """`/mtasts text` to `one`: (the ack's text, the response_url)."""
        url = self.standin.new_response_url()
        slack = kw.pop("slack", self.slack)
        status, body = await self.send(
            one, slack.slash_command(text, response_url=url, user_id=user, **kw)
        )
        assert status == 200, body
        return json.loads(body)["text"] if body else "", url

    async def metric(self, name: str, one: ServeProcess | None = None) -> float:
        """A counter's total over the instances (or one), from /metrics."""
        total = 0.0
        for each in [one] if one is not None else list(self.instances):
            async with self.http.get(f"{each.base_url}/metrics") as r:
                text = await r.text()
            for family in text_string_to_metric_families(text):
                if family.name == name:
                    total += sum(s.value for s in family.samples if s.name.endswith("_total"))
        return total

    async def health(self, one: ServeProcess) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{one.base_url}/healthz") as r:
            return r.status, await r.json()


async def poll(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    within: float,
    *,
    every: float = 0.1,
) -> T:
    """`await read()` until `done` holds for its value, and return it (TimeoutError after
    `within` s): the instances are other processes, and their writes to the database come
    with no event to wait on."""
    async with asyncio.timeout(within):
        while not done(value := await read()):  # noqa: ASYNC110 - see above
            await asyncio.sleep(every)
    return value


@contextlib.asynccontextmanager
async def deployment(
    testbed: Testbed,
    redis_url: str,
    *,
    count: int = 3,
    args: Sequence[str] = SERVE,
    bot_token: str | None = BOT_TOKEN,
    **extra: str,
) -> AsyncIterator[Deployment]:
    """`count` instances on a fresh PostgreSQL database and a fresh Redis prefix."""
    from real_services import pg_database, redis_prefix

    async for url in pg_database():
        # migrated here first, so the instances start on a current schema
        store = await open_store(DatabaseUrl(parse(url), "MTASTS_DATABASE_URL"))
        try:
            async with SlackStandin() as standin, aiohttp.ClientSession() as http:
                env = serve_env(
                    testbed,
                    api_url=standin.api_url,
                    bot_token=bot_token,
                    signing_secret=SIGNING_SECRET,
                    REDIS_URL=redis_url,
                    MTASTS_REDIS_PREFIX=redis_prefix(),
                    MTASTS_DATABASE_URL=url,
                    **extra,
                )
                async with ServeProcesses(env, count, args=args) as instances:
                    yield Deployment(instances, standin, SlackRequests(SIGNING_SECRET), http, store)
                secrets = [BOT_TOKEN, SIGNING_SECRET, extra.get("SLACK_CLIENT_SECRET")]
                for one in instances:
                    text = one.text()
                    assert "Traceback" not in text, text
                    assert one.proc.returncode in (0, -9), text  # stopped, or killed by the test
                    assert not [s for s in secrets if s and s in text]
        finally:
            await store.close()
