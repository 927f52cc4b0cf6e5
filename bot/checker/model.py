"""The report: plain typed data, and its JSON form as fixed by the contract.

Everything a check finds ends up here; renderers (terminal, JSON, Block Kit)
read it and nothing else. Fields beyond the contract are additions only.
"""

from __future__ import annotations

import functools
import types
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

Severity = Literal["error", "warning", "info"]
Status = Literal["pass", "warn", "fail"]
Mode = Literal["enforce", "testing", "none"]

SEVERITY_ORDER: dict[Severity, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the check found: a stable code, what is wrong, and the fix."""

    code: str
    severity: Severity
    subject: str  # the domain, host name, address or pattern concerned
    message: str  # what is wrong and what it does to mail, in the current mode
    ref: str  # e.g. "RFC 8461 §4.1"
    fix: str | None = None  # what to do; may hold exact record or policy text
    # For an "And N more findings like these" summary: the N it stands for (not in the
    # JSON; lets a report-wide cap count what a parser already summarised).
    more: int = field(default=0, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "subject": self.subject,
            "message": self.message,
            "ref": self.ref,
            "fix": self.fix,
        }


@dataclass(slots=True)
class Record:
    """The one `v=STSv1` TXT record at `_mta-sts.<domain>`."""

    txt: str
    id: str | None  # None when the record is invalid
    cname: list[str] = field(default_factory=list)  # names the CNAME chain went through

    def to_json(self) -> dict[str, Any]:
        return {"txt": self.txt, "id": self.id, "cname": list(self.cname)}


@dataclass(slots=True)
class Policy:
    """The policy body as fetched; fields are None where the body gives no valid value."""

    version: str | None
    mode: Mode | None
    max_age: int | None
    mx: list[str]  # the valid mx patterns, in policy order
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "mode": self.mode,
            "max_age": self.max_age,
            "mx": list(self.mx),
            "text": self.text,
        }


@dataclass(slots=True)
class CertInfo:
    """What a certificate says, valid or not (for the detail views)."""

    subject: str | None = None
    issuer: str | None = None
    san: list[str] = field(default_factory=list)
    not_after: str | None = None  # ISO 8601, UTC, "Z"
    days_left: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "san": list(self.san),
            "not_after": self.not_after,
            "days_left": self.days_left,
        }


@dataclass(slots=True)
class AddressProbe:
    """The SMTP probe of one MX address."""

    address: str
    reachable: bool
    starttls: bool | None = None
    version: str | None = None  # "TLSv1.3", ...
    cert_valid: bool | None = None
    cert_error: str | None = None
    cert: CertInfo | None = None
    banner: str | None = None  # first line of the 220 greeting, truncated
    error: str | None = None  # what went wrong, in words, when something did
    timed_out: bool = False
    old_protocol: bool = False  # the handshake failed: the server offers only TLS < 1.2
    # What ended the SMTP dialogue early, when something did: "refused" (5xx greeting),
    # "busy" (4xx greeting), "unexpected" (other greeting), "not_smtp", "closed",
    # "too_long" (a reply past the line bounds), "ehlo_too_long" (the EHLO reply, so
    # STARTTLS was judged on the lines read), "ehlo_refused", "starttls_refused".
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "reachable": self.reachable,
            "starttls": self.starttls,
            "version": self.version,
            "cert_valid": self.cert_valid,
            "cert_error": self.cert_error,
            "cert": self.cert.to_json() if self.cert else None,
            "banner": self.banner,
            "error": self.error,
            "timed_out": self.timed_out,
            "old_protocol": self.old_protocol,
            "failure": self.failure,
        }


@dataclass(slots=True)
class Tls:
    """The MX's TLS as the contract reports it: the worst reachable address."""

    reachable: bool
    starttls: bool | None = None
    version: str | None = None
    cert_valid: bool | None = None
    cert_error: str | None = None
    not_after: str | None = None
    address: str | None = None  # which address these values describe
    probes: list[AddressProbe] = field(default_factory=list)  # every address probed

    def to_json(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "starttls": self.starttls,
            "version": self.version,
            "cert_valid": self.cert_valid,
            "cert_error": self.cert_error,
            "not_after": self.not_after,
            "address": self.address,
            "probes": [p.to_json() for p in self.probes],
        }


@dataclass(slots=True)
class MxHost:
    host: str
    preference: int
    matched_by: str | None = None
    addresses: list[str] = field(default_factory=list)
    tls: Tls | None = None
    near_miss: str | None = None  # why the closest pattern does not cover the host

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "preference": self.preference,
            "matched_by": self.matched_by,
            "addresses": list(self.addresses),
            "tls": self.tls.to_json() if self.tls else None,
            "near_miss": self.near_miss,
        }


