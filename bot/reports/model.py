"""A TLS-RPT aggregate report (RFC 8460 §4) as typed data, read leniently.

Fields a sender left out are None (or empty); what was missing or odd is
counted in `Notes`, so the summary can say it once for all reports.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FailureDetail:
    """One `failure-details` entry."""

    result_type: str  # as reported, lower-cased ("certificate-expired"; unknown ones as is)
    count: int  # failed-session-count
    mx_host: str | None = None  # receiving-mx-hostname (lower-case, no trailing dot)
    receiving_ip: str | None = None
    sending_ip: str | None = None  # sending-mta-ip
    helo: str | None = None  # receiving-mx-helo
    reason_code: str | None = None  # failure-reason-code (or failure-error-code)
    additional: str | None = None  # additional-information


@dataclass(slots=True)
class PolicyEntry:
    """One element of `policies`: the policy a sender applied, its counts and failures."""

    type: str  # "sts", "tlsa", "no-policy-found", or whatever the sender wrote
    domain: str | None  # policy-domain (lower-case, no trailing dot)
    policy_string: list[str] | None  # its lines; None when the report has none
    mx_hosts: list[str] = field(default_factory=list)  # mx-host (patterns), string or list
    successes: int = 0  # total-successful-session-count
    failures: int = 0  # total-failure-session-count
    details: list[FailureDetail] = field(default_factory=list)


@dataclass(slots=True)
class TlsRptReport:
    """One report: who sent it, for which period, and a policy entry per policy."""

    source: str  # where it was read from: a file name, "pasted text", an archive member
    organization: str | None
    contact: str | None
    report_id: str | None
    start: dt.datetime | None  # date-range start-datetime, UTC
    end: dt.datetime | None
    policies: list[PolicyEntry] = field(default_factory=list)


class Notes:
    """What the reports left out or wrote oddly, counted: "3 failure details without
    receiving-ip". A note is a (singular, plural) phrase read after its count."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, singular: str, plural: str, n: int = 1) -> None:
        if n > 0:
            self.counts[(singular, plural)] += n

    def missing(self, where: str, name: str, n: int = 1, *, wheres: str | None = None) -> None:
        """`n` `where`s ("report", "failure detail") without the field `name`."""
        self.add(f"{where} without {name}", f"{wheres or where + 's'} without {name}", n)

    def merge(self, other: Notes) -> None:
        self.counts.update(other.counts)

    def sentences(self) -> list[str]:
        """Largest first: "12 failure details without receiving-ip"."""
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return [f"{n:,} {one if n == 1 else many}" for (one, many), n in ordered]

    def __bool__(self) -> bool:
        return bool(self.counts)
