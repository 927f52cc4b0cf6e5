"""Block Kit messages and modals as terminal text: roughly what Slack would show.

Pure functions: a payload in, a string out. Headers are bold, mrkdwn becomes
terminal text (*bold*, _italic_, ~strike~, `code`, ``` blocks, links shown
with their target, `&amp;`/`&lt;`/`&gt;` unescaped), fields sit in two
columns, context lines are dimmed, dividers are rules and buttons look like
`[ Policy file ]`. Common emoji shortcodes become one-column symbols.

Every string read from the payload has its control characters, escape
sequences and invisible formatting characters made visible (`\\x1b`, `\\u202e`)
before anything else happens, so the only escape sequences in the output are
the colours added here, and only with `colour=True`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from itertools import zip_longest
from typing import Any

from bot.slack.mrkdwn import ATOM as _ATOM
from bot.slack.mrkdwn import CODE_SPAN as _CODE_SPAN
from bot.slack.mrkdwn import LINK as _LINK
from bot.slack.mrkdwn import MARK as _MARK
from bot.slack.mrkdwn import PUA_BASE as _PUA
from bot.slack.mrkdwn import PUA_SIZE as _PUA_SIZE
from bot.slack.mrkdwn import SHORTCODE as _SHORTCODE
from bot.slack.mrkdwn import unescape as _unescape_entities

Style = frozenset[str]
Span = tuple[str, Style]
Line = list[Span]

PLAIN: Style = frozenset()
MIN_WIDTH = 24
TWO_COLUMNS_FROM = 56  # narrower than this, fields are listed one per row
FIELD_GAP = 3

_SGR = {
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "underline": "4",
    "strike": "9",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
_RESET = "\033[0m"
_CODE_STYLE: Style = frozenset({"cyan"})

# Shortcode -> (symbol, colour). Symbols one column wide, so columns line up.
_EMOJI: dict[str, tuple[str, str]] = {
    "white_check_mark": ("✔", "green"),
    "heavy_check_mark": ("✔", "green"),
    "x": ("✖", "red"),
    "warning": ("⚠", "yellow"),
    "information_source": ("ℹ", "blue"),
    "grey_question": ("?", "dim"),
    "question": ("?", "yellow"),
    "hourglass_flowing_sand": ("⧗", "dim"),
    "hourglass": ("⧗", "dim"),
    "stopwatch": ("⏱", "dim"),
    "lock": ("🔒", ""),
    "no_entry": ("⛔", "red"),
    "bulb": ("💡", ""),
    # watching and alerts
    "eyes": ("◉", "blue"),
    "memo": ("✎", "yellow"),
    "rotating_light": ("‼", "red"),
    "incoming_envelope": ("✉", "yellow"),
    "arrow_down": ("↓", "yellow"),
    "arrow_up": ("↑", "green"),
    "double_vertical_bar": ("‖", "dim"),
}

# The mrkdwn grammar (code spans, links, emoji, markers) is shared with the HTML
# renderer of docs/screenshots, in bot/slack/mrkdwn.py; `visible` escapes the
# private-use characters it uses for atoms when they come from input.
_MARK_STYLE = {"*": "bold", "_": "italic", "~": "strike"}
_BULLET = re.compile(r"^(\s*(?:[•◦▪\-*]|\d{1,3}[.)])\s+)")


# -- making untrusted text safe ------------------------------------------------------


def visible(text: str) -> str:
    """`text` with every control or invisible formatting character shown as an escape.

    Newlines are kept and tabs become spaces; ESC becomes `\\x1b`, a bidi
    override `\\u202e`. Nothing that could move the cursor, recolour the
    terminal or reorder what is shown survives.
    """
    out: list[str] = []
    for ch in text:
        if ch == "\n" or (ch.isprintable() and not _is_private_use(ch)):
            out.append(ch)
        elif ch == "\t":
            out.append("    ")
        elif unicodedata.category(ch) == "Zs":
            out.append(" ")
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def _is_private_use(ch: str) -> bool:
    return unicodedata.category(ch) == "Co"


def _str(value: Any) -> str:
    """A payload value as safe text ("" when it is not a string)."""
    return visible(value) if isinstance(value, str) else ""


def _unescape(text: str) -> str:
    return _unescape_entities(text)


# -- widths and lines ----------------------------------------------------------------


@lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _text_width(text: str) -> int:
    return sum(_char_width(ch) for ch in text)


def _line_width(line: Line) -> int:
    return sum(_text_width(text) for text, _ in line)


def _plain_text_of(line: Line) -> str:
    return "".join(text for text, _ in line)


def _restyle(lines: list[Line], extra: Style) -> list[Line]:
    return [[(text, style | extra) for text, style in line] for line in lines]


def _prefix(lines: list[Line], prefix: Span) -> list[Line]:
    return [[prefix, *line] for line in lines]


def _wrap(line: Line, width: int) -> list[Line]:
    """Greedy word wrap by display width; bullets get a hanging indent.

    A word is everything between whitespace, across style changes: `(`, a code
    span and `)` stay together.
    """
    if _line_width(line) <= width:
        return [line]
    match = _BULLET.match(_plain_text_of(line))
    hang = " " * min(_text_width(match.group(1)), width // 2) if match else ""
    tokens: list[tuple[bool, Line]] = []  # (is whitespace, spans)
    for text, style in line:
        for piece in re.split(r"(\s+)", text):
            if not piece:
                continue
            space = piece.isspace()
            if not space and tokens and not tokens[-1][0]:
                tokens[-1][1].append((piece, style))
            else:
                tokens.append((space, [(piece, style)]))
    out: list[Line] = []
    current: Line = []
    used = 0

    def next_line() -> None:
        nonlocal current, used
        out.append(_rstrip(current))
        current, used = ([(hang, PLAIN)] if hang else []), _text_width(hang)

    for space, word in tokens:
        size = _line_width(word)
        if space:
            if current:
                current += word
                used += size
            continue
        if used + size > width and _line_width(_rstrip(current)) > _text_width(hang):
            next_line()
        if used + size <= width:
            current += word
            used += size
            continue
        for text, style in word:  # a word longer than the line: hard-split it
            while text:
                if used >= width or (
                    _char_width(text[0]) > width - used and used > _text_width(hang)
                ):
                    next_line()
                head, text = _split_at_width(text, width - used)
                current.append((head, style))
                used += _text_width(head)
    if current:
        out.append(_rstrip(current))
    return out


def _rstrip(line: Line) -> Line:
    out = list(line)
    while out and out[-1][0].isspace():
        out.pop()
    return out


def _split_at_width(text: str, width: int) -> tuple[str, str]:
    used = 0
    for i, ch in enumerate(text):
        used += _char_width(ch)
        if used > width:
            return (text[:i], text[i:]) if i else (text[:1], text[1:])
    return text, ""


def _hard_wrap(line: Line, width: int) -> list[Line]:
    """Cut a line (code) at `width` columns without looking for word breaks."""
    out: list[Line] = []
    current: Line = []
    used = 0
    for text, style in line:
        while text:
            head, text = _split_at_width(text, max(width - used, 1))
            current.append((head, style))
            used += _text_width(head)
            if text:
                out.append(current)
                current, used = [], 0
    out.append(current)
    return out


def _emit(line: Line, colour: bool) -> str:
    merged: Line = []
    for text, style in line:
        if merged and merged[-1][1] == style:
            merged[-1] = (merged[-1][0] + text, style)
        elif text:
            merged.append((text, style))
    parts: list[str] = []
    for text, style in merged:
        codes = [_SGR[s] for s in sorted(style) if s in _SGR]
        if colour and codes and text:
            parts.append(f"\033[{';'.join(codes)}m{text}{_RESET}")
        else:
            parts.append(text)
    return "".join(parts).rstrip()


# -- mrkdwn --------------------------------------------------------------------------


def _link(inner: str) -> Span:
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in ("here", "channel", "everyone"):
            return (f"@{name}", frozenset({"bold", "magenta"}))
        if name == "subteam":
            return (label or "@group", frozenset({"bold", "magenta"}))
        return (label or target, PLAIN)
    if target.startswith("@"):
        return (label or target, frozenset({"bold", "magenta"}))
    if target.startswith("#"):
        return (f"#{label}" if label else target, frozenset({"bold", "blue"}))
    target_shown = _unescape(target)
    label_shown = _unescape(label)
    if not label_shown or label_shown == target_shown:
        return (target_shown, frozenset({"underline", "blue"}))
    if target_shown.removeprefix("mailto:") == label_shown:
        return (label_shown, frozenset({"underline", "blue"}))
    return (f"{label_shown} ({target_shown})", frozenset({"underline", "blue"}))


def _shortcode(name: str) -> Span:
    if name in _EMOJI:
        symbol, tint = _EMOJI[name]
        return (symbol, frozenset({tint}) if tint else PLAIN)
    return (f":{name}:", PLAIN)


def _emoji_only(text: str) -> Line:
    """Plain text with emoji shortcodes turned into symbols (for plain_text objects)."""
    line: Line = []
    pos = 0
    for m in _SHORTCODE.finditer(text):
        if m.start() > pos:
            line.append((text[pos : m.start()], PLAIN))
        line.append(_shortcode(m.group(1)))
        pos = m.end()
    if pos < len(text):
        line.append((text[pos:], PLAIN))
    return line


def _inline(text: str, base: Style = PLAIN) -> Line:
    """One line of mrkdwn (already made visible) as styled spans."""
    atoms: list[Span] = []

    def stash(span: Span) -> str:
        if len(atoms) >= _PUA_SIZE:
            return span[0]
        atoms.append(span)
        return chr(_PUA + len(atoms) - 1)

    s = _CODE_SPAN.sub(lambda m: stash((_unescape(m.group(1)), _CODE_STYLE)), text)
    s = _LINK.sub(lambda m: stash(_link(m.group(1))), s)
    s = _SHORTCODE.sub(lambda m: stash(_shortcode(m.group(1))), s)
    line: Line = []
    for piece, style in _marks(s, base):
        pos = 0
        for m in _ATOM.finditer(piece):
            if m.start() > pos:
                line.append((_unescape(piece[pos : m.start()]), style))
            atom_text, atom_style = atoms[ord(m.group()) - _PUA]
            line.append((atom_text, style | atom_style))
            pos = m.end()
        if pos < len(piece):
            line.append((_unescape(piece[pos:]), style))
    return [span for span in line if span[0]]


def _marks(text: str, style: Style) -> list[Span]:
    """Split `text` on *bold*, _italic_ and ~strike~ markers (nested ones too)."""
    out: list[Span] = []
    pos = 0
    for m in _MARK.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], style))
        out.extend(_marks(m.group(2), style | {_MARK_STYLE[m.group(1)]}))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], style))
    return out


def _mrkdwn(text: str, width: int, base: Style = PLAIN) -> list[Line]:
    """mrkdwn text (already made visible) as wrapped lines; ``` blocks get a gutter."""
    parts = text.split("```")
    if len(parts) % 2 == 0:  # an unclosed fence is literal text
        parts = [*parts[:-2], parts[-2] + "```" + parts[-1]]
    out: list[Line] = []
    for i, part in enumerate(parts):
        if i % 2:
            out.extend(_code_block(part, width, base))
            continue
        lines = part.split("\n")
        if i > 0 and not lines[0].strip():
            lines = lines[1:]
        if i < len(parts) - 1 and lines and not lines[-1].strip():
            lines = lines[:-1]
        for raw in lines:
            out.extend(_wrap(_inline(raw, base), width))
    return out