@dataclass(slots=True)
class TlsRpt:
    txt: str
    rua: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"txt": self.txt, "rua": list(self.rua)}


@dataclass(slots=True)
class PolicyFetch:
    """How the policy fetch went (for the detail views); an addition to the contract."""

    url: str
    addresses: list[str] = field(default_factory=list)
    status: int | None = None
    content_type: str | None = None
    location: str | None = None  # the Location of a redirect, never followed
    cert: CertInfo | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "addresses": list(self.addresses),
            "status": self.status,
            "content_type": self.content_type,
            "location": self.location,
            "cert": self.cert.to_json() if self.cert else None,
            "error": self.error,
        }


@dataclass(slots=True)
class DnsEvidence:
    """The raw records as seen, for the "DNS records" view; an addition to the contract."""

    mta_sts_txt: list[str] = field(default_factory=list)  # every TXT at _mta-sts, joined
    tlsrpt_txt: list[str] = field(default_factory=list)  # every TXT at _smtp._tls
    mx: list[str] = field(default_factory=list)  # "10 mx1.example.com." as published
    mx_total: int = 0  # how many MX records were published (the list may be cut)

    def to_json(self) -> dict[str, Any]:
        return {
            "mta_sts_txt": list(self.mta_sts_txt),
            "tlsrpt_txt": list(self.tlsrpt_txt),
            "mx": list(self.mx),
            "mx_total": self.mx_total,
        }


def status_of(findings: list[Finding]) -> Status:
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "fail"
    if "warning" in severities:
        return "warn"
    return "pass"


@dataclass(slots=True)
class Report:
    domain: str
    mode: Mode | None = None
    record: Record | None = None
    policy: Policy | None = None
    mx: list[MxHost] = field(default_factory=list)
    tlsrpt: TlsRpt | None = None
    findings: list[Finding] = field(default_factory=list)
    checked_at: str = ""  # ISO 8601, UTC, "Z"
    duration_ms: float = 0.0
    fetch: PolicyFetch | None = None
    dns: DnsEvidence = field(default_factory=DnsEvidence)
    smtp_checked: bool = True  # False with --no-smtp

    @property
    def status(self) -> Status:
        return status_of(self.findings)

    def sorted_findings(self) -> list[Finding]:
        """Findings, errors first; stable within a severity."""
        return sorted(self.findings, key=lambda f: SEVERITY_ORDER[f.severity])

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "mode": self.mode,
            "record": self.record.to_json() if self.record else None,
            "policy": self.policy.to_json() if self.policy else None,
            "mx": [m.to_json() for m in self.mx],
            "tlsrpt": self.tlsrpt.to_json() if self.tlsrpt else None,
            "findings": [f.to_json() for f in self.findings],
            "checked_at": self.checked_at,
            "duration_ms": round(self.duration_ms, 1),
            "fetch": self.fetch.to_json() if self.fetch else None,
            "dns": self.dns.to_json(),
            "smtp_checked": self.smtp_checked,
        }


# -- reading the JSON form back (a report cached in Redis, or stored) ----------------


class ReportJsonError(ValueError):
    """The data is not a report's JSON form (as `Report.to_json()` writes it)."""


def report_from_json(data: Any) -> Report:
    """The Report whose `to_json()` gave `data`: `from(to_json(r)) == r` but for
    `duration_ms`, which the JSON rounds to 0.1 ms. `status` is derived again, keys this
    code does not know are ignored, and a field of the wrong shape raises
    ReportJsonError naming it (e.g. `report.mx[0].tls.version`)."""
    decoded: Report = _decode(Report, data, "report")
    return decoded


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(tp: Any, value: Any, path: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]  # only `X | None` is used
        return _decode(inner, value, path)
    if origin is Literal:
        if isinstance(value, str) and value in get_args(tp):
            return value
        raise ReportJsonError(f"{path}: {value!r} is not one of {list(get_args(tp))}")
    if origin is list:
        if not isinstance(value, list):
            raise ReportJsonError(f"{path}: expected a list")
        (item,) = get_args(tp)
        return [_decode(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(value, dict):
            raise ReportJsonError(f"{path}: expected an object")
        hints = _hints(tp)
        kwargs: dict[str, Any] = {}
        for f in fields(tp):
            if f.name in value:
                kwargs[f.name] = _decode(hints[f.name], value[f.name], f"{path}.{f.name}")
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ReportJsonError(f"{path}.{f.name}: missing")
        return tp(**kwargs)
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, bool) and type(value) is tp:
        return value
    raise ReportJsonError(f"{path}: expected {getattr(tp, '__name__', tp)}, got {value!r:.40}")
