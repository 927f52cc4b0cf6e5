"""Faults: Slack refusing or failing alert posts, a crash mid-post, the database locked or gone.

Every alert is posted at most once; nothing recorded is lost; a conversation the
bot cannot post in any more (Slack says so three times in a row) is paused (and shown as
paused), not retried for ever.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from fakes import Checker, Clock
from reports import make
from watch_harness import HOUR, WatchApp, fresh_domain, healthy, said, watching_app, withdrawn

from bot.slack.tokens import SingleWorkspaceToken
from bot.store import alerts
from bot.store.engine import Store
from bot.store.migrate import open_store
from bot.store.url import DatabaseUrl, parse
from bot.store.watches import Conversation
from bot.testbed.bed import Testbed
from bot.watch.config import WatchConfig
from bot.watch.delivery import BACKOFF_CAP, GONE_ATTEMPTS, Deliverer, Pass
from bot.watch.scheduler import Scheduler
from bot.watch.service import WatchService


@pytest.fixture
async def app(sqlite_store: Store, testbed: Testbed):  # type: ignore[no-untyped-def]
    async with watching_app(sqlite_store, testbed) as running:
        yield running


async def change_and_check(app: WatchApp, d: str) -> None:
    """Make `d` worse (mode none) and run its next check."""
    await app.serve(withdrawn(d))
    await app.next_interval()


async def ledger(app: WatchApp, channel: str, domain: str) -> list[alerts.AlertRow]:
    async with app.store.read() as conn:
        return await alerts.of_conversation(conn, app.h.slack.team_id, channel, domain)


# -- Slack -------------------------------------------------------------------------------


async def test_429_and_500_are_retried_with_backoff_and_posted_once(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("flaky")))
    await app.watch(d)
    app.h.standin.rate_limit_once("chat.postMessage")
    for _ in range(3):
        app.h.standin.server_error_once("chat.postMessage")
    # The client retries once within a call (the 429 here); the ledger retries later, with
    # a growing delay: 500 (given up by the call) → 1-1.5 s → 500, 500 → 2-3 s → posted.
    await change_and_check(app, d)
    assert app.alerts() == []
    (row,) = await ledger(app, "C0GENERAL", d)
    assert (row.status, row.attempts) == ("pending", 1)
    assert (await app.deliverer.deliver_due()).posted == 0  # not due yet: backing off
    app.clock.advance(1.5)
    assert (await app.deliverer.deliver_due()).retried == 1
    app.clock.advance(1.5)
    assert (await app.deliverer.deliver_due()).posted == 0  # the second delay is longer
    app.clock.advance(1.5)
    assert (await app.deliverer.deliver_due()).posted == 1
    app.clock.advance(HOUR)
    await app.deliverer.deliver_due()
    assert len(app.alerts()) == 1
    (row,) = await ledger(app, "C0GENERAL", d)
    assert (row.status, row.attempts) == ("posted", 3)


async def refused_until_paused(app: WatchApp, error: str, d: str) -> None:
    """Slack answers `error` to every post: retried with backoff, then taken as final."""
    for _ in range(GONE_ATTEMPTS):
        app.h.standin.fail_once("chat.postMessage", error)
    await change_and_check(app, d)  # the first attempt
    for n in range(1, GONE_ATTEMPTS):
        (row,) = await ledger(app, "C0LOST", d)
        assert (row.status, row.last_error) == ("pending", f"{error} x{n}")  # backing off
        app.clock.advance(BACKOFF_CAP)
        await app.deliverer.deliver_due()


async def test_one_channel_not_found_is_retried_and_the_alert_posted(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("glitch")))
    await app.watch(d, channel="C0GLITCH")
    app.h.standin.fail_once("chat.postMessage", "channel_not_found")
    await change_and_check(app, d)
    assert app.alerts() == []
    (row,) = await ledger(app, "C0GLITCH", d)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "channel_not_found x1")
    app.clock.advance(3.0)  # the first backoff: 2-3 s
    assert (await app.deliverer.deliver_due()).posted == 1
    assert len(app.alerts()) == 1
    (listed,) = await app.service.of_conversation(Conversation(app.h.slack.team_id, "C0GLITCH"))
    assert not listed.paused


async def test_only_refusals_in_a_row_pause_a_conversation(app: WatchApp) -> None:
    """gone, gone, a 5xx-like error, gone: never three gone in a row, so never paused."""
    d = await app.serve(healthy(fresh_domain("streak")))
    await app.watch(d, channel="C0STREAK")
    for error in ("channel_not_found", "channel_not_found", "internal_error", "is_archived"):
        app.h.standin.fail_once("chat.postMessage", error)
    await change_and_check(app, d)  # the first attempt
    for _ in range(4):  # the next four: refused three times more, then posted
        (row,) = await ledger(app, "C0STREAK", d)
        assert row.status == "pending", row
        app.clock.advance(BACKOFF_CAP)
        await app.deliverer.deliver_due()
    assert len(app.alerts("C0STREAK")) == 1
    (row,) = await ledger(app, "C0STREAK", d)
    assert (row.status, row.attempts) == ("posted", 5)
    (listed,) = await app.service.of_conversation(Conversation(app.h.slack.team_id, "C0STREAK"))
    assert not listed.paused


async def test_alerts_queued_behind_a_refused_one_wait_for_it_and_keep_their_order(
    app: WatchApp,
) -> None:
    names = [await app.serve(healthy(fresh_domain(f"queue{i}"))) for i in range(3)]
    for name in names:
        await app.watch(name, channel="C0QUEUE")
    app.h.standin.fail_once("chat.postMessage", "channel_not_found")
    for name in names:
        await app.serve(withdrawn(name))
    await app.next_interval()  # three alerts recorded; the first post refused
    assert app.alerts("C0QUEUE") == []
    rows = [row for name in names for row in await ledger(app, "C0QUEUE", name)]
    assert sorted((r.status, r.attempts) for r in rows) == [
        ("pending", 0),  # claimed behind it, not attempted: the claim is not counted
        ("pending", 0),
        ("pending", 1),
    ]
    app.clock.advance(0.99)  # (the refused one backs off for at least 1 s here)
    assert (await app.deliverer.deliver_due()).posted == 0  # none overtakes it
    app.clock.advance(BACKOFF_CAP)
    assert (await app.deliverer.deliver_due()).posted == 3
    first = min(rows, key=lambda r: r.id)
    order = [next(n for n in names if n in said(c)) for c in app.alerts("C0QUEUE")]
    ids = {r.domain: r.id for r in rows}
    assert order == sorted(names, key=ids.__getitem__)  # oldest first, as recorded
    assert order[0] == first.domain


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_a_conversation_the_bot_lost_is_paused(app: WatchApp, error: str) -> None:
    d = await app.serve(healthy(fresh_domain("lost")))
    await app.watch(d, channel="C0LOST")
    await refused_until_paused(app, error, d)
    assert app.alerts() == []
    (row,) = await ledger(app, "C0LOST", d)
    assert (row.status, row.last_error) == ("failed", error)
    (listed,) = await app.service.of_conversation(Conversation(app.h.slack.team_id, "C0LOST"))
    assert (listed.paused, listed.paused_reason) == (True, error)
    # /mtasts watching there (a response_url works anywhere) shows it paused
    _, url = await app.command("watching", channel_id="C0LOST")
    assert "*paused*" in app.answers(url)[0]
    # nothing more is recorded or posted for it, and the domain is not even checked
    await app.serve(healthy(d))
    done, _ = await app.next_interval()
    assert done.claimed == []
    assert len(await ledger(app, "C0LOST", d)) == 1
    # watching again (once the bot is back) resumes it
    _, url = await app.command(f"watch {d}", channel_id="C0LOST")
    assert "Watching `" in app.answers(url)[0]
    assert "again" in app.answers(url)[0]
    (listed,) = await app.service.of_conversation(Conversation(app.h.slack.team_id, "C0LOST"))
    assert not listed.paused


async def test_app_home_shows_a_paused_watch(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("homepaused")))
    await app.watch(d, channel="C0LOST")
    await refused_until_paused(app, "is_archived", d)
    opened = {"type": "app_home_opened", "user": "U0CALLER", "tab": "home", "channel": "D0X"}
    await app.h.send(app.h.slack.event(opened))
    await app.h.idle()
    view = json.dumps(app.h.standin.calls_to("views.publish")[-1].args["view"])
    assert "*paused*: the channel is archived" in view


async def test_an_inactive_bot_account_pauses_the_whole_workspace(app: WatchApp) -> None:
    one = await app.serve(healthy(fresh_domain("inactive")))
    two = await app.serve(healthy(fresh_domain("inactive")))
    await app.watch(one, channel="C0A")
    await app.watch(two, channel="C0B")
    for _ in range(GONE_ATTEMPTS):
        app.h.standin.fail_once("chat.postMessage", "account_inactive")
    await change_and_check(app, one)
    for _ in range(GONE_ATTEMPTS - 1):
        assert not any(r.paused for r in await app.service.of_team(app.h.slack.team_id))
        app.clock.advance(BACKOFF_CAP)
        await app.deliverer.deliver_due()
    rows = await app.service.of_team(app.h.slack.team_id)
    assert {(r.domain, r.paused_reason) for r in rows} == {
        (one, "account_inactive"),
        (two, "account_inactive"),
    }


async def test_a_crash_between_post_and_record_never_posts_twice(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("crash")))
    await app.watch(d)
    await app.serve(withdrawn(d))
    app.clock.advance(1.5 * HOUR)
    await app.scheduler.tick()

    class Crash(BaseException):
        pass

    class Crashing(Deliverer):
        async def _mark_posted(self, row: alerts.AlertRow, ts: str, thread_ts: str | None) -> None:
            raise Crash  # the process dies right after Slack accepted the post

    crashing = Crashing(
        app.store,
        app.h.app.client,
        SingleWorkspaceToken("xoxb-test-0000-secret-token"),
        clock=app.clock,
    )
    with pytest.raises(Crash):
        await crashing.deliver_due()
    assert len(app.alerts()) == 1
    # restarted: the row's send lease runs out; it becomes unconfirmed, never posted again
    app.clock.advance(61)
    again = await app.deliverer.deliver_due()
    assert again.expired == 1
    assert len(app.alerts()) == 1
    (row,) = await ledger(app, "C0GENERAL", d)
    assert row.status == "unconfirmed"


async def test_an_alert_recorded_before_a_restart_is_posted_after_it(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("restart")))
    await app.watch(d)
    await app.serve(withdrawn(d))
    app.clock.advance(1.5 * HOUR)
    await app.scheduler.tick()  # recorded; the process "stops" before posting
    restarted = Deliverer(
        app.store,
        app.h.app.client,
        SingleWorkspaceToken("xoxb-test-0000-secret-token"),
        clock=app.clock,
    )
    assert (await restarted.deliver_due()).posted == 1
    assert (await restarted.deliver_due()).posted == 0
    (alert,) = app.alerts()
    assert "mode" in said(alert)


# -- the database ----------------------------------------------------------------------------


@pytest.fixture
async def slow_lock_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A SQLite file whose writes give up quickly when the database is locked."""
    store = await open_store(
        DatabaseUrl(parse(f"sqlite:///{tmp_path}/locked.db"), "default"), busy_timeout=0.2
    )
    try:
        yield store, tmp_path / "locked.db"
    finally:
        await store.close()


