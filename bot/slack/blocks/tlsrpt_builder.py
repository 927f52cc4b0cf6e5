"""TLS-RPT reports explained, as a Slack message; and the answer to a file that is no report.

Pure: a `Summary` (and, once the policy domains were checked afresh, their
`DomainCheck`s) in, a `{"text": ..., "blocks": [...]}` payload out, within
Block Kit's limits whatever the reports hold. Everything taken from a report
(names, hosts, policy lines, reason codes) is escaped for mrkdwn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.reports.compare import STATE_LABEL, DomainCheck, State
from bot.reports.limits import (
    MAX_GROUPS_SHOWN,
    MAX_NOTES_SHOWN,
    MAX_POLICIES_SHOWN,
    MAX_REASONS_SHOWN,
    MAX_SENDERS_SHOWN,
)
from bot.reports.reading import Unreadable
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
from bot.slack.blocks.parts import (
    MAX_MESSAGE_BLOCKS,
    MESSAGE_CHAR_BUDGET,
    Block,
    block_chars,
    context,
    header,
    section,
)
from bot.slack.mrkdwn import escape, inline_code, prose, truncate

Checks = Mapping[str, DomainCheck]

NOW_EMOJI: dict[State, str] = {
    "still_failing": ":x:",
    "fixed": ":white_check_mark:",
    "gone": ":white_check_mark:",
    "unknown": ":grey_question:",
    "not_checked": ":grey_question:",
}
HOST_CHARS = 120
NAME_CHARS = 100
VERDICT_CHARS = 600
DRIFT_LINES = 4
NOT_ALL_SHOWN = (
    "…and more that didn't fit in one message: `mtasts tlsrpt FILE` on the command line "
    "shows everything."
)


def build_report_message(
    summary: Summary, checks: Checks | None = None, *, checking: Sequence[str] = ()
) -> dict[str, Any]:
    """The summary: per sender and policy, failure groups with meaning and fix; with
    `checks`, whether each is still failing now; with `checking`, that checks are running."""
    builder = _Builder(checks)
    head = [header(_title(summary)), section(_overview(summary, checks))]
    tail = [context(*_footer(summary, checks, checking))]
    builder.reserve(head + tail)
    for sender in summary.senders[:MAX_SENDERS_SHOWN]:
        if not builder.sender(sender):
            break
    rest = summary.senders[MAX_SENDERS_SHOWN:]
    if rest and not builder.full:
        failed = sum(s.failures for s in rest)
        builder.note(
            f"…and {plural(len(rest), 'more sender')} ({plural(failed, 'failed session')})."
        )
    if builder.full:
        builder.blocks.append(context(NOT_ALL_SHOWN))
    return {"text": _fallback(summary), "blocks": head + builder.blocks + tail}


def build_unreadable_message(problems: Sequence[Unreadable]) -> dict[str, Any]:
    """What was shared is not a report: one sentence per file, nothing else."""
    if not problems:
        text = "I found no TLS-RPT report in that message."
        return {"text": text, "blocks": [section(f":warning: {text}")]}
    lines = [prose(p.reason, 600) for p in problems[:10]]
    if len(lines) == 1:
        return {"text": truncate(lines[0], 300), "blocks": [section(f":warning: {lines[0]}")]}
    body = "\n".join(f"• {line}" for line in lines)
    if len(problems) > 10:
        body += f"\n…and {len(problems) - 10} more files like these."
    intro = "I found no TLS-RPT report in these files:"
    return {"text": intro, "blocks": [section(f":warning: {intro}\n{body}")]}


# -- the parts ------------------------------------------------------------------------


def _domains(summary: Summary) -> list[str]:
    return summary.domains()


def _title(summary: Summary) -> str:
    domains = _domains(summary)
    noun = "TLS-RPT report" if summary.reports == 1 else "TLS-RPT reports"
    if len(domains) == 1:
        return f"{noun} for {domains[0]}"
    if domains:
        return f"{noun} for {len(domains)} domains"
    return noun


def _overview(summary: Summary, checks: Checks | None) -> str:
    starts = [s.start for s in summary.senders if s.start]
    ends = [s.end for s in summary.senders if s.end]
    span = period(min(starts) if starts else None, max(ends) if ends else None)
    who = plural(len(summary.senders), "sender")
    sessions = summary.successes + summary.failures
    lines = [f"{plural(summary.reports, 'report')} from {who}, {escape(span)}."]
    if summary.failures:
        share = summary.failures / sessions if sessions else 0.0
        lines.append(
            f":x: *{summary.failures:,} of {plural(sessions, 'session')} failed* "
            f"({_percent(share)}); the failures are grouped below, largest first."
        )
    elif sessions:
        lines.append(
            f":white_check_mark: *All {plural(sessions, 'session')} succeeded*: senders "
            "delivered over TLS as the policy asks."
        )
    else:
        lines.append("The reports count no sessions at all.")
    if checks:
        lines.append(_now_tally(summary, checks))
    return "\n".join(lines)


def _percent(share: float) -> str:
    percent = share * 100
    if 0 < percent < 0.1:
        return "<0.1 %"
    return f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"


def _now_tally(summary: Summary, checks: Checks) -> str:
    counts: dict[State, int] = {}
    for policy in summary.policies():
        check = checks.get(policy.domain or "")
        if check is None:
            continue
        for group in policy.groups.values():
            state = check.verdict(group).state
            counts[state] = counts.get(state, 0) + 1
    if not counts:
        return "Checked the policy domain just now: see its result below."
    parts = [
        f"{counts[state]} {label}" for state, label in STATE_LABEL.items() if counts.get(state)
    ]
    return "*Now:* " + ", ".join(parts) + " (compared with a check just now, posted below)."


def _fallback(summary: Summary) -> str:
    domains = _domains(summary)
    where = ", ".join(truncate(d, 60) for d in domains[:3]) or "no policy domain"
    sessions = summary.successes + summary.failures
    return escape(
        f"TLS-RPT: {summary.failures:,} of {sessions:,} sessions failed ({where})"
        if sessions
        else f"TLS-RPT: {plural(summary.reports, 'report')} ({where})"
    )


def _footer(summary: Summary, checks: Checks | None, checking: Sequence[str]) -> list[str]:
    lines: list[str] = []
    notes = summary.notes.sentences()
    if notes:
        shown = notes[:MAX_NOTES_SHOWN]
        more = f"; and {len(notes) - len(shown)} more" if len(notes) > len(shown) else ""
        lines.append("Read leniently: " + escape("; ".join(shown) + more) + ".")
    for problem in summary.problems[:3]:
        lines.append(f":warning: Not read: {prose(problem.reason, 400)}")
    if len(summary.problems) > 3:
        lines.append(f"…and {len(summary.problems) - 3} more files not read.")
    if checking:
        names = ", ".join(inline_code(d, 80) for d in checking[:5])
        why = "to see which failures are fixed" if summary.failures else "to compare"
        lines.append(f":hourglass_flowing_sand: Checking {names} now, {why}…")
    elif checks is not None:
        for check in checks.values():
            if check.report is None:
                lines.append(
                    f":warning: I couldn't check {inline_code(check.domain, 80)} now: "
                    f"{prose(check.error or 'no answer', 300)}"
                )
        unchecked = [d for d in summary.domains() if d not in checks]
        if unchecked:
            lines.append(
                f"I checked {plural(len(checks), 'domain')} of these reports (those with the "
                f"most failures); ask {inline_code('/mtasts ' + unchecked[0], 110)} for the "
                f"{plural(len(unchecked), 'other')}."
            )
    return lines or ["TLS-RPT is RFC 8460: receiving domains get daily reports of TLS failures."]


class _Builder:
    """Adds sections while they fit in one message (blocks and characters)."""

    def __init__(self, checks: Checks | None) -> None:
        self.checks = checks
        self.blocks: list[Block] = []
        self.block_room = MAX_MESSAGE_BLOCKS - 1  # one for the NOT_ALL_SHOWN note
        self.char_room = MESSAGE_CHAR_BUDGET - 300
        self.full = False
        self.explained: set[str] = set()  # result types already explained above

    def reserve(self, blocks: list[Block]) -> None:
        self.block_room -= len(blocks)
        self.char_room -= block_chars(blocks)

    def add(self, block: Block) -> bool:
        size = block_chars([block])
        if self.full or len(self.blocks) >= self.block_room or size > self.char_room:
            self.full = True
            return False
        self.blocks.append(block)
        self.char_room -= size
        return True

    def note(self, text: str) -> bool:
        return self.add(context(text))

    def sender(self, sender: SenderSummary) -> bool:
        contact = ""
        if sender.contacts:
            contact = " · " + ", ".join(inline_code(c, NAME_CHARS) for c in sender.contacts[:2])
        span = escape(period(sender.start, sender.end))
        line = (
            f"*From {prose(sender.organization, NAME_CHARS)}*{contact} · "
            f"{plural(sender.reports, 'report')} · {span}"
        )
        if not self.add(section(line)):
            return False
        policies = sender.sorted_policies()
        for policy in policies[:MAX_POLICIES_SHOWN]:
            if not self.policy(policy):
                return False
        rest = policies[MAX_POLICIES_SHOWN:]
        if rest:
            failed = sum(p.failures for p in rest)
            return self.note(
                f"…and {plural(len(rest), 'more policy', 'more policies')} from this sender "
                f"({plural(failed, 'failed session')})."
            )
        return True

    def policy(self, policy: PolicySummary) -> bool:
        check = self.checks.get(policy.domain or "") if self.checks is not None else None
        domain = inline_code(policy.domain, HOST_CHARS) if policy.domain else "an unnamed domain"
        emoji = ":x:" if policy.failures else ":white_check_mark:"
        what = (
            f"No policy found for {domain}"
            if policy.type == "no-policy-found"
            else f"{inline_code(policy.type, 40)} policy for {domain}"
        )
        lines = [
            f"{emoji} *{what}*: {plural(policy.successes, 'session')} succeeded, "
            f"*{policy.failures:,} failed* ({rate(policy)})"
        ]
        if policy.mx_hosts:
            hosts = ", ".join(inline_code(h, HOST_CHARS) for h in policy.mx_hosts[:4])
            more = f" and {len(policy.mx_hosts) - 4} more" if len(policy.mx_hosts) > 4 else ""
            lines.append(f"MX patterns the sender applied: {hosts}{more}")
        moved = check.drift(policy) if check is not None else None
        if moved is not None:
            lines.append(f":warning: {prose(moved.text, 400)}")
            for label, items in (
                ("In the report", moved.in_report),
                ("Published now", moved.published),
            ):
                if items:
                    shown = " · ".join(inline_code(t, 100) for t in items[:DRIFT_LINES])
                    lines.append(f"{label}: {shown}")
        if policy.undetailed:
            lines.append(
                f"_{plural(policy.undetailed, 'failed session')} came without failure details._"
            )
        if not self.add(section("\n".join(lines))):
            return False
        groups = policy.sorted_groups()
        for group in groups[:MAX_GROUPS_SHOWN]:
            if not self.add(section(self.group_text(group, policy, check))):
                return False
        rest = groups[MAX_GROUPS_SHOWN:]
        if rest:
            return self.note(
                f"…and {plural(len(rest), 'more failure group')} for this policy "
                f"({plural(sum(g.count for g in rest), 'session')})."
            )
        return True

    def group_text(
        self, group: FailureGroup, policy: PolicySummary, check: DomainCheck | None
    ) -> str:
        where = (
            inline_code(group.mx_host, HOST_CHARS)
            if group.mx_host
            else prose(group.where(), HOST_CHARS)
        )
        if group.mx_host and group.receiving_ip:
            where += f" ({inline_code(group.receiving_ip, 60)})"
        lines = [
            f"*{plural(group.count, 'session')}* · {inline_code(group.result_type, 60)} at {where}"
        ]
        if group.result_type in self.explained:
            lines.append("_What it means and the fix: as above._")
        else:
            self.explained.add(group.result_type)
            meaning, fix = explain(group.result_type, policy.domain)
            lines.append(prose(meaning, 400))
            lines.append(f"*Fix:* {prose(fix, 400)}")
        if group.reason_codes:
            codes = ", ".join(
                inline_code(c, 80) for c, _ in group.reason_codes.most_common(MAX_REASONS_SHOWN)
            )
            lines.append(f"Reason: {codes}")
        if check is not None:
            found = check.verdict(group)
            lines.append(
                f"*Now:* {NOW_EMOJI[found.state]} *{found.label}* — "
                f"{prose(found.text, VERDICT_CHARS)}"
            )
        return "\n".join(lines)
