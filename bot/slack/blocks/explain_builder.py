"""The "Explain in thread" reply: each problem in plain words, why mail is at risk, the fix.

Pure: a Report in, a `{"text": ..., "blocks": [...]}` payload out, within the
message limits.
"""

from __future__ import annotations

from typing import Any

from bot.checker.findings import CODES, consequence
from bot.checker.model import Finding, Mode, Report
from bot.slack.blocks.parts import (
    MAX_MESSAGE_BLOCKS,
    MESSAGE_CHAR_BUDGET,
    SEVERITY_EMOJI,
    Block,
    block_chars,
    context,
    section,
)
from bot.slack.blocks.result_builder import split_fix
from bot.slack.mrkdwn import code_block, escape, inline_code, prose

_NO_POLICY = (
    "Without a usable policy, senders treat the domain as if it had no MTA-STS at all: "
    "they use TLS only opportunistically, so an attacker on the path can strip STARTTLS "
    "or present any certificate and the mail is still delivered."
)
_WHY: dict[str, str] = {
    "record": _NO_POLICY,
    "policy": _NO_POLICY,
    "policy_max_age_short": (
        "Senders forget the policy after max_age, so between visits an attacker can "
        "block the policy fetch and downgrade delivery. Weeks are usual."
    ),
    "policy_key_duplicate": (
        "Senders disagree on which copy wins (the RFC keeps the first, some tools the "
        "last), so different senders may apply different policies."
    ),
    "policy_unknown_key": "Senders ignore the key; if it is a typo, the value you meant is lost.",
    "policy_content_type": (
        "Strict senders (for example Postfix with postfix-mta-sts-resolver) reject a "
        "policy that is not text/plain, so for them the domain has no MTA-STS."
    ),
    "mode_testing": (
        "In testing mode failures are only reported (via TLS-RPT); mail still flows over "
        "any TLS or none. Switch to enforce once reports are clean."
    ),
    "mode_none": "Mode none tells senders to drop the policy: mail is no longer protected.",
    "mx_lookup_failed": (
        "Senders that cannot look up your MX records cannot deliver at all until it works."
    ),
    "mx_none": "The domain receives no mail, so the policy protects nothing.",
    "mx_implicit": "Senders deliver to the domain's own address; make sure it runs a mail server.",
    "mx_null": "The domain accepts no mail, so an MTA-STS policy is pointless.",
    "mx_pattern_unused": "Harmless, but a leftover pattern can hide a migration gone wrong.",
    "mx_address_blocked": "Senders on the internet cannot reach a private address either.",
    "mx_host_unresolvable": "Senders skip an MX without an address and try the next one.",
    "mx_timeout": "The checker could not finish the probe; senders may see the same slowness.",
    "mx_unreachable": (
        "Often the checker's own network blocks port 25; if senders cannot reach it either, "
        "they queue mail for this host."
    ),
    "cert_expiring": (
        "When it expires, MTA-STS senders stop delivering (MX) or cannot fetch the "
        "policy (policy host). Renew it now."
    ),
    "tlsrpt": (
        "Without TLS-RPT you get no reports when senders fail to deliver over TLS, "
        "so you will not notice when a certificate or MX change breaks delivery."
    ),
}
_MODE_DEPENDENT = {code for code, spec in CODES.items() if spec.mode_dependent}


def why_it_matters(f: Finding, mode: Mode | None) -> str:
    """Why this finding puts mail at risk, given the policy's mode."""
    if f.code in _MODE_DEPENDENT:
        effect = consequence(mode)
        if effect in f.message:
            return ""  # the message already says it
        return f"For this host, {effect}."
    if f.code in _WHY:
        return _WHY[f.code]
    prefix = f.code.split("_", 1)[0]
    return _WHY.get(prefix, "")


def _explain(f: Finding, mode: Mode | None) -> str:
    title = CODES[f.code].title if f.code in CODES else f.code
    emoji = SEVERITY_EMOJI.get(f.severity, ":grey_question:")
    lines = [f"{emoji} *{escape(title)}* · {inline_code(f.subject, 100)}"]
    lines.append(f"*What it means:* {prose(f.message, 900)}")
    why = why_it_matters(f, mode)
    if why:
        lines.append(f"*Why it matters:* {escape(why)}")
    if f.fix:
        fix_prose, code = split_fix(f.fix)
        lines.append(f"*Fix:* {prose(fix_prose, 700)}" if fix_prose else "*Fix:*")
        if code:
            lines.append(code_block(code, 1200, full_text_in="the JSON report"))
    lines.append(f"_{escape(f.ref)}_")
    return "\n".join(lines)


def build_explain_message(report: Report) -> dict[str, Any]:
    """The threaded explanation of a report's findings."""
    domain = inline_code(report.domain, 253)
    findings = report.sorted_findings()
    problems = [f for f in findings if f.severity != "info"]
    infos = [f for f in findings if f.severity == "info"]
    blocks: list[Block] = []
    if not problems:
        mode = f" in `{report.mode}` mode" if report.mode else ""
        blocks.append(
            section(
                f":white_check_mark: Nothing to fix for {domain}: MTA-STS is working{mode} "
                "and every MX passed the checks that could be run."
            )
        )
        text = f"Nothing to fix for {report.domain}."
    else:
        n = len(problems)
        blocks.append(
            section(
                f"Here is what I found for {domain}, most serious first "
                f"({n} problem{'s' if n != 1 else ''})."
            )
        )
        text = f"{report.domain}: {n} problem{'s' if n != 1 else ''} explained."
    reserve = 2  # the infos line and the "more" note
    room = MESSAGE_CHAR_BUDGET - block_chars(blocks) - 1200
    shown = 0
    for f in problems:
        block = section(_explain(f, report.mode))
        size = block_chars([block])
        if len(blocks) >= MAX_MESSAGE_BLOCKS - reserve or size > room:
            break
        blocks.append(block)
        room -= size
        shown += 1
    rest = len(problems) - shown
    if rest:
        blocks.append(
            context(
                f"…and {rest} more; run `mtasts check {escape(report.domain)}` for the full list."
            )
        )
    if infos:
        notes = "; ".join(
            f"{escape(CODES[f.code].title if f.code in CODES else f.code)} "
            f"({inline_code(f.subject, 60)})"
            for f in infos[:12]
        )
        more = f" and {len(infos) - 12} more" if len(infos) > 12 else ""
        blocks.append(
            context(f":information_source: Worth knowing, nothing to fix: {notes}{more}.")
        )
    return {"text": escape(text), "blocks": blocks}