def lock(path: Path) -> sqlite3.Connection:
    """Another process's write transaction, holding SQLite's write lock."""
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")
    return other


async def watched_and_due(store: Store) -> tuple[Clock, Checker, Scheduler]:
    """a.x watched in T1/C1, now due, and about to be found worse."""
    clock, checker = Clock(), Checker()
    config = WatchConfig(interval=HOUR)
    service = WatchService(store, config, clock=clock)
    scheduler = Scheduler(store, config, checker, clock=clock, owner="one", retry_delays=())
    await service.add(Conversation("T1", "C1"), user="U1", baselines={"a.x": make("a.x")})
    checker.reports["a.x"] = make("a.x", findings=[("tlsrpt_missing", "a.x")])
    clock.advance(2 * HOUR)
    return clock, checker, scheduler


async def test_a_locked_sqlite_database_delays_checks_and_loses_nothing(
    slow_lock_store: tuple[Store, Path],
) -> None:
    store, path = slow_lock_store
    clock, checker, scheduler = await watched_and_due(store)

    other = lock(path)
    try:
        blocked = await scheduler.tick()  # cannot claim: no crash, nothing done
    finally:
        other.rollback()
        other.close()
    assert (blocked.claimed, checker.calls["a.x"]) == ([], 0)

    # locked while the result is written: not saved; the lease runs out; checked again
    gate = checker.gates["a.x"] = asyncio.Event()
    running = asyncio.create_task(scheduler.tick())
    await asyncio.wait_for(checker.started.wait(), 10)
    other = lock(path)
    gate.set()
    try:
        interrupted = await running
    finally:
        other.rollback()
        other.close()
    assert (interrupted.claimed, interrupted.recorded, interrupted.failed) == (["a.x"], 0, 1)
    del checker.gates["a.x"]
    clock.advance(scheduler.lease + 1)
    done = await scheduler.tick()
    assert (done.claimed, done.intents) == (["a.x"], 1)
    async with store.read() as conn:
        rows = await alerts.of_conversation(conn, "T1", "C1")
    assert [r.kind for r in rows] == ["worse"]


