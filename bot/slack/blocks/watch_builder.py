"""Messages of `/mtasts watch`, `unwatch` and `watching` (pure builders).

- `build_watch_confirmation`: the one in-channel message a watch posts ("Watching
  example.com here: …"): the baseline status and mode, how often, what alerts.
- `build_watch_result`, `build_unwatch_result`: what was done, per domain, for
  the caller alone.
- `build_watching_list`: this conversation's watches.
- refusals: past the limit, a conversation the bot cannot post in, the
  database unavailable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.checker.model import Report
from bot.slack.blocks.alert_builder import STATUS_WORDS, interval_words
from bot.slack.blocks.ids import ACTION_UNWATCH, numbered
from bot.slack.blocks.parts import (
    MAX_MESSAGE_BLOCKS,
    STATUS_EMOJI,
    Block,
    button,
    context,
    section,
)
from bot.slack.mrkdwn import escape, inline_code, prose, truncate
from bot.store.watches import WatchRow

WHAT_ALERTS = (
    "I post here when its status gets worse (and in that alert's thread when it recovers), "
    "its policy mode changes, its policy file changes without a new `id`, MX hosts are added "
    "or removed, or a certificate is 14, 7, 3 or 1 days from expiry."
)
MAX_LISTED = 45  # watches listed in one message (a section each, within 50 blocks)
_SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")


def build_watch_usage(max_domains: int) -> dict[str, Any]:
    body = (
        "*Watch domains here*\n"
        f"• `/mtasts watch example.com` — up to {max_domains} domains at a time; I check them "
        "now and then regularly, and post here when something changes.\n"
        "• `/mtasts unwatch example.com` — stop.\n"
        "• `/mtasts watching` — what this conversation watches."
    )
    return {"text": "Usage: /mtasts watch example.com", "blocks": [section(body)]}


def build_watch_ack() -> dict[str, Any]:
    """The slash command's immediate answer while the baseline checks run."""
    body = ":hourglass_flowing_sand: Checking first (the baseline), then I start watching…"
    return {"text": "Checking first, then I start watching…", "blocks": [section(body)]}


def build_watch_confirmation(
    reports: Sequence[Report], *, interval: float, resumed: Sequence[str] = ()
) -> dict[str, Any]:
    """The in-channel message of a watch: one section per domain, with an Unwatch button."""
    blocks: list[Block] = []
    names = []
    for n, report in enumerate(reports[: MAX_MESSAGE_BLOCKS - 2]):
        d = report.domain
        names.append(d)
        verb = "Watching again" if d in resumed else "Watching"
        mode = f"mode `{report.mode}`" if report.mode else "no usable policy"
        line = (
            f":eyes: *{verb} {inline_code(d, 253)} here.* Right now it "
            f"{STATUS_EMOJI[report.status]} {STATUS_WORDS[report.status]} ({mode})."
        )
        unwatch = button("Unwatch", numbered(ACTION_UNWATCH, n), d)
        blocks.append({**section(line), "accessory": unwatch})
    blocks.append(
        context(
            f"I check {'it' if len(names) == 1 else 'them'} {interval_words(interval)}. "
            + WHAT_ALERTS
        )
    )
    shown = ", ".join(names)
    return {"text": escape(truncate(f"Watching {shown} here", 300)), "blocks": blocks}


def build_watch_result(
    *,
    added: Sequence[str] = (),
    resumed: Sequence[str] = (),
    already: Sequence[str] = (),
    problems: Sequence[str] = (),
    interval: float,
) -> dict[str, Any]:
    """What a watch did, for the caller alone; `problems` are raw lines (escaped here)."""
    lines: list[str] = []
    if added:
        lines.append(
            f":white_check_mark: Now watching {_names(added)} here, {interval_words(interval)}."
        )
    if resumed:
        lines.append(f":white_check_mark: Watching {_names(resumed)} here again (it was paused).")
    if already:
        lines.append(f"Already watched here: {_names(already)} — nothing to do.")
    lines += [f":warning: {prose(p, 600)}" for p in problems]
    text = " ".join(lines) or "Nothing to watch."
    return {"text": truncate(text, 2900), "blocks": [section("\n".join(lines) or "Nothing to do.")]}


def build_unwatch_result(
    *, removed: Sequence[str], not_watched: Sequence[str], problems: Sequence[str] = ()
) -> dict[str, Any]:
    lines: list[str] = []
    if removed:
        lines.append(f":white_check_mark: Stopped watching {_names(removed)} here.")
    if not_watched:
        lines.append(
            f"Not watched in this conversation: {_names(not_watched)}. "
            "`/mtasts watching` lists what is."
        )
    lines += [f":warning: {prose(p, 600)}" for p in problems]
    body = "\n".join(lines) or "Nothing to unwatch."
    return {"text": truncate(body, 2900), "blocks": [section(body)]}