def _code_block(text: str, width: int, base: Style) -> list[Line]:
    body = text.strip("\n").split("\n")
    gutter: Span = ("│ ", frozenset({"dim"}))
    out: list[Line] = []
    for raw in body:
        line: Line = [(_unescape(raw), base | _CODE_STYLE)]
        out.extend(_prefix(_hard_wrap(line, max(width - 2, 1)), gutter))
    return out


def _text_object(obj: Any, width: int, base: Style = PLAIN) -> list[Line]:
    if not isinstance(obj, dict):
        return []
    text = _str(obj.get("text"))
    if obj.get("type") == "mrkdwn":
        return _mrkdwn(text, width, base)
    lines: list[Line] = []
    for raw in text.split("\n"):
        line = [(t, s | base) for t, s in _emoji_only(raw)]
        lines.extend(_wrap(line, width))
    return lines


def _plain_label(obj: Any) -> str:
    """A one-line label from a text object (buttons, titles, placeholders)."""
    if isinstance(obj, dict):
        return _str(obj.get("text")).replace("\n", " ")
    return ""


# -- blocks --------------------------------------------------------------------------


def _header(block: dict[str, Any], width: int) -> list[Line]:
    text = _plain_label(block.get("text"))
    lines = _wrap(_restyle([_emoji_only(text)], frozenset({"bold"}))[0], width)
    rule = min(max((_line_width(line) for line in lines), default=0), width)
    return [*lines, [("━" * rule, frozenset({"dim"}))]]


