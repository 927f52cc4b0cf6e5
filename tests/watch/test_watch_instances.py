"""Three real `mtasts serve` processes sharing PostgreSQL and Redis watch 500 domains:
each due domain is checked by one instance, once; each alert is posted once; and when an
instance is killed mid-check, the domains it held are checked by the others once its
leases expire, nothing twice and nothing lost.

The instances run bot/testbed/serve_watch.py (`mtasts serve` with a short interval,
lease and idle pause, which production settings do not allow). A round starts when the
test makes every domain due (as the passing of an interval would), and ends when the
database says every domain has one more check.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence

import pytest_asyncio
import sqlalchemy as sa
from deployment import BOT_TOKEN, Deployment, deployment, poll

from bot.store import Store
from bot.store.tables import alerts, watched_domains
from bot.testbed.bed import Testbed
from bot.testbed.behaviour import DnsFault, Mx
from bot.testbed.scenario import Scenario, make
from bot.testbed.slack_standin import Call
from bot.testbed.watched import watch_domains

COUNT = 500
CHANNELS = 10
CHANGED = 20  # domains whose MX changes between rounds: one mx_changed alert each
KILL_ROUND = 150  # domains due when an instance is killed
SLOW_MX = 1.5  # seconds their MX lookups take then (under the resolver's 2 s per attempt)
INTERVAL = 60.0
LEASE = 4.0
IDLE = 0.2  # the instances look for due domains this often: a round starts at once
ROUND_TIMEOUT = 120.0
CHECK_LINE = re.compile(r"watch check domain=(\S+) .*?outcome=recorded")


def fleet(i: int, mx: str = "mx") -> Scenario:
    """A cheap domain to check (DNS only): no MTA-STS record, one MX without an address."""
    name = f"w{i:03d}.fleet.example"
    return make(
        name,
        "a watched domain of the fleet",
        sts=(),
        tlsrpt=(),
        mx=(Mx(f"{mx}.{name}", resolvable=False),),
        shared=True,
    )


NAMES = [fleet(i).domain for i in range(COUNT)]


async def _fill(store: Store, now: float) -> None:
    await watch_domains(
        store, NAMES, due=now + INTERVAL, now=now, channels=CHANNELS, prefix="C0FLEET"
    )  # due when a test makes them due


async def _rows(store: Store) -> Rows:
    async with store.read() as conn:
        result = await conn.execute(sa.select(watched_domains))
        return {r.domain: dict(r._mapping) for r in result}


Rows = dict[str, dict[str, object]]


async def _until(store: Store, done: Callable[[Rows], bool], within: float) -> Rows:
    """The rows, once `done(rows)`: the database is the instances' only shared record."""
    return await poll(lambda: _rows(store), done, within, every=0.2)


async def _next_round(store: Store) -> Rows:
    """Make every domain due (as the next interval would) and wait until each has one more
    check; returns the rows then."""
    before = {name: int(str(r["checks"])) for name, r in (await _rows(store)).items()}
    await _make_all_due(store)
    return await _until(
        store,
        lambda rows: all(int(str(rows[n]["checks"])) == before[n] + 1 for n in before),
        ROUND_TIMEOUT,
    )


async def _watched(store: Store) -> None:
    """The 500 watches, never checked, due in an interval (once per module)."""
    if not await _rows(store):
        await _fill(store, time.time())


async def _make_all_due(store: Store, names: Sequence[str] = ()) -> float:
    """Every domain (or those of `names`) due now."""
    now = time.time()
    update = sa.update(watched_domains).values(next_check_at=now)
    if names:
        update = update.where(watched_domains.c.domain.in_(names))
    async with store.write() as conn:
        await conn.execute(update)
    return now


def _checks(rows: Rows) -> dict[str, int]:
    return {name: int(str(r["checks"])) for name, r in rows.items()}


def _recorded(d: Deployment, index: int) -> Counter[str]:
    return Counter(CHECK_LINE.findall(d.instances[index].text()))


def _alert_posts(calls: list[Call]) -> list[Call]:
    return [
        c
        for c in calls
        if c.method == "chat.postMessage" and str(c.args.get("channel", "")).startswith("C0FLEET")
    ]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fleet_of_three(testbed: Testbed, redis_url: str) -> AsyncIterator[Deployment]:
    await testbed.add(*(fleet(i) for i in range(COUNT)))
    args = ("-m", "bot.testbed.serve_watch", "--interval", str(INTERVAL), "--lease", str(LEASE))
    args += ("--concurrency", "16", "--idle", str(IDLE))
    async with deployment(testbed, redis_url, count=3, args=args) as d:
        yield d


