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

    Returns `limit + 1` as soon as the distance is known to exceed `limit`. Costs
    O(4^limit log n) string comparisons, not the O(n m) of the usual table: policy
    patterns and MX names are anyone's, up to 253 characters each, and a check
    compares many of them (the table took 46 ms for one pair of 250 characters).
    """
    return _distance(a, b, limit)


def _distance(a: str, b: str, k: int) -> int:
    """The distance when it is at most `k`, else `k + 1`. With what both share at the
    start and at the end set aside, the first difference must be an edit
    (substitution, deletion, insertion or a swap of neighbours): try each, each next
    one only for a better result than the best so far."""
    if abs(len(a) - len(b)) > k:
        return k + 1
    same = _common_prefix(a, b)
    a, b = a[same:], b[same:]
    same = _common_prefix(a[::-1], b[::-1])
    if same:
        a, b = a[:-same], b[:-same]
    if not a or not b:
        return min(max(len(a), len(b)), k + 1)
    # Both differ in their first and their last character now.
    if k == 0:
        return 1
    if (len(a) == len(b) == 1) or (len(a) == len(b) == 2 and a == b[::-1]):
        return 1
    if k == 1:
        return 2
    best = k + 1
    tries = [(a[1:], b[1:]), (a[1:], b), (a, b[1:])]
    if a[1:2] == b[:1] and a[:1] == b[1:2]:
        tries.append((a[2:], b[2:]))
    for x, y in tries:
        best = min(best, 1 + _distance(x, y, best - 2))
    return best


def _common_prefix(a: str, b: str) -> int:
    """The length of the common prefix (by halving: each step one C-level comparison)."""
    low, high = 0, min(len(a), len(b))
    if a[:1] != b[:1]:
        return 0
    if a[:8] != b[:8]:  # most differences come early: a short search
        high = min(high, 7)
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


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
