"""A watched domain's state: what one check said, kept small enough to store and compare.

`snapshot(report, previous)` distils a Report into a `DomainState`; the
scheduler stores the last confirmed one per domain, and `events.detect`
compares two of them. Everything an alert needs to say "before → after" is
here:

- status, mode (of the usable policy), the record's `id`, the findings;
- the last *usable* policy (its id, body, mode, max_age, when it was last
  fetched): what senders have cached. It is carried over while the policy is
  unusable, since that is what senders keep enforcing, and what a
  `policy_changed_same_id` compares with once it is back;
- the MX host names (carried over when the MX lookup failed: unknown is not
  "none");
- each certificate seen (policy host and every MX address), by identity, with
  its days left;
- the open incidents (see events.py), so `recovered` finds its thread.

Certificates are identified by a hash of subject, issuer, expiry and SAN
names (the report carries no raw certificate): a renewed certificate has a
new expiry, so a new identity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from bot.checker.model import CertInfo, Mode, Report, Severity, Status

STATUS_RANK: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}
# Text kept of a policy body (RFC 8461 allows 64 KiB; real ones are a few lines).
MAX_POLICY_TEXT = 8192


@dataclass(frozen=True, slots=True)
class FindingKey:
    code: str
    subject: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class CertState:
    id: str  # identity (see the module doc)
    host: str  # mta-sts.<domain>, or the MX host
    where: str  # "policy" or the MX address
    not_after: str | None
    days_left: int | None


@dataclass(frozen=True, slots=True)
class UsablePolicy:
    """The last policy senders could use, as they cached it."""

    id: str | None
    text: str  # normalised (see normalise_policy)
    mode: str
    max_age: int | None
    fetched_at: str  # checked_at of the last check that found it usable


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    level: str  # the status it opened at: "warn" or "fail"


@dataclass(frozen=True, slots=True)
class DomainState:
    checked_at: str
    status: Status
    mode: Mode | None
    record_id: str | None
    findings: tuple[FindingKey, ...] = ()
    mx: tuple[str, ...] = ()
    policy: UsablePolicy | None = None
    certs: tuple[CertState, ...] = ()
    incidents: tuple[Incident, ...] = ()  # open ones, oldest first
    last_incident: int | None = None  # the most recent incident, open or closed
    incident_seq: int = 0  # the last incident number handed out

    @property
    def usable(self) -> bool:
        return self.mode is not None

    def finding_set(self) -> set[FindingKey]:
        return set(self.findings)

    def to_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies, and this runs for every watch check.
        policy = self.policy
        return {
            "checked_at": self.checked_at,
            "status": self.status,
            "mode": self.mode,
            "record_id": self.record_id,
            "findings": [
                {"code": f.code, "subject": f.subject, "severity": f.severity}
                for f in self.findings
            ],
            "mx": list(self.mx),
            "policy": None
            if policy is None
            else {
                "id": policy.id,
                "text": policy.text,
                "mode": policy.mode,
                "max_age": policy.max_age,
                "fetched_at": policy.fetched_at,
            },
            "certs": [
                {
                    "id": c.id,
                    "host": c.host,
                    "where": c.where,
                    "not_after": c.not_after,
                    "days_left": c.days_left,
                }
                for c in self.certs
            ],
            "incidents": [{"id": i.id, "level": i.level} for i in self.incidents],
            "last_incident": self.last_incident,
            "incident_seq": self.incident_seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DomainState:
        policy = data.get("policy")
        return cls(
            checked_at=str(data.get("checked_at", "")),
            status=data["status"],
            mode=data.get("mode"),
            record_id=data.get("record_id"),
            findings=tuple(FindingKey(**f) for f in data.get("findings", ())),
            mx=tuple(data.get("mx", ())),
            policy=UsablePolicy(**policy) if isinstance(policy, dict) else None,
            certs=tuple(CertState(**c) for c in data.get("certs", ())),
            incidents=tuple(Incident(**i) for i in data.get("incidents", ())),
            last_incident=data.get("last_incident"),
            incident_seq=int(data.get("incident_seq", 0)),
        )


def normalise_policy(text: str) -> str:
    """A policy body compared the way the contract says: line endings and trailing
    whitespace do not count (nor blank lines at the end)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")[:MAX_POLICY_TEXT]


def cert_identity(cert: CertInfo) -> str:
    material = "\x00".join(
        [cert.subject or "", cert.issuer or "", cert.not_after or "", *sorted(cert.san)]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def _certs(report: Report) -> tuple[CertState, ...]:
    seen: dict[tuple[str, str], CertState] = {}
    policy_cert_valid = not any(f.code == "policy_tls_invalid" for f in report.findings)
    if report.fetch is not None and report.fetch.cert is not None and policy_cert_valid:
        # (an invalid one, read for the details view, is an error finding, not an expiry)
        host = f"mta-sts.{report.domain}"
        c = report.fetch.cert
        ident = cert_identity(c)
        seen[(ident, "policy")] = CertState(ident, host, "policy", c.not_after, c.days_left)
    for mx in report.mx:
        if mx.tls is None:
            continue
        for probe in mx.tls.probes:
            if probe.cert is None or not probe.cert_valid:
                continue  # an invalid certificate is an error finding, not an expiry
            c = probe.cert
            ident = cert_identity(c)
            seen[(ident, probe.address)] = CertState(
                ident, mx.host, probe.address, c.not_after, c.days_left
            )
    return tuple(sorted(seen.values(), key=lambda s: (s.host, s.where, s.id)))


def snapshot(report: Report, previous: DomainState | None = None) -> DomainState:
    """The state a report describes; carries over what the report could not see."""
    findings = tuple(
        sorted(
            {FindingKey(f.code, f.subject, f.severity) for f in report.findings},
            key=lambda k: (k.code, k.subject, k.severity),
        )
    )
    codes = {f.code for f in report.findings}
    mx = tuple(m.host for m in report.mx)
    if "mx_lookup_failed" in codes and previous is not None:
        mx = previous.mx  # the lookup failed: the hosts are unknown, not gone
    policy = previous.policy if previous is not None else None
    if report.mode is not None and report.policy is not None:
        policy = UsablePolicy(
            id=report.record.id if report.record else None,
            text=normalise_policy(report.policy.text),
            mode=report.mode,
            max_age=report.policy.max_age,
            fetched_at=report.checked_at,
        )
    state = DomainState(
        checked_at=report.checked_at,
        status=report.status,
        mode=report.mode,
        record_id=report.record.id if report.record else None,
        findings=findings,
        mx=mx,
        policy=policy,
        certs=_certs(report),
    )
    if previous is not None:
        state = replace(
            state,
            incidents=previous.incidents,
            last_incident=previous.last_incident,
            incident_seq=previous.incident_seq,
        )
    return state
