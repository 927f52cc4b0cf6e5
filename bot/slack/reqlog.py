"""One structured log line per request: kind, name, team, user, domains, duration, outcome.

Lines are `key=value` pairs (values JSON-quoted when they hold spaces, quotes
or control characters), so they grep well and cannot be split by what users
type. Only ids, domain names and outcomes are logged: never tokens, secrets or
message bodies.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.metrics import Metrics

LOGGER_NAME = "mtasts.slack"
# Outcomes that mean something went wrong on our side or Slack's (logged as warnings).
FAILED_OUTCOMES = frozenset(
    {
        "error",
        "reply_failed",
        "check_failed",
        "open_failed",
        "update_failed",
        "cancelled",
        "publish_failed",
        "store_unavailable",
    }
)


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    text = str(value)
    if not text or any(c in text for c in " \"'=\\") or not text.isprintable():
        return json.dumps(text)
    return text


def format_fields(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={_value(v)}" for k, v in fields.items() if v is not None)


def log_request(logger: logging.Logger, *, metrics: Metrics | None = None, **fields: Any) -> None:
    """The request's line; `metrics` (when given) counts it by kind and outcome."""
    outcome = fields.get("outcome")
    level = logging.WARNING if outcome in FAILED_OUTCOMES else logging.INFO
    logger.log(level, "request %s", format_fields(fields))
    if metrics is not None:
        metrics.request(str(fields.get("kind", "?")), str(outcome or "?"))


@dataclass(slots=True)
class RequestRecord:
    """Filled in by a listener while it works; logged once when it is done."""

    kind: str  # command, event, action
    name: str  # /mtasts, app_mention, mtasts_show_policy ...
    team: str | None
    user: str | None
    domains: Sequence[str] = ()
    outcome: str = "ok"
    extra: dict[str, Any] = field(default_factory=dict)

    def note(self, **fields: Any) -> None:
        self.extra.update(fields)

    def fail(self, outcome: str, error: BaseException | str | None = None) -> None:
        self.outcome = outcome
        if error is not None:
            self.extra["error"] = (
                type(error).__name__ if isinstance(error, BaseException) else error
            )


@contextmanager
def request_log(
    logger: logging.Logger,
    *,
    kind: str,
    name: str,
    team: str | None,
    user: str | None,
    metrics: Metrics | None = None,
) -> Iterator[RequestRecord]:
    record = RequestRecord(kind=kind, name=name, team=team, user=user)
    start = time.perf_counter()
    try:
        yield record
    except BaseException as exc:
        record.fail("error", exc)
        raise
    finally:
        log_request(
            logger,
            metrics=metrics,
            kind=record.kind,
            name=record.name,
            team=record.team,
            user=record.user,
            domains=list(record.domains) or None,
            duration_ms=round((time.perf_counter() - start) * 1000, 1),
            outcome=record.outcome,
            **record.extra,
        )