async def test_three_schedulers_share_500_domains_check_each_once_and_alert_once(
    fleet_of_three: Deployment, testbed: Testbed
) -> None:
    d = fleet_of_three
    await _watched(d.store)
    before = _checks(await _rows(d.store))
    logged = sum((_recorded(d, i) for i in range(3)), Counter())

    # One interval: every domain checked by exactly one instance, the work shared.
    rows = await _next_round(d.store)
    assert Counter(_checks(rows)) - Counter(before) == Counter({name: 1 for name in NAMES})
    logs = [_recorded(d, i) for i in range(3)]
    assert sum(logs, Counter()) - logged == Counter({name: 1 for name in NAMES})
    assert all(len(log) > 0 for log in logs)
    for row in rows.values():  # next check one interval on, at the domain's own slot
        gap = float(str(row["next_check_at"])) - float(str(row["checked_at"]))
        assert INTERVAL / 2 <= gap <= INTERVAL * 1.5 + 1

    # The next: twenty domains have a new MX by then, one alert each, posted once.
    posted = len(_alert_posts(d.standin.calls))
    for i in range(CHANGED):
        await testbed.change(fleet(i, mx=f"mx{int(str(rows[NAMES[i]]['checks'])) + 1}"))
    rows = await _next_round(d.store)
    await d.standin.wait_until(
        lambda: len(_alert_posts(d.standin.calls)) >= posted + CHANGED, timeout=60
    )
    posts = _alert_posts(d.standin.calls)[posted:]
    alerted = Counter(next(n for n in NAMES if n in str(c.args["text"])) for c in posts)
    assert alerted == Counter({name: 1 for name in NAMES[:CHANGED]})
    for c in posts:
        name = next(n for n in NAMES if n in str(c.args["text"]))
        assert c.args["channel"] == f"C0FLEET{NAMES.index(name) % CHANNELS:02d}"
        assert c.token == BOT_TOKEN
    async with d.store.read() as conn:
        ledger = Counter((await conn.execute(sa.select(alerts.c.domain, alerts.c.status))).all())
    assert ledger == Counter({(name, "posted"): 1 for name in NAMES[:CHANGED]})


async def test_a_killed_instance_s_domains_are_taken_over_after_its_leases_expire(
    fleet_of_three: Deployment, testbed: Testbed
) -> None:
    d = fleet_of_three
    await _watched(d.store)
    victim = d.instances[0]
    mark = f":{victim.proc.pid}:"
    posted = len(_alert_posts(d.standin.calls))
    before = _checks(await _rows(d.store))
    due = NAMES[-KILL_ROUND:]  # nothing changes in their DNS: nothing to alert

    # Their next interval: kill the first instance while it holds leases on domains it
    # has not recorded yet. Their MX lookups answer after SLOW_MX seconds meanwhile, so that
    # a lease seen in the database is a check still running.
    slow = [DnsFault(name, qtypes=frozenset({"MX"}), delay=SLOW_MX) for name in due]
    testbed.zone.add_faults(slow)
    try:
        await _make_all_due(d.store, due)
        await _until(
            d.store,
            lambda rows: any(
                mark in str(rows[n]["lease_owner"]) and rows[n]["checks"] == before[n] for n in due
            ),
            ROUND_TIMEOUT,
        )
        await d.instances.kill(0)
        killed_at = time.time()
    finally:
        testbed.zone.remove_faults(slow)
    orphans = {
        name: float(str(r["lease_until"]))
        for name, r in (await _rows(d.store)).items()
        if mark in str(r["lease_owner"]) and r["checks"] == before[name]
    }
    assert orphans  # it died holding some
    assert max(orphans.values()) <= killed_at + LEASE

    expected = {n: before[n] + (n in due) for n in before}
    rows = await _until(d.store, lambda rows: _checks(rows) == expected, ROUND_TIMEOUT)
    # each due domain checked once more: none lost, none twice (the database counts them)
    for name, lease_until in orphans.items():
        assert mark not in str(rows[name]["lease_owner"])  # taken over by another instance
        assert float(str(rows[name]["checked_at"])) >= lease_until  # once its lease ran out
    assert len(_alert_posts(d.standin.calls)) == posted  # nothing posted again
    assert victim.proc.returncode == -signal.SIGKILL
