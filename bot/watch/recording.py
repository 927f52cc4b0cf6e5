"""A watch check's outcome into the store: the new state and the alert intents, atomically.

`prepare()` judges a report against the domain's row as it was read or
claimed, and builds the alert messages: CPU work, done outside any
transaction (SQLite's single writer is not held for it). `apply()` then
writes, in the caller's write transaction: the state is saved only if nobody
saved another since (and, for the scheduler, only while its lease holds), and
the alert intents for every active watcher are inserted in the same
transaction, so an alert exists exactly when the state change that caused it
does. `record_check()` does both, for a new watch's baseline of a domain
others already watch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.checker.model import Report
from bot.slack.blocks.alert_builder import build_alert
from bot.store import alerts, domains, watches
from bot.store.domains import DomainRow
from bot.store.engine import Store
from bot.store.tables import alerts as alerts_table
from bot.watch.evaluate import Verdict, evaluate
from bot.watch.events import Event
from bot.watch.state import DomainState


@dataclass(slots=True)
class Prepared:
    verdict: Verdict
    messages: list[tuple[Event, dict[str, Any]]] = field(default_factory=list)


@dataclass(slots=True)
class Recorded:
    saved: bool  # False: the row changed under us (or the lease was lost): nothing written
    verdict: Verdict | None = None
    intents: int = 0  # alert intents recorded (events x watchers)
    kinds: list[str] = field(default_factory=list)


def prepare(
    row: DomainRow, report: Report, *, now: float, interval: float, confirm: int
) -> Prepared:
    """Judge `report` against `row` and build each event's message (no database)."""
    previous = DomainState.from_json(row.state) if row.state else None
    verdict = evaluate(
        previous,
        row.suspect_count,
        report,
        seq=row.seq + 1,
        now=now,
        interval=interval,
        confirm=confirm,
    )
    if previous is None:
        return Prepared(verdict)
    messages = [
        # `after` rides along for the deliverer (a recovered alert's "resolved" update)
        (event, {**build_alert(event, previous, report, interval=interval), "after": event.after})
        for event in verdict.events
    ]
    return Prepared(verdict, messages)


async def apply(
    store: Store,
    conn: AsyncConnection,
    row: DomainRow,
    prepared: Prepared,
    *,
    owner: str | None,
    now: float,
) -> Recorded:
    """Write a prepared outcome in `conn`'s transaction, if the row is still as it was read."""
    verdict = prepared.verdict
    state = verdict.state
    saved = await domains.save(
        conn,
        row.domain,
        expect_seq=row.seq,
        owner=owner,
        state=state.to_json() if state is not None else None,
        status=state.status if state is not None else None,
        mode=state.mode if state is not None else None,
        checked_at=now,
        next_check_at=verdict.next_check_at,
        suspect_count=verdict.suspect_count,
    )
    if not saved:
        return Recorded(saved=False)
    if not prepared.messages:
        return Recorded(saved=True, verdict=verdict)
    watchers = await watches.active_watchers(conn, row.domain)
    intents = [
        alerts.Intent(
            team_id=where.team_id,
            enterprise_id=where.enterprise_id,
            channel_id=where.channel_id,
            domain=row.domain,
            event_key=event.key,
            kind=event.kind,
            payload=payload,
            incident=event.incident,
            resolves=event.resolves,
            thread_of=event.thread_of,
        )
        for event, payload in prepared.messages
        for where in watchers
    ]
    await alerts.record(conn, store.insert(alerts_table), intents, now=now)
    return Recorded(
        saved=True,
        verdict=verdict,
        intents=len(intents),
        kinds=[e.kind for e, _ in prepared.messages],
    )


async def record_check(
    store: Store,
    conn: AsyncConnection,
    row: DomainRow,
    report: Report,
    *,
    owner: str | None,
    now: float,
    interval: float,
    confirm: int,
) -> Recorded:
    """prepare() and apply() in one go (inside the caller's write transaction)."""
    prepared = prepare(row, report, now=now, interval=interval, confirm=confirm)
    return await apply(store, conn, row, prepared, owner=owner, now=now)
