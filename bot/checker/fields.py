"""The `;`-separated fields of a TXT record (`_mta-sts`, `_smtp._tls`), read in linear time.

    field-delim = *WSP ";" *WSP

A record comes from whoever runs the zone, and a DNS message lets it be 64 KiB of
anything. Reading one costs time linear in its length, and Python-level work only per
field that needs a look of its own (bench/parsers.py measures it):

- fields are found with `str.find(";")`, never with a regular expression that can start
  a match at every blank of a long run (`[ \\t]*;` is quadratic on `"a" + " " * 60000`);
- runs of well-formed fields are skipped by one anchored, possessive match (`run`);
- once a parser has the problems it shows, it counts the rest with regular expressions
  that start at a literal `;` (the engine jumps from one to the next) and never
  backtrack (possessive quantifiers); the text counted starts with the `;` before its
  first field (`rest_from`).
"""

from __future__ import annotations

import re

NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"  # ext-name
VALUE = r"[\x21-\x3a\x3c\x3e-\x7e]++"  # ext-value
EXT_NAME = re.compile(NAME)
EXT_VALUE = re.compile(VALUE)
GOOD_FIELD = NAME + "=" + VALUE  # `name=value`, well-formed: no problem as an extension
GOOD = re.compile(GOOD_FIELD)
_BLANKS = re.compile(r"[ \t]*+")
_NEXT = r"[ \t]*+;[ \t]*+"
# The end of a field in a counted text: blanks before the next `;`, or the end.
FIELD_END = r"(?:[ \t]*+(?=;)|\Z)"
# In a counted text: a field's start, after the `;` and the delimiter's blanks.
AT_FIELD = r";[ \t]*+"
# After `=`, whitespace that belongs to the value (not the blanks before a `;`).
_VALUE_SPACE = r"(?:[^\S \t]|[ \t]++(?!;))"


def named(name: str, first: str) -> str:
    """A lookahead-ready pattern for a field whose name parsers take to be `name` (a regex
    whose first character is matched by `first`): `name=…`, or with whitespace around the
    `=` (which the parsers strip, then report).

    After a delimiter the name is read as the text before the first `=`; it is stripped
    only when whitespace touches the `=` on either side, as `record._check_field` does.
    (`first`, tried before the rest, keeps a scan of 64 KiB of `;` at ~20 ns a field.)"""
    return rf"(?=\s*+{first})(?:{name}=|\s*+{name}\s+=|\s+{name}={_VALUE_SPACE})"


# Fields with whitespace touching their first `=` (inside the field, not a delimiter's).
SPACED_FIELDS = re.compile(AT_FIELD + r"[^=;]*?(?:\s=|=" + _VALUE_SPACE + ")")


def spaced(item: str) -> bool:
    """Whitespace touches the first `=` of the field (`a =b`, `a= b`)."""
    name, eq, value = item.partition("=")
    return bool(eq) and (name != name.rstrip() or value != value.lstrip())


def next_field(text: str, pos: int) -> tuple[str, int]:
    """The field of `text` starting at `pos`, without the blanks around its `;`, and where
    the next field starts (beyond `len(text)` after the last field)."""
    end = text.find(";", pos)
    if end < 0:
        return text[pos:], len(text) + 1
    blanks = _BLANKS.match(text, end + 1)
    return text[pos:end].rstrip(" \t"), blanks.end() if blanks else end + 1


def after_first(text: str) -> tuple[str, str | None]:
    """The first field of a record, and the text of the others (None: there are none),
    without the trailing `;` a record may end in."""
    first, pos = next_field(text, 0)
    rest = text[pos:] if pos <= len(text) else ""
    if not rest:
        return first, None
    stripped = rest.rstrip(" \t")
    return first, stripped[:-1].rstrip(" \t") if stripped.endswith(";") else rest


def run(stop: str = "", *, skip_empty: bool = False) -> re.Pattern[str]:
    """Well-formed fields, each followed by a delimiter (and empty ones with `skip_empty`),
    except those starting with `stop` (a regex): what a parser can skip unread."""
    good = f"(?!{stop}){GOOD_FIELD}" if stop else GOOD_FIELD
    return re.compile(f"(?:(?:{good}){'?' if skip_empty else ''}{_NEXT})*+")


def skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where the fields `pattern` (a `run`) skips from `pos` end."""
    found = pattern.match(text, pos)
    return found.end() if found else pos


def rest_from(text: str, pos: int) -> str:
    """The fields of `text` from `pos` (a field's start) as a counted text."""
    return ";" + text[pos:]
