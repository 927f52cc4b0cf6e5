"""Alerts of watched domains: one message per event, from (previous state, new report).

Pure: `build_alert(event, previous, report, interval=...)` returns a
`{"text", "blocks"}` payload: a header naming the domain and what happened,
what changed (before → after), what it does to mail in the current mode, the
findings concerned with their fixes (the same texts as a check), and the
result buttons plus Unwatch. `build_resolved` turns a posted alert into its
"resolved" version (for chat.update when `recovered` closes its incident).

Everything from DNS, policy files or certificates is escaped here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.checker.findings import CODES
from bot.checker.model import Finding, Report
from bot.slack.blocks.ids import (
    ACTION_UNWATCH,
)
from bot.slack.blocks.parts import (
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS,
    MESSAGE_CHAR_BUDGET,
    SEVERITY_EMOJI,
    Block,
    block_chars,
    button,
    context,
    days,
    divider,
    header,
    section,
)
from bot.slack.blocks.result_builder import finding_text, mx_row, result_buttons
from bot.slack.mrkdwn import code_block, escape, inline_code, prose, truncate
from bot.watch.events import (
    CERT_EXPIRING,
    MODE_CHANGED,
    MX_CHANGED,
    POLICY_CHANGED,
    RECOVERED,
    WORSE,
    Event,
)
from bot.watch.state import CertState, DomainState, FindingKey, normalise_policy

ALERT_ACTIONS_BLOCK_ID = "mtasts_alert_actions"
RESOLVED_BLOCK_ID = "mtasts_resolved"
MAX_FINDINGS_SHOWN = 8
FINDING_MESSAGE_CHARS = 600
FINDING_FIX_CHARS = 700
MAX_DIFF_LINES = 40

STATUS_WORDS = {"pass": "checks out", "warn": "warnings", "fail": "failing"}
MODE_RANK = {"none": 0, "testing": 1, "enforce": 2}


def build_alert(
    event: Event, previous: DomainState, report: Report, *, interval: float
) -> dict[str, Any]:
    """The message for one event of a watched domain."""
    build = _BUILDERS[event.kind]
    title, text, body = build(event, previous, report)
    blocks: list[Block] = [header(title), *body]
    tail = [
        context(_context(report, interval)),
        actions(report.domain),
    ]
    return {"text": escape(text), "blocks": _fit(blocks, tail)}


def actions(domain: str) -> Block:
    """The buttons under an alert: the result message's, with Unwatch in place of Watch."""
    return {
        "type": "actions",
        "block_id": ALERT_ACTIONS_BLOCK_ID,
        "elements": [*result_buttons(domain), button("Unwatch", ACTION_UNWATCH, domain)],
    }


def build_resolved(payload: dict[str, Any], *, status: str, when: str) -> dict[str, Any]:
    """An opening alert, updated to say its incident is resolved (now `status`)."""
    blocks = [
        b
        for b in payload.get("blocks") or []
        if isinstance(b, dict) and b.get("block_id") != RESOLVED_BLOCK_ID
    ]
    note = {
        **section(
            f":white_check_mark: *Resolved* {prose(when, 40)}: now "
            f"{STATUS_WORDS.get(status, status)}. The thread says what changed."
        ),
        "block_id": RESOLVED_BLOCK_ID,
    }
    if blocks and blocks[0].get("type") == "header":
        head = blocks[0]["text"]["text"]
        if not head.startswith("Resolved: "):
            head = truncate(f"Resolved: {head}", MAX_HEADER_TEXT)
        blocks = [header(head), note, *blocks[1:]]
    else:
        blocks = [note, *blocks]
    text = str(payload.get("text") or "")
    if not text.startswith("Resolved: "):
        text = f"Resolved: {text}"
    return {"text": text, "blocks": blocks}


# -- the events ------------------------------------------------------------------------

Built = tuple[str, str, list[Block]]  # (header, text fallback, body blocks)


