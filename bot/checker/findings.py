"""The finding codes of the contract: severity, reference, and a short title.

A code's severity here is its default; the MX-side codes whose weight depends
on the policy mode take theirs from `mode_severity`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bot.checker import limits
from bot.checker.model import Finding, Mode, Severity


@dataclass(frozen=True, slots=True)
class Code:
    severity: Severity
    ref: str
    title: str  # a few words, for summaries and the fallback text
    mode_dependent: bool = False


CODES: dict[str, Code] = {
    "record_missing": Code("error", "RFC 8461 §3.1", "No MTA-STS TXT record"),
    "record_multiple": Code("error", "RFC 8461 §3.1", "Several MTA-STS TXT records"),
    "record_invalid": Code("error", "RFC 8461 §3.1", "Invalid MTA-STS TXT record"),
    "record_lookup_failed": Code("error", "RFC 8461 §3.1", "MTA-STS TXT lookup failed"),
    "policy_host_unresolvable": Code("error", "RFC 8461 §3.3", "Policy host has no address"),
    "policy_host_blocked": Code("error", "RFC 8461 §3.3", "Policy host is on a private address"),
    "policy_connect_failed": Code("error", "RFC 8461 §3.3", "Policy host unreachable"),
    "policy_tls_invalid": Code("error", "RFC 8461 §3.3", "Policy host certificate invalid"),
    "policy_redirect": Code("error", "RFC 8461 §3.3", "Policy URL redirects"),
    "policy_http_status": Code("error", "RFC 8461 §3.3", "Policy URL status is not 200"),
    "policy_content_type": Code("error", "RFC 8461 §3.2", "Policy is not text/plain"),
    "policy_too_large": Code("error", "RFC 8461 §3.3", "Policy larger than 64 KiB"),
    "policy_timeout": Code("error", "RFC 8461 §3.3", "Policy fetch timed out"),
    "policy_syntax": Code("error", "RFC 8461 §3.2", "Policy syntax error"),
    "policy_version_invalid": Code("error", "RFC 8461 §3.2", "Policy version invalid"),
    "policy_mode_invalid": Code("error", "RFC 8461 §3.2", "Policy mode invalid"),
    "policy_max_age_invalid": Code("error", "RFC 8461 §3.2", "Policy max_age invalid"),
    "policy_max_age_short": Code("warning", "RFC 8461 §3.2", "Policy max_age under a day"),
    "policy_mx_missing": Code("error", "RFC 8461 §3.2", "Policy lists no mx"),
    "policy_mx_invalid": Code("error", "RFC 8461 §3.2", "Invalid mx pattern"),
    "policy_key_duplicate": Code("warning", "RFC 8461 §3.2", "Duplicate policy key"),
    "policy_unknown_key": Code("info", "RFC 8461 §3.2", "Unknown policy key"),
    "mode_testing": Code("info", "RFC 8461 §5", "Mode is testing"),
    "mode_none": Code("warning", "RFC 8461 §8.3", "Mode is none"),
    "mx_lookup_failed": Code("error", "RFC 8461 §4", "MX lookup failed"),
    "mx_none": Code("warning", "RFC 5321 §5.1", "No MX and no address"),
    "mx_implicit": Code("info", "RFC 5321 §5.1", "Implicit MX"),
    "mx_null": Code("info", "RFC 7505", "Null MX"),
    "mx_not_covered": Code("error", "RFC 8461 §4.1", "MX not covered by policy", True),
    "mx_pattern_unused": Code("info", "RFC 8461 §4.1", "Policy mx pattern unused"),
    "mx_address_blocked": Code("warning", "RFC 8461 §4", "MX on a private address"),
    "mx_host_unresolvable": Code("warning", "RFC 5321 §5.1", "MX host has no address"),
    "mx_not_checked": Code("warning", "RFC 8461 §4", "MX hosts not checked"),
    "mx_timeout": Code("warning", "RFC 8461 §4.2", "SMTP probe timed out"),
    "mx_unreachable": Code("warning", "RFC 8461 §4.2", "MX port 25 unreachable"),
    "mx_starttls_missing": Code("error", "RFC 8461 §4.2", "MX lacks STARTTLS", True),
    "mx_tls_failed": Code("error", "RFC 8461 §4.2", "MX TLS handshake failed", True),
    "mx_cert_invalid": Code("error", "RFC 8461 §4.2", "MX certificate invalid", True),
    "cert_expiring": Code("warning", "RFC 8461 §4.2", "Certificate expires soon"),
    "mx_tls_version_old": Code("error", "RFC 8461 §7.2", "MX TLS version too old", True),
    "tlsrpt_missing": Code("warning", "RFC 8460 §3", "No TLS-RPT record"),
    "tlsrpt_lookup_failed": Code("warning", "RFC 8460 §3", "TLS-RPT lookup failed"),
    "tlsrpt_invalid": Code("warning", "RFC 8460 §3", "Invalid TLS-RPT record"),
    "tlsrpt_multiple": Code("warning", "RFC 8460 §3", "Several TLS-RPT records"),
}


def mode_severity(mode: Mode | None) -> Severity:
    """Weight of an MX-side failure under a policy mode (contract: enforce/testing/none)."""
    if mode == "enforce":
        return "error"
    if mode == "testing":
        return "warning"
    return "info"


def finding(
    code: str,
    subject: str,
    message: str,
    fix: str | None = None,
    *,
    mode: Mode | None = None,
) -> Finding:
    """Build a finding with the catalogue's severity and reference.

    `mode` is required for the mode-dependent MX codes; it sets their severity.
    """
    spec = CODES[code]
    severity = spec.severity
    if spec.mode_dependent:
        severity = mode_severity(mode)
    return Finding(
        code=code, severity=severity, subject=subject, message=message, ref=spec.ref, fix=fix
    )


def consequence(mode: Mode | None) -> str:
    """What an MX-side failure does to mail, in words, under a mode."""
    if mode == "enforce":
        return "MTA-STS senders will refuse to deliver to it"
    if mode == "testing":
        return (
            "in testing mode mail still flows, but senders report the failure "
            "and it breaks delivery as soon as you switch to enforce"
        )
    return "the policy is not enforced, so mail still flows"


def cap_per_code(findings: list[Finding], subject: str, *, where: str = "") -> list[Finding]:
    """At most MAX_FINDINGS_PER_CODE findings of each code, then one per code saying how
    many more (on `subject`, with the severity of those it stands for), so a hostile
    record, policy or zone cannot make a report of thousands of lines.

    A summary already made (by a parser, `more_like_these`) is kept as it is when its
    code stays within the cap, else its count joins the new summary's."""
    cap = limits.MAX_FINDINGS_PER_CODE
    seen: dict[str, int] = {}
    out: list[Finding] = []
    dropped: dict[str, list[Finding]] = {}
    summaries: dict[str, list[Finding]] = {}
    for f in findings:
        if f.more:
            summaries.setdefault(f.code, []).append(f)
            continue
        seen[f.code] = seen.get(f.code, 0) + 1
        if seen[f.code] <= cap:
            out.append(f)
        else:
            dropped.setdefault(f.code, []).append(f)
    for code, made in summaries.items():
        if code not in dropped:
            out += made
    for code, rest in dropped.items():
        names = list(dict.fromkeys(f.subject for f in rest if f.subject != subject))[:3]
        shown = f" ({', '.join(names)}, …)" if names else ""
        count = len(rest) + sum(f.more for f in summaries.get(code, ()))
        out.append(more_like_these(rest[0], count, subject, f"{where}{shown}"))
    return out


