"""The /healthz registry: named checks, required or not, run together, each bounded."""

from __future__ import annotations

import asyncio

from bot.health import Health, Probed


async def up() -> Probed:
    return Probed(True, {"connected": True})


async def down() -> Probed:
    return Probed(False, {"error": "ConnectionError"})


async def test_all_up_is_healthy_and_shows_each_check() -> None:
    health = Health(mode="http")
    health.add("slack", up, required=True)
    health.add("redis", up, required=False)
    ok, body = await health.report()
    assert ok
    assert body == {
        "ok": True,
        "mode": "http",
        "checks": {
            "slack": {"ok": True, "required": True, "connected": True},
            "redis": {"ok": True, "required": False, "connected": True},
        },
    }


async def test_a_dependency_not_required_being_down_keeps_it_healthy() -> None:
    health = Health()
    health.add("slack", up, required=True)
    health.add("redis", down, required=False)
    ok, body = await health.report()
    assert ok
    assert body["checks"]["redis"] == {"ok": False, "required": False, "error": "ConnectionError"}


async def test_a_required_dependency_down_makes_it_unhealthy() -> None:
    health = Health()
    health.add("redis", up, required=False)
    health.add("database", down, required=True)  # e.g. what the watch store plugs in
    ok, body = await health.report()
    assert not ok
    assert body["ok"] is False


async def test_a_probe_that_hangs_or_breaks_counts_as_down_without_detail_leaks() -> None:
    async def hangs() -> Probed:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def breaks() -> Probed:
        raise RuntimeError("redis://:hunter2@cache is gone")

    health = Health(timeout=0.05)
    health.add("hangs", hangs, required=True)
    health.add("breaks", breaks, required=False)
    ok, body = await health.report()
    assert not ok
    assert body["checks"]["hangs"] == {"ok": False, "required": True, "error": "timeout"}
    assert body["checks"]["breaks"] == {"ok": False, "required": False, "error": "RuntimeError"}


async def test_adding_a_name_again_replaces_it_and_no_checks_is_healthy() -> None:
    health = Health()
    assert await health.report() == (True, {"ok": True, "checks": {}})
    health.add("slack", down, required=True)
    health.add("slack", up, required=True)
    assert health.names() == ["slack"]
    assert (await health.report())[0]