def _worse(event: Event, previous: DomainState, report: Report) -> Built:
    d = report.domain
    before, after = _words(event.before), _words(event.after)
    count = f"{len(event.findings)} new problem{'s' if len(event.findings) != 1 else ''}"
    if event.before == event.after:  # still failing, and now the policy is not usable either
        title = f":rotating_light: {d}: the policy is no longer usable"
        text = f"{d}: the policy is no longer usable, still {after} ({count})"
        changed = f"*Status:* still *{after}*, and the policy is no longer usable: {count}."
    else:
        title = f":rotating_light: {d} got worse: {before} → {after}"
        text = f"{d} got worse: {before} → {after} ({count})"
        changed = f"*Status:* {before} → *{after}*. New since the last check: {count}."
    body = [section(changed), section(_meaning(report))]
    if previous.usable and report.mode is None:
        body.append(section(_sender_cache(previous, report)))
    body += _finding_blocks(report, event.findings)
    return title, text, body


def _recovered(event: Event, previous: DomainState, report: Report) -> Built:
    d = report.domain
    before, after = _words(event.before), _words(event.after)
    whole = report.status == "pass"
    verb = "recovered" if whole else "is better"
    title = f":white_check_mark: {d} {verb}: {before} → {after}"
    text = f"{d} {verb}: {before} → {after}"
    lines = [f"*Status:* {before} → *{after}*."]
    if event.findings:
        lines.append("*Fixed:*")
        lines += [_key_line(k) for k in event.findings[:MAX_FINDINGS_SHOWN]]
        if len(event.findings) > MAX_FINDINGS_SHOWN:
            lines.append(f"…and {len(event.findings) - MAX_FINDINGS_SHOWN} more.")
    body = [section("\n".join(lines))]
    left = [f for f in report.sorted_findings() if f.severity != "info"]
    if left:
        rest = "\n".join(_finding_line(f) for f in left[:MAX_FINDINGS_SHOWN])
        more = len(left) - min(len(left), MAX_FINDINGS_SHOWN)
        tail = f"\n…and {more} more." if more else ""
        body.append(section(f"*Still open:*\n{rest}{tail}"))
    else:
        body.append(section("Nothing left to fix."))
    return title, text, body


def _mode_changed(event: Event, previous: DomainState, report: Report) -> Built:
    d = report.domain
    old, new = event.before or "?", event.after or "?"
    down = MODE_RANK.get(new, 0) < MODE_RANK.get(old, 0)
    emoji = ":arrow_down:" if down else ":arrow_up:"
    if new == "none":
        what = "MTA-STS withdrawn"
    elif down:
        what = "mode downgraded"
    else:
        what = "mode raised"
    title = f"{emoji} {d}: {what} ({old} → {new})"
    text = f"{d}: {what}, {old} → {new}"
    changed = f"*Mode:* `{old}` → *`{new}`* (the policy's `id` is now {_id(report)})."
    body = [section(changed), section(_mode_meaning(old, new))]
    cached = previous.policy
    if down and cached is not None and cached.max_age is not None:
        until = _plus(cached.fetched_at, cached.max_age)
        body.append(
            section(
                f"Senders that cached the `{old}` policy keep applying it for up to its max_age "
                f"({days(cached.max_age)}) after they fetched it — until about {until} for "
                "one that fetched it when I last did."
            )
        )
    body += _finding_blocks(report, event.findings)
    return title, text, body


