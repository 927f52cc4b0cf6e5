"""The summary of TLS-RPT reports for the terminal (`mtasts tlsrpt`), and as JSON.

Colour only when asked. Text from reports has its control characters made
visible, as everywhere on the terminal.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from bot.checker.render_text import clean
from bot.reports.compare import DomainCheck, State
from bot.reports.limits import (
    MAX_GROUPS_SHOWN,
    MAX_NOTES_SHOWN,
    MAX_POLICIES_SHOWN,
    MAX_REASONS_SHOWN,
    MAX_SENDERS_SHOWN,
)
from bot.reports.result_types import explain
from bot.reports.summary import (
    FailureGroup,
    PolicySummary,
    SenderSummary,
    Summary,
    period,
    plural,
    rate,
)

Checks = Mapping[str, DomainCheck]

_COLOURS = {"red": "31", "yellow": "33", "green": "32", "dim": "2", "bold": "1"}
_STATE_STYLE: dict[State, tuple[str, str]] = {
    "still_failing": ("STILL FAILING", "red"),
    "fixed": ("FIXED SINCE", "green"),
    "gone": ("NO LONGER APPLIES", "green"),
    "unknown": ("CAN'T TELL", "yellow"),
    "not_checked": ("NOT CHECKED", "dim"),
}
WIDTH = 100


class _Out:
    def __init__(self, colour: bool, width: int) -> None:
        self.colour, self.width = colour, max(width, 40)
        self.lines: list[str] = []

    def paint(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        return "".join(f"\033[{_COLOURS[s]}m" for s in styles) + text + "\033[0m"

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def wrapped(self, text: str, indent: int, *, first: str = "", style: str = "") -> None:
        """`text` wrapped under `indent` spaces; `first` (already laid out) leads line one."""
        lead = " " * indent
        rows = textwrap.wrap(
            clean(text),
            self.width,
            initial_indent=lead + first,
            subsequent_indent=lead + " " * len(first),
            break_on_hyphens=False,
        )
        for row in rows or [lead + first]:
            self.add(self.paint(row, style) if style else row)


def render(
    summary: Summary,
    checks: Checks | None = None,
    *,
    colour: bool = False,
    width: int = WIDTH,
    problems: bool = True,
) -> str:
    """The whole summary: per sender, per policy, failure groups with verdicts when checked."""
    out = _Out(colour, width)
    senders = summary.senders
    if summary.reports:
        who = plural(len(senders), "sender")
        out.add(out.paint(f"TLS-RPT: {plural(summary.reports, 'report')} from {who}", "bold"))
    for sender in senders[:MAX_SENDERS_SHOWN]:
        out.add()
        _sender(out, sender, checks)
    if len(senders) > MAX_SENDERS_SHOWN:
        rest = senders[MAX_SENDERS_SHOWN:]
        failed = sum(s.failures for s in rest)
        out.add()
        out.add(f"…and {plural(len(rest), 'more sender')} ({plural(failed, 'failed session')})")
    _footer(out, summary, checks, problems=problems)
    return "\n".join(out.lines).strip("\n")


def _sender(out: _Out, sender: SenderSummary, checks: Checks | None) -> None:
    contact = f" ({', '.join(sender.contacts[:2])})" if sender.contacts else ""
    span = period(sender.start, sender.end)
    head = f"{clean(sender.organization)}{clean(contact)}"
    out.add(out.paint(head, "bold") + f" · {plural(sender.reports, 'report')} · {span}")
    policies = sender.sorted_policies()
    for policy in policies[:MAX_POLICIES_SHOWN]:
        _policy(out, policy, checks)
    if len(policies) > MAX_POLICIES_SHOWN:
        rest = policies[MAX_POLICIES_SHOWN:]
        out.add(
            f"  …and {plural(len(rest), 'more policy', 'more policies')} "
            f"({plural(sum(p.failures for p in rest), 'failed session')})"
        )


def policy_line(policy: PolicySummary) -> str:
    """ "sts policy for example.com: 5,326 sessions succeeded, 303 failed (5.4 %)"."""
    domain = policy.domain or "an unnamed domain"
    counts = (
        f"{plural(policy.successes, 'session')} succeeded, {policy.failures:,} failed "
        f"({rate(policy)})"
    )
    if policy.type == "no-policy-found":
        return f"no policy found for {domain}: {counts}"
    return f"{policy.type} policy for {domain}: {counts}"


def _policy(out: _Out, policy: PolicySummary, checks: Checks | None) -> None:
    tint = "red" if policy.failures else "green"
    out.wrapped(policy_line(policy), 2, style=tint)
    check = checks.get(policy.domain) if checks is not None and policy.domain else None
    if check is not None and (moved := check.drift(policy)) is not None:
        out.wrapped(moved.text, 4, style="yellow")
        for line in moved.in_report[:5]:
            out.wrapped(line, 6, first="in the report:  ")
        for line in moved.published[:5]:
            out.wrapped(line, 6, first="published now:  ")
    groups = policy.sorted_groups()
    for group in groups[:MAX_GROUPS_SHOWN]:
        _group(out, group, policy, check, checks is not None)
    if len(groups) > MAX_GROUPS_SHOWN:
        rest = groups[MAX_GROUPS_SHOWN:]
        out.add(
            f"    …and {plural(len(rest), 'more failure group')} "
            f"({plural(sum(g.count for g in rest), 'session')})"
        )
    if policy.undetailed:
        out.add(f"    {plural(policy.undetailed, 'failed session')} without failure details")


def _group(
    out: _Out,
    group: FailureGroup,
    policy: PolicySummary,
    check: DomainCheck | None,
    checked: bool,
) -> None:
    meaning, fix = explain(group.result_type, policy.domain)
    count = f"{group.count:,}".rjust(7)
    out.wrapped(
        f"{group.result_type} at {group.where()}",
        2,
        first=out.paint(count, "bold") + "  ",
    )
    pad = 2 + 7 + 2
    out.wrapped(meaning, pad)
    if group.reason_codes:
        codes = ", ".join(c for c, _ in group.reason_codes.most_common(MAX_REASONS_SHOWN))
        out.wrapped(codes, pad, first="reason: ")
    out.wrapped(fix, pad, first="fix: ")
    if check is not None:
        verdict = check.verdict(group)
        label, tint = _STATE_STYLE[verdict.state]
        out.wrapped(f"{label} — {verdict.text}", pad, first="now: ", style=tint)
    elif checked and policy.domain:
        out.wrapped("not checked afresh (too many domains at once)", pad, first="now: ")


def _footer(out: _Out, summary: Summary, checks: Checks | None, *, problems: bool) -> None:
    notes = summary.notes.sentences()
    if notes:
        out.add()
        shown = notes[:MAX_NOTES_SHOWN]
        more = f"; and {len(notes) - len(shown)} more" if len(notes) > len(shown) else ""
        out.wrapped("Read leniently: " + "; ".join(shown) + more + ".", 0, style="dim")
    if summary.problems and problems:
        out.add()
        for problem in summary.problems:
            out.wrapped(problem.reason, 0, first="Not read: ", style="yellow")
    failed = [c for c in (checks or {}).values() if c.report is None]
    if failed:
        out.add()
        for check in failed:
            why = check.error or "no answer"
            out.wrapped(f"Could not check {check.domain} now: {why}", 0, style="yellow")


def to_json(summary: Summary, checks: Checks | None = None) -> dict[str, Any]:
    """The summary as JSON; with checks, each failure group's verdict and policy drift."""
    data = summary.to_json()
    if checks is None:
        return data
    for sender_json, sender in zip(data["senders"], summary.senders, strict=True):
        for policy_json, policy in zip(
            sender_json["policies"], sender.sorted_policies(), strict=True
        ):
            check = checks.get(policy.domain) if policy.domain else None
            moved = check.drift(policy) if check is not None else None
            policy_json["policy_differs"] = (
                None
                if moved is None
                else {
                    "text": moved.text,
                    "only_in_report": list(moved.in_report),
                    "only_published": list(moved.published),
                }
            )
            for group_json, group in zip(
                policy_json["failure_groups"], policy.sorted_groups(), strict=True
            ):
                if check is None:
                    group_json["now"] = {"state": "not_checked", "text": "not checked afresh"}
                else:
                    found = check.verdict(group)
                    group_json["now"] = {"state": found.state, "text": found.text}
    data["checks"] = {
        domain: (
            {
                "status": c.report.status,
                "mode": c.report.mode,
                "checked_at": c.report.checked_at,
            }
            if c.report is not None
            else {"error": c.error}
        )
        for domain, c in checks.items()
    }
    return data
