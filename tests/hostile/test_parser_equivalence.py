"""The linear parsers say exactly what the straightforward ones said.

Issue 10 (point 6) rewrote the record, TLS-RPT and policy parsers and the edit distance
so that hostile text costs one linear pass. The straightforward versions (a loop per
field or line, a finding per problem, then the cap) are the specification: these tests
load them from git history (the commit before the rewrite) and compare both on random
input, with small caps so that the "and N more" counting is exercised too. Without git
or that commit (an unpacked archive), they are skipped.
"""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checker import fixes, limits, policy, record, tlsrpt
from bot.checker.model import Finding

BEFORE = "4d48b35"  # the last commit with the straightforward parsers
ROOT = Path(__file__).resolve().parents[2]


def _source(path: str) -> str:
    try:
        done = subprocess.run(
            ["git", "show", f"{BEFORE}:{path}"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        pytest.skip("git is not available")
    if done.returncode != 0:
        pytest.skip(f"commit {BEFORE} is not in this checkout's history")
    return done.stdout


def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"<{BEFORE}:{name}>", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def before() -> dict[str, types.ModuleType]:
    old_record = _module("before_record", _source("bot/checker/record.py"))
    tls = _source("bot/checker/tlsrpt.py").replace(
        "from bot.checker.record import", "from before_record import"
    )
    return {
        "record": old_record,
        "tlsrpt": _module("before_tlsrpt", tls),
        "policy": _module("before_policy", _source("bot/checker/policy.py")),
        "fixes": _module("before_fixes", _source("bot/checker/fixes.py")),
    }


@contextmanager
def cap(n: int) -> Iterator[None]:
    with (
        mock.patch.object(limits, "MAX_FINDINGS_PER_CODE", n),
        mock.patch.object(policy, "_MANY_PARTS", 1 if n % 2 else 64),  # both readings of CRs
        mock.patch.object(policy, "_MALFORMED_NAMED", 1000),  # the old one named them all
    ):
        yield


def _said(findings: list[Finding]) -> list[tuple[str, str, str, str, str | None]]:
    return [(f.code, f.severity, f.subject, f.message, f.fix) for f in findings]


def agree(before: Callable[..., Any], now: Callable[..., Any], n: int, *args: object) -> None:
    """Both parsers, with at most `n` findings of a code, say the same thing."""
    with cap(n):
        old_value, old = before(*args)
        new_value, new = now(*args)
    assert new_value == old_value
    assert _said(new) == _said(old)


def _joined(heads: list[str], tokens: list[str], max_size: int) -> st.SearchStrategy[str]:
    """One of `heads`, then up to `max_size` of `tokens`, as one string."""
    pieces = st.lists(st.sampled_from(tokens), max_size=max_size).map("".join)
    return st.tuples(st.sampled_from(heads), pieces).map("".join)


_caps = st.sampled_from([1, 2, 3, 5, 20])
_record_text = _joined(
    ["v=STSv1;", "v=STSv1 ", "v=STSv1", "", " v=STSv1;", "v=STSv1\n"],
    [
        *(";", " ", "\t", "=", "i", "d", "I", "D", "=STSv1", "v=STSv1"),
        *("a", "-", "\n", "\xa0", "x=y", "id=", "id=abc", "ID=", "1", ";;"),
    ],
    max_size=80,
)


@given(_record_text, _caps)
@settings(max_examples=400)
def test_record(before: dict[str, types.ModuleType], txt: str, n: int) -> None:
    old = before["record"].parse_sts_record
    agree(old, record.parse_sts_record, n, txt, "_mta-sts.example.com")


_tlsrpt_text = _joined(
    ["v=TLSRPTv1;", "v=TLSRPTv1 ", "v=TLSRPTv1", "", " v=TLSRPTv1;", "rua="],
    [
        *(";", " ", "\t", "=", "rua", "RUA", "Rua", "v=TLSRPTv1", "mailto:a@example.com"),
        *("https://r.example.com/x", ",", " , ", "x=y", "rua=", "\n", "\xa0", "x", "a@b"),
        *("http://x", ";;", " ;", "; ", "@", "ftp:x"),
    ],
    max_size=60,
)


@given(_tlsrpt_text, _caps)
@settings(max_examples=400)
def test_tlsrpt(before: dict[str, types.ModuleType], txt: str, n: int) -> None:
    old = before["tlsrpt"].parse_tlsrpt_record
    agree(old, tlsrpt.parse_tlsrpt_record, n, txt, "_smtp._tls.example.com")


_keys = ["version", "mode", "max_age", "mx", "Mode", "MX", "mx ", " mx", "max-age", "x", "v e"]
_values = [
    *("STSv1", "enforce", "testing", "none", "604800", "-1", "1", "mx1.example.com"),
    *("*.example.net", "MX2.Example.COM.", "bücher.example", "1.2.3.4", "*.1.2.3.4"),
    *("1.2.3.04", "a_b.c", "", "x:25", "https://a.b", "*", "a..b", "a" * 64 + ".b"),
]
_line = st.one_of(
    st.tuples(
        st.sampled_from([*_keys, "", "\t", "k1"]),
        st.sampled_from([":", ": ", ":\t", " : ", ""]),
        st.sampled_from([*_values, "\x01", "\ufffd", "\r", "a b"]),
    ).map("".join),
    st.sampled_from(["", " ", "\t", "#comment", "<html>", "\ufeff"]),
    st.text(alphabet=":\r\n \ta\x01", max_size=6),
)
_body = st.tuples(
    st.lists(_line, max_size=50),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["", "\ufeff"]),
    st.sampled_from(["", "\n", "\r", "\r\n"]),
).map(lambda t: (t[2] + t[1].join(t[0]) + t[3]).encode("utf-8", "surrogatepass"))


@given(_body, _caps)
@settings(max_examples=400)
def test_policy(before: dict[str, types.ModuleType], body: bytes, n: int) -> None:
    agree(before["policy"].parse_policy, policy.parse_policy, n, body, "mta-sts.example.com")


_word = st.text(alphabet="abc.", max_size=9)


@given(_word, _word, st.integers(0, 4))
@settings(max_examples=2000)
def test_edit_distance(before: dict[str, types.ModuleType], a: str, b: str, limit: int) -> None:
    assert fixes.edit_distance(a, b, limit) == before["fixes"].edit_distance(a, b, limit)