def _section(block: dict[str, Any], width: int) -> list[Line]:
    out = _text_object(block.get("text"), width)
    fields = block.get("fields")
    if isinstance(fields, list) and fields:
        if out:
            out.append([])
        out.extend(_fields(fields, width))
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        out.extend(_wrap(_element(accessory), width))
    return out


def _fields(fields: list[Any], width: int) -> list[Line]:
    if width < TWO_COLUMNS_FROM:
        return [line for f in fields for line in _text_object(f, width)]
    column = (width - FIELD_GAP) // 2
    out: list[Line] = []
    for i in range(0, len(fields), 2):
        left = _text_object(fields[i], column)
        right = _text_object(fields[i + 1], column) if i + 1 < len(fields) else []
        empty: Line = []
        for a, b in zip_longest(left, right, fillvalue=empty):
            if b:
                pad = column - _line_width(a) + FIELD_GAP
                out.append([*a, (" " * pad, PLAIN), *b])
            else:
                out.append(list(a))
    return out


def _context(block: dict[str, Any], width: int) -> list[Line]:
    line: Line = []
    lines: list[Line] = []
    elements = block.get("elements")
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "image":
            alt = _str(element.get("alt_text"))
            parts: list[Line] = [[(f"[{alt or 'image'}]", PLAIN)]]
        else:
            parts = _text_object(element, width)
        for j, part in enumerate(parts):
            if j == 0:
                line += ([("  ", PLAIN)] if line else []) + part
            else:
                lines.append(line)
                line = list(part)
    if line:
        lines.append(line)
    wrapped = [w for ln in lines for w in _wrap(ln, width)]
    return _restyle(wrapped, frozenset({"dim"}))


