"""The report's failures against a fresh check of the policy domain: still failing, or fixed?

A report tells what senders saw over a past period; a check (the checker's
`Report`) tells what the domain does now. Per failure group this says which
holds now: "mx2.example.com's certificate expired on 2026-12-04 — still expired
now", or "renewed since: valid until 2027-03-02". It also says when the policy
a sender applied (the report's `policy-string`) differs from the policy
published now: the sender used an older policy from its cache (kept up to
`max_age`), or the policy changed after the report's period.

DANE failures (`tlsa-invalid`, `dnssec-invalid`, `dane-required`) are not
compared: the checker checks MTA-STS, not DANE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.checker.domain import DomainError, normalise_domain
from bot.checker.model import AddressProbe, Finding, MxHost, Report
from bot.reports.result_types import result_type
from bot.reports.summary import FailureGroup, PolicySummary

State = Literal["still_failing", "fixed", "gone", "unknown", "not_checked"]

STATE_LABEL: dict[State, str] = {
    "still_failing": "still failing",
    "fixed": "fixed since",
    "gone": "no longer applies",
    "unknown": "can't tell",
    "not_checked": "not checked",
}
MESSAGE_CHARS = 240  # of a finding's message quoted in a verdict

_FETCH_CODES = (
    "policy_host_unresolvable",
    "policy_host_blocked",
    "policy_connect_failed",
    "policy_redirect",
    "policy_http_status",
    "policy_content_type",
    "policy_too_large",
    "policy_timeout",
)
_INVALID_CODES = (
    "policy_syntax",
    "policy_version_invalid",
    "policy_mode_invalid",
    "policy_max_age_invalid",
    "policy_mx_missing",
    "policy_mx_invalid",
)
_NO_POLICY_CODES = ("record_missing", "record_invalid", "record_multiple")
_CERT_TYPES = (
    "certificate-expired",
    "certificate-host-mismatch",
    "certificate-not-trusted",
    "validation-failure",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    state: State
    text: str  # one sentence, plain (renderers escape it)

    @property
    def label(self) -> str:
        return STATE_LABEL[self.state]


@dataclass(frozen=True, slots=True)
class PolicyDrift:
    """The policy a sender applied is not the one published now."""

    text: str  # what differs, in words
    in_report: tuple[str, ...] = ()  # lines only in the report's policy-string
    published: tuple[str, ...] = ()  # lines only in the policy published now


@dataclass(frozen=True, slots=True)
class DomainCheck:
    """A fresh check of one policy domain, or why there is none."""

    domain: str
    report: Report | None = None
    error: str | None = None  # for people, when there is no report
    cached_age: float | None = None  # seconds, when the check came from a cache

    def verdict(self, group: FailureGroup) -> Verdict:
        if self.report is None:
            why = self.error or "the check did not finish"
            return Verdict("unknown", f"I couldn't check {self.domain} now: {why}")
        return verdict(group, self.report)

    def drift(self, policy: PolicySummary) -> PolicyDrift | None:
        if self.report is None:
            return None
        return drift(policy, self.report)


def checkable(domain: str) -> tuple[str | None, str | None]:
    """(the domain to check, None) for a report's policy-domain, or (None, why not):
    a report's names are checked only when they are domains a person could have typed."""
    try:
        return normalise_domain(domain), None
    except DomainError as exc:
        return None, f"it is not a domain I can check ({exc})"


def verdict(group: FailureGroup, report: Report) -> Verdict:
    """Whether `group`'s failure still happens according to `report` (a check of its domain)."""
    family = result_type(group.result_type).family
    if family == "dane":
        return Verdict(
            "not_checked",
            "I check MTA-STS, not DANE: check the TLSA records and DNSSEC with a DANE tool.",
        )
    if family == "unknown":
        return Verdict("not_checked", "An unknown result type: there is nothing to compare.")
    if family == "mta-sts":
        return _policy_verdict(group.result_type, report)
    hosts = _hosts(group, report)
    if isinstance(hosts, Verdict):
        return hosts
    verdicts = [_mx_verdict(group, mx, report) for mx in hosts]
    return _combine(verdicts)


