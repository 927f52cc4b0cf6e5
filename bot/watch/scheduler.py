"""The watch scheduler: claim due domains, check them in their own lane, record the outcome.

Claims are leases in the database (`lease_owner`, `lease_until`): on
PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances claim side by side
without taking the same domain; on SQLite the single writer serialises them.
A lease outlives a check's longest possible run, and an expired one (an
instance died mid-check) can be taken by anyone, so every due domain is
checked by exactly one instance, once per interval.

Database trouble (locked, restarting, unreachable) never stops the
scheduler: a claim that fails is retried after a pause; a result that cannot
be written is retried a few times and otherwise dropped, so the domain's
lease runs out and it is checked again (nothing was written, so nothing is
lost or doubled). A check that breaks is retried soon, without alerting.

`tick()` runs one round to completion (tests drive the scheduler with it and
an injected clock); `run()` is the long-running loop of `mtasts serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.checker.model import Report
from bot.metrics import Metrics
from bot.slack.reqlog import format_fields
from bot.store import domains
from bot.store.domains import DomainRow
from bot.store.engine import TRANSIENT_ERRORS, Store
from bot.watch.config import DEFAULT_LEASE, WatchConfig
from bot.watch.evaluate import confirm_delay
from bot.watch.recording import Prepared, Recorded, apply, prepare, record_check

CheckFn = Callable[[str], Awaitable[Report]]
Clock = Callable[[], float]

CLAIM_BATCH = 500  # domains claimed at most per round of tick()
RETRY_DELAYS = (0.5, 2.0, 5.0)  # pauses before writing a result again after a database error
CLAIM_BACKOFF_CAP = 30.0
# Results finishing within GROUP_COMMIT_WAIT of each other are written in one transaction.
GROUP_COMMIT_WAIT = 0.01
GROUP_COMMIT_MAX = 64
# run() claims at most every CLAIM_SPACING seconds (unless every slot is free), so that
# each claim takes several due domains rather than one per finished check.
CLAIM_SPACING = 0.25

log = logging.getLogger("mtasts.watch")

# A result waiting to be written: the row as claimed, the report, the judged outcome, the
# time it was judged at, and the future its checker awaits.
_Pending = tuple[DomainRow, Report, Prepared, float, "asyncio.Future[Recorded]"]


def instance_id() -> str:
    """This process's name in leases: host, pid and a random part."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(slots=True)
class Round:
    """What one tick() did."""

    claimed: list[str] = field(default_factory=list)
    recorded: int = 0  # results written
    doubted: int = 0  # results written as doubted (flap damping)
    intents: int = 0  # alert intents recorded
    failed: int = 0  # checks that broke, or results that could not be written