def _policy_changed(event: Event, previous: DomainState, report: Report) -> Built:
    d = report.domain
    cached = previous.policy
    policy_id = _id(report)
    title = f":memo: {d}: policy changed, but its id did not"
    text = (
        f"{d}: the policy changed but its id ({report.record.id if report.record else '?'}) did not"
    )
    old_text = cached.text if cached is not None else ""
    new_text = normalise_policy(report.policy.text) if report.policy is not None else ""
    diff = _diff(old_text, new_text)
    changed = (
        f"The policy file at `https://mta-sts.{escape(d)}/.well-known/mta-sts.txt` changed "
        f"while the TXT record kept `id` {policy_id}. Senders decide whether to fetch the policy "
        "again by its `id`, so those holding the old policy keep using it."
    )
    body: list[Block] = [section(changed)]
    if diff:
        body.append(section("*What changed* (− old, + new):\n" + code_block(diff, 1500)))
    max_age = cached.max_age if cached is not None else None
    keep = (
        f"up to its max_age ({days(max_age)}) after they last fetched it"
        if max_age is not None
        else "until their cached copy expires"
    )
    body.append(section(f"{_policy_change_meaning(report.mode)} They keep the old one {keep}."))
    new_id = _suggested_id(report.checked_at)
    fix = (
        "*Fix:* publish a new `id` in the `_mta-sts` TXT record, so senders fetch the new policy "
        "the next time they send mail here:\n"
        + code_block(f'_mta-sts.{d}. TXT "v=STSv1; id={new_id}"', 600)
    )
    body.append(section(fix))
    body += _finding_blocks(report, event.findings)
    return title, text, body


def _mx_changed(event: Event, previous: DomainState, report: Report) -> Built:
    d = report.domain
    title = f":incoming_envelope: {d}: MX hosts changed"
    bits = []
    if event.added:
        bits.append(f"{len(event.added)} added")
    if event.removed:
        bits.append(f"{len(event.removed)} removed")
    text = f"{d}: MX hosts changed ({', '.join(bits)})"
    hosts = {m.host: m for m in report.mx}
    lines: list[str] = []
    if event.added:
        lines.append("*Added:*")
        for name in event.added[:10]:
            mx = hosts.get(name)
            lines.append(mx_row(mx, report) if mx is not None else f"• {inline_code(name, 80)}")
    if event.removed:
        lines.append("*Removed:* " + ", ".join(inline_code(h, 80) for h in event.removed[:10]))
    before = ", ".join(inline_code(h, 60) for h in previous.mx[:8]) or "none"
    lines.append(f"_Before:_ {before}")
    body = [section("\n".join(lines))]
    uncovered = [m for m in report.mx if m.host in event.added and m.matched_by is None]
    body.append(section(_mx_meaning(report, bool(uncovered))))
    body += _finding_blocks(report, event.findings)
    return title, text, body


def _cert_expiring(event: Event, previous: DomainState, report: Report) -> Built:
    d = report.domain
    cert: CertState = event.certs[0]
    left = cert.days_left if cert.days_left is not None else 0
    when = (cert.not_after or "")[:10] or "soon"
    is_policy = cert.where == "policy"
    where = (
        "the policy host"
        if is_policy
        else "on " + ", ".join(inline_code(c.where, 45) for c in event.certs[:6])
    )
    span = f"{left} day{'s' if left != 1 else ''}" if left > 0 else "less than a day"
    title = f":hourglass_flowing_sand: {d}: a certificate expires in {span}"
    text = f"{d}: the certificate of {cert.host} expires on {when} ({span} left)"
    said = (
        f"The certificate of {inline_code(cert.host, 80)} ({where}) expires on "
        f"*{prose(when, 20)}*: {span} left (I say so at 14, 7, 3 and 1 days)."
    )
    body = [section(said), section(_cert_meaning(report, is_policy))]
    body.append(section("*Fix:* renew it now, and check that automatic renewal works."))
    body += _finding_blocks(report, event.findings)
    return title, text, body


_BUILDERS: dict[str, Callable[[Event, DomainState, Report], Built]] = {
    WORSE: _worse,
    RECOVERED: _recovered,
    MODE_CHANGED: _mode_changed,
    POLICY_CHANGED: _policy_changed,
    MX_CHANGED: _mx_changed,
    CERT_EXPIRING: _cert_expiring,
}


# -- what it means, per mode -------------------------------------------------------------


