"""The scheduler against the real databases: leases, one check per interval, alert intents.

Driven by explicit ticks and a clock moved by hand; every test runs on a
SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest
from fakes import Checker, Clock
from reports import make
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import alerts, domains, watches
from bot.store.engine import Store
from bot.store.watches import Conversation
from bot.watch.config import WatchConfig
from bot.watch.scheduler import Scheduler
from bot.watch.service import LimitReached, WatchService

HOUR = 3600.0
HERE = Conversation("T1", "C1")
THERE = Conversation("T2", "C9")


def setup(
    store: Store, clock: Clock, checker: Checker, **config: object
) -> tuple[WatchService, Scheduler]:
    settings = WatchConfig(interval=HOUR, **config)  # type: ignore[arg-type]
    service = WatchService(store, settings, clock=clock)
    scheduler = Scheduler(store, settings, checker, clock=clock, owner="one", retry_delays=())
    return service, scheduler


async def ledger(store: Store, where: Conversation, domain: str) -> list[alerts.AlertRow]:
    async with store.read() as conn:
        return await alerts.of_conversation(conn, where.team_id, where.channel_id, domain)


async def test_nothing_is_due_right_after_the_baseline(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    added = await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    assert added.added == ["a.example"]
    assert (await scheduler.tick()).claimed == []
    clock.advance(1.5 * HOUR)
    done = await scheduler.tick()
    assert done.claimed == ["a.example"]
    assert done.recorded == 1
    assert checker.calls["a.example"] == 1


async def test_each_domain_is_checked_once_per_interval(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    names = [f"d{i}.example" for i in range(30)]
    await service.add(HERE, user="U1", baselines={n: make(n) for n in names[:5]})
    await service.add(THERE, user="U2", baselines={n: make(n) for n in names[5:]})
    for _ in range(4 * 12):  # four intervals, a tick every five minutes
        clock.advance(300)
        await scheduler.tick()
    counts = [checker.calls[n] for n in names]
    assert set(counts) <= {3, 4}, counts


async def test_a_domain_watched_twice_is_checked_once_and_both_hear(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    await service.add(THERE, user="U2", baselines={"a.example": make("a.example")})
    checker.reports["a.example"] = make("a.example", findings=[("tlsrpt_missing", "a.example")])
    clock.advance(1.5 * HOUR)
    done = await scheduler.tick()
    assert checker.calls["a.example"] == 1
    assert done.intents == 2
    for where in (HERE, THERE):
        rows = await ledger(store, where, "a.example")
        assert [(r.kind, r.event_key, r.status) for r in rows] == [("worse", "worse:1", "pending")]


async def test_paused_watches_are_not_checked(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    async with store.write() as conn:
        await watches.pause(conn, team_id="T1", channel_id="C1", reason="is_archived", now=clock())
    clock.advance(2 * HOUR)
    assert (await scheduler.tick()).claimed == []
    listed = await service.of_conversation(HERE)
    assert listed[0].paused
    assert listed[0].paused_reason == "is_archived"


async def test_two_schedulers_never_check_the_same_domain(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, one = setup(store, clock, checker)
    config = WatchConfig(interval=HOUR)
    two = Scheduler(store, config, checker, clock=clock, owner="two", retry_delays=())
    names = [f"d{i}.example" for i in range(40)]
    await service.add(HERE, user="U1", baselines={n: make(n) for n in names})
    clock.advance(2 * HOUR)
    first, second = await asyncio.gather(one.tick(), two.tick())
    assert not set(first.claimed) & set(second.claimed)
    assert sorted(first.claimed + second.claimed) == sorted(names)
    assert all(checker.calls[n] == 1 for n in names)


async def test_a_lease_held_blocks_others_until_it_expires(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, one = setup(store, clock, checker)
    two = Scheduler(store, WatchConfig(interval=HOUR), checker, clock=clock, owner="two", lease=120)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    clock.advance(2 * HOUR)
    gate = checker.gates["a.example"] = asyncio.Event()
    stuck = asyncio.create_task(one.tick())  # claims, then its check hangs
    await asyncio.wait_for(checker.started.wait(), 10)
    assert (await two.tick()).claimed == []
    clock.advance(121)  # instance one "died": its lease runs out
    del checker.gates["a.example"]
    taken = await two.tick()
    assert taken.claimed == ["a.example"]
    assert taken.recorded == 1
    gate.set()
    late = await stuck
    assert late.recorded == 0
    assert late.failed == 1


async def test_a_check_that_breaks_is_retried_soon_without_alerting(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    checker.fail.add("a.example")
    clock.advance(2 * HOUR)
    broke = await scheduler.tick()
    assert broke.failed == 1
    checker.fail.clear()
    clock.advance(HOUR / 6)
    again = await scheduler.tick()
    assert again.claimed == ["a.example"]
    assert again.recorded == 1
    assert await ledger(store, HERE, "a.example") == []


async def test_a_blip_is_doubted_and_confirmed_sooner(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    blip = make("a.example", mode=None, findings=[("record_lookup_failed", "a.example")])
    checker.reports["a.example"] = blip
    clock.advance(2 * HOUR)
    first = await scheduler.tick()
    assert first.doubted == 1
    assert first.intents == 0
    clock.advance(HOUR / 6)  # the confirmation check comes a sixth of an interval later
    second = await scheduler.tick()
    assert second.claimed == ["a.example"]
    assert second.intents == 1
    assert [r.kind for r in await ledger(store, HERE, "a.example")] == ["worse"]


async def test_the_limit_is_per_workspace_and_stores_nothing_past_it(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, _ = setup(store, clock, checker, limit=3)
    await service.add(HERE, user="U1", baselines={n: make(n) for n in ("a.x", "b.x")})
    with pytest.raises(LimitReached) as caught:
        await service.add(
            Conversation("T1", "C2"), user="U1", baselines={n: make(n) for n in ("c.x", "d.x")}
        )
    assert (caught.value.count, caught.value.limit) == (2, 3)
    assert await service.count_team("T1") == 2
    # another workspace has its own limit; an "already watched" one costs nothing
    assert (await service.add(THERE, user="U2", baselines={"c.x": make("c.x")})).added == ["c.x"]
    again = await service.add(HERE, user="U1", baselines={"a.x": make("a.x"), "e.x": make("e.x")})
    assert (again.added, again.already) == (["e.x"], ["a.x"])
    # the limit counts domains: at 3 of 3, one watched here already costs nothing elsewhere
    elsewhere = Conversation("T1", "C2")
    assert (await service.add(elsewhere, user="U1", baselines={"a.x": make("a.x")})).added == [
        "a.x"
    ]
    assert await service.usage("T1", ["a.x", "f.x"]) == (3, ["f.x"])
    assert await service.count_team("T1") == 4  # watches: a.x is watched twice
    with pytest.raises(LimitReached):
        await service.add(elsewhere, user="U1", baselines={"f.x": make("f.x")})


async def test_unwatching_the_last_watch_forgets_the_domain(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, _ = setup(store, clock, checker)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    await service.add(THERE, user="U2", baselines={"a.example": make("a.example")})
    assert await service.remove(HERE, ["a.example", "b.example"]) == ["a.example"]
    async with store.read() as conn:
        assert await domains.get(conn, "a.example") is not None  # still watched THERE
    assert await service.remove(THERE, ["a.example"]) == ["a.example"]
    async with store.read() as conn:
        assert await domains.get(conn, "a.example") is None


async def test_pending_alerts_are_dropped_where_they_will_never_be_posted(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, scheduler = setup(store, clock, checker)
    names = ("a.example", "b.example")
    for where in (HERE, Conversation("T1", "C2"), THERE):
        await service.add(where, user="U1", baselines={n: make(n) for n in names})
    for name in names:
        checker.reports[name] = make(name, findings=[("tlsrpt_missing", name)])
    clock.advance(2 * HOUR)
    assert (await scheduler.tick()).intents == 6

    async def statuses() -> dict[tuple[str, str], tuple[str, str | None]]:
        out = {}
        for where in (HERE, Conversation("T1", "C2"), THERE):
            for name in names:
                (row,) = await ledger(store, where, name)
                out[(where.channel_id, name)] = (row.status, row.last_error)
        return out

    # unwatched here: only this conversation's alerts of that domain
    await service.remove(HERE, ["a.example"])
    pending = ("pending", None)
    assert await statuses() == {
        ("C1", "a.example"): ("dropped", "unwatched"),
        ("C1", "b.example"): pending,
        ("C2", "a.example"): pending,
        ("C2", "b.example"): pending,
        ("C9", "a.example"): pending,
        ("C9", "b.example"): pending,
    }
    # the workspace is closed to the bot: all of its pending alerts, no other workspace's
    async with store.write() as conn:
        await alerts.drop_conversation(conn, team_id="T1", channel_id=None, reason="token_revoked")
    gone = ("dropped", "token_revoked")
    assert await statuses() == {
        ("C1", "a.example"): ("dropped", "unwatched"),
        ("C1", "b.example"): gone,
        ("C2", "a.example"): gone,
        ("C2", "b.example"): gone,
        ("C9", "a.example"): pending,
        ("C9", "b.example"): pending,
    }


async def test_a_baseline_of_a_watched_domain_alerts_its_other_watchers(store: Store) -> None:
    clock, checker = Clock(), Checker()
    service, _ = setup(store, clock, checker)
    await service.add(HERE, user="U1", baselines={"a.example": make("a.example")})
    worse = make(
        "a.example", findings=[("tlsrpt_missing", "a.example")], checked_at="2026-11-30T12:00:00Z"
    )
    added = await service.add(THERE, user="U2", baselines={"a.example": worse})
    assert added.alerts == 1
    assert [r.kind for r in await ledger(store, HERE, "a.example")] == ["worse"]
    assert await ledger(store, THERE, "a.example") == []  # the newcomer saw it in its baseline


async def test_racing_instances_never_pass_the_limit_together(pg_store: Store) -> None:
    """Two instances (two engines on one PostgreSQL) adding watches for one workspace at
    the same moment: the limit holds, and a domain both add is stored once."""
    url = pg_store.engine.url
    other = Store(create_async_engine(url))
    try:
        config = WatchConfig(interval=HOUR, limit=2)  # the second's new domain is the third
        one = WatchService(pg_store, config, clock=Clock())
        two = WatchService(other, config, clock=Clock())
        names = ("a.x", "b.x", "shared.x")

        async def add(service: WatchService, channel: str, first: str) -> object:
            try:
                return await service.add(
                    Conversation("T1", channel),
                    user="U1",
                    baselines={n: make(n) for n in (first, "shared.x")},
                )
            except LimitReached as exc:
                return exc

        outcomes = await asyncio.gather(
            *(add(s, c, n) for s, c, n in ((one, "C1", names[0]), (two, "C2", names[1])))
        )
        assert sum(isinstance(o, LimitReached) for o in outcomes) == 1
        assert await one.count_team("T1") == 2
        async with pg_store.read() as conn:
            stored = await domains.get_many(conn, names)
        assert "shared.x" in stored
    finally:
        await other.close()