async def test_postgres_connections_dropped_between_checks_are_replaced(pg_store: Store) -> None:
    _, checker, scheduler = await watched_and_due(pg_store)

    async def drop_every_connection() -> None:
        async with pg_store.engine.connect() as conn:
            await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            await conn.commit()

    await drop_every_connection()  # "the database restarted"
    gate = checker.gates["a.x"] = asyncio.Event()
    running = asyncio.create_task(scheduler.tick())
    await asyncio.wait_for(checker.started.wait(), 10)
    await drop_every_connection()  # ... and again while the check runs
    gate.set()
    done = await running
    assert (done.claimed, done.recorded, done.intents) == (["a.x"], 1, 1)


async def test_shutdown_lets_an_alert_post_in_flight_finish(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("shutdown")))
    await app.watch(d)
    await app.serve(withdrawn(d))
    app.clock.advance(1.5 * HOUR)
    await app.scheduler.tick()
    gate = app.h.standin.hold("chat.postMessage")
    running = asyncio.create_task(app.deliverer.run())
    await app.h.standin.wait_until(lambda: app.h.standin.arrived["chat.postMessage"] > 1)
    app.service._tasks.append(running)  # as start() would have it
    running.set_name("mtasts-alerts")
    stopping = asyncio.create_task(app.service.stop(grace=10))
    gate.set()  # Slack answers while the app is stopping
    await stopping
    assert running.done()
    (row,) = await ledger(app, "C0GENERAL", d)
    assert row.status == "posted"
    assert len(app.alerts()) == 1