def _meaning(report: Report) -> str:
    mode, status = report.mode, report.status
    if mode == "enforce" and status == "fail":
        return (
            "The policy is *enforced*: senders that support MTA-STS refuse to deliver where "
            "the errors below apply, so mail to this domain is bouncing or queueing now."
        )
    if mode == "enforce":
        return (
            "The policy is *enforced*; mail still flows, but the warnings below weaken it or "
            "break delivery as soon as they get worse."
        )
    if mode == "testing":
        return (
            "The policy is in *testing* mode: senders report these failures (TLS-RPT) but "
            "still deliver. They break delivery as soon as you switch to enforce."
        )
    if mode == "none":
        return "The policy is in *none* mode: MTA-STS is withdrawn, so nothing bounces."
    return (
        "There is *no usable policy* now: senders without a cached policy fall back to "
        "opportunistic TLS, which anyone on the path can downgrade."
    )


def _sender_cache(previous: DomainState, report: Report) -> str:
    cached = previous.policy
    assert cached is not None
    if cached.max_age is None:
        return "Senders that cached the last good policy keep applying it until it expires."
    until = _plus(cached.fetched_at, cached.max_age)
    last = _when(cached.fetched_at)
    return (
        f"*Until about {until}*, senders that fetched the last good policy (mode "
        f"`{cached.mode}`, last fetched {last}, max_age {days(cached.max_age)}) keep "
        "applying it: mail keeps flowing — or bouncing — as that policy says. After that "
        "they treat the domain as having no MTA-STS."
    )


def _mode_meaning(old: str, new: str) -> str:
    if new == "none":
        return (
            "Mode `none` tells senders to forget the policy: mail is no longer protected "
            "against downgrades. If that was not intended, publish `mode: enforce` again "
            "with a new `id`."
        )
    if new == "testing" and old == "enforce":
        return (
            "In testing mode senders no longer refuse mail when TLS fails: they only "
            "report it. Protection is off until you switch back to `mode: enforce` "
            "(with a new `id`)."
        )
    if new == "enforce":
        return (
            "Good news: senders that support MTA-STS now deliver here only over verified "
            "TLS to a listed MX. Anything below that fails now makes them refuse mail."
        )
    return "Senders apply the new mode once they fetch the policy again."


def _policy_change_meaning(mode: str | None) -> str:
    if mode == "enforce":
        return (
            "In enforce mode that matters: senders holding the old policy check your MX "
            "against the old `mx` lines, so mail to a host only the new policy lists is "
            "refused by them."
        )
    if mode == "testing":
        return (
            "In testing mode nothing bounces, but senders keep reporting against the old "
            "policy, so your TLS-RPT reports describe the old one."
        )
    if mode == "none":
        return (
            "If the change withdraws MTA-STS (mode `none`), senders holding the old policy "
            "keep enforcing its old mode."
        )
    return "Senders holding the old policy keep applying it."


def _mx_meaning(report: Report, uncovered: bool) -> str:
    mode = report.mode
    if not uncovered:
        return "Every new host is covered by the policy."
    if mode == "enforce":
        return (
            "A new host is *not covered* by the enforced policy: senders that support "
            "MTA-STS refuse to deliver to it. Add it to the policy's `mx` lines (and "
            "publish a new `id`)."
        )
    if mode == "testing":
        return (
            "A new host is not covered by the policy: in testing mode mail still flows but "
            "senders report it, and it breaks delivery once you enforce."
        )
    if mode == "none":
        return "A new host is not covered by the policy; in mode `none` nothing bounces."
    return "There is no usable policy, so the new hosts are not protected by MTA-STS."


