"""The Slack app running for real over HTTP, talking to the Web API stand-in.

`running_app()` builds the app with `build_app` (the production path), serves
it with `make_web_app` on 127.0.0.1 (random port), points its Web API client at
a `SlackStandin`, and sends it requests signed like Slack's. The checker is a
`FakeChecker` unless a test passes another: reports built by hand, with gates
(asyncio.Event) to hold a check and prove what does not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp

from bot.checker.findings import finding
from bot.checker.model import MxHost, Policy, Record, Report, Tls, TlsRpt
from bot.checker.settings import Settings
from bot.metrics import Metrics
from bot.slack.app import build_app, build_services, make_client
from bot.slack.cache import CheckFn, MemoryResultCache, ResultCache
from bot.slack.config import SlackConfig
from bot.slack.ratelimit import RateLimiter
from bot.slack.serve import EVENTS_PATH, make_web_app
from bot.slack.services import Services
from bot.testbed.slack_standin import Call, SignedRequest, SlackRequests, SlackStandin
from bot.watch.service import WatchService

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-0000-secret-token"
WAIT = 30.0  # seconds a test waits for the app to post or go idle before it fails


def make_report(domain: str, *, failing: bool = False) -> Report:
    """A report built by hand: enforce mode, one MX; `failing` adds an uncovered MX."""
    mx = [
        MxHost(
            host=f"mx1.{domain}",
            preference=10,
            matched_by=f"mx1.{domain}",
            addresses=["192.0.2.25"],
            tls=Tls(reachable=True, starttls=True, version="TLSv1.3", cert_valid=True),
        )
    ]
    findings = []
    if failing:
        mx.append(MxHost(host=f"mx2.{domain}", preference=20, addresses=["192.0.2.26"]))
        findings.append(
            finding(
                "mx_not_covered",
                f"mx2.{domain}",
                f"mx2.{domain} is not listed in the policy",
                mode="enforce",
            )
        )
    return Report(
        domain=domain,
        mode="enforce",
        record=Record(txt="v=STSv1; id=20260101", id="20260101"),
        policy=Policy(
            "STSv1",
            "enforce",
            604800,
            [f"mx1.{domain}"],
            f"version: STSv1\nmode: enforce\nmx: mx1.{domain}\nmax_age: 604800\n",
        ),
        mx=mx,
        tlsrpt=TlsRpt(txt=f"v=TLSRPTv1; rua=mailto:tls@{domain}", rua=[f"mailto:tls@{domain}"]),
        findings=findings,
        checked_at="2026-11-29T10:00:00Z",
        duration_ms=12.5,
    )


@dataclass
class FakeChecker:
    """A checker under the test's control: counts calls, can hold or fail a domain."""

    failing: set[str] = field(default_factory=set)  # these raise (a checker bug)
    broken: set[str] = field(default_factory=set)  # these report an uncovered MX
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def hold(self, domain: str) -> asyncio.Event:
        gate = self.gates[domain] = asyncio.Event()
        return gate

    async def __call__(self, domain: str) -> Report:
        self.calls.append(domain)
        self.started.set()
        if gate := self.gates.get(domain):
            await gate.wait()
        if domain in self.failing:
            raise RuntimeError(f"checker bug for {domain}: Traceback (most recent call last)")
        return make_report(domain, failing=domain in self.broken)


@dataclass
class Sent:
    status: int
    text: str
    headers: dict[str, str]
    seconds: float

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass
class Harness:
    standin: SlackStandin
    slack: SlackRequests
    checker: FakeChecker
    services: Services
    app: AsyncApp
    url: str
    session: aiohttp.ClientSession
    config: SlackConfig

    async def send(self, request: SignedRequest) -> Sent:
        start = time.perf_counter()
        async with self.session.post(self.url, data=request.body, headers=request.headers) as r:
            text = await r.text()
            return Sent(r.status, text, dict(r.headers), time.perf_counter() - start)

    async def command(self, text: str, **kw: Any) -> tuple[Sent, str]:
        """Send `/mtasts text`; returns the HTTP answer (the ack) and the response_url used."""
        response_url = self.standin.new_response_url()
        sent = await self.send(self.slack.slash_command(text, response_url=response_url, **kw))
        return sent, response_url

    async def click(self, action_id: str, domain: str, **kw: Any) -> tuple[Sent, str, str]:
        """Click a result button; returns the HTTP answer, response_url and trigger_id."""
        response_url = self.standin.new_response_url()
        trigger_id = self.standin.new_trigger_id()
        request = self.slack.block_action(
            action_id, domain, response_url=response_url, trigger_id=trigger_id, **kw
        )
        return await self.send(request), response_url, trigger_id

    async def idle(self) -> None:
        """Wait until every listener has finished (no sleeping)."""
        # Generous: it only matters when something is wrong, or the machine very busy.
        assert await self.services.tracker.wait_idle(WAIT), f"listeners still busy after {WAIT} s"

    async def wait_for(
        self,
        predicate: Callable[[list[Call]], Any],
        timeout: float = WAIT,  # noqa: ASYNC109 - passed on to the stand-in
    ) -> Any:
        return await self.standin.wait_for(predicate, timeout=timeout)


@asynccontextmanager
async def running_app(
    *,
    check: CheckFn | None = None,
    cache_ttl: float = 300.0,
    limiter: RateLimiter | None = None,
    clock: Callable[[], float] | None = None,
    cache: ResultCache | None = None,
    standin: SlackStandin | None = None,
    redis_url: str | None = None,
    redis_prefix: str = "mtasts:",
    checker: FakeChecker | None = None,
    watch: WatchService | None = None,
    settings: Settings | None = None,
) -> AsyncIterator[Harness]:
    """One app served on a random port. Pass `standin` (and `redis_url`, `redis_prefix`)
    to run several instances as one deployment: one Slack, one Redis."""
    checker = checker or FakeChecker()
    async with contextlib.AsyncExitStack() as stack:
        if standin is None:
            standin = await stack.enter_async_context(SlackStandin())
        session = await stack.enter_async_context(aiohttp.ClientSession())
        config = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=standin.api_url,
            cache_ttl=cache_ttl,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            **({"settings": settings} if settings is not None else {}),
        )
        metrics = Metrics()
        if cache is None and redis_url is None:
            cache = MemoryResultCache(
                check or checker,
                ttl=cache_ttl,
                check_timeout=10,
                metrics=metrics,
                **({"clock": clock} if clock else {}),
            )
        services = build_services(
            config,
            check=check or checker,
            cache=cache,
            limiter=limiter,
            metrics=metrics,
            watch=watch,
        )
        app = build_app(config, client=make_client(config, retry_backoff=0.01), services=services)
        runner = web.AppRunner(make_web_app(app), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield Harness(
                standin=standin,
                slack=SlackRequests(SIGNING_SECRET),
                checker=checker,
                services=services,
                app=app,
                url=f"http://127.0.0.1:{port}{EVENTS_PATH}",
                session=session,
                config=config,
            )
        finally:
            # release anything a test left held, then let listeners finish
            for gate in checker.gates.values():
                gate.set()
            await services.tracker.wait_idle(5)
            await runner.cleanup()
            await services.aclose()


def web_calls(calls: list[Call]) -> list[Call]:
    """Calls other than auth.test (which Bolt makes once, lazily)."""
    return [c for c in calls if c.method != "auth.test"]
