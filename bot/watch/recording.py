"""A watch check's outcome into the store: the new state and the alert intents, atomically.

`record_check` is what both the scheduler (a scheduled check) and a new watch
(its baseline, for a domain others already watch) call inside one write
transaction. The state is saved only if nobody saved another since it was
read (and, for the scheduler, only while its lease holds); the alert intents
for every active watcher are inserted in the same transaction, so an alert
exists exactly when the state change that caused it does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.checker.model import Report
from bot.slack.blocks.alert_builder import build_alert
from bot.store import alerts, domains, watches
from bot.store.domains import DomainRow
from bot.store.engine import Store
from bot.store.tables import alerts as alerts_table
from bot.watch.evaluate import Verdict, evaluate
from bot.watch.state import DomainState


@dataclass(slots=True)
class Recorded:
    saved: bool  # False: the row changed under us (or the lease was lost): nothing written
    verdict: Verdict | None = None
    intents: int = 0  # alert intents recorded (events x watchers)
    kinds: list[str] = field(default_factory=list)


def checked_at_seconds(report: Report, fallback: float) -> float:
    try:
        return dt.datetime.fromisoformat(report.checked_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return fallback


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
    """Judge `report` against `row` (as read) and write the outcome in `conn`'s transaction."""
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
    if not verdict.events or previous is None:
        return Recorded(saved=True, verdict=verdict)
    watchers = await watches.active_watchers(conn, row.domain)
    intents: list[alerts.Intent] = []
    for event in verdict.events:
        # `after` rides along for the deliverer (a recovered alert's "resolved" update)
        payload = {**build_alert(event, previous, report, interval=interval), "after": event.after}
        for where in watchers:
            intents.append(
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
            )
    await alerts.record(conn, store.insert(alerts_table), intents, now=now)
    return Recorded(
        saved=True, verdict=verdict, intents=len(intents), kinds=[e.kind for e in verdict.events]
    )
