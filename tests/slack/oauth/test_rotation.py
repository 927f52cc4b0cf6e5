"""Token rotation: a bot token about to expire is refreshed once, even with two instances
racing for it (Slack's refresh token works once: a second refresh would be refused)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from oauth_browser import OAuthApp, oauth_app, posts_in

from bot.slack.oauth.locks import Locks, ProcessLocks
from bot.store import Store
from bot.testbed.slack_standin import Call, SlackStandin

SOON = 3600  # seconds: inside the two hours before expiry when tokens are refreshed
LONG = 43_200  # Slack's 12 hours


def _refreshes(calls: list[Call]) -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "oauth.v2.access" and c.args.get("grant_type") == "refresh_token"
    ]


async def _install_expiring(app: OAuthApp) -> str:
    """Install the default workspace with a token that is due for refresh."""
    assert (await app.install()).status == 200
    (token,) = app.standin.oauth.tokens_of("T0STANDIN")
    assert token.startswith("xoxe.xoxb-")
    app.standin.oauth.app.token_lifetime = LONG  # type: ignore[union-attr]
    return token


async def test_a_token_due_for_refresh_is_refreshed_once_and_used(app: OAuthApp) -> None:
    app.standin.oauth.app.rotation = True  # type: ignore[union-attr]
    app.standin.oauth.app.token_lifetime = SOON  # type: ignore[union-attr]
    old = await _install_expiring(app)
    h = app.harness
    for n in range(3):
        await h.send(app.requests("T0STANDIN").mention(f"d{n}.example", channel="C0ROT"))
    await h.wait_for(lambda calls: len(posts_in(calls, "C0ROT")) == 3)
    assert len(_refreshes(h.standin.calls)) == 1
    tokens = app.standin.oauth.tokens_of("T0STANDIN")
    new = next(t for t in tokens if t != old)
    assert {c.token for c in posts_in(h.standin.calls, "C0ROT")} == {new}
    stored = await app.oauth.workspaces.find(enterprise_id=None, team_id="T0STANDIN")
    assert stored is not None
    assert stored.bot_token == new
    assert app.oauth.workspaces.refreshes == 1


async def test_alerts_get_the_refreshed_token_too(app: OAuthApp) -> None:
    app.standin.oauth.app.rotation = True  # type: ignore[union-attr]
    app.standin.oauth.app.token_lifetime = SOON  # type: ignore[union-attr]
    old = await _install_expiring(app)
    token = await app.oauth.workspaces.bot_token("T0STANDIN", None)
    assert token is not None
    assert token != old
    assert await app.oauth.workspaces.bot_token("T0STANDIN", None) == token  # not again
    assert len(_refreshes(app.standin.calls)) == 1
    assert await app.oauth.workspaces.bot_token("T0NOWHERE", None) is None


@dataclass
class WatchedLocks:
    """A real lock, with a count of the holders and waiters that came to it."""

    inner: Locks
    arrived: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        self.arrived += 1
        self.changed.set()
        async with self.inner.hold(name) as held:
            yield held


async def _race(database: Store, *, shared_lock: bool, **kw: object) -> SlackStandin:
    """Two instances on one database and one Slack; the first refresh is held at Slack
    until the second instance has come to the lock too. Returns the stand-in."""
    async with contextlib.AsyncExitStack() as stack:
        standin = await stack.enter_async_context(SlackStandin())
        one = await stack.enter_async_context(oauth_app(database, standin=standin, **kw))
        two = await stack.enter_async_context(oauth_app(database, standin=standin, **kw))
        assert standin.oauth.app is not None
        standin.oauth.app.rotation = True
        standin.oauth.app.token_lifetime = SOON
        await _install_expiring(one)
        watched = []
        for app in (one, two):
            workspaces = app.oauth.workspaces
            if not shared_lock:  # the control: each instance locks only itself
                workspaces.locks = ProcessLocks()
            workspaces.locks = WatchedLocks(workspaces.locks)
            watched.append(workspaces.locks)
        exchanges = standin.arrived["oauth.v2.access"]  # the install's code exchange
        gate = standin.hold("oauth.v2.access")
        first = asyncio.create_task(
            one.harness.send(one.requests("T0STANDIN").mention("a.example", channel="C0ONE"))
        )
        await standin.wait_until(
            lambda: standin.arrived["oauth.v2.access"] == exchanges + 1, timeout=10
        )
        second = asyncio.create_task(
            two.harness.send(two.requests("T0STANDIN").mention("b.example", channel="C0TWO"))
        )
        while watched[1].arrived == 0:  # the second instance has come to the lock
            await asyncio.wait_for(watched[1].changed.wait(), 10)
            watched[1].changed.clear()
        if not shared_lock:  # both refreshes at Slack at once
            await standin.wait_until(
                lambda: standin.arrived["oauth.v2.access"] == exchanges + 2, timeout=10
            )
        gate.set()
        await asyncio.gather(first, second)
        await standin.wait_for(
            lambda calls: (
                posts_in(calls, "C0ONE")
                and (posts_in(calls, "C0TWO") if shared_lock else len(_refreshes(calls)) == 2)
            ),
            timeout=10,
        )
        await one.harness.idle()
        await two.harness.idle()
        return standin


@pytest.mark.parametrize("with_redis", [True, False], ids=["redis-lock", "postgres-lock"])
async def test_two_instances_racing_refresh_the_token_once(
    pg_db: Store, redis_url: str, redis_prefix: str, with_redis: bool
) -> None:
    kw = {"redis_url": redis_url, "redis_prefix": redis_prefix} if with_redis else {}
    standin = await _race(pg_db, shared_lock=True, **kw)
    refreshes = _refreshes(standin.calls)
    assert len(refreshes) == 1
    assert refreshes[0].ok
    (newest,) = [t for t in standin.oauth.tokens_of("T0STANDIN") if t.startswith("xoxe")][1:]
    assert posts_in(standin.calls, "C0ONE")[0].token == newest
    assert posts_in(standin.calls, "C0TWO")[0].token == newest


async def test_without_a_shared_lock_the_race_refreshes_twice(pg_db: Store) -> None:
    """The control: it is the shared lock that makes the difference above."""
    standin = await _race(pg_db, shared_lock=False)
    refreshes = _refreshes(standin.calls)
    assert len(refreshes) == 2
    assert [c.error for c in refreshes].count("invalid_refresh_token") == 1