_BUTTON_STYLE = {
    "primary": frozenset({"bold", "green"}),
    "danger": frozenset({"bold", "red"}),
}


def _element(element: dict[str, Any]) -> Line:
    """An interactive element as one bracketed label."""
    kind = element.get("type")
    if kind == "button":
        label = _plain_label(element.get("text")) or "button"
        style = _BUTTON_STYLE.get(_str(element.get("style")), frozenset({"bold"}))
        link = " ↗" if isinstance(element.get("url"), str) else ""
        return [("[ ", frozenset({"dim"})), (label + link, style), (" ]", frozenset({"dim"}))]
    if kind == "overflow":
        return [("[ … ]", frozenset({"dim"}))]
    if kind == "image":
        return [(f"[{_str(element.get('alt_text')) or 'image'}]", frozenset({"dim"}))]
    placeholder = _plain_label(element.get("placeholder")) or _str(kind) or "input"
    arrow = " ▾" if isinstance(kind, str) and "select" in kind else ""
    return [("[ ", frozenset({"dim"})), (placeholder + arrow, PLAIN), (" ]", frozenset({"dim"}))]


def _actions(block: dict[str, Any], width: int) -> list[Line]:
    elements = block.get("elements")
    line: Line = []
    for element in elements if isinstance(elements, list) else []:
        if isinstance(element, dict):
            line += ([(" ", PLAIN)] if line else []) + _element(element)
    return _wrap_atoms(line, width)


def _wrap_atoms(line: Line, width: int) -> list[Line]:
    """Wrap a row of buttons between buttons, never inside one."""
    groups: list[Line] = []
    for span in line:
        if span[0] == " " or not groups:
            groups.append([] if span[0] == " " else [span])
        else:
            groups[-1].append(span)
    out: list[Line] = []
    current: Line = []
    for group in groups:
        if current and _line_width(current) + 1 + _line_width(group) > width:
            out.append(current)
            current = []
        current += ([(" ", PLAIN)] if current else []) + group
    if current:
        out.append(current)
    return out


def _image(block: dict[str, Any], width: int) -> list[Line]:
    title = _plain_label(block.get("title"))
    alt = _str(block.get("alt_text"))
    text = f"[image: {title or alt or 'no description'}]"
    return _wrap([(text, frozenset({"dim"}))], width)


def _input(block: dict[str, Any], width: int) -> list[Line]:
    label = _plain_label(block.get("label")) or "Input"
    element = block.get("element")
    out = _wrap([(label, frozenset({"bold"}))], width)
    if isinstance(element, dict):
        out.extend(_wrap(_element(element), width))
    hint = _plain_label(block.get("hint"))
    if hint:
        out.extend(_wrap([(hint, frozenset({"dim"}))], width))
    return out