# -- MX-side failures (TLS negotiation) -------------------------------------------------


def _norm(host: str) -> str:
    return host.rstrip(".").lower()


def _hosts(group: FailureGroup, report: Report) -> list[MxHost] | Verdict:
    if not report.mx:
        return Verdict("gone", f"{report.domain} publishes no MX hosts now.")
    if group.mx_host:
        found = [mx for mx in report.mx if _norm(mx.host) == group.mx_host]
        if found:
            return found
        return Verdict(
            "gone",
            f"{group.mx_host} is no longer an MX of {report.domain}, so senders no longer "
            "deliver there.",
        )
    if group.receiving_ip:
        found = [mx for mx in report.mx if group.receiving_ip in mx.addresses]
        if found:
            return found
    return list(report.mx)  # the report does not say which MX: look at them all


def _probe(mx: MxHost, address: str | None) -> AddressProbe | None:
    """The probe of the reported receiving address, else of the worst address."""
    if mx.tls is None:
        return None
    by_address = {p.address: p for p in mx.tls.probes}
    if address and address in by_address:
        return by_address[address]
    if mx.tls.address and mx.tls.address in by_address:
        return by_address[mx.tls.address]
    return mx.tls.probes[0] if mx.tls.probes else None


def _mx_verdict(group: FailureGroup, mx: MxHost, report: Report) -> Verdict:
    host = mx.host.rstrip(".")
    kind = group.result_type
    if kind == "validation-failure":
        for f in _findings(report, ("mx_not_covered",)):
            if _norm(f.subject) == _norm(mx.host):
                return Verdict(
                    "still_failing", f"{host} is still not covered by the policy's mx patterns."
                )
    if mx.tls is None:
        why = "SMTP probes are off" if not report.smtp_checked else "it was not probed"
        return Verdict("unknown", f"I can't tell whether {host} is fixed: {why}.")
    probe = _probe(mx, group.receiving_ip)
    reachable = probe.reachable if probe is not None else mx.tls.reachable
    if not reachable:
        return Verdict(
            "unknown",
            f"I couldn't reach {host} on port 25 from here, so I can't tell whether it is fixed.",
        )
    starttls = probe.starttls if probe is not None else mx.tls.starttls
    if starttls is False:
        if kind == "starttls-not-supported":
            return Verdict("still_failing", f"{host} still offers no STARTTLS.")
        return Verdict("still_failing", f"{host} offers no STARTTLS at all now.")
    if kind == "starttls-not-supported":
        return Verdict("fixed", f"{host} offers STARTTLS now.")
    valid = probe.cert_valid if probe is not None else mx.tls.cert_valid
    error = (probe.cert_error if probe is not None else mx.tls.cert_error) or ""
    not_after = (probe.cert.not_after if probe and probe.cert else None) or mx.tls.not_after
    day = not_after[:10] if not_after else None
    if valid:
        until = f": valid until {day}" if day else ""
        if kind == "certificate-expired":
            return Verdict("fixed", f"{host}'s certificate has been renewed since{until}.")
        return Verdict("fixed", f"{host}'s certificate validates now{until}.")
    if valid is None:
        problem = (probe.error if probe is not None else None) or "the TLS handshake fails"
        return Verdict("still_failing", f"TLS with {host} still fails now: {problem}.")
    if "expired" in error:
        when = f" on {day}" if day else ""
        still = " — still expired now" if kind == "certificate-expired" else " — expired now"
        return Verdict("still_failing", f"{host}'s certificate expired{when}{still}.")
    if kind == "certificate-host-mismatch" and "not valid for" in error:
        return Verdict("still_failing", f"{host}'s certificate still does not name it.")
    return Verdict("still_failing", f"{host}'s certificate still fails now: {error}.")


