"""TLS-RPT aggregate reports (RFC 8460 §4) for the testbed's domains, in real senders' shapes.

The demo shares one in Slack, the tests build their corpus on them, and the
bench makes a 10 MiB one. The shapes follow what senders really send:

* `rfc_shape`: the RFC's own example layout (`mx-host` a string, every field);
* `google_shape`: no `mx-host`, no `receiving-ip`, and no `failure-details`
  at all when nothing failed;
* `microsoft_shape`: `mx-host` a list, `failure-details` always present
  (empty when nothing failed), a `report-id` with a `+`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Failure:
    """Failed sessions of one result type at one receiving MX."""

    result_type: str
    mx_host: str
    count: int
    receiving_ip: str | None = None
    sending_ip: str | None = "192.0.2.10"
    reason_code: str | None = None


def policy_lines(domain: str, mode: str = "enforce", mx: Sequence[str] | None = None) -> list[str]:
    """A policy-string as senders quote it, one line per element."""
    hosts = mx if mx is not None else (f"mx1.{domain}", f"mx2.{domain}")
    return ["version: STSv1", f"mode: {mode}", *(f"mx: {h}" for h in hosts), "max_age: 604800"]


def _range(day: dt.date) -> dict[str, str]:
    return {
        "start-datetime": f"{day.isoformat()}T00:00:00Z",
        "end-datetime": f"{day.isoformat()}T23:59:59Z",
    }


def _detail(f: Failure, *, with_ip: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"result-type": f.result_type}
    if f.sending_ip:
        out["sending-mta-ip"] = f.sending_ip
    out["receiving-mx-hostname"] = f.mx_host
    if with_ip and f.receiving_ip:
        out["receiving-ip"] = f.receiving_ip
    out["failed-session-count"] = f.count
    if f.reason_code:
        out["failure-reason-code"] = f.reason_code
    return out


def _policy(
    domain: str,
    failures: Sequence[Failure],
    successes: int,
    lines: list[str] | None,
    *,
    mx_host: str | list[str] | None,
    details: bool | None,
) -> dict[str, Any]:
    """One `policies` entry; `details`: with receiving-ip (True), without (False), or no
    `failure-details` at all when nothing failed (None, as Google does)."""
    policy: dict[str, Any] = {
        "policy-type": "sts",
        "policy-string": lines or policy_lines(domain),
        "policy-domain": domain,
    }
    if mx_host is not None:
        policy["mx-host"] = mx_host
    entry: dict[str, Any] = {
        "policy": policy,
        "summary": {
            "total-successful-session-count": successes,
            "total-failure-session-count": sum(f.count for f in failures),
        },
    }
    if details is not None or failures:
        entry["failure-details"] = [_detail(f, with_ip=bool(details)) for f in failures]
    return entry


def _report(
    organization: str, contact: str, report_id: str, day: dt.date, policy: dict[str, Any]
) -> dict[str, Any]:
    return {
        "organization-name": organization,
        "date-range": _range(day),
        "contact-info": contact,
        "report-id": report_id,
        "policies": [policy],
    }


def rfc_shape(
    domain: str,
    failures: Sequence[Failure] = (),
    *,
    successes: int = 1000,
    day: dt.date = dt.date(2026, 12, 4),
    lines: list[str] | None = None,
    organization: str = "Company-X",
) -> dict[str, Any]:
    policy = _policy(domain, failures, successes, lines, mx_host=f"*.{domain}", details=True)
    report_id = f"5065427c-23d3-47ca-b6e0-{day.strftime('%Y%m%d')}"
    return _report(organization, "sts-reporting@company-x.example", report_id, day, policy)


def google_shape(
    domain: str,
    failures: Sequence[Failure] = (),
    *,
    successes: int = 1000,
    day: dt.date = dt.date(2026, 12, 4),
    lines: list[str] | None = None,
) -> dict[str, Any]:
    policy = _policy(domain, failures, successes, lines, mx_host=None, details=None)
    report_id = f"{day.isoformat()}T00:00:00Z_{domain}"
    return _report("Google Inc.", "smtp-tls-reporting@google.com", report_id, day, policy)


def microsoft_shape(
    domain: str,
    failures: Sequence[Failure] = (),
    *,
    successes: int = 1000,
    day: dt.date = dt.date(2026, 12, 4),
    lines: list[str] | None = None,
) -> dict[str, Any]:
    policy_string = lines or policy_lines(domain)
    hosts = [line.split(":", 1)[1].strip() for line in policy_string if line.startswith("mx:")]
    policy = _policy(domain, failures, successes, lines, mx_host=hosts, details=True)
    stamp = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    report_id = f"{stamp}+{domain}"
    return _report("Microsoft Corporation", "tlsrpt-noreply@microsoft.com", report_id, day, policy)


def google_file_name(domain: str, day: dt.date) -> str:
    """How Google names its report attachments: sender!domain!start!end.json.gz."""
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return f"google.com!{domain}!{start}!{start + 86399}.json.gz"


def gzipped(report: dict[str, Any]) -> bytes:
    """The report as senders attach it: compact JSON, gzip-compressed (mtime 0: reproducible)."""
    return gzip.compress(json.dumps(report).encode(), mtime=0)


DEMO_REPORT_DOMAIN = "mx-expired.example"


def demo_report(today: dt.date | None = None) -> tuple[str, bytes]:
    """Yesterday's report for mx-expired.example, as Google would send it: (file name, .json.gz).

    Its backup MX's certificate failed 37 sessions (expired now too: still failing);
    the primary did not offer STARTTLS for 4 (it does now: fixed since); and the
    sender applied the policy in testing mode, while enforce is published now.
    """
    domain = DEMO_REPORT_DOMAIN
    day = (today or dt.datetime.now(dt.UTC).date()) - DAY
    failures = (
        Failure("certificate-expired", f"mx2.{domain}", 37, sending_ip="209.85.220.41"),
        Failure("starttls-not-supported", f"mx1.{domain}", 4, sending_ip="209.85.220.69"),
    )
    report = google_shape(
        domain, failures, successes=1482, day=day, lines=policy_lines(domain, mode="testing")
    )
    return google_file_name(domain, day), gzipped(report)


def big_report(domain: str, target_bytes: int) -> bytes:
    """One report of about `target_bytes` of JSON: thousands of failure details (for the bench)."""
    kinds = ("certificate-expired", "starttls-not-supported", "certificate-host-mismatch")
    details: list[dict[str, Any]] = []
    size = 0
    n = 0
    while size < target_bytes - 1024:
        detail = {
            "result-type": kinds[n % len(kinds)],
            "sending-mta-ip": f"2001:db8:{n // 65536:x}:{n % 65536:x}::1",
            "receiving-mx-hostname": f"mx{n % 40}.{domain}",
            "receiving-ip": f"203.0.113.{n % 250}",
            "failed-session-count": 1 + n % 97,
            "additional-information": f"https://reports.example/{n}",
        }
        size += len(json.dumps(detail)) + 2
        details.append(detail)
        n += 1
    report = rfc_shape(domain)
    report["policies"][0]["failure-details"] = details
    report["policies"][0]["summary"]["total-failure-session-count"] = sum(
        d["failed-session-count"] for d in details
    )
    return json.dumps(report).encode()