def _rich_text(block: dict[str, Any], width: int) -> list[Line]:
    """A crude but safe rendering: the text of every element, sections on their own lines."""
    lines: list[Line] = [[]]

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
            if lines[-1]:
                lines.append([])
            walk(node.get("elements"))
            lines.append([])
        elif kind == "rich_text_list":
            for item in node.get("elements") or []:
                lines.append([("• ", PLAIN)])
                walk(item.get("elements") if isinstance(item, dict) else None)
            lines.append([])
        elif kind == "text":
            for j, piece in enumerate(_str(node.get("text")).split("\n")):
                if j:
                    lines.append([])
                lines[-1].append((piece, PLAIN))
        elif kind == "link":
            url = _str(node.get("url"))
            label = _str(node.get("text"))
            shown = f"{label} ({url})" if label and label != url else url
            lines[-1].append((shown, frozenset({"underline", "blue"})))
        elif kind == "emoji":
            lines[-1].append(_shortcode(_str(node.get("name"))))
        elif kind in ("user", "usergroup", "channel", "broadcast"):
            ident = _str(node.get("user_id") or node.get("channel_id") or node.get("range"))
            lines[-1].append((f"@{ident}", frozenset({"bold", "magenta"})))
        else:
            walk(node.get("elements"))

    walk(block.get("elements"))
    return [w for ln in lines if ln for w in _wrap(ln, width)]


def _divider(block: dict[str, Any], width: int) -> list[Line]:
    return [[("─" * width, frozenset({"dim"}))]]


_RENDERERS = {
    "header": _header,
    "section": _section,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "image": _image,
    "input": _input,
    "rich_text": _rich_text,
}


def _blocks(blocks: list[Any], width: int) -> list[Line]:
    out: list[Line] = []
    previous: str | None = None
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        render = _RENDERERS.get(kind) if isinstance(kind, str) else None
        if render is None:
            lines: list[Line] = [[(f"[{_str(kind) or 'unknown'} block]", frozenset({"dim"}))]]
        else:
            lines = render(block, width)
        # A blank line between blocks, except next to headers and dividers.
        tight = previous in (None, "header", "divider") or kind == "divider"
        if out and not tight:
            out.append([])
        out.extend(lines)
        previous = kind if isinstance(kind, str) else None
    return out


def _as_list(value: Any) -> list[Any]:
    """Blocks as given: a list, or a JSON string of one (form-encoded posts)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _finish(lines: list[Line], colour: bool) -> str:
    return "\n".join(_emit(line, colour) for line in lines)


# -- public --------------------------------------------------------------------------


def render_payload(payload: dict[str, Any], *, colour: bool = False, width: int = 100) -> str:
    """A message payload (`text`, `blocks`, legacy `attachments`) as terminal text.

    Without blocks, the `text` fallback is shown as mrkdwn. Never raises on odd
    input: unknown blocks are named, values of the wrong type are skipped.
    """
    width = max(width, MIN_WIDTH)
    blocks = _as_list(payload.get("blocks")) if isinstance(payload, dict) else []
    lines = _blocks(blocks, width)
    if not lines and isinstance(payload, dict):
        lines = _mrkdwn(_str(payload.get("text")), width)
    attachments = _as_list(payload.get("attachments")) if isinstance(payload, dict) else []
    bar: Span = ("┃ ", frozenset({"dim"}))
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        inner = _blocks(_as_list(attachment.get("blocks")), width - 2)
        if not inner:
            inner = _mrkdwn(_str(attachment.get("text") or attachment.get("fallback")), width - 2)
        if inner:
            lines.append([])
            lines.extend(_prefix(inner, bar))
    return _finish(lines, colour)


def render_view(view: dict[str, Any], *, colour: bool = False, width: int = 100) -> str:
    """A modal (or Home) view: a framed box with its title, blocks and footer buttons."""
    width = max(width, MIN_WIDTH)
    if not isinstance(view, dict):
        view = {}
    frame = frozenset({"dim"})
    title = _plain_label(view.get("title")) or _str(view.get("type")) or "view"
    top: Line = [("┏━ ", frame), (title, frozenset({"bold"})), (" ", PLAIN)]
    top.append(("━" * max(width - _line_width(top), 0), frame))
    body = _prefix(_blocks(_as_list(view.get("blocks")), width - 2), ("┃ ", frame))
    buttons: Line = []
    for key in ("close", "submit"):
        label = _plain_label(view.get(key))
        if label:
            style = frozenset({"bold", "green"}) if key == "submit" else frozenset({"bold"})
            buttons += [("[ ", frame), (label, style), (" ]", frame), (" ", PLAIN)]
    bottom: Line = [("┗━ ", frame), *buttons]
    bottom.append(("━" * max(width - _line_width(bottom), 0), frame))
    return _finish([top, *body, bottom], colour)
