"""Reports summarised per sender and policy, failures grouped, largest first.

Several reports (a week of them, from several senders) fold into one
`Summary`: per sender (organization-name), per policy (type and domain) the
session counts add up and failure details merge into groups of the same
result type, receiving MX host and receiving IP. Pure; renderers read this.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.reports.model import Notes, PolicyEntry, TlsRptReport
from bot.reports.parse import Parsed
from bot.reports.reading import Unreadable
from bot.reports.result_types import result_type

GroupKey = tuple[str, str | None, str | None]  # (result type, MX host, receiving IP)
MAX_SENDING_IPS = 1000  # distinct sending MTAs remembered per group (then only counted)
NO_SENDER = "an unnamed sender"


@dataclass(slots=True)
class FailureGroup:
    """Failed sessions of one result type at one receiving MX (and IP)."""

    result_type: str
    mx_host: str | None
    receiving_ip: str | None
    count: int = 0
    entries: int = 0  # failure-details entries merged in
    reason_codes: Counter[str] = field(default_factory=Counter)
    sending_ips: set[str] = field(default_factory=set)
    helo: str | None = None
    additional: str | None = None

    @property
    def key(self) -> GroupKey:
        return (self.result_type, self.mx_host, self.receiving_ip)

    @property
    def known(self) -> bool:
        return result_type(self.result_type).family != "unknown"

    def where(self) -> str:
        """ "mx2.example.com (203.0.113.5)", or what is known of the receiving side."""
        if self.mx_host and self.receiving_ip:
            return f"{self.mx_host} ({self.receiving_ip})"
        if self.mx_host:
            return self.mx_host
        if self.receiving_ip:
            return self.receiving_ip
        if self.helo:
            return f"an MX greeting as {self.helo}"
        return "an MX the report does not name"

    def to_json(self) -> dict[str, Any]:
        return {
            "result_type": self.result_type,
            "known_type": self.known,
            "receiving_mx_hostname": self.mx_host,
            "receiving_ip": self.receiving_ip,
            "failed_session_count": self.count,
            "failure_reason_codes": [code for code, _ in self.reason_codes.most_common()],
            "sending_mta_ips": len(self.sending_ips),
            "additional_information": self.additional,
        }


@dataclass(slots=True)
class PolicySummary:
    """One policy (type and domain) as one sender reported it, over all its reports."""

    type: str
    domain: str | None
    successes: int = 0
    failures: int = 0
    reports: int = 0
    policy_strings: list[tuple[str, ...]] = field(default_factory=list)  # distinct, in order
    mx_hosts: list[str] = field(default_factory=list)
    groups: dict[GroupKey, FailureGroup] = field(default_factory=dict)

    @property
    def sessions(self) -> int:
        return self.successes + self.failures

    @property
    def failure_rate(self) -> float | None:
        return self.failures / self.sessions if self.sessions else None

    @property
    def undetailed(self) -> int:
        """Failed sessions the failure details do not account for."""
        return max(0, self.failures - sum(g.count for g in self.groups.values()))

    def sorted_groups(self) -> list[FailureGroup]:
        """Largest first; ties by type, then host."""
        return sorted(
            self.groups.values(),
            key=lambda g: (-g.count, g.result_type, g.mx_host or "", g.receiving_ip or ""),
        )

    def add(self, entry: PolicyEntry) -> None:
        self.reports += 1
        self.successes += entry.successes
        self.failures += entry.failures
        if entry.policy_string is not None:
            lines = tuple(entry.policy_string)
            if lines not in self.policy_strings:
                self.policy_strings.append(lines)
        for host in entry.mx_hosts:
            if host not in self.mx_hosts:
                self.mx_hosts.append(host)
        for detail in entry.details:
            key = (detail.result_type, detail.mx_host, detail.receiving_ip)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = FailureGroup(*key)
            group.count += detail.count
            group.entries += 1
            if detail.reason_code:
                group.reason_codes[detail.reason_code] += detail.count or 1
            if detail.sending_ip and len(group.sending_ips) < MAX_SENDING_IPS:
                group.sending_ips.add(detail.sending_ip)
            group.helo = group.helo or detail.helo
            group.additional = group.additional or detail.additional

    def to_json(self) -> dict[str, Any]:
        return {
            "policy_type": self.type,
            "policy_domain": self.domain,
            "reports": self.reports,
            "successful_sessions": self.successes,
            "failed_sessions": self.failures,
            "failure_rate": None if self.failure_rate is None else round(self.failure_rate, 6),
            "undetailed_failed_sessions": self.undetailed,
            "policy_strings": [list(lines) for lines in self.policy_strings],
            "mx_hosts": list(self.mx_hosts),
            "failure_groups": [g.to_json() for g in self.sorted_groups()],
        }


@dataclass(slots=True)
class SenderSummary:
    """Everything one sender (organization-name) reported."""

    organization: str
    contacts: list[str] = field(default_factory=list)
    reports: int = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    policies: dict[tuple[str, str | None], PolicySummary] = field(default_factory=dict)

    @property
    def successes(self) -> int:
        return sum(p.successes for p in self.policies.values())

    @property
    def failures(self) -> int:
        return sum(p.failures for p in self.policies.values())

    def sorted_policies(self) -> list[PolicySummary]:
        """Most failures first; then by domain and type."""
        return sorted(self.policies.values(), key=lambda p: (-p.failures, p.domain or "", p.type))

    def add(self, report: TlsRptReport) -> None:
        self.reports += 1
        if report.contact and report.contact not in self.contacts:
            self.contacts.append(report.contact)
        if report.start is not None and (self.start is None or report.start < self.start):
            self.start = report.start
        if report.end is not None and (self.end is None or report.end > self.end):
            self.end = report.end
        for entry in report.policies:
            key = (entry.type, entry.domain)
            policy = self.policies.get(key)
            if policy is None:
                policy = self.policies[key] = PolicySummary(entry.type, entry.domain)
            policy.add(entry)

    def to_json(self) -> dict[str, Any]:
        return {
            "organization_name": self.organization,
            "contact_info": list(self.contacts),
            "reports": self.reports,
            "start_datetime": _iso(self.start),
            "end_datetime": _iso(self.end),
            "successful_sessions": self.successes,
            "failed_sessions": self.failures,
            "policies": [p.to_json() for p in self.sorted_policies()],
        }


@dataclass(slots=True)
class Summary:
    """All reports read for one request, per sender; and what could not be read."""

    senders: list[SenderSummary] = field(default_factory=list)
    reports: int = 0
    notes: Notes = field(default_factory=Notes)
    problems: list[Unreadable] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(s.failures for s in self.senders)

    @property
    def successes(self) -> int:
        return sum(s.successes for s in self.senders)

    def policies(self) -> Iterable[PolicySummary]:
        for sender in self.senders:
            yield from sender.policies.values()

    def domains(self) -> list[str]:
        """The policy domains, those with the most failed sessions first."""
        failures: Counter[str] = Counter()
        for policy in self.policies():
            if policy.domain:
                failures[policy.domain] += policy.failures
        return sorted(failures, key=lambda d: (-failures[d], d))

    def to_json(self) -> dict[str, Any]:
        return {
            "reports": self.reports,
            "successful_sessions": self.successes,
            "failed_sessions": self.failures,
            "senders": [s.to_json() for s in self.senders],
            "notes": self.notes.sentences(),
            "unreadable": [{"source": p.source, "reason": p.reason} for p in self.problems],
        }


class Summariser:
    """Folds parsed reports in as they come (their details are not kept), per sender."""

    def __init__(self) -> None:
        self._senders: dict[str, SenderSummary] = {}
        self._reports = 0
        self._notes = Notes()
        self._problems: list[Unreadable] = []

    def add(self, parsed: Parsed) -> None:
        self._notes.merge(parsed.notes)
        self._problems.extend(parsed.problems)
        for report in parsed.reports:
            self._reports += 1
            name = report.organization or report.contact or NO_SENDER
            sender = self._senders.get(name.casefold())
            if sender is None:
                sender = self._senders[name.casefold()] = SenderSummary(name)
            sender.add(report)

    def summary(self) -> Summary:
        """Senders with the most failed sessions first."""
        ordered = sorted(
            self._senders.values(), key=lambda s: (-s.failures, s.organization.casefold())
        )
        return Summary(
            senders=ordered,
            reports=self._reports,
            notes=self._notes,
            problems=list(self._problems),
        )


def summarise(parsed: Parsed) -> Summary:
    """Every report of `parsed` folded into per-sender summaries."""
    summariser = Summariser()
    summariser.add(parsed)
    return summariser.summary()


# -- words shared by the renderers -----------------------------------------------------


def period(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """ "2026-12-04", "2026-12-01 to 2026-12-07", or "an unknown period"."""
    if start is None and end is None:
        return "an unknown period"
    if end is None:
        assert start is not None
        return start.date().isoformat()
    # A daily report ends at 23:59:59 (or at the next midnight): one day.
    last = (end - dt.timedelta(seconds=1)).date()
    first = start.date() if start is not None else last
    if last <= first:
        return first.isoformat()
    return f"{first.isoformat()} to {last.isoformat()}"


def rate(policy: PolicySummary) -> str:
    """ "5.4 %" (at least one decimal below 10 %, never "0 %" for a failure)."""
    value = policy.failure_rate
    if value is None:
        return "no sessions"
    percent = value * 100
    if 0 < percent < 0.1:
        return "<0.1 %"
    if percent < 10:
        return f"{percent:.1f} %"
    return f"{percent:.0f} %"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
