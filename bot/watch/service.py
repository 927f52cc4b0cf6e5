"""What the Slack flows call: watch, unwatch, list; and the background work of an instance.

`WatchService` holds the store and the settings. `add()` stores watches (with
the baseline check: a new domain's first state, or, for a domain others
already watch, a check judged like a scheduled one so they hear of changes
first); `remove()` deletes them; `forget_team()` deletes a workspace's
watches and alert history (app uninstalled).

`start()` runs the scheduler (unless MTASTS_WATCH=off) and the alert
deliverer as tasks; `stop()` cancels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.checker.model import Report
from bot.metrics import Metrics
from bot.slack.tokens import BotTokens
from bot.store import alerts, domains, watches
from bot.store.engine import Store
from bot.store.tables import watched_domains
from bot.store.tables import watches as watches_table
from bot.store.watches import Conversation, WatchRow
from bot.watch.config import WatchConfig
from bot.watch.delivery import Deliverer
from bot.watch.evaluate import next_slot
from bot.watch.recording import record_check
from bot.watch.scheduler import CheckFn, Clock, Scheduler
from bot.watch.state import snapshot

log = logging.getLogger("mtasts.watch")
STOP_GRACE = 10.0  # seconds an alert post in flight may take to finish at shutdown
DELIVERY_TASK = "mtasts-alerts"


class LimitReached(Exception):
    """Adding these watches would take the workspace past MTASTS_WATCH_LIMIT."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} of {limit} watches in use")
        self.count = count
        self.limit = limit


@dataclass(slots=True)
class Added:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # watched here before: nothing done
    resumed: list[str] = field(default_factory=list)  # were paused here: watched again
    alerts: int = 0  # alerts the baselines raised for the domains' other watchers


