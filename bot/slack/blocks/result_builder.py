"""The result message of one domain's check: verdict, policy, MX table, findings, buttons.

Pure: a Report in, a `{"text": ..., "blocks": [...]}` payload out, within every
Block Kit limit whatever the report holds.
"""

from __future__ import annotations

import re
from typing import Any

from bot.checker.findings import CODES
from bot.checker.model import Finding, MxHost, Report, Tls
from bot.slack.blocks.ids import (
    ACTION_DNS,
    ACTION_EXPLAIN,
    ACTION_MX,
    ACTION_POLICY,
    ACTION_RECHECK,
    ACTION_WATCH,
)
from bot.slack.blocks.parts import (
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    MESSAGE_CHAR_BUDGET,
    SEVERITY_EMOJI,
    STATUS_EMOJI,
    Block,
    block_chars,
    button,
    context,
    days,
    divider,
    header,
    section,
)
from bot.slack.mrkdwn import code_block, escape, inline_code, prose

MX_ROWS_SHOWN = 10
FINDING_MESSAGE_CHARS = 700
FINDING_FIX_CHARS = 900
ACTIONS_BLOCK_ID = "mtasts_result_actions"

VERDICT = {
    "pass": "MTA-STS checks out",
    "warn": "works, with warnings",
    "fail": "MTA-STS has problems",
}

# "…: v=STSv1; id=…" — the text after the colon is a record to paste.
_FIX_CODE_START = re.compile(r":\s+(v=STSv1|v=TLSRPTv1|version:\s*STSv1)")


def build_result_message(report: Report, *, cached_age: float | None = None) -> dict[str, Any]:
    """The message posted for one checked domain."""
    status = report.status
    domain = report.domain
    head: list[Block] = [
        header(f"{STATUS_EMOJI[status]} {domain}: {VERDICT[status]}"),
        section(_summary(report), fields=_fields(report)),
        section(_mx_table(report)),
    ]
    tail: list[Block] = [
        context(_context_text(report, cached_age)),
        {
            "type": "actions",
            "block_id": ACTIONS_BLOCK_ID,
            "elements": [*result_buttons(domain), button("Watch", ACTION_WATCH, domain)],
        },
    ]
    blocks = head + _findings_blocks(report, head, tail) + tail
    return {"text": fallback_text(report), "blocks": blocks}


def result_buttons(domain: str) -> list[dict[str, Any]]:
    """The buttons every message about a domain's check carries (results and alerts)."""
    return [
        button("Policy file", ACTION_POLICY, domain),
        button("DNS records", ACTION_DNS, domain),
        button("MX & TLS", ACTION_MX, domain),
        button("Explain in thread", ACTION_EXPLAIN, domain),
        button("Re-check", ACTION_RECHECK, domain),
    ]


def fallback_text(report: Report) -> str:
    """Plain one-line summary for notifications and clients without blocks."""
    counts = _counts(report.findings)
    mode = report.mode or "no usable policy"
    parts = [f"{report.domain}: {VERDICT[report.status]}", f"mode {mode}"]
    parts.append(
        f"{counts['error']} error{'s' if counts['error'] != 1 else ''}, "
        f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}"
    )
    return escape(" · ".join(parts))