class Scheduler:
    def __init__(
        self,
        store: Store,
        config: WatchConfig,
        check: CheckFn,
        *,
        clock: Clock = time.time,
        owner: str | None = None,
        lease: float = DEFAULT_LEASE,
        on_alerts: Callable[[], None] | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.store = store
        self.config = config
        self._check = check
        self.clock = clock
        self.owner = owner or instance_id()
        self.lease = lease
        self._on_alerts = on_alerts
        self._retry_delays = tuple(retry_delays)
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._busy = 0  # checks running (slots taken)
        self._claim_share: dict[str, float] = {}  # domain -> its share of its claim's time
        self._claimed: dict[str, DomainRow] = {}  # domain -> its row, as leased
        self._db_spent: dict[str, float] = {}  # domain -> its share of its results' writes
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_claim = -CLAIM_SPACING

    def wake(self) -> None:
        """Look for due domains now (a new watch, say) instead of at the next planned time."""
        self._wake.set()

    # -- one round ---------------------------------------------------------------------

    async def tick(self) -> Round:
        """Claim every due domain, check them (up to `concurrency` at once), record them."""
        result = Round()
        try:
            names = await self._claim(CLAIM_BATCH)
        except TRANSIENT_ERRORS as exc:
            log.warning("watch claim failed error=%s", type(exc).__name__)
            return result
        result.claimed = names
        limit = asyncio.Semaphore(self.config.concurrency)

        async def one(domain: str) -> None:
            async with limit:
                outcome = await self._one(domain)
            _tally(result, outcome)

        await asyncio.gather(*(one(d) for d in names))
        return result

    async def _claim(self, limit: int) -> list[str]:
        start = time.perf_counter()
        now = self.clock()
        async with self.store.write(durable=False) as conn:
            rows = await domains.claim_due(
                conn, owner=self.owner, now=now, lease=self.lease, limit=limit
            )
        if rows and self.metrics is not None:
            self.metrics.set_scheduler_lag(now - rows[0].next_check_at)  # the most overdue
        if rows:
            spent = time.perf_counter() - start
            for row in rows:
                self._claim_share[row.domain] = spent / len(rows)
                self._claimed[row.domain] = row
        return [row.domain for row in rows]

    async def _one(self, domain: str) -> Recorded | None:
        """Check one claimed domain and record it; None when the check or the write failed."""
        begin = time.perf_counter()
        try:
            report = await self._check(domain)
        except asyncio.CancelledError:
            self._forget(domain)
            await self._release(domain, self.clock())
            raise
        except Exception as exc:
            self._forget(domain)
            log.warning("watch check failed domain=%s error=%s", domain, type(exc).__name__)
            await self._release(domain, self.clock() + confirm_delay(self.config.interval))
            return None
        check_ms = (time.perf_counter() - begin) * 1000
        outcome = await self._record(domain, report)
        # database time: this domain's share of its claim, and its write(s), not the judging
        spent = self._db_spent.pop(domain, 0.0)
        claim = self._claim_share.pop(domain, 0.0)
        db_ms = (spent + claim) * 1000
        if outcome is not None and outcome.intents and self._on_alerts is not None:
            self._on_alerts()
        verdict = outcome.verdict if outcome is not None else None
        log.info(
            "watch check %s",
            format_fields(
                {
                    "domain": domain,
                    "status": report.status,
                    "mode": report.mode or "none",
                    "outcome": (
                        "unsaved"
                        if outcome is None or not outcome.saved
                        else "doubted"
                        if verdict is not None and verdict.doubted
                        else "recorded"
                    ),
                    "events": ",".join(outcome.kinds) if outcome and outcome.kinds else None,
                    "alerts": outcome.intents if outcome and outcome.intents else None,
                    "check_ms": round(check_ms, 1),
                    "db_ms": round(db_ms, 2),
                    "claim_ms": round(claim * 1000, 2),
                }
            ),
        )
        return outcome

    def _forget(self, domain: str) -> None:
        self._claim_share.pop(domain, None)
        self._claimed.pop(domain, None)

    async def _record(self, domain: str, report: Report) -> Recorded | None:
        row = self._claimed.pop(domain, None)
        if row is None:
            return None
        now = self.clock()
        config = self.config
        prepared = prepare(row, report, now=now, interval=config.interval, confirm=config.confirm)
        for delay in (*self._retry_delays, None):
            try:
                return await self._record_once(row, report, prepared, now)
            except TRANSIENT_ERRORS as exc:
                log.warning(
                    "watch result not saved domain=%s error=%s%s",
                    domain,
                    type(exc).__name__,
                    f" retry_in={delay}" if delay is not None else " (checked again later)",
                )
            if delay is None:
                return None
            await asyncio.sleep(delay)
        return None

    async def _record_once(
        self, row: DomainRow, report: Report, prepared: Prepared, now: float
    ) -> Recorded:
        """Write the prepared outcome, together with the others finishing about now (one
        transaction for all: a group commit)."""
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._pending.append((row, report, prepared, now, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_pending(), name="mtasts-watch-write")
        return await asyncio.shield(future)

    async def _write_pending(self) -> None:
        """Write what is pending, in batches, until nothing is."""
        try:
            while self._pending:
                await asyncio.sleep(GROUP_COMMIT_WAIT)
                batch, self._pending = (
                    self._pending[:GROUP_COMMIT_MAX],
                    self._pending[GROUP_COMMIT_MAX:],
                )
                start = time.perf_counter()
                try:
                    outcomes = await self._write_batch(batch)
                except BaseException as exc:
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                share = (time.perf_counter() - start) / len(batch)
                for (row, *_, future), outcome in zip(batch, outcomes, strict=True):
                    self._db_spent[row.domain] = self._db_spent.get(row.domain, 0.0) + share
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[_Pending]) -> list[Recorded]:
        outcomes: list[Recorded] = []
        async with self.store.write(durable=False) as conn:
            for row, report, prepared, now, _ in batch:
                outcomes.append(await self._apply(conn, row, report, prepared, now))
        return outcomes

    async def _apply(
        self,
        conn: AsyncConnection,
        row: DomainRow,
        report: Report,
        prepared: Prepared,
        now: float,
    ) -> Recorded:
        """Write one outcome; if the state changed meanwhile (a new watcher's baseline)
        while the lease is still ours, judge the report against it instead."""
        outcome = await apply(self.store, conn, row, prepared, owner=self.owner, now=now)
        if outcome.saved:
            return outcome
        current = await domains.get(conn, row.domain)
        if current is not None and current.lease_owner == self.owner:
            return await record_check(
                self.store,
                conn,
                current,
                report,
                owner=self.owner,
                now=now,
                interval=self.config.interval,
                confirm=self.config.confirm,
            )
        log.info("watch result dropped domain=%s reason=lease_lost_or_unwatched", row.domain)
        return outcome

    async def _release(self, domain: str, next_check_at: float) -> None:
        with contextlib.suppress(*TRANSIENT_ERRORS):
            async with asyncio.timeout(5), self.store.write(durable=False) as conn:
                await domains.release(conn, domain, owner=self.owner, next_check_at=next_check_at)

    # -- the long-running loop -----------------------------------------------------------

    async def run(self) -> None:
        """Check due domains for ever (until cancelled), `concurrency` at a time."""
        backoff = 1.0
        try:
            while True:
                free = self.config.concurrency - self._busy
                claimed: list[str] = []
                since = time.monotonic() - self._last_claim
                try:
                    if free > 0 and (since >= CLAIM_SPACING or not self._busy):
                        self._last_claim = time.monotonic()
                        claimed = await self._claim(free)
                        wait = self.config.idle if len(claimed) == free else await self._idle()
                    elif free > 0:
                        wait = CLAIM_SPACING - since  # claim again shortly, with more room
                    else:
                        wait = self.config.idle  # woken when a slot frees
                    backoff = 1.0
                except TRANSIENT_ERRORS as exc:
                    log.warning(
                        "watch scheduler: database unavailable error=%s retry_in=%.0fs",
                        type(exc).__name__,
                        backoff,
                    )
                    wait, backoff = backoff, min(backoff * 2, CLAIM_BACKOFF_CAP)
                for domain in claimed:
                    self._busy += 1
                    task = asyncio.create_task(self._run_one(domain), name=f"mtasts-watch:{domain}")
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                await self._pause(wait)
        finally:
            tasks = list(self._running)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run_one(self, domain: str) -> None:
        try:
            await self._one(domain)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug: logged here, the lease runs out, it is checked again
            log.exception("watch check crashed domain=%s", domain)
        finally:
            self._busy -= 1  # (before the task ends: the loop may run before its callbacks)
            self._wake.set()  # a slot is free

    async def _idle(self) -> float:
        async with self.store.read() as conn:
            due = await domains.next_due(conn)
        now = self.clock()
        if self.metrics is not None:
            self.metrics.set_scheduler_lag(now - due if due is not None else 0.0)
        if due is None:
            return self.config.idle
        return min(max(due - now, 0.0), self.config.idle)

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        self._wake.clear()


def _tally(result: Round, outcome: Recorded | None) -> None:
    if outcome is None or not outcome.saved:
        result.failed += 1
        return
    result.recorded += 1
    if outcome.verdict is not None and outcome.verdict.doubted:
        result.doubted += 1
    result.intents += outcome.intents
