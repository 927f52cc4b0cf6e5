"""One check judged: flap damping, and when the domain is checked next."""

from __future__ import annotations

import pytest
from reports import DOMAIN, make

from bot.watch.evaluate import confirm_delay, evaluate, next_slot, phase
from bot.watch.events import WORSE
from bot.watch.state import DomainState, snapshot

HOUR = 3600.0
NOW = 1_800_000_000.0
BLIP = make(findings=[("record_lookup_failed", DOMAIN)], mode=None, checked_at="2026-11-30T11:00Z")


def judge(previous: DomainState | None, report=None, suspect: int = 0, confirm: int = 2):  # type: ignore[no-untyped-def]
    return evaluate(
        previous,
        suspect,
        report or make(),
        seq=2,
        now=NOW,
        interval=HOUR,
        confirm=confirm,
    )


def test_the_baseline_is_stored_without_alerts() -> None:
    verdict = judge(None)
    assert verdict.state is not None
    assert verdict.events == []
    assert NOW + HOUR / 2 <= verdict.next_check_at < NOW + 1.5 * HOUR


def test_one_blip_is_doubted_and_rechecked_soon() -> None:
    base = snapshot(make())
    verdict = judge(base, BLIP)
    assert verdict.doubted
    assert verdict.events == []
    assert verdict.suspect_count == 1
    assert verdict.next_check_at == NOW + confirm_delay(HOUR)
    # the next check is clean: nothing to say, the doubt is gone
    clean = judge(base, make(), suspect=1)
    assert clean.events == []
    assert clean.suspect_count == 0
    assert not clean.doubted


def test_a_blip_that_lasts_is_believed() -> None:
    base = snapshot(make())
    verdict = judge(base, BLIP, suspect=1)
    assert not verdict.doubted
    assert [e.kind for e in verdict.events] == [WORSE]


def test_confirm_one_believes_at_once() -> None:
    verdict = judge(snapshot(make()), BLIP, confirm=1)
    assert [e.kind for e in verdict.events] == [WORSE]


@pytest.mark.parametrize("confirm", [3, 4])
def test_confirm_counts_checks_in_a_row(confirm: int) -> None:
    base = snapshot(make())
    for suspect in range(confirm - 1):
        assert judge(base, BLIP, suspect=suspect, confirm=confirm).doubted
    assert not judge(base, BLIP, suspect=confirm - 1, confirm=confirm).doubted


def test_a_known_transient_failure_is_not_doubted_again() -> None:
    blocked = make(findings=[("mx_unreachable", f"mx1.{DOMAIN}")])
    base = snapshot(blocked)  # port 25 blocked from here, always
    verdict = judge(base, make(findings=[("mx_unreachable", f"mx1.{DOMAIN}")]))
    assert not verdict.doubted
    assert verdict.events == []


def test_a_non_transient_change_is_believed_at_once() -> None:
    verdict = judge(snapshot(make()), make(findings=[("policy_content_type", DOMAIN)]))
    assert [e.kind for e in verdict.events] == [WORSE]


def test_slots_are_one_interval_apart() -> None:
    first = next_slot("a.example", NOW, HOUR)
    second = next_slot("a.example", first + 3.0, HOUR)  # checked 3 s late
    assert second - first == pytest.approx(HOUR)
    # a check that ran half an interval late does not make the next one come early
    assert next_slot("a.example", first + HOUR * 0.49, HOUR) - first == pytest.approx(HOUR)


def test_phases_spread_domains_over_the_interval() -> None:
    buckets = [0] * 10
    for n in range(2000):
        buckets[int(phase(f"d{n}.example", 60.0) / 6.0)] += 1
    assert all(150 <= b <= 250 for b in buckets), buckets


def test_confirm_delay_is_sooner_than_the_interval() -> None:
    assert confirm_delay(60) == 10
    assert confirm_delay(HOUR) == 300
