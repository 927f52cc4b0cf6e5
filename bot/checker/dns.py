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
# installed (a scan of site-packages, ~6-10 ms of every `mtasts check`): say it here.
# idna is one of our dependencies; DNS over HTTPS is not used (no httpx).
dns._features.force("idna", True)
dns._features.force("doh", False)

import dns.asyncresolver  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.nameserver  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.resolver  # noqa: E402
import dns.rrset  # noqa: E402

from bot.checker import limits  # noqa: E402
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


def make_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """An async resolver using the configured nameservers, or the system's.

    One per configuration and process: building one (the system's reads
    /etc/resolv.conf) costs more than a query. Resolvers keep no per-query state.
    """
    return _resolver(settings.nameservers, settings.timeout)


@functools.lru_cache(maxsize=16)
def _resolver(nameservers: tuple[Nameserver, ...], timeout: float) -> dns.asyncresolver.Resolver:
    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.ip, ns.port) for ns in nameservers]
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.lifetime = min(limits.DNS_QUERY_TIMEOUT, timeout)
    resolver.timeout = max(0.5, resolver.lifetime / 2)
    resolver.cache = None
    return resolver


class Dns:
    """The lookups a check makes, all through one resolver."""

    def __init__(self, settings: Settings) -> None:
        self._resolver = make_resolver(settings)

    async def _query(self, name: str, rdtype: dns.rdatatype.RdataType) -> Lookup[dns.rrset.RRset]:
        try:
            answer = await self._resolver.resolve(
                name, rdtype, search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN as exc:
            # A CNAME to a name that does not exist: keep the chain, it is the clue.
            return Lookup(name, "nxdomain", cnames=_nxdomain_chain(exc))
        except dns.resolver.LifetimeTimeout:
            return Lookup(name, "timeout", error="the DNS query timed out")
        except dns.resolver.NoNameservers as exc:
            return Lookup(name, "failed", error=_no_nameservers_text(exc, name))
        except dns.message.ChainTooLong:
            return Lookup(name, "failed", error=_LONG_CHAIN)
        except dns.exception.DNSException as exc:
            return Lookup(name, "failed", error=_first_line(str(exc)) or type(exc).__name__)
        chain = answer.chaining_result
        owners = [rrset.name.to_text(omit_final_dot=True).lower() for rrset in chain.cnames]
        cnames = _targets(chain.cnames)
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


def _no_nameservers_text(exc: dns.resolver.NoNameservers, name: str) -> str:
    errors = exc.kwargs.get("errors") or []
    for error in errors:
        # (server, tcp, port, exception or rcode text, response)
        detail = error[3] if len(error) > 3 else None
        response = error[4] if len(error) > 4 else None
        chain = _cname_chain(response, name)
        if isinstance(detail, dns.message.ChainTooLong) or (chain and chain[-1] in chain[:-1]):
            if chain and chain[-1] in chain[:-1]:
                return f"the CNAME chain loops ({_arrows(chain)})"
            if chain:
                return f"the CNAME chain is too long ({_arrows(chain)})"
            return _LONG_CHAIN
        if detail:
            return f"the DNS server answered {_first_line(str(detail))}"
    return "no DNS server could answer (SERVFAIL or REFUSED)"


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


def _nxdomain_chain(exc: dns.resolver.NXDOMAIN) -> list[str]:
    try:
        for response in exc.responses().values():  # type: ignore[no-untyped-call]
            if isinstance(response, dns.message.QueryMessage):
                return _targets(response.resolve_chaining().cnames)
    except dns.exception.DNSException:
        pass
    return []
