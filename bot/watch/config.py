"""Watch settings from the environment, each checked with a one-line error naming it.

`MTASTS_WATCH_INTERVAL` is at least 60 seconds; shorter intervals exist only
for the demo and tests, which build a `WatchConfig` directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.slack.config import ConfigError

DEFAULT_INTERVAL = 3600.0
MIN_INTERVAL = 60.0
MAX_INTERVAL = 7 * 86400.0
DEFAULT_CONFIRM = 2
MAX_CONFIRM = 10
DEFAULT_LIMIT = 200
MAX_LIMIT = 100_000
DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 200
DEFAULT_IDLE = 5.0  # seconds between the scheduler's looks at the database when nothing is due
DEFAULT_LEASE = 120.0  # seconds a scheduler's claim on a domain holds: more than a check's run
LEASE_MARGIN = 60.0  # over a check's longest run: writing its result, retries included


def check_bound(timeout: float) -> float:
    """The longest a watch check may run (the lane's guard): twice the checker's budget
    (`MTASTS_TIMEOUT`) and ten seconds, then it is stopped."""
    return timeout * 2 + 10


def lease_for(timeout: float) -> float:
    """A claim that outlasts any check of this budget and the writing of its result: the
    default two minutes, longer when MTASTS_TIMEOUT is over 25 s."""
    return max(DEFAULT_LEASE, check_bound(timeout) + LEASE_MARGIN)


_ON = frozenset({"on", "1", "true", "yes"})
_OFF = frozenset({"off", "0", "false", "no"})


@dataclass(frozen=True, slots=True)
class WatchConfig:
    enabled: bool = True  # MTASTS_WATCH: run the scheduler on this instance
    interval: float = DEFAULT_INTERVAL  # seconds between checks of a domain
    confirm: int = DEFAULT_CONFIRM  # checks in a row a transient failure must last
    limit: int = DEFAULT_LIMIT  # watches per workspace
    concurrency: int = DEFAULT_CONCURRENCY  # watch checks at once on this instance
    # How long a claim holds before another instance may take the domain (an instance that
    # died mid-check). Not read from the environment: tests shorten it with the interval.
    lease: float = DEFAULT_LEASE
    # Longest pause between the scheduler's looks at the database when nothing is due (it
    # wakes sooner for a domain due sooner). Not read from the environment either: other
    # instances' changes come with no event, and tests shorten it to see them at once.
    idle: float = DEFAULT_IDLE

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, check_timeout: float | None = None
    ) -> WatchConfig:
        """`check_timeout`: the checker's budget (MTASTS_TIMEOUT), which the lease outlasts."""
        env = os.environ if environ is None else environ
        enabled = True
        if text := env.get("MTASTS_WATCH", "").strip():
            if text.lower() in _OFF:
                enabled = False
            elif text.lower() not in _ON:
                raise ConfigError(f"MTASTS_WATCH {text!r}: use on or off")
        return cls(
            enabled=enabled,
            interval=float(
                _number(
                    env,
                    "MTASTS_WATCH_INTERVAL",
                    DEFAULT_INTERVAL,
                    MIN_INTERVAL,
                    MAX_INTERVAL,
                    "seconds between checks of a domain",
                )
            ),
            confirm=int(
                _number(
                    env,
                    "MTASTS_WATCH_CONFIRM",
                    DEFAULT_CONFIRM,
                    1,
                    MAX_CONFIRM,
                    "checks in a row before a transient failure is alerted",
                )
            ),
            limit=int(
                _number(env, "MTASTS_WATCH_LIMIT", DEFAULT_LIMIT, 1, MAX_LIMIT, "per workspace")
            ),
            concurrency=int(
                _number(
                    env,
                    "MTASTS_WATCH_CONCURRENCY",
                    DEFAULT_CONCURRENCY,
                    1,
                    MAX_CONCURRENCY,
                    "watch checks at once",
                )
            ),
            lease=DEFAULT_LEASE if check_timeout is None else lease_for(check_timeout),
        )


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, what: str
) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(f"{name} {text!r}: expected a whole number ({what}), e.g. {default:g}")
    value = int(text)
    if not low <= value <= high:
        raise ConfigError(f"{name} {text!r}: use {low:g} to {high:g} ({what})")
    return value
