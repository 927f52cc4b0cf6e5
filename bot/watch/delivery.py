"""Posting recorded alerts to Slack, each exactly once where that can be known.

The order of "record" and "post": an alert is recorded (as `pending`, with
the state change that caused it, in one transaction) before it is posted; a
deliverer then claims it (`sending`, with a lease), posts it with
chat.postMessage using the bot token of the watch's workspace, and records
Slack's `ts` (`posted`). So:

- a crash before the post: the row is still `pending` (or its `sending` lease
  runs out first, see below) — nothing is lost;
- Slack answers 429 or 5xx, or cannot be reached: the row goes back to
  `pending` with a growing delay and is posted later, once;
- a crash after Slack accepted the post but before `posted` was written: the
  row's lease runs out and it becomes `unconfirmed`, never posted again. We
  cannot ask Slack whether it got the message (no idempotency key, and
  reading channel history would need another scope), so in that window of a
  few milliseconds an alert may be lost, never doubled;
- `channel_not_found`, `not_in_channel`, `is_archived` or a restricted
  channel: retried with backoff like a 5xx (one such answer may be Slack's
  glitch); the third in a row is final: the conversation's watches are paused
  (listed as paused) and its pending alerts dropped. `account_inactive`,
  `token_revoked`, `invalid_auth`: the same for the whole workspace. Nothing
  more is posted there.

`recovered` is posted in the thread of the alert that opened the incident
(waiting for that alert to be posted first), and each alert of an incident it
closes is updated (chat.update) to say it is resolved.

Alerts of one conversation are posted in order; conversations in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.slack.blocks.alert_builder import build_resolved
from bot.slack.flows.replies import RESTRICTED
from bot.slack.tokens import BotTokens
from bot.store import alerts, watches
from bot.store.alerts import AlertRow
from bot.store.engine import TRANSIENT_ERRORS, Store
from bot.watch.events import RECOVERED

Clock = Callable[[], float]

# Slack's answers that mean this conversation is closed to the bot.
CONVERSATION_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"}) | RESTRICTED
# ... and that the bot cannot post in this workspace at all.
WORKSPACE_GONE = frozenset(
    {"account_inactive", "token_revoked", "token_expired", "invalid_auth", "not_authed", "no_token"}
)
RETRYABLE = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
SEND_LEASE = 60.0  # seconds a claimed alert may take to post (the client's timeout is 15 s)
MAX_ATTEMPTS = 10  # then the alert is given up (failed)
# Slack's answers that the conversation (or workspace) is closed to the bot are retried
# with backoff too (one may be a glitch of Slack's); the GONE_ATTEMPTS-th in a row is taken
# as final: the watches there are paused and nothing more is said.
GONE_ATTEMPTS = 3
STREAK = " x"  # last_error of a gone refusal being retried: "channel_not_found x2"
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
WAIT_FOR_OPENER = 5.0  # seconds a `recovered` waits for its opening alert to be posted
MAX_IDLE = 5.0  # seconds between looks at the ledger when nothing is due
CLAIM_BATCH = 100

log = logging.getLogger("mtasts.watch.alerts")


@dataclass(slots=True)
class Pass:
    """What one deliver_due() did."""

    posted: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0


class Deliverer:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        tokens: BotTokens,
        *,
        clock: Clock = time.time,
        lease: float = SEND_LEASE,
        backoff_base: float = BACKOFF_BASE,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.client = client
        self.tokens = tokens
        self.clock = clock
        self.lease = lease
        self.backoff_base = backoff_base
        self._wake = asyncio.Event()
        self._stopping = False
        self._retry_at: dict[int, float] = {}  # alert id -> when its retry is due (this pass)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the post in flight, put the rest back, and end run() (graceful shutdown:
        cancelling mid-post would leave that alert unconfirmed)."""
        self._stopping = True
        self._wake.set()

    async def deliver_due(self) -> Pass:
        """Post every alert that is due now (one pass); database trouble is raised."""
        result = Pass()
        now = self.clock()
        async with self.store.write() as conn:
            expired = await alerts.expire_sending(conn, now=now)
            rows = await alerts.claim(conn, now=now, lease=self.lease, limit=CLAIM_BATCH)
        for alert_id in expired:
            log.warning("alert unconfirmed id=%s: the process stopped while posting it", alert_id)
        result.expired = len(expired)
        groups: dict[tuple[str, str], list[AlertRow]] = {}
        for row in rows:
            groups.setdefault((row.team_id, row.channel_id), []).append(row)
        await asyncio.gather(*(self._conversation(group, result) for group in groups.values()))
        return result

    async def run(self) -> None:
        """Deliver for ever (until cancelled), woken by new alerts or every few seconds."""
        backoff = 1.0
        while not self._stopping:
            try:
                done = await self.deliver_due()
                wait = 0.0 if done.posted + done.retried + done.failed >= CLAIM_BATCH else MAX_IDLE
                backoff = 1.0
            except TRANSIENT_ERRORS as exc:
                log.warning(
                    "alert delivery: database unavailable error=%s retry_in=%.0fs",
                    type(exc).__name__,
                    backoff,
                )
                wait, backoff = backoff, min(backoff * 2, 30.0)
            except Exception:
                # A bug (an odd payload, an unexpected answer): logged, and delivery goes on.
                # Rows claimed by the broken pass stay `sending` until their lease runs out,
                # then become `unconfirmed`: never posted twice.
                log.exception("alert delivery pass failed; retry_in=%.0fs", backoff)
                wait, backoff = backoff, min(backoff * 2, 30.0)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
            self._wake.clear()

    # -- one conversation --------------------------------------------------------------

    async def _conversation(self, rows: Sequence[AlertRow], result: Pass) -> None:
        for i, row in enumerate(rows):
            if self._stopping:
                await self._put_back(rows[i:], at=self.clock())
                return
            outcome = await self._deliver(row)
            if outcome == "posted":
                result.posted += 1
                continue
            if outcome == "retry":
                result.retried += 1
            else:
                result.failed += 1
            rest = rows[i + 1 :]
            if outcome == "closed":  # claimed behind it, so missed by the drop: dropped too
                for later in rest:
                    await self._write(
                        alerts.give_up, later.id, status=alerts.DROPPED, error="conversation closed"
                    )
                return
            # keep the conversation's order: what follows is due with this one, not before
            # (claims are oldest first), and was not attempted
            at = self._retry_at.pop(row.id, self.clock())
            await self._put_back(rest, at=at)
            return

    async def _deliver(self, row: AlertRow) -> str:
        """Post one claimed alert: "posted", "retry", "failed" or "closed" (paused)."""
        try:
            token = await self.tokens.bot_token(row.team_id, row.enterprise_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # nothing was posted: retried later (not left to expire)
            log.warning("alert token lookup failed id=%s error=%s", row.id, type(exc).__name__)
            return await self._retry_or_fail(row, f"token:{type(exc).__name__}")
        if token is None:
            await self._close(row, "no_token", workspace=True)
            return "closed"
        thread_ts: str | None = None
        openers: list[AlertRow] = []
        if row.kind == RECOVERED:
            try:
                async with self.store.read() as conn:
                    openers = await alerts.openers(
                        conn,
                        team_id=row.team_id,
                        channel_id=row.channel_id,
                        domain=row.domain,
                        incidents=[*row.resolves, *([row.thread_of] if row.thread_of else [])],
                    )
            except TRANSIENT_ERRORS as exc:  # nothing was posted: retried later
                return await self._retry_or_fail(row, type(exc).__name__)
            parent = next((o for o in openers if o.incident == row.thread_of), None)
            waiting = parent is not None and parent.status in (alerts.PENDING, alerts.SENDING)
            if waiting and row.attempts < MAX_ATTEMPTS:
                await self._retry(row, "waiting_for_opening_alert", WAIT_FOR_OPENER)
                return "retry"
            if parent is not None and parent.status == alerts.POSTED:
                thread_ts = parent.message_ts
        try:
            response = await self.client.chat_postMessage(
                token=token,
                channel=row.channel_id,
                text=str(row.payload.get("text") or row.domain),
                blocks=row.payload.get("blocks"),
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except asyncio.CancelledError:
            raise
        except SlackApiError as exc:
            return await self._refused(row, exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return await self._retry_or_fail(row, type(exc).__name__)
        ts = str(response.get("ts") or "")
        await self._mark_posted(row, ts, thread_ts)
        if self.metrics is not None:
            self.metrics.alert_posted(row.kind)
        log.info(
            "alert posted id=%s kind=%s domain=%s team=%s channel=%s",
            row.id,
            row.kind,
            row.domain,
            row.team_id,
            row.channel_id,
        )
        if row.kind == RECOVERED:
            await self._resolve(row, token, [o for o in openers if o.incident in row.resolves])
        return "posted"

    async def _refused(self, row: AlertRow, exc: SlackApiError) -> str:
        response = exc.response
        error = str(response.get("error") or "unknown_error") if response is not None else "unknown"
        status = getattr(response, "status_code", 200) if response is not None else 0
        if error in CONVERSATION_GONE or error in WORKSPACE_GONE:
            streak = _gone_streak(row) + 1
            if streak < GONE_ATTEMPTS:
                return await self._retry_or_fail(row, error, note=f"{error}{STREAK}{streak}")
            await self._close(row, error, workspace=error in WORKSPACE_GONE)
            return "closed"
        if error in RETRYABLE or status == 429 or status >= 500:
            return await self._retry_or_fail(row, error)
        log.error("alert refused id=%s error=%s: given up", row.id, error)
        await self._write(alerts.give_up, row.id, status=alerts.FAILED, error=error)
        return "failed"

    async def _retry_or_fail(self, row: AlertRow, error: str, *, note: str | None = None) -> str:
        """Back off and try again (`note`: what last_error records, `error` by default)."""
        if row.attempts >= MAX_ATTEMPTS:
            log.error("alert failed id=%s error=%s after %s attempts", row.id, error, row.attempts)
            await self._write(alerts.give_up, row.id, status=alerts.FAILED, error=error)
            return "failed"
        delay = min(self.backoff_base * 2 ** (row.attempts - 1), BACKOFF_CAP)
        delay *= 1 + random.random() / 2
        log.warning("alert post failed id=%s error=%s retry_in=%.1fs", row.id, error, delay)
        await self._retry(row, note or error, delay)
        return "retry"

    async def _retry(self, row: AlertRow, error: str, delay: float) -> None:
        at = self.clock() + delay
        self._retry_at[row.id] = at
        await self._write(alerts.retry_later, row.id, error=error, at=at)

    async def _put_back(self, rows: Sequence[AlertRow], *, at: float) -> None:
        """Claimed but not attempted: pending again, due at `at`, the claim not counted."""
        if rows:
            await self._write(alerts.put_back, [row.id for row in rows], at=at)

    async def _close(self, row: AlertRow, error: str, *, workspace: bool) -> None:
        """The bot cannot post there: pause the watches, drop what was waiting."""
        channel = None if workspace else row.channel_id
        now = self.clock()
        log.warning(
            "alert not posted id=%s error=%s: pausing the watches of %s",
            row.id,
            error,
            f"workspace {row.team_id}" if workspace else f"{row.team_id}/{row.channel_id}",
        )

        async def close() -> None:
            async with self.store.write() as conn:
                await alerts.give_up(conn, row.id, status=alerts.FAILED, error=error)
                await watches.pause(
                    conn, team_id=row.team_id, channel_id=channel, reason=error, now=now
                )
                await alerts.drop_conversation(
                    conn, team_id=row.team_id, channel_id=channel, reason=error
                )

        await self._persist(close)

    async def _mark_posted(self, row: AlertRow, ts: str, thread_ts: str | None) -> None:
        await self._write(alerts.posted, row.id, ts=ts, thread_ts=thread_ts, now=self.clock())

    async def _resolve(self, row: AlertRow, token: str, opened: list[AlertRow]) -> None:
        when = dt.datetime.fromtimestamp(self.clock(), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        status = _status_after(row)
        for alert in opened:
            if alert.status != alerts.POSTED or not alert.message_ts:
                continue
            try:
                update = build_resolved(alert.payload, status=status, when=when)
                await self.client.chat_update(
                    token=token, channel=alert.channel_id, ts=alert.message_ts, **update
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # best effort: the thread reply already says it
                error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
                log.warning(
                    "alert update failed id=%s error=%s", alert.id, error or type(exc).__name__
                )

    async def _write(
        self, query: Callable[..., Awaitable[object]], alert: int | list[int], **values: object
    ) -> None:
        async def write() -> None:
            async with self.store.write() as conn:
                await query(conn, alert, **values)

        await self._persist(write)

    async def _persist(self, write: Callable[[], Awaitable[None]]) -> None:
        """Write, retrying through database trouble for as long as the send lease lasts
        (after that the row would be `unconfirmed` anyway)."""
        deadline = time.monotonic() + self.lease / 2
        delay = 0.2
        while True:
            try:
                await write()
                return
            except TRANSIENT_ERRORS as exc:
                if time.monotonic() > deadline:
                    log.error("alert ledger write failed error=%s: giving up", type(exc).__name__)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


def _status_after(row: AlertRow) -> str:
    """The status a `recovered` alert reports (recorded with its payload)."""
    after = row.payload.get("after")
    return after if isinstance(after, str) else "pass"


def _gone_streak(row: AlertRow) -> int:
    """How many times in a row Slack last refused this alert as gone (its last_error says:
    any other outcome in between, a 5xx say, starts the count again)."""
    error, sep, count = (row.last_error or "").rpartition(STREAK)
    gone = error in CONVERSATION_GONE or error in WORKSPACE_GONE
    return int(count) if sep and gone and count.isdigit() else 0
