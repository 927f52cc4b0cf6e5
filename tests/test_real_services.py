"""The PostgreSQL and Redis fixtures give isolated, working connections (or skip clearly)."""

from __future__ import annotations

import asyncpg
import pytest
from real_services import _redact, redis_prefix
from redis.asyncio import Redis

from bot.testbed.postgres import asyncpg_dsn


async def test_pg_url_is_a_fresh_empty_database(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+asyncpg://")
    assert "/mtasts_t_" in pg_url
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        tables = await conn.fetchval(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        )
    finally:
        await conn.close()
    assert tables == 0


async def test_redis_url_answers_and_prefixes_differ(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        assert await client.ping() is True
    finally:
        await client.aclose()
    assert redis_prefix() != redis_prefix()


def test_passwords_never_reach_skip_reasons() -> None:
    assert _redact("postgresql://u:hunter2@db:5432/x") == "postgresql://u:***@db:5432/x"


def test_unreachable_service_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from real_services import unavailable

    monkeypatch.delenv("MTASTS_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="MTASTS_TEST_REDIS_URL"):
        unavailable("Redis", "MTASTS_TEST_REDIS_URL", "redis://x", OSError("refused"))
    monkeypatch.setenv("MTASTS_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="MTASTS_REQUIRE_SERVICES=1"):
        unavailable("Redis", "MTASTS_TEST_REDIS_URL", "redis://x", OSError("refused"))
