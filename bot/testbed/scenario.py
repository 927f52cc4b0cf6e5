"""The `Scenario` dataclass: one mail domain the testbed plays, and what a check must say.

`make()` fills the usual parts (a valid record, an enforce policy listing the
MX hosts, two healthy MX, a TLS-RPT record) so a scenario states only what is
special about it. `healthy_domain()` makes bench domains served by the shared
servers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.checker.findings import CODES, mode_severity
from bot.checker.model import Mode, Status
from bot.testbed.behaviour import DnsFault, HttpBehaviour, Mx, PolicyHost, Rr

GOOD_ID = "20240101T000000"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A domain, its DNS and servers, and the exact findings a check must produce."""

    domain: str
    description: str
    expect_codes: frozenset[str]  # the exact set of finding codes of the report
    expect_status: Status
    expect_mode: Mode | None  # the report's mode (of the usable policy)
    sts: tuple[tuple[str, ...], ...]  # TXT records at _mta-sts.<domain>, each its strings
    tlsrpt: tuple[tuple[str, ...], ...]  # TXT records at _smtp._tls.<domain>
    policy: PolicyHost  # mta-sts.<domain>
    mx: tuple[Mx, ...]
    records: tuple[Rr, ...] = ()  # anything else in DNS (CNAMEs, TXT at a delegation target)
    faults: tuple[DnsFault, ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()  # Settings overrides, e.g. allow_private=False
    shared: bool = False  # default-behaving hosts live on the shared servers (bench)
    demo: bool = False  # one of the realistic samples `mtasts demo` shows
    note: str = ""  # where the expectation rests on a reading of the contract
    tags: frozenset[str] = field(default_factory=frozenset)  # e.g. "slow" (waits on a timeout)

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.domain}"

    def overrides(self) -> dict[str, Any]:
        return dict(self.settings)


def policy_text(
    mode: str = "enforce",
    mx: Iterable[str] = (),
    max_age: int | str = 604800,
    extra: Sequence[str] = (),
    *,
    newline: str = "\n",
) -> bytes:
    """A policy body: version, mode, mx lines, max_age, then `extra` lines verbatim."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx)]
    lines += [f"max_age: {max_age}", *extra]
    return (newline.join(lines) + newline).encode()


def status_for(codes: Iterable[str], mode: Mode | None) -> Status:
    """The status a report with these codes has, under `mode` for the mode-dependent ones."""
    severities = {
        mode_severity(mode) if CODES[c].mode_dependent else CODES[c].severity for c in codes
    }
    if "error" in severities:
        return "fail"
    if "warning" in severities:
        return "warn"
    return "pass"


def make(
    domain: str,
    description: str,
    expect: Iterable[str] = (),
    *,
    mode: Mode = "enforce",
    expect_mode: Mode | Literal["policy"] | None = "policy",
    mx: Sequence[Mx] | None = None,
    body: bytes | None = None,
    http: HttpBehaviour | None = None,
    policy: PolicyHost | None = None,
    sts: Sequence[tuple[str, ...]] | None = None,
    tlsrpt: Sequence[tuple[str, ...]] | None = None,
    records: Sequence[Rr] = (),
    faults: Sequence[DnsFault] = (),
    settings: dict[str, Any] | None = None,
    shared: bool = False,
    demo: bool = False,
    note: str = "",
    tags: Iterable[str] = (),
) -> Scenario:
    """A scenario with healthy defaults for every part not given.

    `mode` is the policy body's mode (default body only); `expect_mode` is the
    report's mode, the policy's by default (give None when the policy is unusable).
    """
    if mx is None:
        mx = (Mx(f"mx1.{domain}", 10), Mx(f"mx2.{domain}", 20))
    if body is None:
        body = policy_text(mode, [m.host for m in mx if m.host != "."])
    if http is None:
        http = HttpBehaviour(body=body)
    if policy is None:
        policy = PolicyHost(http=http)
    if sts is None:
        sts = ((f"v=STSv1; id={GOOD_ID}",),)
    if tlsrpt is None:
        tlsrpt = ((f"v=TLSRPTv1; rua=mailto:tlsrpt@{domain}",),)
    codes = frozenset(expect)
    unknown = codes - CODES.keys()
    if unknown:
        raise ValueError(f"{domain}: unknown finding codes {sorted(unknown)}")
    report_mode: Mode | None = mode if expect_mode == "policy" else expect_mode
    return Scenario(
        domain=domain,
        description=description,
        expect_codes=codes,
        expect_status=status_for(codes, report_mode),
        expect_mode=report_mode,
        sts=tuple(sts),
        tlsrpt=tuple(tlsrpt),
        policy=policy,
        mx=tuple(mx),
        records=tuple(records),
        faults=tuple(faults),
        settings=tuple(sorted((settings or {}).items())),
        shared=shared,
        demo=demo,
        note=note,
        tags=frozenset(tags),
    )


def healthy_domain(name: str, mx_count: int = 2) -> Scenario:
    """A healthy enforce domain on the shared servers (for benchmarks: no sockets of its own)."""
    mx = tuple(Mx(f"mx{i}.{name}", 10 * i) for i in range(1, mx_count + 1))
    return make(name, "healthy enforce domain on the shared servers", mx=mx, shared=True)
