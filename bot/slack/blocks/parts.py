"""Small pure constructors of Block Kit dicts, with Slack's limits applied.

Every mrkdwn text object is built here with `"verbatim": true`, so Slack does
not auto-link or auto-mention inside it. Callers pass text that is already
escaped (see bot.slack.mrkdwn); these helpers only enforce lengths.
"""

from __future__ import annotations

from typing import Any

from bot.slack.mrkdwn import plain

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_PRIVATE_METADATA = 3000
# Slack rejects messages with about 13k characters of block content.
MESSAGE_CHAR_BUDGET = 11_000

SEVERITY_EMOJI = {"error": ":x:", "warning": ":warning:", "info": ":information_source:"}
STATUS_EMOJI = {"pass": ":white_check_mark:", "warn": ":warning:", "fail": ":x:"}


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn text object (already-escaped text), never empty, at most `limit` chars."""
    return {"type": "mrkdwn", "text": _cut_escaped(text, limit) or " ", "verbatim": True}


def plain_text(text: str, limit: int, *, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": plain(text, limit) or " ", "emoji": emoji}


def header(text: str) -> Block:
    return {"type": "header", "text": plain_text(text, MAX_HEADER_TEXT)}


def section(text: str, *, fields: list[str] | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if fields:
        block["fields"] = [mrkdwn(f, MAX_FIELD_TEXT) for f in fields[:MAX_FIELDS]]
    return block


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": plain_text(text, MAX_BUTTON_TEXT),
        "action_id": action_id[:255],
        "value": value[:MAX_BUTTON_VALUE],
    }


def _cut_escaped(text: str, limit: int) -> str:
    """Cut already-escaped mrkdwn without splitting an entity or leaving a code span open."""
    if len(text) <= limit:
        return text
    body = text[: max(limit - 4, 0)]
    amp = body.rfind("&")
    if amp != -1 and ";" not in body[amp:]:
        body = body[:amp]
    fences = body.count("```")
    if fences % 2:
        return body + "…```"
    if (body.count("`") - 3 * fences) % 2:
        return body + "…`"
    return body + "…"


def block_chars(blocks: list[Block]) -> int:
    """Characters of text in `blocks` (what counts against Slack's message size)."""
    total = 0
    stack: list[Any] = list(blocks)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            total += len(item)
    return total


def days(seconds: int) -> str:
    """`604800` → "7 days"; short spans in hours or seconds."""
    if seconds >= 86400:
        value = seconds / 86400
        shown = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        return f"{shown} day" + ("" if shown == "1" else "s")
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds} seconds"