def more_like_these(
    like: Finding | str, count: int, subject: str, where: str = "", what: str = "findings"
) -> Finding:
    """The one finding that stands for `count` more of the same code (`like`, a finding
    or a code) beyond the cap: "And 12 more findings like these in the policy."."""
    template = like if isinstance(like, Finding) else finding(like, subject, "")
    message = f"And {count} more {what} like these{where}."
    return dataclasses.replace(template, subject=subject, message=message, fix=None, more=count)


@dataclass(slots=True)
class Capped:
    """A parse's problems of one code: the first MAX_FINDINGS_PER_CODE in words, then
    only counted, so a hostile input costs no message (nor finding) per problem."""

    messages: list[str] = field(default_factory=list)
    more: int = 0
    cap: int = field(default_factory=lambda: limits.MAX_FINDINGS_PER_CODE)

    @property
    def full(self) -> bool:
        return len(self.messages) >= self.cap

    def __bool__(self) -> bool:
        return bool(self.messages or self.more)

    def add(self, message: str) -> None:
        if len(self.messages) >= self.cap:
            self.more += 1
        else:
            self.messages.append(message)

    def findings(
        self, code: str, subject: str, fix: str | None, *, consequence: str = "", where: str = ""
    ) -> list[Finding]:
        """One finding per message (capitalised, then `consequence`), then the summary."""
        after = f" {consequence}" if consequence else ""
        out = [
            finding(code, subject, f"{m[:1].upper()}{m[1:]}.{after}", fix) for m in self.messages
        ]
        if self.more:
            out.append(more_like_these(code, self.more, subject, where))
        return out
