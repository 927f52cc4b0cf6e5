"""Exact text to publish: record and policy builders, and the "did you mean" helper.

Everything here is pure: the same input gives the same text, so a fix shown in
Slack can be pasted into a zone file or a web server as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

DEFAULT_MAX_AGE = 604800  # one week, the value RFC 8461's examples lead to
_MAX_WORD = 64  # longer words are never "typos" of a key; keeps the distance cheap


def suggested_id(now: datetime) -> str:
    """A fresh record id from the time, `YYYYMMDDHHMMSS` in UTC (letters/digits only).

    A naive datetime is taken to be UTC already.
    """
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    return now.strftime("%Y%m%d%H%M%S")


def sts_record(id_: str) -> str:
    """The `_mta-sts` TXT record text for an id."""
    return f"v=STSv1; id={id_}"


def policy_text(mode: str, mx_hosts: Sequence[str], max_age: int = DEFAULT_MAX_AGE) -> str:
    """A policy body: `version` first, then mode, one `mx` line per host, then max_age.

    Lines end in LF. Host names are lower-cased, trailing dots dropped and
    duplicates removed, keeping the given order.
    """
    lines = ["version: STSv1", f"mode: {mode}"]
    seen: set[str] = set()
    for host in mx_hosts:
        name = host.strip().rstrip(".").lower()
        if name and name not in seen:
            seen.add(name)
            lines.append(f"mx: {name}")
    lines.append(f"max_age: {max_age}")
    return "\n".join(lines) + "\n"


def tlsrpt_record(domain: str) -> str:
    """An example TLS-RPT record sending reports to `tls-reports@<domain>`."""
    return f"v=TLSRPTv1; rua=mailto:tls-reports@{domain.rstrip('.').lower()}"


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts once).

    Returns `limit + 1` as soon as the distance is known to exceed `limit`.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be, or None.

    A choice equal to `word` ignoring case (and `-` versus `_`) wins; otherwise
    the closest choice by edit distance, compared case-insensitively, if it is
    at most 1 edit away for short words (up to 4 characters) or 2 for longer
    ones. Ties go to the earlier choice. `word` itself is never suggested.
    """
    if not word or len(word) > _MAX_WORD:
        return None
    folded = word.lower().replace("-", "_")
    options = [c for c in choices if c != word]
    for choice in options:
        if choice.lower().replace("-", "_") == folded:
            return choice
    best: str | None = None
    best_distance = 1 if len(folded) <= 4 else 2
    for choice in options:
        distance = edit_distance(folded, choice.lower(), best_distance)
        if distance <= best_distance and (best is None or distance < best_distance):
            best, best_distance = choice, distance
    return best