def build_cannot_watch_here(error: str | None) -> dict[str, Any]:
    """The bot could not post in this conversation, so it could not alert here either."""
    if error and error.startswith("restricted_action"):
        body = (
            ":no_entry: This channel restricts who can post in it, so I couldn't post alerts "
            "here and I'm not watching anything yet. Ask a channel manager to let me post, "
            "or watch from a direct message with me."
        )
    else:
        body = (
            ":no_entry: I can't post in this conversation, so I couldn't send alerts here "
            "and I'm not watching anything yet. Invite me with `/invite @mtasts` and try "
            "again — or watch from a direct message with me, and the alerts come there."
        )
    return {
        "text": "I can't post here, so I'm not watching anything yet.",
        "blocks": [section(body)],
    }


def build_limit_reached(*, count: int, limit: int, wanted: Sequence[str]) -> dict[str, Any]:
    room = max(limit - count, 0)
    body = (
        f":no_entry: This workspace watches {count} of at most {limit} domains, so I can't add "
        f"{_names(wanted)} ({room} more fit). Unwatch some first (the app's Home tab lists "
        "them all), or ask whoever runs this app to raise `MTASTS_WATCH_LIMIT`."
    )
    return {"text": f"Watch limit reached ({limit} per workspace).", "blocks": [section(body)]}


def build_store_unavailable(action: str) -> dict[str, Any]:
    body = (
        f":warning: I couldn't {escape(action)} just now: my database is not answering. "
        "Nothing was changed. Please try again in a minute."
    )
    return {"text": f"I couldn't {action} just now; please try again.", "blocks": [section(body)]}


def build_watching_list(rows: Sequence[WatchRow], *, now: float, interval: float) -> dict[str, Any]:
    """This conversation's watches: domain, status and mode, last and next check."""
    if not rows:
        body = (
            "This conversation watches no domains. `/mtasts watch example.com` starts; "
            f"I check {interval_words(interval)} and post here when something changes."
        )
        return {"text": "No domains watched here.", "blocks": [section(body)]}
    blocks: list[Block] = [
        section(f"*Watched here* ({len(rows)}), checked {interval_words(interval)}:")
    ]
    for n, row in enumerate(rows[:MAX_LISTED]):
        unwatch = button("Unwatch", numbered(ACTION_UNWATCH, n), row.domain)
        blocks.append({**section(watch_line(row, now=now)), "accessory": unwatch})
    if len(rows) > MAX_LISTED:
        blocks.append(context(f"…and {len(rows) - MAX_LISTED} more."))
    text = f"{len(rows)} domain{'s' if len(rows) != 1 else ''} watched here"
    return {"text": text, "blocks": blocks}


def watch_line(row: WatchRow, *, now: float, channel: bool = False) -> str:
    """One watch: domain (conversation), status and mode, last check, next check or paused."""
    parts = [f"*{inline_code(row.domain, 120)}*"]
    if channel:
        parts[0] += f" in {conversation(row.channel_id)}"
    if row.status in STATUS_EMOJI:
        mode = f"`{row.mode}`" if row.mode else "no usable policy"
        parts.append(f"{STATUS_EMOJI[row.status]} {STATUS_WORDS[row.status]} · {mode}")
    else:
        parts.append("not checked yet")
    if row.checked_at is not None:
        parts.append(f"checked {ago(now - row.checked_at)}")
    if row.paused:
        reason = _PAUSE_REASONS.get(row.paused_reason or "", row.paused_reason or "")
        parts.append(f":double_vertical_bar: *paused*: {escape(reason)}")
    elif row.next_check_at is not None:
        parts.append(f"next check {until(row.next_check_at - now)}")
    return " · ".join(parts)


_PAUSE_REASONS = {
    "channel_not_found": "the conversation is gone, or I was removed from it",
    "not_in_channel": "I was removed from this channel — invite me back and watch again",
    "is_archived": "the channel is archived",
    "account_inactive": "my Slack account was deactivated",
    "token_revoked": "my token was revoked",
    "invalid_auth": "Slack refused my token",
    "no_token": "this workspace has no installation of the app",
}


def conversation(channel_id: str) -> str:
    """A channel mention for an id Slack gave us (anything else is shown as code)."""
    if _SLACK_ID.fullmatch(channel_id):
        return f"<#{channel_id}>"
    return inline_code(channel_id, 32)


def ago(seconds: float) -> str:
    return f"{_span(seconds)} ago" if seconds >= 60 else "just now"


def until(seconds: float) -> str:
    return f"in {_span(seconds)}" if seconds >= 60 else "any moment"


def _span(seconds: float) -> str:
    s = max(int(seconds), 0)
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _names(domains: Sequence[str]) -> str:
    shown = [inline_code(d, 120) for d in domains[:10]]
    more = f" and {len(domains) - 10} more" if len(domains) > 10 else ""
    return ", ".join(shown) + more