def _combine(verdicts: list[Verdict]) -> Verdict:
    """One verdict for several MX hosts: failing if any is, fixed if all are."""
    if len(verdicts) == 1:
        return verdicts[0]
    for state in ("still_failing", "unknown"):
        chosen = [v for v in verdicts if v.state == state]
        if chosen:
            return Verdict(chosen[0].state, " ".join(v.text for v in chosen[:3]))
    return Verdict("fixed", " ".join(v.text for v in verdicts[:3]))


# -- policy-side failures (MTA-STS) ----------------------------------------------------


def _findings(report: Report, codes: Iterable[str]) -> list[Finding]:
    wanted = set(codes)
    return [f for f in report.findings if f.code in wanted]


def _said(f: Finding) -> str:
    text = " ".join(f.message.split())
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 1] + "…"
    return text if text.endswith(".") else text + "."


def _policy_verdict(kind: str, report: Report) -> Verdict:
    tls = _findings(report, ("policy_tls_invalid",))
    fetch = _findings(report, _FETCH_CODES)
    invalid = _findings(report, _INVALID_CODES)
    if kind == "sts-webpki-invalid" and tls:
        return Verdict("still_failing", f"Still failing now: {_said(tls[0])}")
    if kind == "sts-policy-fetch-error" and fetch:
        return Verdict("still_failing", f"Still failing now: {_said(fetch[0])}")
    if kind == "sts-policy-invalid" and invalid:
        return Verdict("still_failing", f"Still invalid now: {_said(invalid[0])}")
    if report.policy is not None:
        what = {
            "sts-webpki-invalid": "its certificate validates",
            "sts-policy-fetch-error": "it is served properly",
            "sts-policy-invalid": "it is valid",
        }.get(kind, "it is fine")
        return Verdict("fixed", f"The policy fetches now and {what}.")
    other = tls or fetch or invalid
    if other:
        return Verdict("still_failing", f"The policy still can't be used now: {_said(other[0])}")
    gone = _findings(report, _NO_POLICY_CODES)
    if gone:
        return Verdict(
            "gone",
            f"{report.domain} publishes no usable MTA-STS record now, so senders no longer "
            "fetch a policy.",
        )
    return Verdict("unknown", f"No policy could be fetched for {report.domain} now.")


# -- the policy the sender applied, against the one published now ----------------------


def _line(text: str) -> str:
    key, colon, value = text.partition(":")
    return f"{key.strip()}: {value.strip()}" if colon else text.strip()


def drift(policy: PolicySummary, report: Report) -> PolicyDrift | None:
    """How the policy the sender applied differs from the one published now, if it does."""
    if policy.type == "no-policy-found":
        if report.policy is None:
            return None
        mode = f" (mode {report.policy.mode})" if report.policy.mode else ""
        return PolicyDrift(
            f"The sender found no MTA-STS policy then; {report.domain} publishes one now{mode}."
        )
    if policy.type != "sts" or not policy.policy_strings:
        return None  # a TLSA policy-string holds TLSA records: not ours to compare
    if report.policy is None:
        return PolicyDrift(
            f"The sender applied an MTA-STS policy, but {report.domain} publishes no usable "
            "policy now."
        )
    now = sorted(_line(t) for t in report.policy.text.splitlines() if t.strip())
    for lines in reversed(policy.policy_strings):  # the latest first
        then = sorted(_line(t) for t in lines if t.strip())
        if then == now:
            continue
        only_then = tuple(t for t in then if t not in now)
        only_now = tuple(t for t in now if t not in then)
        return PolicyDrift(
            "The report's policy-string differs from the policy published now: the sender "
            "used an older policy from its cache (senders keep one up to its max_age), or "
            "the policy changed after the report's period.",
            in_report=only_then,
            published=only_now,
        )
    return None
