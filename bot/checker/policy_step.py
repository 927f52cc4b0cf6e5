"""The policy side of a check: resolve `mta-sts.<domain>`, fetch and read the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.checker import limits
from bot.checker.addresses import allowed
from bot.checker.certs import cert_facts
from bot.checker.dns import Dns, within
from bot.checker.findings import finding
from bot.checker.model import (
    Finding,
    Policy,
)
from bot.checker.names import policy_host, policy_url
from bot.checker.settings import Settings

if TYPE_CHECKING:
    from bot.checker.fetch import FetchResult


@dataclass(slots=True)
class PolicyStep:
    """What the policy side produced: findings, the parsed policy, and the fetch."""

    findings: list[Finding] = field(default_factory=list)
    policy: Policy | None = None
    usable: bool = False
    fetch: FetchResult | None = None
    host_addresses: list[str] = field(default_factory=list)


async def run_policy_step(domain: str, dns: Dns, settings: Settings, deadline: float) -> PolicyStep:
    host = policy_host(domain)
    step = PolicyStep()
    lookup = await within(dns.addresses(host), deadline)
    if not lookup.records:
        why = lookup.error or (
            "the name does not exist" if lookup.outcome == "nxdomain" else "it has no A/AAAA"
        )
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
    from bot.checker.fetch import fetch_policy  # imported by engine._preload() by now
    from bot.checker.policy import parse_policy, policy_usable, readable_as_text

    result = await fetch_policy(
        domain,
        step.host_addresses[: limits.MAX_ADDRESSES_PER_HOST],
        port=settings.https_port,
        ca_file=settings.ca_file,
        deadline=deadline,
    )
    step.fetch = result
    step.findings += fetch_findings(domain, result, settings)
    if result.body is not None and result.outcome in ("ok",):
        policy, problems = parse_policy(result.body, host)
        # The contract: `policy` only for a body read as text (a binary one has no fields).
        step.policy = policy if readable_as_text(result.body) else None
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


def fetch_findings(domain: str, result: FetchResult, settings: Settings) -> list[Finding]:
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
                f"{cert_facts(ev.cert)}. Senders "
                "must not use a policy fetched over an invalid certificate, so MTA-STS is "
                "not in effect.",
                f"Install a certificate from a public CA whose SAN includes {host} (a "
                "wildcard for the parent domain also works), with its full chain, and renew "
                "it before it expires.",
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


def policy_cert_expiry(step: PolicyStep) -> list[Finding]:
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
