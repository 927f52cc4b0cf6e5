"""Short messages: usage, errors, "Checking …", not-in-channel, rate limited."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.parts import MAX_MESSAGE_BLOCKS, context, section
from bot.slack.mrkdwn import escape, inline_code, prose, truncate

MAX_DOMAINS = 5


def build_help_message() -> dict[str, Any]:
    """How to use the bot (sent ephemerally)."""
    usage = (
        "*Check a domain's MTA-STS and TLS-RPT setup*\n"
        f"• `/mtasts example.com` — check one domain; add more (up to {MAX_DOMAINS}) "
        "separated by spaces: `/mtasts example.com example.org`.\n"
        "• Mention me in a channel I'm in: `@mtasts example.com` — I answer in the thread.\n"
        "• Or send me a direct message with the domain.\n"
        "You can paste a domain, an email address or a URL; I work out the domain."
    )
    watching = (
        "*Watch a domain*\n"
        "• `/mtasts watch example.com` — I check it regularly and post here when it gets "
        "worse or recovers, its mode or policy changes, its MX hosts change, or a "
        "certificate nears expiry.\n"
        "• `/mtasts unwatch example.com` to stop; `/mtasts watching` lists this "
        "conversation's watches (my Home tab lists the workspace's)."
    )
    buttons = (
        "*The buttons on a result*\n"
        "• *Policy file* — the policy exactly as fetched, with the HTTPS details.\n"
        "• *DNS records* — the TXT records at `_mta-sts` and `_smtp._tls`, and the MX records.\n"
        "• *MX & TLS* — each mail server's STARTTLS, TLS version and certificate.\n"
        "• *Explain in thread* — what each problem means for your mail and how to fix it.\n"
        "• *Re-check* — check again now, without the cached result.\n"
        "• *Watch* — watch the domain in this conversation."
    )
    reports = (
        "*TLS-RPT reports*\n"
        "Share a report file with me (`.json`, `.json.gz` or a `.zip` of them) in a direct "
        "message, or in a channel with a mention, or paste its JSON: I explain what failed, "
        "where and why, and check whether it is still broken."
    )
    text = (
        f"Usage: /mtasts example.com [more domains, up to {MAX_DOMAINS}], "
        "or mention @mtasts with a domain."
    )
    return {
        "text": text,
        "blocks": [
            section(usage),
            section(watching),
            section(buttons),
            section(reports),
            context("MTA-STS is RFC 8461; TLS-RPT is RFC 8460."),
        ],
    }


def build_error_message(message: str) -> dict[str, Any]:
    """An error for the person who asked; `message` is raw and gets escaped."""
    body = prose(message, 2500)
    return {
        "text": body,
        "blocks": [
            section(f":warning: {body}"),
            context("Type `/mtasts help` for usage."),
        ],
    }


def build_checking_message(domains: list[str]) -> dict[str, Any]:
    """The quick "Checking …" acknowledgement."""
    shown = domains[:MAX_DOMAINS]
    names = ", ".join(inline_code(d, 100) for d in shown) or "your domain"
    more = f" and {len(domains) - len(shown)} more" if len(domains) > len(shown) else ""
    text_names = ", ".join(truncate(d, 100) for d in shown)
    return {
        "text": escape(f"Checking {text_names}{more} …"),
        "blocks": [
            section(f":hourglass_flowing_sand: Checking {names}{more} — this takes a few seconds.")
        ],
    }


def build_explaining_message(domain: str) -> dict[str, Any]:
    """The placeholder an explanation replaces once the check is done."""
    return {
        "text": escape(f"Explaining {truncate(domain, 253)}…"),
        "blocks": [section(f":hourglass_flowing_sand: Explaining {inline_code(domain, 253)}…")],
    }


RECHECKING = ":hourglass_flowing_sand: Re-checking…"


def build_rechecking_message(domain: str) -> dict[str, Any]:
    """The private note that a re-check has started (when the message can't show it)."""
    return {
        "text": escape(f"Re-checking {truncate(domain, 253)}…"),
        "blocks": [section(f":hourglass_flowing_sand: Re-checking {inline_code(domain, 253)}…")],
    }


def build_not_in_channel_message(action: str, *, restricted: bool = False) -> dict[str, Any]:
    """Tell the person who clicked that the bot can't post here, and how to fix that.

    `restricted`: the bot may be a member, but the channel restricts posting
    (announcement-only, read-only or thread-only).
    """
    what = prose(action, 100) or "that"
    others = (
        "or use the *Policy file*, *DNS records* and *MX & TLS* buttons, "
        "which open a window just for you."
    )
    if restricted:
        body = (
            f"This channel restricts who can post in it, so I couldn't do *{what}* here. "
            f"Ask a channel manager to let me post — {others}"
        )
        text = f"This channel restricts posting, so I couldn't do {what} here."
        return {"text": text, "blocks": [section(body)]}
    body = (
        f"I can't post in this conversation, so I couldn't do *{what}* here. "
        f"Invite me with `/invite @mtasts` and click the button again — {others}"
    )
    return {
        "text": f"I can't post here; invite me with /invite @mtasts ({what}).",
        "blocks": [section(body)],
    }


def build_rate_limited_message(retry_after_s: int) -> dict[str, Any]:
    """Ask the person to wait before checking again."""
    wait = max(1, int(retry_after_s))
    unit = "second" if wait == 1 else "seconds"
    body = f":stopwatch: That's a lot of checks in a short time. Please try again in {wait} {unit}."
    return {"text": f"Too many checks; try again in {wait} {unit}.", "blocks": [section(body)]}


LEFT_OUT = "Part of the result didn't fit here; *Explain in thread* lists every finding."


def build_private_copy(message: dict[str, Any], note: str) -> dict[str, Any]:
    """`message` sent privately instead, led by `note` (ours, trusted mrkdwn) saying why.

    A message already at Slack's 50-block cap gives up one block for the note:
    never the header or the buttons (the last block), but the last finding.
    """
    blocks = list(message.get("blocks") or [])
    if not note:
        return {"text": message.get("text", ""), "blocks": blocks[:MAX_MESSAGE_BLOCKS]}
    while len(blocks) + 1 > MAX_MESSAGE_BLOCKS:
        del blocks[_least_needed(blocks)]
        if LEFT_OUT not in note:
            note = f"{note}\n{LEFT_OUT}"
    return {
        "text": f"{escape(note)}\n{message.get('text', '')}",
        "blocks": [section(note), *blocks],
    }


def _least_needed(blocks: list[dict[str, Any]]) -> int:
    """The index of the block to drop: the last section after the last divider (a
    finding), else the last block before the final one; never the first (header)."""
    last_divider = max((i for i, b in enumerate(blocks) if b.get("type") == "divider"), default=-1)
    for i in range(len(blocks) - 2, max(last_divider, 0), -1):
        if blocks[i].get("type") == "section":
            return i
    return max(1, len(blocks) - 2)
