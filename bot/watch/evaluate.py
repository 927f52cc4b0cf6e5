"""One watch check judged: believe it or re-check soon, the events, and the next check (pure).

Flap damping: a check that shows a transient failure the stored state does
not have (a DNS lookup, a connection or a probe that failed) is doubted: the
stored state stays, nothing is alerted, and the domain is checked again
soon (`confirm_delay`). Only when `confirm` checks in a row show it is it
believed (and alerted). With `confirm` 1 every check is believed.

Schedule: each domain has a fixed phase in the interval (a hash of its name),
so checks are spread evenly over the interval whatever order domains were
watched in, restarts and several instances agree on when a domain is due, and
a domain is due once per interval.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from bot.checker.model import Report
from bot.watch.events import TRANSIENT, Event, detect
from bot.watch.state import DomainState, snapshot

CONFIRM_DELAY_CAP = 300.0  # seconds: a doubted check is re-checked within 5 minutes


@dataclass(frozen=True, slots=True)
class Verdict:
    state: DomainState | None  # the state to store; None: keep the stored one (doubted)
    suspect_count: int
    next_check_at: float
    events: list[Event] = field(default_factory=list)

    @property
    def doubted(self) -> bool:
        return self.state is None


def phase(domain: str, interval: float) -> float:
    """Where in each interval `domain` is checked (seconds after a multiple of it)."""
    digest = int.from_bytes(hashlib.sha256(domain.encode()).digest()[:8], "big")
    return (digest % 1_000_000) / 1_000_000 * interval


def next_slot(domain: str, now: float, interval: float) -> float:
    """The domain's first slot at least half an interval from now."""
    offset = phase(domain, interval)
    k = math.ceil((now + interval / 2 - offset) / interval)
    return offset + k * interval


def confirm_delay(interval: float) -> float:
    """How soon a doubted check is repeated: a sixth of the interval, at most 5 minutes."""
    return min(interval / 6, CONFIRM_DELAY_CAP)


def _transient(state: DomainState) -> set[tuple[str, str]]:
    return {(k.code, k.subject) for k in state.findings if k.code in TRANSIENT}


def evaluate(
    previous: DomainState | None,
    suspect_count: int,
    report: Report,
    *,
    seq: int,
    now: float,
    interval: float,
    confirm: int,
) -> Verdict:
    """Judge `report` against the stored state (`seq`: the number the new state gets)."""
    new = snapshot(report, previous)
    due = next_slot(report.domain, now, interval)
    if previous is None:
        return Verdict(new, 0, due)
    if _transient(new) - _transient(previous) and suspect_count + 1 < confirm:
        return Verdict(None, suspect_count + 1, now + confirm_delay(interval))
    state, events = detect(previous, new, seq)
    return Verdict(state, 0, due, events)
