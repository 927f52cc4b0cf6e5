"""Reading a block_actions payload: who clicked, where, and which domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.checker.domain import DomainError, normalise_domain


@dataclass(frozen=True, slots=True)
class Click:
    action_id: str
    value: str
    domain: str | None  # None when the value is not a domain (never from our buttons)
    team: str | None
    user: str | None
    channel: str | None
    message_ts: str | None
    is_ephemeral: bool
    trigger_id: str | None
    # The thread the clicked message is in: its parent's ts for a reply (results of
    # mentions and DMs are thread replies), else the message's own ts.
    thread_ts: str | None = None
    message_text: str = ""
    message_blocks: list[dict[str, Any]] | None = None  # the clicked message's blocks, if sent
    enterprise: str | None = None  # Enterprise Grid organisation, when there is one


def read_click(body: dict[str, Any]) -> Click:
    """The click in `body`; fields it lacks (or has in an odd shape) are None/empty."""
    try:
        return _read(body)
    except (AttributeError, TypeError, IndexError, KeyError):
        return Click("", "", None, None, None, None, None, False, None)


def _read(body: dict[str, Any]) -> Click:
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions[0], dict) else {}
    value = str(action.get("value") or "")
    container = body.get("container") or {}
    message = body.get("message") or {}
    if not isinstance(message, dict):
        message = {}
    message_ts = container.get("message_ts") or message.get("ts")
    blocks = message.get("blocks")
    if not (isinstance(blocks, list) and blocks and all(isinstance(b, dict) for b in blocks)):
        blocks = None
    text = message.get("text")
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return Click(
        action_id=str(action.get("action_id") or ""),
        value=value,
        domain=domain_of(value),
        team=team,
        user=(body.get("user") or {}).get("id"),
        channel=channel,
        message_ts=message_ts,
        is_ephemeral=bool(container.get("is_ephemeral")),
        trigger_id=body.get("trigger_id"),
        thread_ts=_first_str(message.get("thread_ts"), container.get("thread_ts"), message_ts),
        message_text=text if isinstance(text, str) else "",
        message_blocks=blocks,
        enterprise=enterprise_of(body),
    )


def enterprise_of(body: dict[str, Any]) -> str | None:
    """The Enterprise Grid organisation a payload comes from, if any: `enterprise_id`
    (commands, events) or `enterprise.id` (actions)."""
    value = body.get("enterprise_id")
    if value is None and isinstance(body.get("enterprise"), dict):
        value = body["enterprise"].get("id")
    return value if isinstance(value, str) and value else None


def domain_of(value: str) -> str | None:
    """A button's value as a normalised domain, or None when it is not one."""
    try:
        return normalise_domain(value)
    except (DomainError, ValueError, UnicodeError):
        return None


def _first_str(*values: object) -> str | None:
    return next((v for v in values if isinstance(v, str) and v), None)
