"""The hostile scenarios, and helpers for the tests of tests/hostile.

Every scenario here is checked once, all at once (as the CLI would check many
domains), by the `hostile` fixture; the tests then hold each report to what an
operator must be told, and to the time budget. Tests that count connections or
bytes on one host use hosts no other test touches.

`no_internet` guards every test of this folder: a TCP connection to anything but
loopback is refused before a packet leaves (and recorded), so a test can assert
on the addresses the checker chose without ever touching the internet.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import contextlib
import errno
import gzip
import itertools
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.checker import limits
from bot.checker.model import Report
from bot.testbed.behaviour import DnsFault, Framing, HttpBehaviour, Mx, PolicyHost, Rr, RrType, Smtp
from bot.testbed.scenario import Scenario, make, policy_text

# Budget (s) of the checks that wait for a stalled step to be cut off (tag "slow"; they
# are checked after the others, so the others' load does not eat into it): ample for
# the steps unrelated to the stall, which take milliseconds on a quiet machine.
SHORT = 2.5
# What a check may overrun its budget by: a bound on how late a cut-off is noticed on a
# busy machine, far below what waiting for a resolver's or a probe's own timeout costs.
MARGIN = 1.0
MB = 1024 * 1024
ESC = "\x1b[2J\x1b[31mPWNED\x07"  # clear screen, red, bell
FRAMINGS: tuple[Framing, ...] = ("length", "close", "chunked")
TEN_MB = b"# padding " + b"x" * (10 * MB - 11) + b"\n"
GZIP_BOMB = gzip.compress(policy_text(mx=["mx1.h-gzip.example"]) + b"\n" * (10 * MB), 9)


def _body(domain: str, *extra: str) -> bytes:
    return policy_text(mx=[f"mx1.{domain}", f"mx2.{domain}"], extra=extra)


def _chain(domain: str, hops: int) -> tuple[Rr, ...]:
    """_mta-sts.<domain> → c1 → … → c<hops> holding the record: `hops` CNAMEs."""
    names = [f"_mta-sts.{domain}", *(f"c{i}.{domain}" for i in range(1, hops + 1))]
    rrs = [Rr(a, "CNAME", b) for a, b in itertools.pairwise(names)]
    return (*rrs, Rr(names[-1], "TXT", ("v=STSv1; id=chained",)))


def _mx_many(domain: str, n: int) -> tuple[Mx, ...]:
    return tuple(Mx(f"mx{i:03d}.{domain}", i) for i in range(1, n + 1))


# Addresses that are never to be contacted without --allow-private.
BLOCKED = {
    "loopback4": "127.0.0.1",
    "rfc1918": "10.1.2.3",
    "metadata": "169.254.169.254",
    "loopback6": "::1",
    "ula": "fc00::1",
    "ula-fd": "fd12:3456::1",
    "mapped-loopback": "::ffff:127.0.0.1",
    "mapped-rfc1918": "::ffff:10.0.0.1",
    "mapped-metadata": "::ffff:169.254.169.254",
    "cgnat": "100.64.0.1",
    "unspecified": "0.0.0.0",
}
GLOBAL4, GLOBAL6 = "1.2.3.4", "2a00:1450:4001:800::2004"  # never reached: see no_internet


MIXED = ("10.0.0.7", GLOBAL4, "127.0.0.1", "fd00::7", GLOBAL6, "::1", "169.254.169.254")


def _mixed(host: str) -> tuple[Rr, ...]:
    return tuple(Rr(host, "AAAA" if ":" in a else "A", a) for a in MIXED)


def _blocked(name: str, address: str) -> Scenario:
    d = f"h-blocked-{name}.example"
    rtype: RrType = "AAAA" if ":" in address else "A"
    return make(
        d,
        f"policy host and MX resolve to {address} only",
        ["policy_host_blocked", "mx_address_blocked"],
        expect_mode=None,
        policy=PolicyHost(resolvable=False),
        mx=(Mx(f"mx1.{d}", 10, resolvable=False),),
        records=(Rr(f"mta-sts.{d}", rtype, address), Rr(f"mx1.{d}", rtype, address)),
        settings={"allow_private": False},
    )


def scenarios() -> list[Scenario]:
    short = {"timeout": SHORT}
    slow = ["slow"]
    out = [
        # --- DNS -----------------------------------------------------------------
        make(
            "h-servfail.example",
            "_mta-sts answers SERVFAIL",
            ["record_lookup_failed"],
            expect_mode=None,
            faults=(DnsFault("_mta-sts.h-servfail.example", "servfail"),),
        ),
        make(
            "h-refused.example",
            "_mta-sts answers REFUSED",
            ["record_lookup_failed"],
            expect_mode=None,
            faults=(DnsFault("_mta-sts.h-refused.example", "refused"),),
        ),
        make(
            "h-dns-timeout.example",
            "_mta-sts is never answered",
            ["record_lookup_failed"],
            expect_mode=None,
            faults=(DnsFault("_mta-sts.h-dns-timeout.example", "drop"),),
            settings=short,
            tags=slow,
        ),
        make(
            "h-truncated.example",
            "_mta-sts TXT truncated over UDP, complete over TCP",
            faults=(DnsFault("_mta-sts.h-truncated.example", "truncate"),),
        ),
        make(
            "h-cname-loop.example",
            "_mta-sts is a CNAME loop",
            ["record_lookup_failed"],
            expect_mode=None,
            sts=(),
            records=(
                Rr("_mta-sts.h-cname-loop.example", "CNAME", "sts.h-cname-loop.example"),
                Rr("sts.h-cname-loop.example", "CNAME", "_mta-sts.h-cname-loop.example"),
            ),
        ),
        make(
            "h-cname-long.example",
            "_mta-sts is a chain of 12 CNAMEs (more than MAX_CNAME_CHAIN)",
            ["record_lookup_failed"],
            expect_mode=None,
            sts=(),
            records=_chain("h-cname-long.example", 12),
        ),
        make(
            "h-cname-ok.example",
            "_mta-sts is a chain of 3 CNAMEs",
            sts=(),
            records=_chain("h-cname-ok.example", 3),
        ),
        make(
            "h-txt-strings.example",
            "the record split into strings mid-word",
            sts=(("v=ST", "Sv1;", " id=", "split", "2024"),),
        ),
        make(
            "h-txt-10k.example",
            "a 10 KB record (40 strings), its id after the padding",
            sts=(("v=STSv1; x-pad=", *("a" * 250 for _ in range(40)), "; id=late10k"),),
        ),
        make(
            "h-mx-100.example",
            "100 MX records, all healthy",
            mx=_mx_many("h-mx-100.example", 100),
            shared=True,
        ),
        make(
            "h-mx-cname.example",
            "the MX host is a CNAME to the real server",
            mx=(Mx("real.h-mx-cname.example", 10, published=False),),
            body=policy_text(mx=["mail.h-mx-cname.example"]),
            records=(
                Rr("h-mx-cname.example", "MX", "10 mail.h-mx-cname.example"),
                Rr("mail.h-mx-cname.example", "CNAME", "real.h-mx-cname.example"),
            ),
        ),
        make(
            "h-mx-noaddr.example",
            "neither MX host has an address (one NXDOMAIN, one without A/AAAA)",
            ["mx_host_unresolvable"],
            mx=(
                Mx("mx1.h-mx-noaddr.example", 10, resolvable=False),
                Mx("mx2.h-mx-noaddr.example", 20, resolvable=False),
            ),
            records=(Rr("mx2.h-mx-noaddr.example", "TXT", ("not an address",)),),
        ),
        # --- HTTPS policy host ---------------------------------------------------
        make(
            "h-tls-abort.example",
            "the policy host closes the connection mid-handshake",
            ["policy_connect_failed"],
            expect_mode=None,
            policy=PolicyHost(tls_abort=True),
        ),
        make(
            "h-stall.example",
            "the policy host sends headers, then nothing",
            ["policy_timeout"],
            expect_mode=None,
            http=HttpBehaviour(body=_body("h-stall.example"), stall_after_headers=True),
            settings=short,
            tags=slow,
        ),
        make(
            "h-drip.example",
            "the policy host drips the body one byte a second",
            ["policy_timeout"],
            expect_mode=None,
            http=HttpBehaviour(body=_body("h-drip.example"), drip=1.0),
            settings=short,
            tags=slow,
        ),
        *(
            make(
                f"h-10mb-{framing}.example",
                f"a 10 MB policy body ({framing})",
                ["policy_too_large"],
                expect_mode=None,
                http=HttpBehaviour(body=TEN_MB, framing=framing),
            )
            for framing in FRAMINGS
        ),
        make(
            "h-redirect-self.example",
            "the policy URL redirects to itself",
            ["policy_redirect"],
            expect_mode=None,
            http=HttpBehaviour(
                status=301,
                location="https://mta-sts.h-redirect-self.example/.well-known/mta-sts.txt",
            ),
        ),
        make(
            "h-http10.example",
            "HTTP/1.0, no Content-Length, body ends at close",
            http=HttpBehaviour(body=_body("h-http10.example"), version="HTTP/1.0", framing="close"),
        ),
        make(
            "h-latin1.example",
            "a policy with a Latin-1 (not UTF-8) comment line",
            ["policy_syntax"],
            body=_body("h-latin1.example") + "# géré par l'équipe\n".encode("latin-1"),
        ),
        make(
            "h-bom.example",
            "a policy starting with a UTF-8 byte-order mark",
            ["policy_syntax"],
            body=b"\xef\xbb\xbf" + _body("h-bom.example"),
        ),
        make(
            "h-nul.example",
            "a policy body of 4 KiB of NUL bytes",
            ["policy_syntax"],
            expect_mode=None,
            body=b"\x00" * 4096,
        ),
        make(
            "h-gzip.example",
            "a gzip bomb sent with Content-Encoding: gzip though identity was asked for",
            ["policy_syntax"],
            expect_mode=None,
            http=HttpBehaviour(body=GZIP_BOMB, headers=(("Content-Encoding", "gzip"),)),
        ),
        # --- SMTP ----------------------------------------------------------------
        *(
            make(
                f"h-smtp-{kind.replace('_', '-')}.example",
                f"the only MX: {kind}",
                codes,
                mx=(Mx(f"mx1.h-smtp-{kind.replace('_', '-')}.example", 10, Smtp(kind)),),  # type: ignore[arg-type]
                settings=short if "mx_timeout" in codes else None,
                tags=slow if "mx_timeout" in codes else (),
            )
            for kind, codes in [
                ("stall", ["mx_timeout"]),
                ("garbage", ["mx_unreachable"]),
                ("banner_554", ["mx_unreachable"]),
                ("ehlo_many", []),
                ("drop_after_starttls", ["mx_tls_failed"]),
                ("starttls_error", ["mx_tls_failed"]),
                ("tls_stall", ["mx_timeout"]),
                ("ehlo_too_many", ["mx_starttls_missing"]),
                ("ehlo_too_many_starttls", ["mx_tls_failed"]),
                ("ehlo_long_line", ["mx_starttls_missing"]),
                ("banner_421", ["mx_unreachable"]),
                ("hangup", ["mx_unreachable"]),
            ]
        ),
        # --- text meant for a terminal ------------------------------------------
        make(
            "h-escape-ctype.example",
            "a Content-Type with terminal escape sequences",
            ["policy_content_type"],
            http=HttpBehaviour(body=_body("h-escape-ctype.example"), content_type="text/x" + ESC),
        ),
        make(
            "h-escape-location.example",
            "a redirect whose Location holds terminal escape sequences",
            ["policy_redirect"],
            expect_mode=None,
            http=HttpBehaviour(status=302, location="https://x.example/" + ESC),
        ),
        make(
            "h-escape-banner.example",
            "a 554 greeting with terminal escape sequences",
            ["mx_unreachable"],
            mx=(Mx("mx1.h-escape-banner.example", 10, Smtp("banner_554", banner="no " + ESC)),),
        ),
        make(
            "h-many-headers.example",
            "the policy host sends 50,000 header lines",
            ["policy_connect_failed"],
            expect_mode=None,
            http=HttpBehaviour(
                body=_body("h-many-headers.example"),
                headers=tuple((f"X-H{i}", "x") for i in range(50_000)),
            ),
        ),
        make(
            "h-long-header.example",
            "the policy host sends a 1 MB header line",
            ["policy_connect_failed"],
            expect_mode=None,
            http=HttpBehaviour(body=_body("h-long-header.example"), headers=(("X-L", "a" * MB),)),
        ),
        *(
            make(
                f"h-http-{name}.example",
                f"malformed HTTP: {name}",
                ["policy_connect_failed"],
                expect_mode=None,
                http=HttpBehaviour(body=_body(f"h-http-{name}.example"), **how),  # type: ignore[arg-type]
            )
            for name, how in [
                ("ssh", {"version": "SSH-2.0-OpenSSH_9.6"}),
                ("status-0", {"status": 0}),
                (
                    "length-and-chunked",
                    {"framing": "chunked", "headers": (("Content-Length", "5"),)},
                ),
                ("two-lengths", {"headers": (("Content-Length", "3"),)}),
                ("negative-length", {"framing": "close", "headers": (("Content-Length", "-5"),)}),
            ]
        ),
        make(
            "h-mx-flood.example",
            "2,000 MX records (no addresses) and a 56 KiB policy of 2,000 patterns matching none",
            ["mx_host_unresolvable", "mx_not_covered", "mx_pattern_unused", "mx_not_checked"],
            mx=(),
            records=tuple(
                Rr("h-mx-flood.example", "MX", f"{i} m{i}.h-mx-flood.example") for i in range(2000)
            ),
            body=policy_text(mx=[f"p{i}.h-mx-flood.example" for i in range(2000)]),
        ),
        make(
            "h-many-addresses.example",
            "the MX host has 20 addresses, none listening",
            ["mx_unreachable"],
            mx=(Mx("mx1.h-many-addresses.example", 10, resolvable=False),),
            records=tuple(
                Rr("mx1.h-many-addresses.example", "A", f"127.77.250.{i}") for i in range(1, 21)
            ),
            body=policy_text(mx=["mx1.h-many-addresses.example"]),
        ),
        # --- addresses -----------------------------------------------------------
        *(_blocked(name, address) for name, address in BLOCKED.items()),
        make(
            "h-mixed.example",
            "the policy host resolves to global and non-global addresses",
            ["policy_connect_failed", "mx_address_blocked"],
            expect_mode=None,
            policy=PolicyHost(resolvable=False),
            records=_mixed("mta-sts.h-mixed.example"),
            settings={"allow_private": False},
        ),
        make(
            "h-mixed-mx.example",
            "the MX resolves to 8 non-global addresses, then a global one",
            ["policy_host_blocked"],
            expect_mode=None,
            mx=(Mx("mx1.h-mixed-mx.example", 10, resolvable=False),),
            records=tuple(
                Rr("mx1.h-mixed-mx.example", "A", a)
                for a in (*(f"10.0.0.{i}" for i in range(1, 9)), GLOBAL4)
            ),
            settings={"allow_private": False},
        ),
    ]
    return out


# Checked only by the one test that counts their connections or measures memory.
SOLO = [
    *(
        make(
            f"h-mem-{name}.example",
            f"memory bound: {name}",
            ["policy_too_large"] if name != "gzip" else ["policy_syntax"],
            expect_mode=None,
            http=http,
        )
        for name, http in [
            ("length", HttpBehaviour(body=TEN_MB)),
            ("close", HttpBehaviour(body=TEN_MB, framing="close")),
            ("chunked", HttpBehaviour(body=TEN_MB, framing="chunked")),
            ("endless", HttpBehaviour(endless=True, framing="close")),
            ("gzip", HttpBehaviour(body=GZIP_BOMB, headers=(("Content-Encoding", "gzip"),))),
        ]
    ),
    make(
        "h-counted.example",
        "policy host (accepts TCP, then hangs up) and MX on loopback, for counting",
        ["policy_connect_failed"],
        expect_mode=None,
        policy=PolicyHost(tls_abort=True),
        mx=(Mx("mx1.h-counted.example", 10),),
    ),
    make(
        "h-mx-100-slow.example",
        "100 MX hosts whose SMTP servers answer each line 0.2 s late, the default budget",
        mx=tuple(Mx(f"mx{i:03d}.h-mx-100-slow.example", i, Smtp(delay=0.2)) for i in range(1, 101)),
        shared=True,
        settings={"timeout": limits.DEFAULT_TIMEOUT},
    ),
    make(
        "h-counted-mx.example",
        "healthy domain whose MX connections are counted",
        mx=(Mx("mx1.h-counted-mx.example", 10),),
    ),
]
HOSTILE: tuple[Scenario, ...] = tuple(scenarios())


@dataclass(slots=True)
class Checked:
    """A report and how long the check took by the wall clock."""

    report: Report
    seconds: float
    budget: float

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.report.findings}

    def assert_within_budget(self) -> None:
        """The check ended within its budget plus MARGIN, by the clock and by its report."""
        limit = self.budget + MARGIN
        assert self.seconds <= limit, f"{self.report.domain}: {self.seconds:.2f} s > {limit} s"
        assert self.report.duration_ms / 1000 <= limit

    def only(self, code: str) -> str:
        """The message of the one finding with `code` (asserting there is exactly one)."""
        found = [f.message for f in self.report.findings if f.code == code]
        assert len(found) == 1, f"{len(found)} {code} findings: {sorted(self.codes)}"
        return found[0]

    def message(self, code: str) -> str:
        """All messages of findings with `code`, joined (so a test can look for words)."""
        found = [f.message for f in self.report.findings if f.code == code]
        assert found, f"no {code} finding in {sorted(self.codes)}"
        return "\n".join(found)


@dataclass(slots=True)
class Connects:
    """TCP connections the code under test attempted (address, port), in order."""

    attempts: list[tuple[str, int]]

    def to_port(self, port: int) -> list[str]:
        return [a for a, p in self.attempts if p == port]


@dataclass(slots=True)
class Run:
    """The shared run: every HOSTILE scenario's check, and the connections it tried."""

    checked: dict[str, Checked]
    connects: Connects


@contextlib.contextmanager
def loopback_only() -> Iterator[Connects]:
    """Refuse (and record) every TCP connection attempt to a non-loopback address.

    asyncio.open_connection and aiohttp both end in `loop.sock_connect`; the
    refusal is the OSError an unreachable network gives, before any packet leaves.
    """
    attempts: list[tuple[str, int]] = []
    original = asyncio.selector_events.BaseSelectorEventLoop.sock_connect

    async def guarded(
        self: asyncio.selector_events.BaseSelectorEventLoop, sock: socket.socket, address: Any
    ) -> None:
        host, port = str(address[0]), int(address[1])
        attempts.append((host, port))
        if not (host.startswith("127.") or host == "::1"):
            raise OSError(errno.ENETUNREACH, "Network is unreachable (tests stay on loopback)")
        await original(self, sock, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(asyncio.selector_events.BaseSelectorEventLoop, "sock_connect", guarded)
        yield Connects(attempts)