def _counts(findings: list[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity] += 1
    return counts


def _summary(report: Report) -> str:
    counts = _counts(report.findings)
    mode = report.mode
    if mode == "enforce" and report.status == "fail":
        meaning = (
            "The policy is *enforced*: senders that support MTA-STS deliver only over "
            "verified TLS to a listed MX, so the errors below make them refuse mail."
        )
    elif mode == "enforce":
        meaning = (
            "The policy is *enforced*: senders that support MTA-STS deliver mail here only "
            "over TLS to a listed MX with a valid certificate."
        )
    elif mode == "testing":
        meaning = (
            "The policy is in *testing* mode: senders report TLS problems but still "
            "deliver, so mail is not protected yet."
        )
    elif mode == "none":
        meaning = "The policy is in *none* mode: MTA-STS protection has been withdrawn."
    else:
        meaning = (
            "There is no usable MTA-STS policy, so senders fall back to opportunistic "
            "TLS and anyone on the path can downgrade it."
        )
    if report.status == "pass":
        tally = "Nothing to fix."
    else:
        bits = []
        if counts["error"]:
            bits.append(f"{counts['error']} error{'s' if counts['error'] != 1 else ''}")
        if counts["warning"]:
            bits.append(f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}")
        tally = "Found " + " and ".join(bits) + " (details below)."
    return f"{meaning}\n*{tally}*"


def _fields(report: Report) -> list[str]:
    mode = f"`{report.mode}`" if report.mode else "no usable policy"
    policy_id = inline_code(report.record.id, 40) if report.record and report.record.id else "—"
    if report.policy and report.policy.max_age is not None:
        age = report.policy.max_age
        max_age = f"{age:,} s ({days(age)})"
    else:
        max_age = "—"
    return [
        f"*Mode*\n{mode}",
        f"*Policy id*\n{policy_id}",
        f"*max_age*\n{max_age}",
        f"*TLS-RPT*\n{_tlsrpt_text(report)}",
    ]


def _tlsrpt_text(report: Report) -> str:
    if report.tlsrpt is None:
        codes = {f.code for f in report.findings}
        if "tlsrpt_lookup_failed" in codes:
            return ":warning: lookup failed"
        if "tlsrpt_multiple" in codes:
            return ":warning: several records (all ignored)"
        return ":warning: not set up"
    rua = report.tlsrpt.rua
    if not rua:
        return ":warning: record has no usable `rua`"
    shown = ", ".join(inline_code(r, 60) for r in rua[:3])
    more = f" and {len(rua) - 3} more" if len(rua) > 3 else ""
    return f":white_check_mark: reports to {shown}{more}"


def _mx_table(report: Report) -> str:
    title = "*MX hosts*"
    if not report.mx:
        return f"{title}\nNo MX hosts: this domain receives no mail."
    lines: list[str] = [title]
    budget = MAX_SECTION_TEXT - 120
    used = len(title)
    shown = 0
    for mx in report.mx[:MX_ROWS_SHOWN]:
        line = mx_row(mx, report)
        if used + len(line) + 1 > budget:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    rest = len(report.mx) - shown
    if rest:
        lines.append(f"…and {rest} more — see *MX & TLS*.")
    return "\n".join(lines)


def mx_row(mx: MxHost, report: Report) -> str:
    """One MX host as a line: name, preference, coverage by the policy, TLS (alerts use it too)."""
    host = inline_code(mx.host, 80)
    if mx.matched_by:
        cover = f"covered by {inline_code(mx.matched_by, 60)}"
    elif report.policy is None or not report.policy.mx:
        cover = "no policy patterns"
    else:
        cover = ":x: not covered"  # why, and the fix, are in the finding below
    return f"• {host} ({mx.preference}) · {cover} · {_tls_summary(mx.tls, report)}"


def _tls_summary(tls: Tls | None, report: Report) -> str:
    if tls is None:
        return "TLS not probed" if report.smtp_checked else "TLS not probed (SMTP off)"
    if not tls.reachable:
        return ":warning: port 25 unreachable"
    if not tls.starttls:
        return ":x: no STARTTLS"
    parts = ["STARTTLS :white_check_mark:"]
    if tls.cert_valid:
        until = f" until {prose(tls.not_after[:10], 10)}" if tls.not_after else ""
        parts.append(f"cert valid{until}")
    elif tls.cert_valid is False:
        why = f" ({prose(tls.cert_error, 80)})" if tls.cert_error else ""
        parts.append(f":x: cert invalid{why}")
    if tls.version:
        parts.append(prose(tls.version, 20))
    return " · ".join(parts)


def split_fix(fix: str) -> tuple[str, str | None]:
    """Split a fix into prose and the record/policy text to paste (if any)."""
    text = fix.strip()
    if "\n" in text:
        first, _, rest = text.partition("\n")
        if first.rstrip().endswith(":"):
            return first.strip(), rest.strip("\n")
        return "", text
    if text.startswith(("v=STSv1", "v=TLSRPTv1")):
        return "", text
    match = _FIX_CODE_START.search(text)
    if match:
        return text[: match.start() + 1], text[match.start(1) :]
    return text, None


def finding_text(f: Finding, *, message_chars: int, fix_chars: int) -> str:
    """One finding as mrkdwn: title, subject, message, fix (code block where it is text)."""
    title = CODES[f.code].title if f.code in CODES else f.code
    emoji = SEVERITY_EMOJI.get(f.severity, ":grey_question:")
    lines = [f"{emoji} *{escape(title)}* · {inline_code(f.subject, 80)}"]
    lines.append(prose(f.message, message_chars))
    if f.fix:
        fix_prose, code = split_fix(f.fix)
        if fix_prose:
            lines.append(f"*Fix:* {prose(fix_prose, fix_chars)}")
        if code:
            if not fix_prose:
                lines.append("*Fix:*")
            lines.append(code_block(code, fix_chars, full_text_in="the Explain thread"))
    lines.append(f"_{escape(f.ref)}_")
    return "\n".join(lines)


def _findings_blocks(report: Report, head: list[Block], tail: list[Block]) -> list[Block]:
    findings = report.sorted_findings()
    if not findings:
        return []
    blocks: list[Block] = [divider()]
    # Keep one block and some characters for the "and N more" note.
    block_room = MAX_MESSAGE_BLOCKS - len(head) - len(tail) - len(blocks) - 1
    char_room = MESSAGE_CHAR_BUDGET - block_chars(head) - block_chars(tail) - 300
    shown = 0
    for f in findings:
        block = section(
            finding_text(f, message_chars=FINDING_MESSAGE_CHARS, fix_chars=FINDING_FIX_CHARS)
        )
        size = block_chars([block])
        if shown >= block_room or size > char_room:
            break
        blocks.append(block)
        char_room -= size
        shown += 1
    rest = findings[shown:]
    if rest:
        counts = _counts(rest)
        what = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n)
        blocks.append(
            context(
                f"…and {len(rest)} more finding{'s' if len(rest) != 1 else ''} ({what}) "
                "— press *Explain in thread* for all of them."
            )
        )
    return blocks


def _context_text(report: Report, cached_age: float | None) -> str:
    when = report.checked_at.replace("T", " ").replace("Z", " UTC") if report.checked_at else ""
    parts = [f"Checked {prose(when, 40)}".rstrip()]
    parts[0] += f" in {_duration(report.duration_ms)}"
    if cached_age is not None:
        parts.append(f"cached {max(0, round(cached_age))}s ago")
    if not report.smtp_checked:
        parts.append("SMTP probes off")
    return " · ".join(parts)


def _duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"
