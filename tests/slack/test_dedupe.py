"""The event-id memory behind retry dedupe."""

from __future__ import annotations

from bot.slack.dedupe import EventDeduper


def test_first_time_only_once_until_forgotten() -> None:
    now = [0.0]
    deduper = EventDeduper(ttl=100, clock=lambda: now[0])
    assert deduper.first_time("Ev1")
    assert not deduper.first_time("Ev1")
    assert deduper.first_time("Ev2")
    now[0] = 101
    assert deduper.first_time("Ev1")  # long forgotten: Slack stopped retrying long ago


def test_memory_is_bounded() -> None:
    deduper = EventDeduper(maxsize=2)
    for event_id in ("Ev1", "Ev2", "Ev3"):
        assert deduper.first_time(event_id)
    assert deduper.first_time("Ev1")  # evicted to stay within maxsize
