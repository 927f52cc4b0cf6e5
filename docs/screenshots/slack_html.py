"""Block Kit messages as a standalone HTML page that looks like Slack (for screenshots).

Pure functions: a payload (`{"text", "blocks"}`) in, an HTML string out; no
files, no network, no assets (the avatar is inline SVG, fonts are a system
stack). Supports what mtasts-bot posts: header, section (text, two-column
fields, button accessory), context, divider, actions (buttons), plus simple
image and rich_text fallbacks; anything else is skipped.

Payload text is never trusted as HTML. mrkdwn is read the way Slack reads it
(`&amp;`, `&lt;`, `&gt;` are the only entities; `<…>` is a link or mention),
then every piece of text is HTML-escaped and only then formatted: *bold*,
_italic_, ~strike~, `code`, ```pre```, links and `:emoji:` shortcodes (as
Unicode). The only tags in the output are the ones written here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from bot.slack.mrkdwn import ATOM as _ATOM
from bot.slack.mrkdwn import CODE_SPAN as _CODE_SPAN
from bot.slack.mrkdwn import LINK as _LINK
from bot.slack.mrkdwn import MARK as _MARK
from bot.slack.mrkdwn import PUA_BASE as _PUA
from bot.slack.mrkdwn import PUA_SIZE as _PUA_SIZE
from bot.slack.mrkdwn import SHORTCODE as _SHORTCODE
from bot.slack.mrkdwn import unescape as _unescape_entities

# Shortcode -> Unicode, for the emoji mtasts-bot uses (and a few common ones).
# Unknown shortcodes are shown as typed, as Slack does for emoji it doesn't know.
EMOJI: dict[str, str] = {
    "white_check_mark": "\u2705",
    "heavy_check_mark": "\u2714\ufe0f",
    "x": "\u274c",
    "warning": "\u26a0\ufe0f",
    "information_source": "\u2139\ufe0f",
    "grey_question": "\u2754",
    "question": "\u2753",
    "hourglass_flowing_sand": "\u23f3",
    "hourglass": "\u231b",
    "stopwatch": "\u23f1\ufe0f",
    "lock": "\U0001f512",
    "closed_lock_with_key": "\U0001f510",
    "no_entry": "\u26d4",
    "bulb": "\U0001f4a1",
    "email": "\U0001f4e7",
    "envelope": "\u2709\ufe0f",
    "mag": "\U0001f50d",
    "tada": "\U0001f389",
    "rotating_light": "\U0001f6a8",
    "red_circle": "\U0001f534",
    "large_green_circle": "\U0001f7e2",
    "large_yellow_circle": "\U0001f7e1",
    "eyes": "\U0001f440",
    "memo": "\U0001f4dd",
    "incoming_envelope": "\U0001f4e8",
    "arrow_down": "\u2b07\ufe0f",
    "arrow_up": "\u2b06\ufe0f",
    "double_vertical_bar": "\u23f8\ufe0f",
}

# Control, bidi and private-use characters are shown as U+FFFD: they could hide
# or reorder text, and private-use characters stand for atoms below.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ue000-\uf8ff]"
)
_MARK_TAG = {"*": "b", "_": "i", "~": "s"}
_SAFE_SCHEME = re.compile(r"^(https?|mailto):", re.IGNORECASE)

AVATAR_SVG = (
    '<svg viewBox="0 0 36 36" width="36" height="36" aria-hidden="true">'
    '<rect width="36" height="36" rx="6" fill="#1264a3"/>'
    '<rect x="7" y="11" width="22" height="15" rx="2" fill="#fff"/>'
    '<path d="M7.8 12 18 20 28.2 12" fill="none" stroke="#1264a3" stroke-width="2"/>'
    '<circle cx="27" cy="25" r="6" fill="#2bac76" stroke="#1264a3" stroke-width="1.5"/>'
    '<path d="M24.3 25.1 26.3 27 29.8 23.3" fill="none" stroke="#fff" stroke-width="1.8" '
    'stroke-linecap="round" stroke-linejoin="round"/>'
    "</svg>"
)

CSS = """
* { box-sizing: border-box; }
html, body { margin: 0; background: #fff; }
body {
  font-family: "Slack-Lato", Lato, "Helvetica Neue", Helvetica, Arial, "Liberation Sans",
    "Noto Sans", sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
  font-size: 15px; line-height: 1.46668; color: #1d1c1d;
  -webkit-font-smoothing: antialiased; font-variant-ligatures: common-ligatures;
}
.page { padding: 8px 0; display: flow-root; }
.message { display: flex; padding: 8px 20px; }
.avatar { flex: none; width: 36px; height: 36px; margin: 4px 8px 0 0; }
.avatar svg { display: block; border-radius: 6px; }
.content { flex: 1 1 auto; min-width: 0; }
.meta { line-height: 1.38; margin-bottom: 1px; }
.name { font-weight: 900; }
.app {
  display: inline-block; margin-left: 4px; padding: 1px 3px; border-radius: 2px;
  background: rgba(29, 28, 29, 0.13); color: rgba(29, 28, 29, 0.7);
  font-size: 10px; font-weight: 700; line-height: 1.25; vertical-align: 1px;
}
.time { margin-left: 6px; color: #616061; font-size: 12px; }
.block { margin: 4px 0; overflow-wrap: anywhere; }
.header { font-size: 18px; font-weight: 900; line-height: 1.33; margin: 6px 0 8px; }
.section { display: flex; gap: 12px; align-items: flex-start; }
.section-body { flex: 1 1 auto; min-width: 0; }
.section-accessory { flex: none; }
.fields {
  display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));
  column-gap: 16px; row-gap: 8px; margin-top: 8px; max-width: 640px;
}
.context {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px;
  color: #616061; font-size: 13px; line-height: 1.38;
}
.context code { font-size: 11px; }
.divider { border: 0; border-top: 1px solid rgba(29, 28, 29, 0.13); margin: 12px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 4px; }
.button {
  display: inline-flex; align-items: center; height: 28px; padding: 0 12px;
  border: 1px solid rgba(29, 28, 29, 0.3); border-radius: 4px; background: #fff;
  color: #1d1c1d; font-size: 13px; font-weight: 700; white-space: nowrap;
}
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
code {
  font-family: Monaco, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
  font-size: 12px; line-height: 1.5; color: #e01e5a; background: rgba(29, 28, 29, 0.04);
  border: 1px solid rgba(29, 28, 29, 0.13); border-radius: 3px; padding: 2px 3px 1px;
}
pre {
  font-family: Monaco, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
  font-size: 12px; line-height: 1.50001; color: #1d1c1d; background: rgba(29, 28, 29, 0.04);
  border: 1px solid rgba(29, 28, 29, 0.13); border-radius: 4px; padding: 8px;
  margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere;
}
b { font-weight: 900; }
a { color: #1264a3; text-decoration: none; }
.mention {
  color: #1264a3; background: rgba(29, 155, 209, 0.1); border-radius: 3px; padding: 0 2px;
}
.emoji { font-family: "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", sans-serif;
  font-weight: 400; font-style: normal; }
.image { color: #616061; font-style: italic; }
"""


# -- text --------------------------------------------------------------------------


def _clean(value: Any) -> str:
    """A payload value as text with unsafe characters hidden ("" for non-strings)."""
    return _UNSAFE.sub("\ufffd", value) if isinstance(value, str) else ""


def _unescape(text: str) -> str:
    """Slack's three mrkdwn entities back to the characters they stand for."""
    return _unescape_entities(text)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _emoji(name: str) -> str:
    symbol = EMOJI.get(name)
    if symbol is None:
        return _esc(f":{name}:")
    return f'<span class="emoji" title=":{_esc(name)}:">{symbol}</span>'


def plain_html(text: Any) -> str:
    """A plain_text object's text: escaped, with emoji shortcodes as Unicode."""
    text = _clean(text)
    out: list[str] = []
    pos = 0
    for m in _SHORTCODE.finditer(text):
        out.append(_esc(text[pos : m.start()]))
        out.append(_emoji(m.group(1)))
        pos = m.end()
    out.append(_esc(text[pos:]))
    return "".join(out)


def _link(inner: str) -> str:
    """`<target|label>`: a link, a user/channel mention or a special mention."""
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in ("here", "channel", "everyone"):
            return f'<span class="mention">@{_esc(name)}</span>'
        return f'<span class="mention">{_esc(_unescape(label) or "@group")}</span>'
    if target.startswith("@"):
        return f'<span class="mention">@{_esc(_unescape(label) or target[1:])}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{_esc(_unescape(label) or target[1:])}</span>'
    url = _unescape(target)
    shown = _esc(_unescape(label) or url)
    if _SAFE_SCHEME.match(url):
        return f'<a href="{_esc(url)}">{shown}</a>'
    return f"<a>{shown}</a>"


def _marks(escaped: str) -> str:
    """*bold*, _italic_ and ~strike~ (nested too) applied to already-escaped HTML text."""
    out: list[str] = []
    pos = 0
    for m in _MARK.finditer(escaped):
        out.append(escaped[pos : m.start()])
        tag = _MARK_TAG[m.group(1)]
        out.append(f"<{tag}>{_marks(m.group(2))}</{tag}>")
        pos = m.end()
    out.append(escaped[pos:])
    return "".join(out)


def _inline(text: str) -> str:
    """mrkdwn outside ``` blocks (unsafe characters already hidden) as HTML."""
    atoms: list[str] = []

    def stash(fragment: str) -> str:
        if len(atoms) >= _PUA_SIZE:
            return ""
        atoms.append(fragment)
        return chr(_PUA + len(atoms) - 1)

    s = _CODE_SPAN.sub(lambda m: stash(f"<code>{_esc(_unescape(m.group(1)))}</code>"), text)
    s = _LINK.sub(lambda m: stash(_link(m.group(1))), s)
    s = _SHORTCODE.sub(lambda m: stash(_emoji(m.group(1))), s)
    # Escape everything that is left (atoms are private-use characters, untouched),
    # then apply the formatting markers, then put the atoms back.
    formatted = _marks(_esc(_unescape(s)))
    formatted = formatted.replace("\n", "<br>")
    return _ATOM.sub(lambda m: atoms[ord(m.group()) - _PUA], formatted)


def mrkdwn_html(text: Any) -> str:
    """A mrkdwn string as HTML; ``` blocks become <pre> (an unclosed fence is literal)."""
    text = _clean(text)
    parts = text.split("```")
    if len(parts) % 2 == 0:
        parts = [*parts[:-2], parts[-2] + "```" + parts[-1]]
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<pre>{_esc(_unescape(part.strip(chr(10))))}</pre>")
            continue
        if i > 0 and part.startswith("\n"):
            part = part[1:]
        if i < len(parts) - 1 and part.endswith("\n"):
            part = part[:-1]
        out.append(_inline(part))
    return "".join(out)


def text_html(obj: Any) -> str:
    """A text object (mrkdwn or plain_text) as HTML."""
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(obj.get("text"))
    return plain_html(obj.get("text")).replace("\n", "<br>")


# -- blocks ------------------------------------------------------------------------


def _element(element: Any) -> str:
    """An interactive element shown as a Slack button (its label, never its value)."""
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind == "image":
        return f'<span class="image">[{_esc(_clean(element.get("alt_text")))}]</span>'
    label = element.get("text") or element.get("placeholder")
    shown = plain_html(label.get("text")) if isinstance(label, dict) else ""
    if kind == "overflow":
        shown = "\u22ee"
    elif not shown:
        shown = _esc(str(kind or "element"))
    style = element.get("style")
    extra = f" {style}" if style in ("primary", "danger") else ""
    return f'<span class="button{extra}">{shown}</span>'


def _header(block: dict[str, Any]) -> str:
    text = block.get("text")
    label = plain_html(text.get("text")) if isinstance(text, dict) else ""
    return f'<div class="block header">{label}</div>'


def _section(block: dict[str, Any]) -> str:
    body = ""
    if block.get("text") is not None:
        body += f"<div>{text_html(block.get('text'))}</div>"
    fields = [f for f in _as_list(block.get("fields")) if isinstance(f, dict)]
    if fields:
        cells = "".join(f"<div>{text_html(f)}</div>" for f in fields)
        body += f'<div class="fields">{cells}</div>'
    accessory = block.get("accessory")
    side = f'<div class="section-accessory">{_element(accessory)}</div>' if accessory else ""
    return f'<div class="block section"><div class="section-body">{body}</div>{side}</div>'


def _context(block: dict[str, Any]) -> str:
    items = []
    for element in _as_list(block.get("elements")):
        if isinstance(element, dict) and element.get("type") == "image":
            items.append(_element(element))
        else:
            items.append(f"<span>{text_html(element)}</span>")
    return f'<div class="block context">{"".join(items)}</div>'


def _divider(_block: dict[str, Any]) -> str:
    return '<hr class="divider">'


def _actions(block: dict[str, Any]) -> str:
    buttons = "".join(_element(e) for e in _as_list(block.get("elements")))
    return f'<div class="block actions">{buttons}</div>'


def _image(block: dict[str, Any]) -> str:
    return f'<div class="block image">[image: {_esc(_clean(block.get("alt_text")))}]</div>'


def _rich_text(block: dict[str, Any]) -> str:
    """rich_text, simplified: its text runs, escaped, one paragraph per element."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                texts.append(_esc(_clean(node.get("text"))).replace("\n", "<br>"))
            elif node.get("type") == "emoji":
                texts.append(_emoji(_clean(node.get("name"))))
            for child in _as_list(node.get("elements")):
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(block)
    return f'<div class="block">{"".join(texts)}</div>'


_BLOCKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "image": _image,
    "rich_text": _rich_text,
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def blocks_html(payload: dict[str, Any]) -> str:
    """The body of one message: its blocks, or its `text` as mrkdwn when it has none."""
    blocks = [b for b in _as_list(payload.get("blocks")) if isinstance(b, dict)]
    if not blocks:
        return f'<div class="block">{mrkdwn_html(payload.get("text"))}</div>'
    out = []
    for block in blocks:
        render = _BLOCKS.get(str(block.get("type")))
        if render is not None:
            out.append(render(block))
    return "\n".join(out)


def message_html(payload: dict[str, Any], *, name: str = "mtasts", time: str = "9:41 AM") -> str:
    """One Slack message: avatar, "name APP time", then the blocks."""
    return (
        '<div class="message">'
        f'<div class="avatar">{AVATAR_SVG}</div>'
        '<div class="content">'
        f'<div class="meta"><span class="name">{_esc(name)}</span>'
        '<span class="app">APP</span>'
        f'<span class="time">{_esc(time)}</span></div>\n'
        f"{blocks_html(payload)}"
        "</div></div>"
    )


def page_html(
    messages: Sequence[dict[str, Any]],
    *,
    name: str = "mtasts",
    times: Sequence[str] = (),
    title: str = "mtasts-bot in Slack",
) -> str:
    """A standalone HTML page showing `messages` one after another, as in a channel."""
    body = "\n".join(
        message_html(m, name=name, time=times[i] if i < len(times) else "9:41 AM")
        for i, m in enumerate(messages)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title>"
        f"<style>{CSS}</style></head>\n"
        f'<body><div class="page">\n{body}\n</div></body></html>\n'
    )