class WatchService:
    def __init__(self, store: Store, config: WatchConfig, *, clock: Clock = time.time) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.scheduler: Scheduler | None = None
        self.deliverer: Deliverer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- reading -----------------------------------------------------------------------

    async def of_conversation(self, where: Conversation) -> list[WatchRow]:
        async with self.store.read() as conn:
            return await watches.of_conversation(conn, where.team_id, where.channel_id)

    async def of_team(self, team_id: str, *, limit: int | None = None) -> list[WatchRow]:
        async with self.store.read() as conn:
            return await watches.of_team(conn, team_id, limit=limit)

    async def count_team(self, team_id: str) -> int:
        """The workspace's watches (rows: a domain watched in two conversations counts twice)."""
        async with self.store.read() as conn:
            return await watches.count_team(conn, team_id)

    async def usage(self, team_id: str, names: Iterable[str]) -> tuple[int, list[str]]:
        """What counts against the limit: (domains the workspace watches, those of `names`
        it watches nowhere yet)."""
        async with self.store.read() as conn:
            return await _usage(conn, team_id, names)

    async def find(self, where: Conversation, names: Iterable[str]) -> dict[str, WatchRow]:
        async with self.store.read() as conn:
            return await watches.find(conn, where.team_id, where.channel_id, names)

    # -- changing ------------------------------------------------------------------------

    async def add(
        self, where: Conversation, *, user: str | None, baselines: Mapping[str, Report]
    ) -> Added:
        """Watch each domain of `baselines` here; raises LimitReached (nothing stored)."""
        out = Added()
        now = self.clock()
        async with self.store.write() as conn:
            # Count and insert as one, across instances: two people adding watches at once
            # must not pass the workspace's limit together, nor both create a new domain.
            await self.store.serialise(conn, "mtasts-watch-add")
            existing = await watches.find(conn, where.team_id, where.channel_id, baselines)
            new = [d for d in baselines if d not in existing]
            count, new_here = await _usage(conn, where.team_id, new)
            if new_here and count + len(new_here) > self.config.limit:
                raise LimitReached(count, self.config.limit)
            rows = await domains.get_many(conn, baselines)
            for name, report in baselines.items():
                out.alerts += await self._baseline(conn, name, report, rows.get(name), now)
                if name in existing:
                    (out.resumed if existing[name].paused else out.already).append(name)
                    continue
                await watches.add(
                    conn, self.store.insert(watches_table), where, name, user=user, now=now
                )
                out.added.append(name)
            if out.resumed:
                await watches.resume(conn, where, out.resumed)
        if out.alerts and self.deliverer is not None:
            self.deliverer.wake()
        if self.scheduler is not None:
            self.scheduler.wake()
        return out

    async def _baseline(
        self,
        conn: AsyncConnection,
        name: str,
        report: Report,
        row: domains.DomainRow | None,
        now: float,
    ) -> int:
        """Store a new domain's first state, or judge the baseline check of a watched one."""
        if row is None:
            state = snapshot(report)
            await domains.insert(
                conn,
                self.store.insert(watched_domains),
                domain=name,
                state=state.to_json(),
                status=state.status,
                mode=state.mode,
                checked_at=now,
                next_check_at=next_slot(name, now, self.config.interval),
                now=now,
            )
            return 0
        stored = str((row.state or {}).get("checked_at") or "")
        leased = row.lease_until is not None and row.lease_until >= now
        if leased or (stored and report.checked_at <= stored):
            return 0  # being checked right now, or this result is not newer: nothing to judge
        recorded = await record_check(
            self.store,
            conn,
            row,
            report,
            owner=None,
            now=now,
            interval=self.config.interval,
            confirm=self.config.confirm,
        )
        return recorded.intents

    async def remove(self, where: Conversation, names: Iterable[str]) -> list[str]:
        """Stop watching `names` here; returns those that were watched here."""
        wanted = list(names)
        async with self.store.write() as conn:
            removed = await watches.remove(conn, where, wanted)
            if removed:
                await alerts.drop_conversation(
                    conn,
                    team_id=where.team_id,
                    channel_id=where.channel_id,
                    reason="unwatched",
                    domains=removed,
                )
                await domains.delete_unwatched(conn, removed)
        return removed

    async def forget_team(self, team_id: str) -> int:
        """Delete a workspace's watches and alert history (the app was uninstalled)."""
        async with self.store.write() as conn:
            names = await watches.remove_team(conn, team_id)
            await alerts.delete_team(conn, team_id)
            await domains.delete_unwatched(conn, names)
        return len(names)

    # -- the background work ---------------------------------------------------------------

    def start(
        self,
        *,
        check: CheckFn,
        client: AsyncWebClient,
        tokens: BotTokens,
        owner: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """Run the alert deliverer and (unless MTASTS_WATCH=off) the scheduler."""
        self.deliverer = Deliverer(self.store, client, tokens, clock=self.clock, metrics=metrics)
        self._tasks.append(asyncio.create_task(self.deliverer.run(), name=DELIVERY_TASK))
        if self.config.enabled:
            self.scheduler = Scheduler(
                self.store,
                self.config,
                check,
                clock=self.clock,
                owner=owner,
                lease=self.config.lease,
                on_alerts=self.deliverer.wake,
                metrics=metrics,
            )
            self._tasks.append(asyncio.create_task(self.scheduler.run(), name="mtasts-scheduler"))
        log.info(
            "watching started scheduler=%s interval=%gs confirm=%s limit=%s",
            "on" if self.config.enabled else "off",
            self.config.interval,
            self.config.confirm,
            self.config.limit,
        )

    async def stop(self, *, grace: float = STOP_GRACE) -> None:
        """Stop the scheduler (checks in flight are abandoned; their leases are given back)
        and let the deliverer finish the post in flight (within `grace` seconds)."""
        tasks, self._tasks = self._tasks, []
        delivering = [t for t in tasks if t.get_name() == DELIVERY_TASK]
        for task in tasks:
            if task not in delivering:
                task.cancel()
        if self.deliverer is not None:
            self.deliverer.stop()
        if delivering:
            await asyncio.wait(delivering, timeout=grace)
        for task in tasks:
            task.cancel()  # (no-op for those already done)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _usage(
    conn: AsyncConnection, team_id: str, names: Iterable[str]
) -> tuple[int, list[str]]:
    wanted = list(names)
    known = await watches.team_watches(conn, team_id, wanted)
    count = await watches.count_team_domains(conn, team_id)
    return count, [name for name in wanted if name not in known]