async def test_a_watch_the_database_cannot_store_is_taken_back(
    slow_lock_store: tuple[Store, Path], testbed: Testbed
) -> None:
    store, path = slow_lock_store
    async with watching_app(store, testbed) as app:
        d = await app.serve(healthy(fresh_domain("nodb")))
        other = lock(path)  # another writer holds the database: the watch cannot be stored
        try:
            _, url = await app.command(f"watch {d}")
        finally:
            other.rollback()
            other.close()
        (answer,) = app.answers(url)
        assert "my database is not answering" in answer
        assert "Nothing was changed" in answer
        (posted,) = app.h.standin.calls_to("chat.postMessage")
        (deleted,) = app.h.standin.calls_to("chat.delete")
        assert deleted.args["channel"] == posted.args["channel"]
        assert await app.service.of_team(app.h.slack.team_id) == []


async def test_with_watch_off_only_alerts_are_delivered(sqlite_store: Store) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    service = WatchService(sqlite_store, WatchConfig(enabled=False))
    checker = Checker()
    service.start(
        check=checker, client=AsyncWebClient(), tokens=SingleWorkspaceToken("xoxb-unused")
    )
    try:
        assert service.scheduler is None
        assert service.deliverer is not None
    finally:
        await service.stop()
    assert checker.calls == {}


async def test_an_unexpected_error_in_delivery_does_not_end_it(sqlite_store: Store) -> None:
    """A bug hit while delivering (not database trouble) is logged, and delivery goes on:
    otherwise no alert of this instance would be posted again until a restart."""
    passes: list[str] = []

    class Buggy(Deliverer):
        async def deliver_due(self) -> Pass:
            if not passes:
                passes.append("broke")
                self.wake()  # (no pause before the next pass, for the test)
                raise KeyError("a bug")
            passes.append("delivered")
            self.stop()
            return Pass()

    deliverer = Buggy(sqlite_store, None, SingleWorkspaceToken("xoxb-test-0000-secret-token"))  # type: ignore[arg-type]
    await asyncio.wait_for(deliverer.run(), timeout=30)
    assert passes == ["broke", "delivered"]


async def test_a_token_lookup_that_fails_once_delays_the_alert_and_loses_nothing(
    app: WatchApp,
) -> None:
    """The token of a workspace (an installation store, with OAuth) not available for a
    moment: nothing was posted, so the alert is retried, not left to expire unposted."""
    d = await app.serve(healthy(fresh_domain("tokens")))
    await app.watch(d)
    await app.serve(withdrawn(d))
    app.clock.advance(1.5 * HOUR)
    await app.scheduler.tick()

    class Flaky:
        calls = 0

        async def bot_token(self, team_id: str, enterprise_id: str | None) -> str | None:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise ConnectionResetError("installation store went away")
            return "xoxb-test-0000-secret-token"

    deliverer = Deliverer(app.store, app.h.app.client, Flaky(), clock=app.clock)
    assert (await deliverer.deliver_due()).retried == 1
    assert app.alerts() == []
    app.clock.advance(BACKOFF_CAP + 1)
    assert (await deliverer.deliver_due()).posted == 1
    (row,) = await ledger(app, "C0GENERAL", d)
    assert row.status == "posted"
    assert len(app.alerts()) == 1
