"""The `_mta-sts` TXT record, checked against the RFC 8461 §3.1 grammar.

    sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    sts-field-delim = *WSP ";" *WSP
    sts-version     = %s"v=STSv1"
    sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
    sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)

Whitespace is allowed around every `;`, the trailing one included (as in
RFC 8460's version of the same grammar); anywhere else it is an error.
Unknown extension fields are ignored. When `id` appears more than once the
first counts; later ones are read as extension fields, as the grammar allows.
"""

from __future__ import annotations

import hashlib
import re

from bot.checker.domain import show as shown
from bot.checker.findings import cap_per_code, finding
from bot.checker.fixes import sts_record
from bot.checker.model import Finding

EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_DELIM = re.compile(r"[ \t]*;[ \t]*")
_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_VERSION = "v=STSv1"
_CONSEQUENCE = (
    "Senders treat an invalid record as no record, so MTA-STS is not in effect for this domain."
)


def is_sts_record(txt: str) -> bool:
    """True when the TXT record begins `v=STSv1;` (whitespace allowed before the `;`).

    RFC 8461 §3.1: senders discard every other record, so only these count.
    """
    return re.match(r"v=STSv1[ \t]*;", txt) is not None


def looks_like_sts_record(txt: str) -> bool:
    """Begins `v=STSv1` but not `v=STSv1;`: discarded by senders, yet clearly meant as one."""
    return not is_sts_record(txt) and re.match(r"v=STSv1(?:\s|\Z)", txt) is not None


def split_fields(txt: str) -> list[str]:
    """The `;`-separated fields, whitespace around each `;` dropped, a trailing `;` allowed."""
    fields = _DELIM.split(txt)
    if len(fields) > 1 and fields[-1] == "":
        fields.pop()
    return fields


def parse_sts_record(txt: str, subject: str) -> tuple[str | None, list[Finding]]:
    """The record's `id` when the record is valid, else None and `record_invalid` findings.

    `subject` is the `_mta-sts.<domain>` name the record was found at.
    """
    problems: list[str] = []
    id_value: str | None = None  # the first id= field's value, valid or not
    id_like: str | None = None  # an `ID=` / `Id=` field, for the "no id" message
    body = txt
    stripped = txt.rstrip(" \t")
    if stripped != txt and not stripped.endswith(";"):
        problems.append(
            "the record ends in whitespace; whitespace is allowed only around ';' separators"
        )
        body = stripped
    fields = split_fields(body)
    first = fields[0]
    rest = fields[1:]
    if first != _VERSION:
        if first.startswith(_VERSION) and first[len(_VERSION)].isspace():
            problems.append(
                f"the fields must be separated by ';', but {shown(first)} has none after 'v=STSv1'"
            )
            rest[0:0] = first[len(_VERSION) :].split()
        else:
            how = " (first, and case-sensitive)" if _VERSION.lower() in txt.lower() else ""
            problems.append(
                f"the record must begin with exactly 'v=STSv1'{how}, but it begins {shown(first)}"
            )
            rest = [f for f in fields if f and f.lower() != _VERSION.lower()]
    for field in rest:
        problem, id_seen = _check_field(field, id_value is None)
        if id_seen is not None:
            id_value = id_seen
        if problem:
            problems.append(problem)
        name = field.split("=", 1)[0].strip()
        if name.lower() == "id" and name != "id" and id_like is None:
            id_like = name
    if id_value is None:
        extra = ""
        if id_like is not None:
            extra = f" (the field '{id_like}=' is not 'id=': field names are case-sensitive)"
        problems.append(f"the record has no 'id' field{extra}; 'id' is required")
    if not problems:
        return id_value, []
    fix = f"Publish this TXT record at {subject} instead: {sts_record(_fixed_id(id_value, txt))}"
    findings = [
        finding("record_invalid", subject, f"{_capital(p)}. {_CONSEQUENCE}", fix) for p in problems
    ]
    return None, cap_per_code(findings, subject, where=" in the same record")


def _check_field(field: str, id_wanted: bool) -> tuple[str | None, str | None]:
    """One field's problem (or None) and, for the first `id`, its value."""
    if not field:
        return "the record has an empty field (two ';' in a row)", None
    if "=" not in field:
        return f"the field {shown(field)} has no '='; fields are written name=value", None
    name, value = field.split("=", 1)
    if name != name.rstrip() or value != value.lstrip():
        around = name.strip() or "?"
        problem = (
            f"the field {shown(field)} has whitespace around '='; write"
            f" {around}={value.strip()} (whitespace is allowed only around ';')"
        )
        return problem, value.strip() if name.strip() == "id" and id_wanted else None
    if name == "id" and id_wanted:
        return _check_id(value), value
    if not EXT_NAME.fullmatch(name):
        return (
            f"the field name {shown(name)} is malformed: a name is 1 to 32 letters, digits,"
            " '_', '-' or '.', starting with a letter or digit",
            None,
        )
    if not EXT_VALUE.fullmatch(value):
        bad = next((c for c in value if not EXT_VALUE.fullmatch(c)), "")
        what = f"contains {bad!r}" if bad else "is empty"
        return (
            f"the value of {shown(name)} {what}; a value is printable ASCII without"
            " spaces, '=' or ';'",
            None,
        )
    return None, None


def _check_id(value: str) -> str | None:
    if not value:
        return "the id is empty; it must be 1 to 32 letters and digits"
    bad = sorted({c for c in value if not (c.isascii() and c.isalnum())})
    if bad:
        chars = ", ".join(repr(c) for c in bad[:5])
        return (
            f"the id {shown(value)} contains {chars}; an id is 1 to 32 letters and digits only"
            " (no dashes, dots, underscores, colons or spaces)"
        )
    if not _ID.fullmatch(value):
        return f"the id {shown(value)} is {len(value)} characters long; an id is at most 32"
    return None


def _fixed_id(id_value: str | None, txt: str) -> str:
    """The id with its bad characters dropped, or a stable stand-in when nothing is left."""
    cleaned = "".join(c for c in id_value or "" if c.isascii() and c.isalnum())[:32]
    if cleaned:
        return cleaned
    return hashlib.sha256(txt.encode("utf-8", "replace")).hexdigest()[:16]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
