"""Hostile text for the parsers: the worst inputs we know, at any size, and a way to
count the work a parse does without a clock.

Every parser that reads untrusted text (the `_mta-sts` and `_smtp._tls` records, the
policy body, the domain normaliser, the Slack command text, TLS-RPT reports, and the
MX alignment a policy and an MX set feed) must cost little CPU on 64 KiB of anything: a hostile
domain would otherwise stall every check sharing its event loop. `bench/parsers.py`
times them on these inputs; `tests/hostile/test_parser_work.py` counts their work
(`operations`) at two sizes and holds them to one linear pass.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from bot.checker import limits
from bot.checker.model import Policy

KIB64 = limits.MAX_POLICY_BYTES


@dataclass(frozen=True, slots=True)
class Hostile:
    parser: str  # which parser (a row group of the bench)
    name: str
    make: Callable[[int], Any]  # size in characters (or bytes) -> the parser's argument
    run: Callable[[Any], object]  # parses it
    largest: int = KIB64  # the largest input the parser is ever given


def _fit(unit: Any, size: int, head: Any = None) -> Any:
    """`head` then `unit` (str or bytes) repeated, cut to `size`."""
    body = (unit[:0] if head is None else head) + unit * (size // max(1, len(unit)) + 1)
    return body[:size]


def _idn_rua(size: int) -> str:
    """rua entries whose hosts are distinct IDNs of ~240 characters (each costs IDNA work)."""
    label = "ä" * 59
    entries = (f"a@{label}.{label}.{label}.{label[:-4]}{i:04d}.e" for i in range(size // 240 + 1))
    return ("v=TLSRPTv1; rua=" + ",".join(entries))[:size]


def fresh() -> None:
    """Forget what earlier parses cached (host checks, pattern indexes), so each timed
    or counted parse does all its work."""
    from bot.checker import matching, policy, tlsrpt

    for cached in (tlsrpt._domain_problem, matching._normed, matching._registered, policy._meant):
        cached.cache_clear()


def _record(txt: str) -> object:
    from bot.checker.record import parse_sts_record

    return parse_sts_record(txt, "_mta-sts.example.com")


def _tlsrpt(txt: str) -> object:
    from bot.checker.tlsrpt import parse_tlsrpt_record

    return parse_tlsrpt_record(txt, "_smtp._tls.example.com")


def _policy(body: bytes) -> object:
    from bot.checker.policy import parse_policy

    return parse_policy(body, "mta-sts.example.com")


def _domain(text: str) -> object:
    from bot.checker.domain import DomainError, normalise_domain

    try:
        return normalise_domain(text)
    except DomainError as exc:
        return exc.kind


def _slack(text: str) -> object:
    from bot.slack.parse import parse_request

    return parse_request(text, max_domains=5)


def _report(data: bytes) -> object:
    """A TLS-RPT report as shared: read (decompressed, decoded), parsed and summarised."""
    from bot.reports.parse import parse_read
    from bot.reports.reading import read_bytes
    from bot.reports.summary import summarise

    return summarise(parse_read(read_bytes(data, "report.json")))


def _report_of(entries: Callable[[int], dict[str, Any]], where: str) -> Callable[[int], bytes]:
    """A report whose `where` list ("policies" or "failure-details") holds as many
    entries as fit in the size."""

    def make(size: int) -> bytes:
        items: list[dict[str, Any]] = []
        policy: dict[str, Any] = {"policy": {"policy-type": "sts", "policy-domain": "e.com"}}
        report: dict[str, Any] = {"organization-name": "x", "report-id": "1"}
        report["policies"] = items if where == "policies" else [policy]
        if where != "policies":
            policy["failure-details"] = items
        step = len(json.dumps(entries(0))) + 2
        items += [entries(i) for i in range(max(1, (size - 200) // step))]
        return json.dumps(report, separators=(",", ":")).encode()[:size]

    return make


def _alignment(args: tuple[bytes, list[str]]) -> object:
    """The policy parsed, then every MX host matched against it (and its near misses)."""
    from bot.checker.policy import parse_policy

    body, hosts = args
    policy, _ = parse_policy(body, "mta-sts.example.com")
    return _align(policy, hosts)


def _align(policy: Policy, hosts: list[str]) -> list[str | None]:
    """`mx_step.alignment` (imported here, so a baseline revision's code runs)."""
    from bot.checker.model import MxHost
    from bot.checker.mx_step import MxStep, alignment

    step = MxStep(hosts=[MxHost(host=h, preference=10) for h in hosts], names=list(hosts))
    alignment("example.com", step, policy, True, "enforce")
    return [mx.near_miss for mx in step.hosts]


_LONG_HOST = ".".join(["a" * 62] * 4)  # 251 characters


def _mx_set(count: int) -> list[str]:
    return [f"{_LONG_HOST[:-4]}{i:04d}" for i in range(count)]


def _near_patterns(size: int) -> bytes:
    """Policy mx lines each two edits from the MX names (the worst for near misses)."""
    lines = b"".join(
        b"mx: b%s%03dx\n" % (_LONG_HOST[1:-5].encode(), i) for i in range(size // 260 + 1)
    )
    return (b"version: STSv1\nmode: enforce\nmax_age: 86400\n" + lines)[:size]


CATALOGUE: tuple[Hostile, ...] = (
    # -- the _mta-sts record -----------------------------------------------------------
    Hostile("record", "separators", lambda n: _fit(";", n, "v=STSv1;"), _record),
    Hostile("record", "blank runs", lambda n: _fit(" ", n - 1, "v=STSv1; id=1; a") + "x", _record),
    Hostile("record", "empty values", lambda n: _fit("=;", n, "v=STSv1; "), _record),
    Hostile("record", "fields", lambda n: _fit("a=b;", n, "v=STSv1; "), _record),
    Hostile("record", "ID fields", lambda n: _fit("ID=x;", n, "v=STSv1; "), _record),
    Hostile("record", "long id", lambda n: _fit("a", n, "v=STSv1; id="), _record),
    Hostile("record", "equals", lambda n: _fit("=", n, "v=STSv1; id="), _record),
    Hostile("record", "no version", lambda n: _fit(";", n, "x"), _record),
    Hostile(
        "record", "spaced id last", lambda n: _fit(" ;", n - 8, "v=STSv1;") + "id = 1", _record
    ),
    # -- the _smtp._tls record ---------------------------------------------------------
    Hostile("tlsrpt", "separators", lambda n: _fit(";", n, "v=TLSRPTv1;"), _tlsrpt),
    Hostile("tlsrpt", "spaced fields", lambda n: _fit("a =;", n, "v=TLSRPTv1; "), _tlsrpt),
    Hostile("tlsrpt", "RUA fields", lambda n: _fit("RUA=x;", n, "v=TLSRPTv1; "), _tlsrpt),
    Hostile("tlsrpt", "commas", lambda n: _fit(",", n, "v=TLSRPTv1; rua="), _tlsrpt),
    Hostile("tlsrpt", "long uri", lambda n: _fit("a", n, "v=TLSRPTv1; rua=mailto:"), _tlsrpt),
    Hostile("tlsrpt", "blank runs", lambda n: _fit(" ", n - 1, "v=TLSRPTv1; rua=a") + "b", _tlsrpt),
    Hostile("tlsrpt", "IDN hosts", _idn_rua, _tlsrpt),
    # -- the policy body ----------------------------------------------------------------
    Hostile("policy", "short lines", lambda n: _fit(b"a\n", n), _policy),
    Hostile("policy", "unknown keys", lambda n: _fit(b"k:\n", n), _policy),
    Hostile("policy", "mx lines", lambda n: _fit(b"mx:a\n", n), _policy),
    Hostile("policy", "invalid mx", lambda n: _fit(b"mx:_\n", n), _policy),
    Hostile("policy", "IP mx", lambda n: _fit(b"mx: 10.0.0.1\n", n), _policy),
    Hostile("policy", "duplicates", lambda n: _fit(b"mode: enforce\n", n), _policy),
    Hostile("policy", "indented", lambda n: _fit(b" mx: a\n", n), _policy),
    Hostile("policy", "bare CRs", lambda n: _fit(b"a\r", n), _policy),
    Hostile("policy", "CR keys", lambda n: _fit(b"k y:\r", n), _policy),
    Hostile("policy", "blank run", lambda n: _fit(b" ", n - 6, b"mx: a") + b"b\n", _policy),
    Hostile("policy", "control chars", lambda n: _fit(bytes(range(1, 32)), n), _policy),
    Hostile("policy", "colons", lambda n: _fit(b":", n), _policy),
    # -- what people paste (the normaliser reads at most MAX_DOMAIN_INPUT characters) ----
    Hostile("domain", "labels", lambda n: _fit("a.", n), _domain),
    Hostile("domain", "IDN", lambda n: _fit("ä", n), _domain),
    Hostile("domain", "IDN labels", lambda n: _fit("ä" * 20 + ".", n), _domain),
    Hostile("domain", "A-labels", lambda n: _fit("xn--" + "a" * 59 + ".", n), _domain),
    Hostile("domain", "URL", lambda n: _fit("a", n, "https://"), _domain),
    Hostile("domain", "at the limit", lambda n: _fit("ä" * 20 + ".", 2000), _domain, 2000),
    # -- the Slack command text (refused beyond MAX_TEXT_CHARS) ----------------------------
    Hostile("slack", "words", lambda n: _fit("a ", n), _slack),
    Hostile("slack", "links", lambda n: _fit("<http://a.b|a.b>", n), _slack),
    Hostile("slack", "at the limit", lambda n: _fit("é.é ", 4000), _slack, 4000),
    # -- TLS-RPT reports (cut: invalid JSON past the cut is reported, not read) ---------
    Hostile(
        "report",
        "policies",
        _report_of(
            lambda i: {"policy": {"policy-type": "sts", "policy-domain": f"d{i}.e"}}, "policies"
        ),
        _report,
    ),
    Hostile(
        "report",
        "failure details",
        _report_of(
            lambda i: {"result-type": "validation-failure", "receiving-mx-hostname": f"m{i}.e"},
            "failure-details",
        ),
        _report,
    ),
    Hostile("report", "numbers", lambda n: b"[" + _fit(b"1,", n - 2) + b"]", _report),
    # -- a policy of near misses and a full MX set ---------------------------------------
    Hostile(
        "alignment",
        "near misses",
        lambda n: (_near_patterns(n), _mx_set(limits.MAX_MX_HOSTS)),
        _alignment,
    ),
)


# -- work, counted -------------------------------------------------------------------------


def operations(run: Callable[[Any], object], argument: Any) -> int:
    """The Python lines executed and the C functions called while `run(argument)` runs:
    a count of work that no other load on the machine changes (a loop in Python over the
    input shows up as one line or call per item; work inside one C call, such as a
    regular expression's scan, counts once)."""
    count = 0

    def line(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return line

    def call(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    fresh()
    old_trace, old_profile = sys.gettrace(), sys.getprofile()
    sys.settrace(line)
    sys.setprofile(call)
    try:
        run(argument)
    finally:
        sys.settrace(old_trace)
        sys.setprofile(old_profile)
    return count
