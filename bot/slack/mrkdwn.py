"""Make untrusted text safe for Slack mrkdwn.

Slack mrkdwn gives `<`, `>` and `&` meaning: `<!channel>`, `<@U123>` and
`<https://evil|label>` mention people or disguise links. Everything that comes
from DNS, policy files, SMTP banners, certificates or users goes through
`escape` (prose) or `inline_code` / `code_block` (raw data) before it reaches a
mrkdwn text object.
"""

from __future__ import annotations

import re

ELLIPSIS = "…"
# A grave-like letter that looks like a backtick but cannot open or close a code span.
BACKTICK_STANDIN = "ˋ"
# C0/C1 controls (except newline and tab) and bidi/invisible formatting characters:
# they can hide or reorder text, so they are shown as U+FFFD.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape(text: str) -> str:
    """Escape `&`, `<` and `>` for mrkdwn (and hide control characters)."""
    text = _UNSAFE.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in `…` when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def inline_code(text: str, limit: int = 200) -> str:
    """A backtick code span showing `text` raw, safe for any input.

    `limit` bounds the characters of `text` shown (escaping may lengthen the
    result, by at most five times). Newlines become `⏎`, backticks a look-alike.
    """
    flat = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "⏎").replace("\t", " ")
    flat = flat.replace("`", BACKTICK_STANDIN)
    if not flat.strip():
        return "_(empty)_" if not flat else "` `"
    return "`" + escape(truncate(flat, limit)) + "`"


def code_block(text: str, limit: int = 2900, *, full_text_in: str = "the JSON report") -> str:
    """A ``` block showing `text` raw; the whole result is at most `limit` characters.

    When the text does not fit it is cut at a line or character boundary and a
    note follows the block: "… (N more characters; full text in <full_text_in>)".
    """
    body = text.replace("\r\n", "\n").replace("\r", "\n").replace("`", BACKTICK_STANDIN)
    body = body.replace("\t", "    ")
    if not body.strip():
        return "_(empty)_"
    fence = "```"
    whole = fence + escape(body) + fence
    if len(whole) <= limit:
        return whole
    note_template = "\n_{} ({} more characters; full text in {})_"
    hint = escape(full_text_in)
    max_note = len(note_template.format(ELLIPSIS, len(body), hint))
    budget = limit - 2 * len(fence) - max_note
    if budget <= 0:
        return truncate(escape(f"({len(body)} characters; full text in {full_text_in})"), limit)
    raw: list[str] = []
    used = 0
    for ch in body:
        used += len(escape(ch))
        if used > budget:
            break
        raw.append(ch)
    cut = "".join(raw)
    # Prefer to end on a whole line when one is near.
    newline = cut.rfind("\n")
    if newline > 0 and newline > len(cut) - 200:
        cut = cut[:newline]
    remaining = len(body) - len(cut)
    return fence + escape(cut) + fence + note_template.format(ELLIPSIS, remaining, hint)


def plain(text: str, limit: int) -> str:
    """Text for a plain_text object: controls hidden, cut to `limit` (no mrkdwn applies)."""
    return truncate(_UNSAFE.sub("\ufffd", text).replace("\n", " "), limit)


def safe(text: str, limit: int) -> str:
    """Prose for mrkdwn: cut to `limit` characters of the original, then escaped."""
    return escape(truncate(text, limit))


def prose(text: str, limit: int) -> str:
    """Untrusted prose for mrkdwn: cut, escaped, and code markers kept from breaking layout.

    Balanced single backticks are kept (a message may quote `mx: example.com`);
    ``` fences and an odd number of backticks are neutralised, so the text
    cannot open a code span or block that swallows what follows it.
    """
    out = escape(truncate(text, limit))
    if "```" in out or out.count("`") % 2:
        out = out.replace("`", BACKTICK_STANDIN)
    return out


# -- reading mrkdwn, for renderers (terminal, HTML screenshots) ----------------------
# Slack's grammar as far as our renderers need it. Private-use characters stand for
# atoms (code spans, links, emoji) while formatting markers are matched; renderers
# replace any private-use characters that come from input before using these.
PUA_BASE = 0xE000
PUA_SIZE = 0x1800
ATOM = re.compile(f"[{chr(PUA_BASE)}-{chr(PUA_BASE + PUA_SIZE - 1)}]")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"<([^<>\n]*)>")
SHORTCODE = re.compile(r"(?<![\w:]):([a-z0-9_+\-]*[a-z][a-z0-9_+\-]*):")
# Markers open after a non-word character and close before one (Slack's rule),
# around text that neither starts nor ends with whitespace.
MARK = re.compile(r"(?<![\w\\])([*_~])(?=\S)(.+?)(?<=\S)\1(?!\w)")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def unescape(text: str) -> str:
    """`&amp;`, `&lt;`, `&gt;` back to characters (for display only)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)