def _cert_meaning(report: Report, is_policy: bool) -> str:
    mode = report.mode
    if is_policy:
        return (
            "When it expires, senders cannot fetch the policy any more: those that cached "
            "it keep it until max_age runs out, new ones see no MTA-STS at all."
        )
    if mode == "enforce":
        return (
            "When it expires, senders that support MTA-STS refuse to deliver to this MX "
            "(the policy is enforced)."
        )
    if mode == "testing":
        return (
            "When it expires, senders report failed TLS to this MX (testing mode, mail "
            "still flows) — and it breaks delivery once you enforce."
        )
    if mode == "none":
        return "When it expires, nothing bounces (mode `none`), but TLS to this MX fails."
    return "When it expires, TLS to this MX fails (there is no usable policy right now)."


# -- pieces ---------------------------------------------------------------------------


def _words(status: str | None) -> str:
    return STATUS_WORDS.get(status or "", status or "?")


def _id(report: Report) -> str:
    if report.record is not None and report.record.id:
        return inline_code(report.record.id, 40)
    return "—"


def _finding_blocks(report: Report, keys: tuple[FindingKey, ...]) -> list[Block]:
    """The findings of `report` that `keys` name, with their fixes, after a divider."""
    wanted = {(k.code, k.subject) for k in keys}
    findings = [f for f in report.sorted_findings() if (f.code, f.subject) in wanted]
    if not findings:
        return []
    blocks: list[Block] = [divider()]
    for f in findings[:MAX_FINDINGS_SHOWN]:
        blocks.append(
            section(
                finding_text(f, message_chars=FINDING_MESSAGE_CHARS, fix_chars=FINDING_FIX_CHARS)
            )
        )
    rest = len(findings) - MAX_FINDINGS_SHOWN
    if rest > 0:
        blocks.append(context(f"…and {rest} more — press *Explain in thread* for every finding."))
    return blocks


def _key_line(k: FindingKey) -> str:
    title = CODES[k.code].title if k.code in CODES else k.code
    emoji = SEVERITY_EMOJI.get(k.severity, ":grey_question:")
    return f"• ~{emoji} {escape(title)}~ · {inline_code(k.subject, 80)}"


def _finding_line(f: Finding) -> str:
    title = CODES[f.code].title if f.code in CODES else f.code
    return f"• {SEVERITY_EMOJI.get(f.severity, '')} {escape(title)} · {inline_code(f.subject, 80)}"


def _diff(old: str, new: str) -> str:
    old_lines, new_lines = old.split("\n"), new.split("\n")
    removed = [f"- {line}" for line in old_lines if line not in new_lines]
    added = [f"+ {line}" for line in new_lines if line not in old_lines]
    lines = removed + added
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)


def _suggested_id(checked_at: str) -> str:
    digits = "".join(c for c in checked_at if c.isalnum() and c != "Z")
    return digits[:15] if len(digits) >= 8 else "20260101T000000"


def _parse(iso: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def _when(iso: str) -> str:
    moment = _parse(iso)
    if moment is None:
        return prose(iso, 30)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plus(iso: str, seconds: int) -> str:
    moment = _parse(iso)
    if moment is None:
        return "their cache expires"
    return (
        (moment + dt.timedelta(seconds=seconds)).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )


def interval_words(seconds: float) -> str:
    """3600 → "every hour", 1800 → "every 30 minutes", 2 → "every 2 seconds"."""
    s = round(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size and s % size == 0:
            n = s // size
            return f"every {unit}" if n == 1 else f"every {n} {unit}s"
    return "every second" if s == 1 else f"every {s} seconds"


def _context(report: Report, interval: float) -> str:
    return (
        f"Checked {_when(report.checked_at)} · I check this domain {interval_words(interval)} "
        "and post here when something changes."
    )


def _fit(blocks: list[Block], tail: list[Block]) -> list[Block]:
    """Keep the message within Slack's size: drop findings from the end, never the buttons."""
    budget = MESSAGE_CHAR_BUDGET - block_chars(tail)
    while len(blocks) > 2 and (
        block_chars(blocks) > budget or len(blocks) + len(tail) > MAX_MESSAGE_BLOCKS
    ):
        blocks.pop()
    return blocks + tail
