"""The marks behind redelivery dedupe (events, Socket Mode envelopes), in process."""

from __future__ import annotations

import asyncio

from bot.slack.dedupe import Deduper
from bot.slack.marks import MemoryMarks


async def test_first_time_only_once_until_forgotten() -> None:
    now = [0.0]
    deduper = Deduper(ttl=100, clock=lambda: now[0])
    assert await deduper.first_time("Ev1")
    assert not await deduper.first_time("Ev1")
    assert await deduper.first_time("Ev2")
    now[0] = 101
    assert await deduper.first_time("Ev1")  # long forgotten: Slack stopped retrying long ago


async def test_memory_is_bounded() -> None:
    deduper = Deduper(maxsize=2)
    for event_id in ("Ev1", "Ev2", "Ev3"):
        assert await deduper.first_time(event_id)
    assert await deduper.first_time("Ev1")  # evicted to stay within maxsize


async def test_an_envelope_again_or_its_payload_in_a_new_envelope_is_a_repeat() -> None:
    deduper = Deduper()
    command = {"command": "/mtasts", "text": "a.example", "trigger_id": "1.2.abc"}
    assert await deduper.first_delivery("env-1", command)
    assert not await deduper.first_delivery("env-1", command)  # the same envelope again
    assert not await deduper.first_delivery("env-2", dict(reversed(command.items())))
    assert await deduper.first_delivery("env-3", {**command, "trigger_id": "1.2.abd"})


async def test_event_ids_and_envelope_ids_do_not_collide() -> None:
    deduper = Deduper()
    assert await deduper.first_time("X1")
    assert await deduper.first_delivery("X1", {"a": 1})


class PausingMarks:
    """One instance's view of shared marks, pausing after its first mark until `go` is set:
    the slowest interleaving two instances handed the same envelope can have."""

    def __init__(self, shared: MemoryMarks, go: asyncio.Event) -> None:
        self._shared, self._go, self._marked = shared, go, 0
        self.paused = asyncio.Event()

    async def first_time(self, key: str, ttl: float) -> bool:
        if self._marked == 1:
            self.paused.set()
            await self._go.wait()
        self._marked += 1
        return await self._shared.first_time(key, ttl)


async def test_two_instances_racing_for_one_envelope_never_both_drop_it() -> None:
    shared, go = MemoryMarks(maxsize=100), asyncio.Event()
    pausing = PausingMarks(shared, go)
    slow, quick = Deduper(pausing), Deduper(shared)
    payload = {"command": "/mtasts", "trigger_id": "1.2.3"}
    first = asyncio.create_task(slow.first_delivery("env-1", payload))
    await pausing.paused.wait()  # it marked the envelope and pauses before the payload
    assert not await quick.first_delivery("env-1", payload)  # the same envelope, elsewhere
    go.set()
    assert await first  # so the first one to see it handles it
