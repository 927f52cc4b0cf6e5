"""MX host matching against policy `mx` patterns (RFC 8461 §4.1).

`*.example.com` covers exactly one extra leftmost label: `mail.example.com`,
not `example.com` and not `a.b.example.com`. Comparison ignores case and
trailing dots.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.checker.fixes import edit_distance

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


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
    """The first pattern, in policy order, that covers the host."""
    return first_matches(patterns, [host])[0]


@functools.lru_cache(maxsize=4)
def _normed(patterns: tuple[str, ...]) -> list[str]:
    """The patterns as compared (near misses look at the same list for every host)."""
    return [_norm(p) for p in patterns]


def first_matches(patterns: Sequence[str], hosts: Sequence[str]) -> list[str | None]:
    """`first_match` for every host, in time linear in patterns + hosts (a policy of
    thousands of patterns against a hundred MX hosts costs no more than reading them)."""
    exact: dict[str, int] = {}
    wildcard: dict[str, int] = {}  # the base after "*." -> first pattern index
    for i, raw in enumerate(patterns):
        p = _norm(raw)
        if p.startswith("*."):
            if p[2:]:
                wildcard.setdefault(p[2:], i)
        elif p:
            exact.setdefault(p, i)
    out: list[str | None] = []
    for host in hosts:
        h = _norm(host)
        found = [exact.get(h)] if h else []
        label, dot, rest = h.partition(".")
        if label and dot:
            found.append(wildcard.get(rest))
        first = min((i for i in found if i is not None), default=None)
        out.append(None if first is None else patterns[first])
    return out


@functools.lru_cache(maxsize=1024)
def _registered(name: str) -> str:
    """The registrable domain of `name` by the Public Suffix List (`mx.a.co.uk` is in
    `a.co.uk`, not `co.uk`); the name itself when it is a public suffix or has none.
    The list ships with `publicsuffixlist` and is read from disk, never fetched."""
    return _suffix_list().privatesuffix(name) or name


@functools.lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    """Loaded on first use (~50 ms): only near-miss advice needs it."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


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
