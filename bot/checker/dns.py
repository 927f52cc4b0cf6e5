"""DNS lookups through the configured resolver, as typed results.

Expected failures (NXDOMAIN, no data, SERVFAIL, timeouts) come back as a
`Lookup` with `outcome` set, never as exceptions: the engine turns them into
findings. Nothing here falls back to the system resolver when nameservers are
configured.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

import dns._features

# dnspython asks importlib.metadata at import time whether optional packages are
# installed (a scan of site-packages, ~6-10 ms of every `mtasts check`): say it here,
# before the first dnspython module that asks (this module is the checker's way in).
# idna is one of our dependencies; DNS over HTTPS and over QUIC are not used (no httpx,
# no aioquic).
dns._features.force("idna", True)
dns._features.force("doh", False)
dns._features.force("doq", False)

import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.resolver  # noqa: E402
import dns.rrset  # noqa: E402

from bot.checker import limits  # noqa: E402
from bot.checker.dnsquery import ServerError, query  # noqa: E402
from bot.checker.settings import Nameserver, Settings  # noqa: E402

Outcome = Literal["ok", "nxdomain", "nodata", "failed", "timeout"]
T = TypeVar("T")


@dataclass(slots=True)
class Lookup(Generic[T]):
    """One lookup's result: the records, or why there are none."""

    name: str
    outcome: Outcome
    records: list[T] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)  # names the CNAME chain went through
    error: str | None = None  # words for a failed lookup ("SERVFAIL from 127.0.0.1", ...)

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "timeout")


@functools.lru_cache(maxsize=1)
def system_nameservers() -> tuple[Nameserver, ...]:
    """The resolvers of /etc/resolv.conf (read once per process; empty when unreadable)."""
    try:
        resolver = dns.resolver.Resolver()
    except dns.exception.DNSException:
        return ()
    out = []
    for ns in resolver.nameservers:
        address = ns if isinstance(ns, str) else getattr(ns, "address", None)
        port = resolver.port if isinstance(ns, str) else getattr(ns, "port", resolver.port)
        if isinstance(address, str):
            out.append(Nameserver(address, int(port)))
    return tuple(out)


class Dns:
    """The lookups a check makes, all through the configured resolvers (or the system's).

    Each query may take the check's whole budget (`within` cuts it at the deadline):
    see dnsquery.py for how it is sent and retransmitted.
    """

    def __init__(self, settings: Settings) -> None:
        self._servers = settings.nameservers or system_nameservers()
        self._lifetime = settings.timeout

    async def _query(self, name: str, rdtype: dns.rdatatype.RdataType) -> Lookup[dns.rrset.RRset]:
        try:
            request = dns.message.make_query(name, rdtype)
        except dns.exception.DNSException as exc:  # a name DNS cannot carry
            return Lookup(name, "failed", error=_first_line(str(exc)) or type(exc).__name__)
        outcome = await query(request, self._servers, lifetime=self._lifetime)
        if outcome.timed_out:
            return Lookup(name, "timeout", error="the DNS query timed out")
        response = outcome.response
        if not isinstance(response, dns.message.QueryMessage):
            return Lookup(name, "failed", error=_failure_text(outcome.errors, name))
        try:
            chain = response.resolve_chaining()
        except dns.message.ChainTooLong:
            return Lookup(name, "failed", error=_LONG_CHAIN)
        except dns.exception.DNSException as exc:
            return Lookup(name, "failed", error=_first_line(str(exc)) or type(exc).__name__)
        owners = [rrset.name.to_text(omit_final_dot=True).lower() for rrset in chain.cnames]
        cnames = _targets(chain.cnames)
        if response.rcode() == dns.rcode.NXDOMAIN:
            # A CNAME to a name that does not exist: keep the chain, it is the clue.
            return Lookup(name, "nxdomain", cnames=cnames)
        if len(cnames) > limits.MAX_CNAME_CHAIN:
            shown = _arrows([*owners, "…"])
            error = f"the CNAME chain is longer than {limits.MAX_CNAME_CHAIN} names ({shown})"
            return Lookup(name, "failed", cnames=cnames, error=error)
        if chain.answer is None:
            return Lookup(name, "nodata", cnames=cnames)
        return Lookup(name, "ok", records=[chain.answer], cnames=cnames)

    async def txt(self, name: str) -> Lookup[str]:
        """TXT records, each record's strings joined without spaces (RFC 8461 §3.1)."""
        result = await self._query(name, dns.rdatatype.TXT)
        out: Lookup[str] = Lookup(name, result.outcome, cnames=result.cnames, error=result.error)
        for rrset in result.records:
            for rdata in list(rrset)[: limits.MAX_TXT_RECORDS]:
                # Whole: a DNS message bounds it (64 KiB), and a field after the first
                # few KiB (the `id`) counts as much as any other. The report cuts it.
                out.records.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        return out

    async def mx(self, name: str) -> Lookup[tuple[int, str]]:
        """MX records as (preference, host) with the host lower-cased, no trailing dot.

        A null MX (RFC 7505) comes back as (0, "").
        """
        result = await self._query(name, dns.rdatatype.MX)
        out: Lookup[tuple[int, str]] = Lookup(
            name, result.outcome, cnames=result.cnames, error=result.error
        )
        for rrset in result.records:
            for rdata in rrset:
                host = rdata.exchange.to_text(omit_final_dot=True).lower()
                out.records.append((int(rdata.preference), "" if host in ("", ".") else host))
        out.records.sort()
        return out

    async def addresses(self, name: str) -> Lookup[str]:
        """A and AAAA records together (queried at once); IPv4 first."""
        v4, v6 = await asyncio.gather(
            self._query(name, dns.rdatatype.A), self._query(name, dns.rdatatype.AAAA)
        )
        records = [r.address for rrset in v4.records for r in rrset]
        records += [r.address for rrset in v6.records for r in rrset]
        cnames = v4.cnames or v6.cnames
        if records:
            return Lookup(name, "ok", records=records, cnames=cnames)
        # No address: report the more informative of the two outcomes.
        for outcome in ("timeout", "failed", "nxdomain"):
            for part in (v4, v6):
                if part.outcome == outcome:
                    return Lookup(name, part.outcome, cnames=cnames, error=part.error)
        return Lookup(name, "nodata", cnames=cnames)


