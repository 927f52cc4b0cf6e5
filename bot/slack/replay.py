"""Request verification with a replay guard, in front of Bolt on the HTTP request URL.

Bolt checks the signature (`v0:{timestamp}:{body}`, HMAC-SHA256 with the
signing secret) and refuses timestamps more than five minutes off, but it
accepts the very same signed request again and again inside that window:
whoever sees one request (a proxy log, a misrouted copy) could replay a
slash command or a button click. `ReplayGuard` verifies a request the same
way and then remembers its signature until its timestamp leaves the window,
so a second delivery of the exact same bytes is refused.

- Bad signature, no signature, stale or future timestamp: 401 (`invalid`).
- The same signature again while its timestamp is still in the window: 401
  (`replay`), except an event callback marked as Slack's retry
  (`X-Slack-Retry-Num`), which gets a plain 200 (`retry`) and is not
  processed: Slack re-signs every delivery, so a retry normally has a new
  signature and reaches the event_id dedupe; if one ever came with the same
  signature it was already handled, and a 401 would only count as a failed
  delivery on Slack's side.
- Only signatures of requests that verified are remembered, so forged
  requests cannot fill the memory; each for as long as its timestamp is in
  the window (plus a second). In process (`MemoryMarks`) at most `maxsize`
  signatures are kept, the oldest going first beyond that; with several
  instances the marks live in Redis (`RedisMarks`), so a request replayed to
  another instance is refused too.

Socket Mode requests are not signed (the WebSocket itself is opened with the
app-level token over TLS to Slack, so nobody else can inject into it) and do
not pass through here; Slack's redeliveries there are dropped by the dedupe
(bot/slack/dedupe.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from enum import Enum

from slack_sdk.signature import Clock as SdkClock
from slack_sdk.signature import SignatureVerifier

from bot.slack.marks import Marks, MemoryMarks

Clock = Callable[[], float]

WINDOW = 300  # seconds a timestamp may be off (Slack's and Bolt's rule)
DEFAULT_MAXSIZE = 100_000


class Verdict(Enum):
    OK = "ok"
    INVALID = "invalid"  # bad/missing signature or timestamp out of the window
    REPLAY = "replay"  # this exact signed request was already accepted
    RETRY = "retry"  # a replayed event marked as Slack's retry: ack, do nothing


class _WallClock(SdkClock):
    """slack_sdk's clock interface over a plain callable."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    return value if isinstance(value, str) else ""


class ReplayGuard:
    def __init__(
        self,
        signing_secret: str,
        *,
        marks: Marks | None = None,
        maxsize: int = DEFAULT_MAXSIZE,
        clock: Clock = time.time,
    ) -> None:
        self._verifier = SignatureVerifier(signing_secret, clock=_WallClock(clock))
        self._clock = clock
        # the signatures accepted, each until its timestamp is stale anyway
        self.marks: Marks = (
            marks if marks is not None else MemoryMarks(maxsize=maxsize, clock=clock)
        )

    async def check(self, body: bytes | str, headers: Mapping[str, str]) -> Verdict:
        """Verify one request (`headers` looked up case-insensitively by the caller)."""
        timestamp = _header(headers, "X-Slack-Request-Timestamp")
        signature = _header(headers, "X-Slack-Signature")
        if not timestamp or not signature:
            return Verdict.INVALID
        try:
            stamp = int(timestamp)
        except ValueError:
            return Verdict.INVALID
        if not self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return Verdict.INVALID
        stale_in = stamp + WINDOW + 1 - self._clock()
        if not await self.marks.first_time(f"sig:{signature}", stale_in):
            if _header(headers, "X-Slack-Retry-Num") and _is_event_callback(body):
                return Verdict.RETRY
            return Verdict.REPLAY
        return Verdict.OK


def _is_event_callback(body: bytes | str) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:  # form-encoded: a command or an interaction, never an event
        return False
    return isinstance(payload, dict) and payload.get("type") == "event_callback"
