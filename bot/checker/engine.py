"""One domain's check: every independent step at once, bounded by one budget.

The dependency graph (each arrow one network round trip or more):

    TXT _mta-sts ───────────────────────────────┐
    A/AAAA mta-sts → HTTPS GET policy ──────────┼─→ usable policy? ─┐
    MX → A/AAAA of each MX ─────────────────────┴───────────────────┴─→ SMTP probes
    TXT _smtp._tls

Nothing waits for a step it does not need: the policy is fetched while the
TXT record is still being looked up, and the MX hosts' addresses are resolved
while the policy downloads. Each step stops at the shared deadline and reports
the finding of the step that was cut off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sys
import threading
import time
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from bot.checker import fixes, limits
from bot.checker.addresses import allowed
from bot.checker.certs import iso
from bot.checker.dns import Dns, Lookup
from bot.checker.findings import consequence, finding
from bot.checker.matching import first_match, near_miss
from bot.checker.model import (
    AddressProbe,
    CertInfo,
    DnsEvidence,
    Finding,
    Mode,
    MxHost,
    Policy,
    Record,
    Report,
    Tls,
    TlsRpt,
)
from bot.checker.names import policy_host, policy_url, record_name, tlsrpt_name
from bot.checker.policy import parse_policy, policy_usable
from bot.checker.record import is_sts_record, parse_sts_record
from bot.checker.settings import Settings
from bot.checker.smtp import probe_address
from bot.checker.tlsrpt import is_tlsrpt_record, parse_tlsrpt_record

if TYPE_CHECKING:
    from bot.checker.fetch import FetchResult

T = TypeVar("T")

# Probes of one check running at once (a domain may publish many MX x addresses).
_PROBES_PER_CHECK = 16


@dataclass(slots=True)
class _PolicyStep:
    """What the policy side produced: findings, the parsed policy, and the fetch."""

    findings: list[Finding] = field(default_factory=list)
    policy: Policy | None = None
    usable: bool = False
    fetch: FetchResult | None = None
    host_addresses: list[str] = field(default_factory=list)
    host_failed: bool = False  # the policy host has no (allowed) address


@dataclass(slots=True)
class _MxStep:
    findings: list[Finding] = field(default_factory=list)
    hosts: list[MxHost] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # every published MX host, checked or not
    total: int = 0
    lookup_failed: bool = False


_preloading = threading.Lock()


def _preload() -> None:
    """Import the HTTPS side (aiohttp, ~110 ms) on a thread.

    A one-shot `mtasts check` would otherwise spend that time before its first DNS
    query; this way the imports overlap the first round trips instead.
    """
    if "bot.checker.fetch" in sys.modules or not _preloading.acquire(blocking=False):
        return

    def work() -> None:
        import bot.checker.fetch  # noqa: F401

    threading.Thread(target=work, name="mtasts-preload", daemon=True).start()


async def check(domain: str, settings: Settings) -> Report:
    """Check `domain` (already normalised) and return its report. Never raises for
    anything a server or the network does; all of that becomes findings."""
    _preload()
    started = time.perf_counter()
    checked_at = iso(dt.datetime.now(dt.UTC))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.timeout
    dns = Dns(settings)

    txt_task = asyncio.ensure_future(_bounded(dns.txt(record_name(domain)), deadline))
    rpt_task = asyncio.ensure_future(_bounded(dns.txt(tlsrpt_name(domain)), deadline))
    policy_task = asyncio.ensure_future(_policy_step(domain, dns, settings, deadline))
    mx_task = asyncio.ensure_future(_mx_step(domain, dns, settings, deadline))
    try:
        txt, policy_step = await asyncio.gather(txt_task, policy_task)
        record, record_findings = _record(domain, txt)
        usable = record is not None and record.id is not None and policy_step.usable
        mode: Mode | None = (
            policy_step.policy.mode if usable and policy_step.policy is not None else None
        )
        mx_step = await mx_task
        if usable and settings.smtp and mode is not None:
            await _probe_all(mx_step.hosts, settings, deadline)
        rpt = await rpt_task
    finally:
        for task in (txt_task, rpt_task, policy_task, mx_task):
            task.cancel()

    report = Report(domain=domain, checked_at=checked_at, mode=mode, smtp_checked=settings.smtp)
    report.record = record
    report.policy = policy_step.policy
    report.fetch = policy_step.fetch.evidence if policy_step.fetch else None
    report.mx = mx_step.hosts
    report.dns = DnsEvidence(
        mta_sts_txt=[_cut_txt(t) for t in txt.records],
        tlsrpt_txt=[_cut_txt(t) for t in rpt.records],
        mx=mx_step.published,
        mx_total=mx_step.total,
    )
    findings = report.findings
    findings += record_findings
    # Without a valid record the policy is not in effect; its fetch failures are noise
    # (the record is the thing to fix), but a body that was fetched is still checked.
    if (record is not None and record.id is not None) or policy_step.policy is not None:
        findings += policy_step.findings
    if usable and mode == "testing":
        findings.append(
            finding(
                "mode_testing",
                domain,
                "The policy is in testing mode: senders report TLS failures (to your TLS-RPT "
                "address) but still deliver mail without TLS protection.",
                "When the reports show no failures for a few weeks, change `mode: testing` "
                "to `mode: enforce` in the policy file, then publish a new `id` in the TXT record.",
            )
        )
    elif usable and mode == "none":
        findings.append(
            finding(
                "mode_none",
                domain,
                "The policy is in mode none: MTA-STS protection is withdrawn, and senders "
                "deliver as if there were no policy.",
                "If this is not a deliberate withdrawal (RFC 8461 §8.3), set `mode: testing` or "
                "`mode: enforce` and publish a new `id`.",
            )
        )
    findings += mx_step.findings
    findings += _alignment(domain, mx_step, policy_step.policy, usable, mode)
    if usable and settings.smtp and mode is not None:
        findings += _tls_findings(mx_step.hosts, mode, settings)
    findings += _policy_cert_expiry(policy_step)
    report.tlsrpt, rpt_findings = _tlsrpt(domain, rpt)
    findings += rpt_findings
    report.findings = _cap_per_code(findings, domain)
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report


async def _bounded(step: Awaitable[Lookup[T]], deadline: float) -> Lookup[T]:
    """Run a DNS step until the deadline; a cut-off step is reported as a timeout."""
    try:
        async with asyncio.timeout_at(deadline):
            return await step
    except TimeoutError:
        return Lookup(
            "", "timeout", error="no answer from the DNS server before the check's time ran out"
        )


# --- the _mta-sts record ----------------------------------------------------------


def _record(domain: str, txt: Lookup[str]) -> tuple[Record | None, list[Finding]]:
    name = record_name(domain)
    if txt.failed:
        return None, [
            finding(
                "record_lookup_failed",
                name,
                f"The TXT lookup of {name} failed: {txt.error}. Senders that see this "
                "treat the domain as having no policy, for now.",
                "Make sure the authoritative servers of the zone answer TXT queries for "
                f"{name} (try `dig TXT {name}`), then check again.",
            )
        ]
    sts = [t for t in txt.records if is_sts_record(t)]
    if not sts:
        seen = f" (found {len(txt.records)} other TXT record(s))" if txt.records else ""
        return None, [
            finding(
                "record_missing",
                name,
                f"There is no TXT record beginning v=STSv1 at {name}{seen}, so senders "
                "never look for a policy: MTA-STS is not in effect.",
                f"Publish a TXT record at {name}:\n"
                + fixes.sts_record(fixes.suggested_id(dt.datetime.now(dt.UTC))),
            )
        ]
    if len(sts) > 1:
        return None, [
            finding(
                "record_multiple",
                name,
                f"{len(sts)} TXT records at {name} begin with v=STSv1; with more than one, "
                "senders must assume there is no policy.",
                "Delete all but one of them, keeping one record with the current policy `id`.",
            )
        ]
    record_id, problems = parse_sts_record(sts[0], name)
    return Record(txt=_cut_txt(sts[0]), id=record_id, cname=list(txt.cnames)), problems


def _cut_txt(txt: str) -> str:
    """A TXT record as the report shows it: parsed whole, shown up to MAX_TXT_LENGTH."""
    if len(txt) <= limits.MAX_TXT_LENGTH:
        return txt
    return f"{txt[: limits.MAX_TXT_LENGTH]}… ({len(txt)} characters)"


# --- the policy ---------------------------------------------------------------------


async def _policy_step(domain: str, dns: Dns, settings: Settings, deadline: float) -> _PolicyStep:
    host = policy_host(domain)
    step = _PolicyStep()
    lookup = await _bounded(dns.addresses(host), deadline)
    if not lookup.records:
        why = lookup.error or (
            "the name does not exist" if lookup.outcome == "nxdomain" else "it has no A/AAAA"
        )
        step.host_failed = True
        step.findings.append(
            finding(
                "policy_host_unresolvable",
                host,
                f"The policy host {host} has no address ({why}), so senders cannot fetch "
                "the policy and MTA-STS is not in effect.",
                f"Publish an A/AAAA record (or a CNAME to your web host) for {host}, and serve "
                f"the policy at {policy_url(domain)} over HTTPS with a certificate for {host}.",
            )
        )
        return step
    step.host_addresses = allowed(lookup.records, settings.allow_private)
    if not step.host_addresses:
        step.host_failed = True
        step.findings.append(
            finding(
                "policy_host_blocked",
                host,
                f"{host} resolves only to non-public addresses ({', '.join(lookup.records[:4])}); "
                "senders on the internet cannot reach it, and this checker does not contact "
                "private addresses.",
                "Point the policy host at a public address. (For an internal deployment, run "
                "the checker with --allow-private / MTASTS_ALLOW_PRIVATE=1.)",
            )
        )
        return step
    from bot.checker.fetch import fetch_policy  # loaded by _preload() by now, usually

    result = await fetch_policy(
        domain,
        step.host_addresses[: limits.MAX_ADDRESSES_PER_HOST],
        port=settings.https_port,
        ca_file=settings.ca_file,
        deadline=deadline,
    )
    step.fetch = result
    step.findings += _fetch_findings(domain, result, settings)
    if result.body is not None and result.outcome in ("ok",):
        policy, problems = parse_policy(result.body, host)
        step.policy = policy
        step.findings += problems
        step.usable = policy_usable(policy)
        ctype = (result.evidence.content_type or "").split(";", 1)[0].strip().lower()
        if ctype != "text/plain":
            shown = result.evidence.content_type or "no Content-Type"
            step.findings.append(
                finding(
                    "policy_content_type",
                    host,
                    f"The policy is served as {shown}, not text/plain. Strict senders "
                    "(e.g. Postfix with postfix-mta-sts-resolver) reject it and apply no "
                    "policy; lenient ones still use it.",
                    "Serve /.well-known/mta-sts.txt with `Content-Type: text/plain` "
                    "(optionally `; charset=utf-8`).",
                )
            )
    return step


def _fetch_findings(domain: str, result: FetchResult, settings: Settings) -> list[Finding]:
    host = policy_host(domain)
    url = policy_url(domain)
    ev = result.evidence
    if result.outcome == "connect_failed":
        return [
            finding(
                "policy_connect_failed",
                host,
                f"Could not fetch {url}: {result.error}. Senders cannot load the policy, so "
                "MTA-STS is not in effect for new senders (and lapses for others when their "
                "cached copy expires).",
                f"Make sure {host} accepts HTTPS on port 443 from the internet.",
            )
        ]
    if result.outcome == "tls_invalid":
        return [
            finding(
                "policy_tls_invalid",
                host,
                f"The HTTPS certificate of {host} fails validation: {result.error}"
                f"{_cert_facts(ev.cert)}. Senders "
                "must not use a policy fetched over an invalid certificate, so MTA-STS is "
                "not in effect.",
                f"Install a certificate from a public CA whose SAN includes {host} (a "
                "wildcard for the parent domain also works), and renew it before it expires.",
            )
        ]
    if result.outcome == "redirect":
        return [
            finding(
                "policy_redirect",
                host,
                f"{url} answered {ev.status} redirecting to {ev.location or '(no Location)'}; "
                "senders must not follow redirects (RFC 8461 §3.3), so they see no policy.",
                f"Serve the policy directly at {url} with status 200; exempt "
                "/.well-known/mta-sts.txt from any http→https or host redirect.",
            )
        ]
    if result.outcome == "http_status":
        return [
            finding(
                "policy_http_status",
                host,
                f"{url} answered HTTP {ev.status}; only 200 is valid, so senders see no policy.",
                f"Serve the policy file at {url} with status 200 (check the path and any bot "
                "protection or CDN rule in front of it).",
            )
        ]
    if result.outcome == "too_large":
        return [
            finding(
                "policy_too_large",
                host,
                f"The policy at {url} is larger than {limits.MAX_POLICY_BYTES // 1024} KiB; "
                "senders stop reading and discard it.",
                "Serve a small plain-text policy (a few lines: version, mode, mx, max_age).",
            )
        ]
    if result.outcome == "timeout":
        return [
            finding(
                "policy_timeout",
                host,
                f"Fetching {url} did not finish within this check's {settings.timeout:g} s "
                f"budget ({result.error}). RFC 8461 suggests senders wait up to a minute, but "
                "a policy this slow is often not fetched at all.",
                f"Make {url} answer quickly (a static file); check the web server and any "
                "proxy or CDN in front of it.",
            )
        ]
    return []


def _policy_cert_expiry(step: _PolicyStep) -> list[Finding]:
    fetch = step.fetch
    if fetch is None or fetch.outcome == "tls_invalid" or fetch.evidence.cert is None:
        return []
    cert = fetch.evidence.cert
    if cert.days_left is None or cert.days_left >= limits.CERT_EXPIRY_WARNING_DAYS:
        return []
    host = fetch.evidence.url.split("/")[2].split(":")[0]
    return [
        finding(
            "cert_expiring",
            host,
            f"The HTTPS certificate of {host} expires on {cert.not_after} "
            f"({cert.days_left} days left); after that, senders cannot fetch the policy.",
            "Renew the certificate now (and check that automatic renewal works).",
        )
    ]


# --- MX hosts -------------------------------------------------------------------------


async def _mx_step(domain: str, dns: Dns, settings: Settings, deadline: float) -> _MxStep:
    step = _MxStep()
    lookup = await _bounded(dns.mx(domain), deadline)
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
    step.published = [f"{pref} {host or '.'}." for pref, host in lookup.records][:100]
    if any(host == "" for _, host in lookup.records):
        step.findings.append(
            finding(
                "mx_null",
                domain,
                f"{domain} publishes a null MX (RFC 7505): it accepts no mail, so an MTA-STS "
                "policy has nothing to protect.",
            )
        )
        return step
    if not lookup.records:
        own = await _bounded(dns.addresses(domain), deadline)
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
    hosts = lookup.records[: limits.MAX_MX_HOSTS]
    step.hosts = [MxHost(host=host, preference=pref) for pref, host in hosts]
    lookups = await asyncio.gather(*(_bounded(dns.addresses(h.host), deadline) for h in step.hosts))
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


def _alignment(
    domain: str, step: _MxStep, policy: Policy | None, usable: bool, mode: Mode | None
) -> list[Finding]:
    """Which pattern covers each MX; findings only when the policy is in effect.

    Bounded whatever the policy and DNS hold (thousands of patterns and MX records):
    near misses are looked for among the first patterns only, unused patterns are found
    with sets rather than pattern x host, and messages show a few patterns, not all.
    """
    patterns = policy.mx if policy is not None else []
    out: list[Finding] = []
    hosts = step.hosts
    for mx in hosts:
        mx.matched_by = first_match(patterns, mx.host)
        if mx.matched_by is None and patterns:
            mx.near_miss = near_miss(patterns[:_NEAR_MISS_PATTERNS], mx.host)
    if not usable or policy is None:
        return out
    uncovered = [mx for mx in hosts if mx.matched_by is None]
    all_hosts = step.names or [mx.host for mx in hosts]  # beyond MAX_MX_HOSTS too
    shown = ", ".join(patterns[:_SHOWN_PATTERNS]) or "none"
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
            out.append(
                finding(
                    "mx_pattern_unused",
                    pattern,
                    f"The policy pattern {pattern} matches none of {domain}'s MX hosts; "
                    "it may be left over from an old mail setup.",
                    "Remove it from the policy if no MX host will use it.",
                )
            )
    return out


_NEAR_MISS_PATTERNS = 100  # patterns compared with an uncovered MX for a "did you mean"
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


def _cap_per_code(findings: list[Finding], domain: str) -> list[Finding]:
    """At most MAX_FINDINGS_PER_CODE findings of each code, then one saying how many more
    (the report of a domain with thousands of MX records or patterns stays readable)."""
    cap = limits.MAX_FINDINGS_PER_CODE
    seen: dict[str, int] = {}
    out: list[Finding] = []
    dropped: dict[str, list[Finding]] = {}
    for f in findings:
        seen[f.code] = seen.get(f.code, 0) + 1
        if seen[f.code] <= cap:
            out.append(f)
        else:
            dropped.setdefault(f.code, []).append(f)
    for rest in dropped.values():
        subjects = ", ".join(f.subject for f in rest[:3])
        out.append(
            dataclasses.replace(
                rest[0],
                subject=domain,
                message=f"And {len(rest)} more findings like these ({subjects}, …).",
                fix=None,
            )
        )
    return out


# --- SMTP ------------------------------------------------------------------------


# SMTP connections open at once across all checks of one event loop (the CLI's many
# domains, the Slack app's concurrent requests): limits.MAX_PROBES_IN_FLIGHT.
_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _in_flight_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _IN_FLIGHT.get(loop)
    if gate is None:
        gate = _IN_FLIGHT[loop] = asyncio.Semaphore(limits.MAX_PROBES_IN_FLIGHT)
    return gate


async def _probe_all(hosts: list[MxHost], settings: Settings, deadline: float) -> None:
    gate = asyncio.Semaphore(_PROBES_PER_CHECK)
    everyone = _in_flight_gate()

    async def one(mx: MxHost, address: str) -> AddressProbe:
        async with gate, everyone:
            # One address gets SMTP_PROBE_TIMEOUT at most, so a stalled address cannot
            # hold a slot of the gates for the whole budget of a long check.
            own = asyncio.get_running_loop().time() + limits.SMTP_PROBE_TIMEOUT
            return await probe_address(
                mx.host,
                address,
                port=settings.smtp_port,
                ca_file=settings.ca_file,
                deadline=min(deadline, own),
            )

    jobs: list[tuple[MxHost, asyncio.Future[AddressProbe]]] = []
    for mx in hosts:
        for address in allowed(mx.addresses, settings.allow_private):
            jobs.append((mx, asyncio.ensure_future(one(mx, address))))
    try:
        await asyncio.gather(*(job for _, job in jobs))
    finally:
        for _, job in jobs:
            job.cancel()
    by_host: dict[str, list[AddressProbe]] = {}
    for mx, job in jobs:
        by_host.setdefault(mx.host, []).append(job.result())
    for mx in hosts:
        probes = by_host.get(mx.host)
        if probes:
            mx.tls = _summarise(probes)


def _refused_smtp(p: AddressProbe) -> bool:
    """Connected, but the SMTP dialogue failed before STARTTLS could be asked for."""
    return p.reachable and not p.timed_out and p.starttls is None and p.error is not None


def _badness(p: AddressProbe) -> int:
    if not p.reachable:
        return -1
    if p.timed_out or _refused_smtp(p):
        return 1
    if p.starttls is False:
        return 6
    if p.error and p.version == "older than TLSv1.2":
        return 5
    if p.error:
        return 5
    if p.cert_valid is False:
        return 4
    days_left = p.cert.days_left if p.cert is not None else None
    if days_left is not None and days_left < limits.CERT_EXPIRY_WARNING_DAYS:
        return 2
    return 0


def _summarise(probes: list[AddressProbe]) -> Tls:
    reachable = [p for p in probes if p.reachable]
    if not reachable:
        return Tls(reachable=False, probes=probes)
    worst = max(reachable, key=_badness)
    return Tls(
        reachable=True,
        starttls=worst.starttls,
        version=worst.version,
        cert_valid=worst.cert_valid,
        cert_error=worst.cert_error,
        not_after=worst.cert.not_after if worst.cert else None,
        address=worst.address,
        probes=probes,
    )


def _where(mx: MxHost, bad: list[AddressProbe], probes: list[AddressProbe]) -> str:
    """The subject of an MX finding: the host, plus addresses when not all agree."""
    if len(bad) == len(probes):
        return mx.host
    return f"{mx.host} ({', '.join(p.address for p in bad)})"


def _tls_findings(hosts: list[MxHost], mode: Mode, settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    effect = consequence(mode)
    for mx in hosts:
        if mx.tls is None:
            continue
        probes = mx.tls.probes
        if not mx.tls.reachable:
            timed = [p for p in probes if p.timed_out]
            if timed:
                out.append(_timeout_finding(mx, timed, probes, settings))
            else:
                errors = "; ".join(sorted({p.error or "" for p in probes}))
                out.append(
                    finding(
                        "mx_unreachable",
                        mx.host,
                        f"Port 25 of {mx.host} could not be reached on any address ({errors}). "
                        "Outbound port 25 is often blocked where the checker runs, so this "
                        "may say more about this network than about the MX.",
                        "Check from a host that can reach port 25 (or ask your mail provider); "
                        "make sure the MX accepts connections from the internet.",
                    )
                )
            continue
        timed = [p for p in probes if p.reachable and p.timed_out]
        if timed:
            out.append(_timeout_finding(mx, timed, probes, settings))
        refused = [p for p in probes if _refused_smtp(p)]
        if refused:
            out.append(
                finding(
                    "mx_unreachable",
                    _where(mx, refused, probes),
                    f"{mx.host} accepted the connection on port 25 but did not offer an SMTP "
                    f"session: {refused[0].error}. Servers often refuse checkers' addresses "
                    "(blocklists), so this may say more about this network than about the MX; "
                    "its TLS could not be checked.",
                    "Check from a host your MX accepts mail from, or look at the MX's logs for "
                    "why it refused the session.",
                )
            )
        no_tls = [p for p in probes if p.reachable and p.starttls is False]
        if no_tls:
            out.append(
                finding(
                    "mx_starttls_missing",
                    _where(mx, no_tls, probes),
                    f"{mx.host} does not offer STARTTLS: {effect}.",
                    "Enable STARTTLS on the MX with a certificate from a public CA whose SAN "
                    f"includes {mx.host}.",
                    mode=mode,
                )
            )
        old = [p for p in probes if p.version == "older than TLSv1.2"]
        if old:
            out.append(
                finding(
                    "mx_tls_version_old",
                    _where(mx, old, probes),
                    f"{mx.host} offers only TLS versions older than 1.2, so compliant senders "
                    f"cannot complete the handshake (RFC 8996): {effect}.",
                    "Enable TLS 1.2 and TLS 1.3 on the MX (and disable TLS 1.0/1.1).",
                    mode=mode,
                )
            )
        failed = [
            p
            for p in probes
            if p.reachable
            and p.starttls
            and p.error
            and p.version != "older than TLSv1.2"
            and not p.timed_out
        ]
        if failed:
            out.append(
                finding(
                    "mx_tls_failed",
                    _where(mx, failed, probes),
                    f"{mx.host} offers STARTTLS but the handshake fails ({failed[0].error}): "
                    f"{effect}.",
                    "Check the MX's TLS configuration (certificate and key loaded, protocols "
                    "and ciphers) with `openssl s_client -starttls smtp -connect "
                    f"{mx.host}:25 -servername {mx.host}`.",
                    mode=mode,
                )
            )
        bad_cert = [p for p in probes if p.cert_valid is False]
        if bad_cert:
            p = bad_cert[0]
            out.append(
                finding(
                    "mx_cert_invalid",
                    _where(mx, bad_cert, probes),
                    f"The certificate of {mx.host} fails validation: {p.cert_error}"
                    f"{_cert_facts(p.cert)}; {effect}.",
                    f"Install a certificate from a public CA whose SAN includes {mx.host}, "
                    "with its full chain, and keep it renewed.",
                    mode=mode,
                )
            )
        expiring = [
            p
            for p in probes
            if p.cert_valid
            and p.cert is not None
            and p.cert.days_left is not None
            and p.cert.days_left < limits.CERT_EXPIRY_WARNING_DAYS
        ]
        if expiring:
            cert = expiring[0].cert
            assert cert is not None
            out.append(
                finding(
                    "cert_expiring",
                    _where(mx, expiring, probes),
                    f"The certificate of {mx.host} expires on {cert.not_after} "
                    f"({cert.days_left} days left); after that, {effect}.",
                    "Renew the certificate now (and check that automatic renewal works).",
                )
            )
    return out


def _cert_facts(cert: CertInfo | None) -> str:
    """ " (it expired on …; it names …)": what the certificate says, for a failure message."""
    if cert is None:
        return ""
    facts = []
    if cert.not_after and cert.days_left is not None:
        verb = "expired on" if cert.days_left < 0 else "is valid until"
        facts.append(f"it {verb} {cert.not_after[:10]}")
    if cert.san:
        shown = ", ".join(cert.san[:4]) + (", …" if len(cert.san) > 4 else "")
        facts.append(f"it names {shown}")
    elif cert.subject:
        facts.append(f"it has no DNS names in its SAN, only the subject {cert.subject}")
    if cert.issuer:
        facts.append(f"issued by {cert.issuer}")
    return f" ({'; '.join(facts)})" if facts else ""


def _timeout_finding(
    mx: MxHost, timed: list[AddressProbe], probes: list[AddressProbe], settings: Settings
) -> Finding:
    return finding(
        "mx_timeout",
        _where(mx, timed, probes),
        f"The SMTP probe of {mx.host} did not finish in time ({timed[0].error or 'no answer'}; "
        f"the checker waits up to {min(settings.timeout, limits.SMTP_PROBE_TIMEOUT):g} s, "
        "within the check's budget); its TLS could not be checked.",
        "Check again; if it persists, look for a slow greeting or STARTTLS on the MX.",
    )


# --- TLS-RPT -------------------------------------------------------------------------


def _tlsrpt(domain: str, rpt: Lookup[str]) -> tuple[TlsRpt | None, list[Finding]]:
    name = tlsrpt_name(domain)
    fix = f"Publish a TXT record at {name}:\n{fixes.tlsrpt_record(domain)}"
    if rpt.failed:
        return None, [
            finding(
                "tlsrpt_lookup_failed",
                name,
                f"The TLS-RPT lookup of {name} failed: {rpt.error}.",
                f"Make sure the zone's servers answer TXT queries for {name}.",
            )
        ]
    records = [t for t in rpt.records if is_tlsrpt_record(t)]
    if not records:
        return None, [
            finding(
                "tlsrpt_missing",
                name,
                f"There is no TLS-RPT record at {name}: when senders fail to deliver over TLS "
                "(or refuse to, under your policy), nobody tells you.",
                fix,
            )
        ]
    if len(records) > 1:
        return None, [
            finding(
                "tlsrpt_multiple",
                name,
                f"{len(records)} TXT records at {name} begin with v=TLSRPTv1; reporters then "
                "ignore them all, so you get no reports.",
                "Merge them into one record (several rua URIs go in one comma-separated rua=).",
            )
        ]
    rua, problems = parse_tlsrpt_record(records[0], name)
    return TlsRpt(txt=_cut_txt(records[0]), rua=rua), problems
