"""Marks in Redis: one mark for every instance, with an expiry; this instance's own
marks still count while Redis is away."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from bot.slack.dedupe import Deduper
from bot.slack.marks import MemoryMarks
from bot.slack.shared.link import RedisLink
from bot.slack.shared.marks import RedisMarks


def marks(link: RedisLink) -> RedisMarks:
    return RedisMarks(link, "dedupe", local=MemoryMarks(maxsize=100))


async def test_a_mark_made_by_one_instance_is_seen_by_another(
    links: Callable[[], RedisLink],
) -> None:
    one, two = marks(links()), marks(links())
    assert await one.first_time("event:Ev1", 60)
    assert not await two.first_time("event:Ev1", 60)
    assert not await one.first_time("event:Ev1", 60)
    assert await two.first_time("event:Ev2", 60)


async def test_every_mark_expires(link: RedisLink) -> None:
    assert await marks(link).first_time("sig:v0=abc", 2.5)
    name = link.key("dedupe", "sig:v0=abc")

    async def pttl(r: Redis) -> int:
        return await r.pttl(name)

    assert 0 < await link.call("t", pttl) <= 2500  # type: ignore[operator]


async def test_while_redis_is_away_this_instance_still_refuses_what_it_saw(
    dead_link: RedisLink,
) -> None:
    away = marks(dead_link)
    assert await away.first_time("event:Ev1", 60)
    assert not await away.first_time("event:Ev1", 60)


async def test_two_deduper_instances_on_redis_answer_an_event_once(
    links: Callable[[], RedisLink],
) -> None:
    one, two = Deduper(marks(links())), Deduper(marks(links()))
    assert [await one.first_time("Ev9"), await two.first_time("Ev9")] == [True, False]
    payload = {"command": "/mtasts", "trigger_id": "1.2.3"}
    assert await one.first_delivery("env-1", payload)
    assert not await two.first_delivery("env-2", payload)  # the same payload, another envelope
