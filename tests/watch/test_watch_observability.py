"""Watching in /healthz (the database, required) and /metrics (alerts posted, scheduler lag)."""

from __future__ import annotations

import pytest
from fakes import Checker, Clock
from prometheus_client.parser import text_string_to_metric_families
from reports import make
from watch_harness import WatchApp, fresh_domain, healthy, watching_app, withdrawn

from bot.health import Health
from bot.metrics import Metrics
from bot.store.engine import Store, make_engine
from bot.store.url import parse
from bot.store.watches import Conversation
from bot.testbed.bed import Testbed
from bot.watch.config import WatchConfig
from bot.watch.scheduler import Scheduler
from bot.watch.service import WatchService


def samples(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = metrics.exposition().decode()
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def test_the_database_is_a_required_health_check(store: Store) -> None:
    health = Health(mode="http")
    health.add("database", store.ping, required=True)
    ok, body = await health.report()
    assert ok
    assert body["checks"]["database"] == {"ok": True, "required": True, "dialect": store.dialect}


async def test_a_database_that_does_not_answer_makes_the_instance_unhealthy() -> None:
    gone = make_engine(parse("postgresql://u:hunter2@127.0.0.1:9/db"))
    health = Health()
    health.add("database", gone.ping, required=True)
    try:
        ok, body = await health.report()
    finally:
        await gone.close()
    assert not ok
    assert body["checks"]["database"]["ok"] is False
    assert "hunter2" not in str(body)


@pytest.fixture
async def app(sqlite_store: Store, testbed: Testbed):  # type: ignore[no-untyped-def]
    async with watching_app(sqlite_store, testbed) as running:
        yield running


async def test_posted_alerts_are_counted_by_event(app: WatchApp) -> None:
    metrics = Metrics()
    app.deliverer.metrics = metrics
    d = await app.serve(healthy(fresh_domain("metrics")))
    await app.watch(d)
    await app.serve(withdrawn(d))
    await app.next_interval()
    assert samples(metrics, "mtasts_alerts_posted_total") == {(("event", "mode_changed"),): 1.0}


async def test_scheduler_lag_is_how_late_the_most_overdue_domain_is(sqlite_store: Store) -> None:
    clock, metrics = Clock(), Metrics()
    config = WatchConfig(interval=3600)
    service = WatchService(sqlite_store, config, clock=clock)
    scheduler = Scheduler(sqlite_store, config, Checker(), clock=clock, metrics=metrics)
    await service.add(Conversation("T1", "C1"), user="U1", baselines={"a.x": make("a.x")})
    rows = await service.of_conversation(Conversation("T1", "C1"))
    due = rows[0].next_check_at
    assert due is not None
    clock.now = due + 42
    await scheduler.tick()
    assert samples(metrics, "mtasts_scheduler_lag_seconds") == {(): pytest.approx(42)}
