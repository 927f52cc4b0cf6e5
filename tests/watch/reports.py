"""Reports built by hand for the watch tests: a healthy domain, and what can change about it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.checker.findings import finding
from bot.checker.model import (
    AddressProbe,
    CertInfo,
    Finding,
    Mode,
    MxHost,
    Policy,
    PolicyFetch,
    Record,
    Report,
    Tls,
    TlsRpt,
)

DOMAIN = "w.example"
MAX_AGE = 604800


def policy_text(mode: str, mx: Sequence[str], max_age: int = MAX_AGE, newline: str = "\n") -> str:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return newline.join(lines) + newline


def cert(host: str, days_left: int, *, not_after: str | None = None) -> CertInfo:
    return CertInfo(
        subject=f"CN={host}",
        issuer="CN=Test CA",
        san=[host],
        not_after=not_after or "2027-01-01T00:00:00Z",
        days_left=days_left,
    )


def make(
    domain: str = DOMAIN,
    *,
    mode: Mode | None = "enforce",
    record_id: str | None = "20260101",
    text: str | None = None,
    mx: Sequence[str] | None = None,
    covered: Sequence[str] | None = None,
    findings: Sequence[tuple[str, str]] = (),
    mx_days: dict[str, int] | None = None,
    policy_days: int | None = 300,
    max_age: int = MAX_AGE,
    checked_at: str = "2026-11-30T10:00:00Z",
) -> Report:
    """A report: `mode` None means no usable policy (the policy body still fetched if
    `text` is given); `covered` lists the MX hosts the policy covers (default: all)."""
    hosts = list(mx if mx is not None else [f"mx1.{domain}", f"mx2.{domain}"])
    covering = set(covered if covered is not None else hosts)
    policy_mode = mode or "enforce"
    listed = sorted(covered) if covered is not None else [f"mx1.{domain}", f"mx2.{domain}"]
    body = text if text is not None else policy_text(policy_mode, listed)
    days = mx_days or {}
    mx_hosts = []
    for i, host in enumerate(hosts):
        left = days.get(host, 200)
        probe = AddressProbe(
            address=f"192.0.2.{10 + i}",
            reachable=True,
            starttls=True,
            version="TLSv1.3",
            cert_valid=True,
            cert=cert(host, left),
        )
        tls = Tls(
            reachable=True,
            starttls=True,
            version="TLSv1.3",
            cert_valid=True,
            not_after=probe.cert.not_after if probe.cert else None,
            address=probe.address,
            probes=[probe],
        )
        mx_hosts.append(
            MxHost(
                host=host,
                preference=10 * (i + 1),
                matched_by=host if host in covering else None,
                addresses=[probe.address],
                tls=tls,
            )
        )
    found: list[Finding] = [
        finding(code, subject, f"{code} on {subject}", f"fix {code}", mode=mode)
        for code, subject in findings
    ]
    if mode in ("testing", "none"):
        found.append(finding(f"mode_{mode}", domain, f"mode is {mode}", None))
    for host in hosts:
        if host not in covering and mode is not None:
            found.append(
                finding(
                    "mx_not_covered",
                    host,
                    f"{host} is not covered by the policy",
                    f"Add mx: {host}",
                    mode=mode,
                )
            )
    fetch = PolicyFetch(
        url=f"https://mta-sts.{domain}/.well-known/mta-sts.txt",
        status=200,
        content_type="text/plain",
        cert=cert(f"mta-sts.{domain}", policy_days) if policy_days is not None else None,
    )
    return Report(
        domain=domain,
        mode=mode,
        record=Record(txt=f"v=STSv1; id={record_id}", id=record_id) if record_id else None,
        policy=Policy("STSv1", policy_mode, max_age, sorted(covering), body)
        if mode is not None or text is not None
        else None,
        mx=mx_hosts,
        tlsrpt=TlsRpt(txt=f"v=TLSRPTv1; rua=mailto:tls@{domain}", rua=[f"mailto:tls@{domain}"]),
        findings=found,
        checked_at=checked_at,
        duration_ms=50.0,
        fetch=fetch,
    )
