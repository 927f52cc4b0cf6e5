"""Fuzzing the pure parsers with hostile input (tests/checker fuzzes them for crashes on
small random input; this adds the invariants and the 64 KiB work bound):

- a policy parsed from *any* body, re-serialised with fixes.policy_text, parses to the
  same policy (what the report suggests as a fix says what the policy says);
- normalising a domain twice changes nothing, and an accepted domain obeys the length
  rules;
- the record, TLS-RPT and policy parsers and the domain normaliser read 64 KiB of the
  most awkward input we can think of with bounded work (counted, not timed) and a
  bounded number of findings. Their time is in bench/parsers.py;
  tests/hostile/test_parser_work.py does the same for the whole catalogue of
  bot/testbed/hostile_text.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checker import limits
from bot.checker.domain import DomainError, normalise_domain
from bot.checker.fixes import policy_text
from bot.checker.policy import parse_policy, policy_usable
from bot.checker.record import parse_sts_record
from bot.checker.tlsrpt import parse_tlsrpt_record
from bot.testbed.hostile_text import operations

HOST = "mta-sts.example.com"
KIB64 = limits.MAX_POLICY_BYTES

# Policy lines as a hostile or careless author writes them.
_key = st.sampled_from(
    ["version", "mode", "max_age", "mx", "Mode", "MX", "mx ", " mx", "max-age", "nmx", "x"]
)
_value = st.one_of(
    st.sampled_from(
        [
            "STSv1",
            "enforce",
            "testing",
            "none",
            "Enforce",
            "604800",
            "-1",
            "31557601",
            "1w",
            "mx1.example.com",
            "*.example.net",
            "MX2.Example.COM.",
            "bücher.example",
            "xn--bcher-kva.example",
            "*.*.example.com",
            "10.0.0.1",
            "mail_old.example.com",
            "https://mx.example.com",
            "",
        ]
    ),
    st.text(max_size=20),
)
_line = st.one_of(
    st.tuples(_key, st.sampled_from([":", ": ", ":\t", " : "]), _value).map("".join),
    st.text(max_size=30),
)
_body = st.tuples(
    st.lists(_line, max_size=15),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["", "\ufeff"]),
).map(lambda t: (t[2] + t[1].join(t[0])).encode("utf-8", "surrogatepass"))


@given(_body)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_parsed_policy_re_serialises_to_the_same_policy(body: bytes) -> None:
    policy, _ = parse_policy(body, HOST)
    if policy.mode is None or policy.max_age is None:
        return  # nothing to re-serialise: policy_text needs a mode and a max_age
    again, findings = parse_policy(
        policy_text(policy.mode, policy.mx, policy.max_age).encode(), HOST
    )
    assert (again.version, again.mode, again.max_age) == ("STSv1", policy.mode, policy.max_age)
    assert again.mx == list(dict.fromkeys(policy.mx))
    assert not [f for f in findings if f.code in ("policy_syntax", "policy_mx_invalid")]
    if policy.version == "STSv1":
        assert policy_usable(again) == policy_usable(policy)


@given(st.binary(max_size=400).map(lambda b: b"version: STSv1\nmode: enforce\n" + b))
@settings(max_examples=200, deadline=None)
def test_parsed_mx_patterns_are_valid_policy_values(body: bytes) -> None:
    """Whatever the body, the patterns the parser keeps are lower-case LDH names or
    one leading wildcard label: safe to echo, to match, and to write back."""
    policy, _ = parse_policy(body, HOST)
    for pattern in policy.mx:
        name = pattern.removeprefix("*.")
        assert name == name.lower()
        assert all(c.isascii() and (c.isalnum() or c in "-.") for c in name), pattern
        assert "*" not in name


_domainish = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.text(alphabet="aé-xn0.Ωа_ \u200d", min_size=0, max_size=12), min_size=1, max_size=5
    ).map(".".join),
    st.tuples(
        st.sampled_from(["", "https://", "mailto:", "user@", "<http://", "'", '"']),
        st.text(max_size=30),
        st.sampled_from(["", "/", ":25", ">", ".", "|x>"]),
    ).map("".join),
)


@given(_domainish)
@settings(max_examples=400, deadline=None)
def test_normalising_twice_changes_nothing(text: str) -> None:
    try:
        once = normalise_domain(text)
    except DomainError:
        return
    assert normalise_domain(once) == once
    assert once == once.lower()
    assert once.isascii()
    assert len(once) <= 253
    assert all(0 < len(label) <= 63 for label in once.split("."))


def bounded(parse: Callable[[Any], object], text: Any) -> None:
    """Parsing 64 KiB costs less than one operation (a Python line run or a C function
    called: work counted, not timed) per byte: the text is read by C-level passes, and
    Python works only per problem a finding shows (and a few hundred lines for hints)."""
    parse(text)  # imports and compiled patterns are not the parse's work
    assert operations(parse, text) <= KIB64


HOSTILE_POLICIES = {
    "one long mx": b"version: STSv1\nmode: enforce\nmx: " + b"a." * (KIB64 // 2 - 20) + b"\n",
    "one long mode": b"mode: " + b"enforc" * (KIB64 // 6 - 1),
    "typo keys": b"Mdoe: enforec\n" * (KIB64 // 14),
    "unknown keys": b"".join(b"k%d: v\n" % i for i in range(KIB64 // 10)),
    "bare CRs": b"mx: a.example\r" * (KIB64 // 15),
    "colons": b":" * KIB64,
    "spaces": b"mx" + b" " * (KIB64 - 10) + b": x\n",
    "wildcards": b"mx: " + b"*." * (KIB64 // 2 - 4) + b"\n",
    "many mx": b"version: STSv1\nmode: enforce\nmax_age: 1\n" + b"mx: *.example.com\n" * 3600,
    "duplicates": b"mode: enforce\nmax_age: 1\n" * (KIB64 // 26),
    "invalid utf8": b"\xc3(" * (KIB64 // 2),
    "control chars": bytes(range(1, 32)) * (KIB64 // 31),
    "html": b"<html>" + b"<p>x</p>" * (KIB64 // 8 - 1),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_POLICIES))
def test_policy_parser_does_bounded_work_on_64_kib(name: str) -> None:
    body = HOSTILE_POLICIES[name][:KIB64]
    bounded(lambda b: parse_policy(b, HOST), body)
    _, findings = parse_policy(body, HOST)
    per_code: dict[str, int] = {}
    for f in findings:
        per_code[f.code] = per_code.get(f.code, 0) + 1
        assert len(f.message) < 2000
    assert all(n <= limits.MAX_FINDINGS_PER_CODE + 1 for n in per_code.values()), per_code


HOSTILE_RECORDS = {
    "semicolons": "v=STSv1;" + ";" * KIB64,
    "spaces": "v=STSv1;" + " " * KIB64 + "id=1",
    "long id": "v=STSv1; id=" + "a" * KIB64,
    "many fields": "v=STSv1; " + "; ".join(f"x{i}=y" for i in range(KIB64 // 8)),
    "bad fields": "v=STSv1; " + "=;" * (KIB64 // 2),
    "equals": "v=STSv1; id=" + "=" * KIB64,
}
HOSTILE_TLSRPT = {
    "many rua": "v=TLSRPTv1; rua=" + ",".join(["mailto:a@example.com"] * (KIB64 // 21)),
    "long uri": "v=TLSRPTv1; rua=mailto:" + "a" * KIB64,
    "commas": "v=TLSRPTv1; rua=" + "," * KIB64,
    "bad schemes": "v=TLSRPTv1; rua=" + ",".join(["ftp://x"] * (KIB64 // 8)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_RECORDS))
def test_record_parser_does_bounded_work_on_64_kib(name: str) -> None:
    subject = "_mta-sts.example.com"
    bounded(lambda t: parse_sts_record(t, subject), HOSTILE_RECORDS[name])
    _, findings = parse_sts_record(HOSTILE_RECORDS[name], subject)
    assert len(findings) <= limits.MAX_FINDINGS_PER_CODE + 1
    assert all(len(f.message) < 2000 for f in findings)


@pytest.mark.parametrize("name", sorted(HOSTILE_TLSRPT))
def test_tlsrpt_parser_does_bounded_work_on_64_kib(name: str) -> None:
    subject = "_smtp._tls.example.com"
    bounded(lambda t: parse_tlsrpt_record(t, subject), HOSTILE_TLSRPT[name])
    rua, findings = parse_tlsrpt_record(HOSTILE_TLSRPT[name], "_smtp._tls.example.com")
    assert len(rua) <= limits.MAX_RUA_URIS
    assert len(findings) <= limits.MAX_FINDINGS_PER_CODE + 1
    assert all(len(f.message) < 2000 for f in findings)


@pytest.mark.parametrize(
    "text",
    [
        "a." * (KIB64 // 2),
        "é" * KIB64,
        "<" * KIB64,
        "https://" + "a" * KIB64,
        "@" * KIB64,
        ("xn--" + "a" * 59 + ".") * (KIB64 // 64),
    ],
    ids=lambda t: repr(t[:12]),
)
def test_domain_normaliser_refuses_64_kib_without_reading_it(text: str) -> None:
    with pytest.raises(DomainError, match="far too long"):
        normalise_domain(text)

    def attempt(t: str) -> None:
        with pytest.raises(DomainError):
            normalise_domain(t)

    assert operations(attempt, text) < 100  # refused on its length alone