_LONG_CHAIN = f"the CNAME chain is longer than {limits.MAX_CNAME_CHAIN} names (or loops)"


def _failure_text(errors: list[ServerError], name: str) -> str:
    """Why every resolver failed, in words (a CNAME loop or long chain named as such)."""
    for error in errors:
        chain = _cname_chain(error.response, name)
        if chain and chain[-1] in chain[:-1]:
            return f"the CNAME chain loops ({_arrows(chain)})"
        if len(chain) > limits.MAX_CNAME_CHAIN:
            return f"the CNAME chain is too long ({_arrows(chain)})"
    what = _first_line(errors[0].what) if errors else ""
    if what.isupper():  # an rcode: SERVFAIL, REFUSED, ...
        return f"the DNS server answered {what}"
    return f"no DNS server could answer ({what})" if what else "no DNS server could answer"


def _cname_chain(response: object, name: str) -> list[str]:
    """The names a CNAME chain in `response` goes through from `name`, stopping at the
    first repeat (a loop) or after MAX_CNAME_CHAIN + 1 names."""
    if not isinstance(response, dns.message.Message):
        return []
    targets: dict[str, str] = {}
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.CNAME and len(rrset):
            owner = rrset.name.to_text(omit_final_dot=True).lower()
            targets.setdefault(owner, next(iter(rrset)).target.to_text(omit_final_dot=True))
    chain = [name.lower().rstrip(".")]
    while chain[-1] in targets and len(chain) <= limits.MAX_CNAME_CHAIN + 1:
        chain.append(targets[chain[-1]].lower())
        if chain[-1] in chain[:-1]:
            break
    return chain if len(chain) > 1 else []


def _arrows(chain: list[str]) -> str:
    if len(chain) > 6:
        chain = [*chain[:3], "…", *chain[-2:]]
    return " → ".join(chain)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


async def within(step: Awaitable[Lookup[T]], deadline: float) -> Lookup[T]:
    """Run a DNS step until the deadline; a cut-off step is reported as a timeout."""
    try:
        async with asyncio.timeout_at(deadline):
            return await step
    except TimeoutError:
        return Lookup(
            "", "timeout", error="no answer from the DNS server before the check's time ran out"
        )


def _targets(rrsets: list[dns.rrset.RRset]) -> list[str]:
    """The names a CNAME chain leads to, in order (the queried name itself not included)."""
    out = []
    for rrset in rrsets:
        for rdata in rrset:
            out.append(rdata.target.to_text(omit_final_dot=True).lower())
            break
    return out
