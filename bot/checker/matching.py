"""MX host matching against policy `mx` patterns (RFC 8461 §4.1).

`*.example.com` covers exactly one extra leftmost label: `mail.example.com`,
not `example.com` and not `a.b.example.com`. Comparison ignores case and
trailing dots.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from bot.checker.fixes import edit_distance


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def pattern_matches(pattern: str, host: str) -> bool:
    """Whether the policy pattern covers the MX host."""
    p, h = _norm(pattern), _norm(host)
    if not p or not h:
        return False
    if p.startswith("*."):
        base = p[2:]
        if not base:
            return False
        label, dot, rest = h.partition(".")
        return bool(label) and bool(dot) and rest == base
    return p == h


def first_match(patterns: Sequence[str], host: str) -> str | None:
    """The first pattern, in policy order, that covers the host.

    Two lookups, however many patterns (a policy may hold thousands, and each MX host
    is looked up): the patterns are indexed once per list (`_index`)."""
    if len(patterns) <= _SCAN:
        return next((p for p in patterns if pattern_matches(p, host)), None)
    exact, wildcard = _index(tuple(patterns))
    h = _norm(host)
    label, dot, rest = h.partition(".")
    found = [exact.get(h, -1) if h else -1, wildcard.get(rest, -1) if label and dot else -1]
    index = min((i for i in found if i >= 0), default=-1)
    return patterns[index] if index >= 0 else None


_SCAN = 16  # patterns compared one by one; more are indexed


@functools.lru_cache(maxsize=4)
def _normed(patterns: tuple[str, ...]) -> list[str]:
    return [_norm(p) for p in patterns]


@functools.lru_cache(maxsize=4)
def _index(patterns: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int]]:
    """Exact names and wildcard bases, each with the first pattern's index."""
    exact: dict[str, int] = {}
    wildcard: dict[str, int] = {}
    for index, pattern in enumerate(patterns):
        p = _norm(pattern)
        if p.startswith("*."):
            if p[2:]:
                wildcard.setdefault(p[2:], index)
        elif p:
            exact.setdefault(p, index)
    return exact, wildcard


def _registered(name: str) -> str:
    """The last two labels: a stand-in for the registered domain (no public suffix list)."""
    return ".".join(name.split(".")[-2:])


def near_miss(patterns: Sequence[str], host: str) -> str | None:
    """One sentence on the closest pattern and why it does not cover `host`, or None.

    None too when a pattern does cover the host, or when nothing is close.
    """
    h = _norm(host)
    if not h or first_match(patterns, h) is not None:
        return None
    best: tuple[int, str] | None = None
    for p in _normed(tuple(patterns)):
        found = _explain(p, h)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return best[1] if best else None


def _explain(p: str, h: str) -> tuple[int, str] | None:
    """(closeness rank, sentence) for one pattern, lower rank is closer."""
    if not p:
        return None
    if p.startswith("*."):
        base = p[2:]
        if h == base:
            return 0, (
                f"`{p}` covers hosts one label below {base}, not {base} itself; add `mx: {h}`."
            )
        if h.endswith("." + base):
            parent = h.split(".", 1)[1]
            return 0, (
                f"`{p}` covers exactly one label in front of {base}, but {h} has more;"
                f" use `*.{parent}` or `mx: {h}`."
            )
        parent = h.split(".", 1)[1] if "." in h else ""
        if parent and edit_distance(base, parent, 2) <= 2:
            return 1, (
                f"`{p}` looks like a typo: {base} differs from {parent} by"
                f" {_edits(edit_distance(base, parent, 2))}."
            )
        if parent and _registered(base) == _registered(h):
            return 3, (
                f"`{p}` covers hosts under {base}, and {h} is elsewhere in"
                f" {_registered(h)}; add `mx: {h}`."
            )
        return None
    distance = edit_distance(p, h, 2)
    if distance <= 2 and not _numbered_sibling(p, h):
        return 1, f"`{p}` looks like a typo: it differs from {h} by {_edits(distance)}."
    if h.endswith("." + p):
        return 2, (
            f"`{p}` names that exact host and does not cover names below it;"
            f" add `mx: {h}` or use `*.{h.split('.', 1)[1]}`."
        )
    if _registered(p) == _registered(h) and "." in p:
        return 3, (
            f"`{p}` is in the same domain ({_registered(h)}) but names a different host;"
            f" add `mx: {h}`."
        )
    return None


_DIGITS = str.maketrans("123456789", "000000000")


def _numbered_sibling(a: str, b: str) -> bool:
    """mx1.example.com and mx2.example.com: different hosts, not a typo."""
    return len(a) == len(b) and a.translate(_DIGITS) == b.translate(_DIGITS)


def _edits(distance: int) -> str:
    return "one character" if distance == 1 else f"{distance} characters"
