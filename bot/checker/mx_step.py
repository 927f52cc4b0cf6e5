"""The MX side of a check: MX records, their addresses, and which policy pattern covers each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.checker import fixes, limits
from bot.checker.addresses import allowed
from bot.checker.dns import Dns, within
from bot.checker.findings import consequence, finding
from bot.checker.matching import first_matches, near_miss
from bot.checker.model import (
    Finding,
    Mode,
    MxHost,
    Policy,
)
from bot.checker.settings import Settings


@dataclass(slots=True)
class MxStep:
    findings: list[Finding] = field(default_factory=list)
    hosts: list[MxHost] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # every published MX host, checked or not
    total: int = 0
    lookup_failed: bool = False


async def run_mx_step(domain: str, dns: Dns, settings: Settings, deadline: float) -> MxStep:
    step = MxStep()
    lookup = await within(dns.mx(domain), deadline)
    if lookup.failed:
        step.lookup_failed = True
        step.findings.append(
            finding(
                "mx_lookup_failed",
                domain,
                f"The MX lookup of {domain} failed: {lookup.error}. Senders retry later; "
                "MX hosts could not be checked.",
                f"Make sure the zone's servers answer MX queries for {domain} (`dig MX {domain}`).",
            )
        )
        return step
    step.total = len(lookup.records)
    shown = lookup.records[: limits.MAX_MX_RECORDS]
    step.published = [f"{pref} {host or '.'}." for pref, host in shown]
    real = [(pref, host) for pref, host in lookup.records if host]
    if len(real) < len(lookup.records):
        if not real:
            step.findings.append(
                finding(
                    "mx_null",
                    domain,
                    f"{domain} publishes a null MX (RFC 7505): it accepts no mail, so an "
                    "MTA-STS policy has nothing to protect.",
                )
            )
            return step
        step.findings.append(
            finding(
                "mx_null",
                domain,
                f"{domain} publishes a null MX next to other MX records; RFC 7505 says a null "
                "MX must be the only one, and senders use the other MX hosts (checked below).",
                "Remove the null MX (`0 .`) if the domain receives mail, or the other MX "
                "records if it does not.",
            )
        )
        lookup.records = real
    if not lookup.records:
        own = await within(dns.addresses(domain), deadline)
        if not own.records and own.failed:
            step.lookup_failed = True
            step.findings.append(
                finding(
                    "mx_lookup_failed",
                    domain,
                    f"{domain} has no MX records, and the lookup of its own address (the "
                    f"implicit MX) failed: {own.error}. Senders retry later; the MX could not "
                    "be checked.",
                    f"Make sure the zone's servers answer A/AAAA queries for {domain}.",
                )
            )
            return step
        if not own.records:
            step.findings.append(
                finding(
                    "mx_none",
                    domain,
                    f"{domain} has neither MX nor address records: it receives no mail, and "
                    "the policy protects nothing.",
                    f"Publish MX records for {domain} (or remove the MTA-STS policy).",
                )
            )
            return step
        step.findings.append(
            finding(
                "mx_implicit",
                domain,
                f"{domain} has no MX records, so senders deliver to its own address "
                "(implicit MX, RFC 5321 §5.1); it is checked as the one MX host.",
            )
        )
        step.hosts = [MxHost(host=domain, preference=0, addresses=own.records)]
        _limit_addresses(step.hosts[0], settings)
        step.findings += _blocked(step.hosts, settings)
        return step
    step.names = [host for _, host in lookup.records]
    # The same host at two preferences is one host to check (its best preference).
    unique: dict[str, int] = {}
    for pref, host in lookup.records:
        unique.setdefault(host, pref)
    hosts = [(pref, host) for host, pref in unique.items()]
    step.hosts = [MxHost(host=host, preference=pref) for pref, host in hosts[: limits.MAX_MX_HOSTS]]
    if len(hosts) > limits.MAX_MX_HOSTS:
        step.findings.append(_not_checked(domain, [host for _, host in hosts]))
    lookups = await asyncio.gather(*(within(dns.addresses(h.host), deadline) for h in step.hosts))
    for mx, addr in zip(step.hosts, lookups, strict=True):
        mx.addresses = list(addr.records)
        _limit_addresses(mx, settings)
        if not addr.records:
            why = addr.error or ("no such name" if addr.outcome == "nxdomain" else "no A/AAAA")
            step.findings.append(
                finding(
                    "mx_host_unresolvable",
                    mx.host,
                    f"The MX host {mx.host} has no address ({why}); senders skip it.",
                    f"Publish A/AAAA records for {mx.host}, or remove the MX record.",
                )
            )
    step.findings += _blocked(step.hosts, settings)
    return step


def _not_checked(domain: str, hosts: list[str]) -> Finding:
    """The hosts beyond MAX_MX_HOSTS, named: senders may deliver to any of them."""
    rest = hosts[limits.MAX_MX_HOSTS :]
    named = ", ".join(rest[:_NAMED_UNCHECKED])
    if len(rest) > _NAMED_UNCHECKED:
        named += f" and {len(rest) - _NAMED_UNCHECKED} more"
    return finding(
        "mx_not_checked",
        domain,
        f"{domain} publishes {len(hosts)} MX hosts; the checker checks the "
        f"{limits.MAX_MX_HOSTS} with the best preference, so {len(rest)} were not checked "
        f"(addresses, policy coverage, STARTTLS, certificate): {named}. Senders may "
        "deliver to any of them, so a problem there would go unseen here.",
        "Remove MX records of hosts that no longer receive mail; check the others with "
        "your mail provider's tools.",
    )


_NAMED_UNCHECKED = 5  # hosts named in the mx_not_checked message


def _blocked(hosts: list[MxHost], settings: Settings) -> list[Finding]:
    out = []
    for mx in hosts:
        if mx.addresses and not allowed(mx.addresses, settings.allow_private):
            out.append(
                finding(
                    "mx_address_blocked",
                    mx.host,
                    f"The MX host {mx.host} resolves only to non-public addresses "
                    f"({', '.join(mx.addresses[:4])}); senders on the internet cannot reach "
                    "it, and this checker does not contact private addresses.",
                    "Publish the MX host's public address. (For an internal deployment, run "
                    "the checker with --allow-private / MTASTS_ALLOW_PRIVATE=1.)",
                )
            )
    return out


def _limit_addresses(mx: MxHost, settings: Settings) -> None:
    """Keep MAX_ADDRESSES_PER_HOST addresses, those we may contact first: a host with
    many private addresses before its public one is still probed on the public one."""
    usable = allowed(mx.addresses, settings.allow_private)
    others = [a for a in mx.addresses if a not in usable]
    mx.addresses = [*usable, *others][: limits.MAX_ADDRESSES_PER_HOST]


def alignment(
    domain: str, step: MxStep, policy: Policy | None, usable: bool, mode: Mode | None
) -> list[Finding]:
    """Which pattern covers each MX; findings only when the policy is in effect.

    Bounded whatever the policy and DNS hold (thousands of patterns and MX records):
    near misses are looked for among the first patterns only, unused patterns are found
    with sets rather than pattern x host, and messages show a few patterns, not all.
    """
    patterns = policy.mx if policy is not None else []
    out: list[Finding] = []
    hosts = step.hosts
    matches = first_matches(patterns, [mx.host for mx in hosts])
    # Near misses cost an edit distance per pattern and uncovered host: bounded in all.
    misses = max(1, matches.count(None))
    compared = min(_NEAR_MISS_PATTERNS, max(_NEAR_MISS_MIN, _NEAR_MISS_COMPARISONS // misses))
    for mx, match in zip(hosts, matches, strict=True):
        mx.matched_by = match
        if match is None and patterns:
            mx.near_miss = near_miss(patterns[:compared], mx.host)
    if not usable or policy is None:
        return out
    uncovered = [mx for mx in hosts if mx.matched_by is None]
    if mode == "none" and not patterns:
        uncovered = []  # a withdrawn policy need not list mx: nothing to align
    all_hosts = step.names or [mx.host for mx in hosts]  # beyond MAX_MX_HOSTS too
    # Patterns as code spans: a `*.` wildcard must not turn into Slack bold.
    shown = ", ".join(f"`{p}`" for p in patterns[:_SHOWN_PATTERNS]) or "none"
    if len(patterns) > _SHOWN_PATTERNS:
        shown += f", … {len(patterns)} in all"
    if uncovered:
        fix = "Add it to the policy file (then publish a new `id`), e.g.:\n" + fixes.policy_text(
            mode or "testing", all_hosts[: limits.MAX_MX_HOSTS], policy.max_age or 604800
        )
    for mx in uncovered:
        hint = f" {mx.near_miss}" if mx.near_miss else ""
        out.append(
            finding(
                "mx_not_covered",
                mx.host,
                f"The MX host {mx.host} matches no `mx` pattern of the policy "
                f"({shown}): {consequence(mode)}.{hint}",
                fix,
                mode=mode,
            )
        )
    if not step.lookup_failed:
        for pattern in _unused(patterns, all_hosts):
            if uncovered:
                # Likely the pattern meant for the uncovered host: fix it, don't drop it.
                names = ", ".join(mx.host for mx in uncovered[:3])
                message = (
                    f"The policy pattern `{pattern}` matches none of {domain}'s MX hosts. "
                    f"If it was meant for {names}, correct it as the mx_not_covered finding "
                    "says; otherwise it may be left over from an old mail setup."
                )
                fix = "Correct it to cover the MX host, or remove it if nothing uses it."
            else:
                message = (
                    f"The policy pattern `{pattern}` matches none of {domain}'s MX hosts; "
                    "it may be left over from an old mail setup."
                )
                fix = "Remove it from the policy if no MX host will use it."
            out.append(finding("mx_pattern_unused", pattern, message, fix))
    return out


_NEAR_MISS_PATTERNS = 100  # patterns compared with an uncovered MX for a "did you mean"
_NEAR_MISS_COMPARISONS = 1000  # pattern x uncovered host comparisons of one check, at most
_NEAR_MISS_MIN = 8  # patterns compared with each uncovered host, however many there are
_SHOWN_PATTERNS = 8  # policy patterns quoted in one message


def _unused(patterns: list[str], hosts: list[str]) -> list[str]:
    """The patterns that match none of `hosts` (as matching.pattern_matches decides),
    in time linear in patterns + hosts."""
    names = {h.strip().rstrip(".").lower() for h in hosts}
    names.discard("")
    parents = set()
    for name in names:
        label, dot, rest = name.partition(".")
        if label and dot:
            parents.add(rest)
    out = []
    for pattern in patterns:
        p = pattern.strip().rstrip(".").lower()
        used = bool(p[2:]) and p[2:] in parents if p.startswith("*.") else bool(p) and p in names
        if not used:
            out.append(pattern)
    return out
