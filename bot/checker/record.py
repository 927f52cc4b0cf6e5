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
import string
from dataclasses import dataclass
from dataclasses import field as default

from bot.checker import fields
from bot.checker.domain import show as shown
from bot.checker.findings import Capped
from bot.checker.fixes import sts_record
from bot.checker.model import Finding

_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_ID_CHARS = frozenset(string.ascii_letters + string.digits)
_ID_RUN = re.compile(r"[A-Za-z0-9]++")
_NOT_VALUE_CHAR = re.compile(r"[^\x21-\x3a\x3c\x3e-\x7e]")
_VERSION = "v=STSv1"
_CONSEQUENCE = (
    "Senders treat an invalid record as no record, so MTA-STS is not in effect for this domain."
)
# Read in linear time (bot/checker/fields.py); the fields that need a look of their own are
# those with a problem, up to the ones shown, and the first `id`.
_RUNS = {
    (skip_empty, stop): fields.run(stop, skip_empty=skip_empty)
    for skip_empty in (False, True)
    for stop in ("", "id=", "[iI][dD]=")
}
_GOOD_FIELDS = re.compile(fields.AT_FIELD + fields.GOOD_FIELD + fields.FIELD_END)
_ID_FIELDS = re.compile(fields.AT_FIELD + f"(?={fields.named('id', 'i')})")
_ID_LIKE_FIELDS = re.compile(r";\s*+(ID|Id|iD)\s*+(?:=|;|\Z)")  # the name, stripped, any field


def is_sts_record(txt: str) -> bool:
    """True when the TXT record begins `v=STSv1;` (whitespace allowed before the `;`).

    RFC 8461 §3.1: senders discard every other record, so only these count.
    """
    return re.match(r"v=STSv1[ \t]*+;", txt) is not None


def looks_like_sts_record(txt: str) -> bool:
    """Begins `v=STSv1` but not `v=STSv1;`: discarded by senders, yet clearly meant as one."""
    return not is_sts_record(txt) and re.match(r"v=STSv1(?:\s|\Z)", txt) is not None


@dataclass(slots=True)
class _Reading:
    problems: Capped = default(default_factory=Capped)
    id_value: str | None = None  # the first id= field's value, valid or not
    id_like: str | None = None  # an `ID=` / `Id=` field, for the "no id" message

    def run(self, skip_empty: bool) -> re.Pattern[str]:
        """The fields that can be skipped unread: well-formed ones that are not the id."""
        if self.id_value is not None:
            return _RUNS[(skip_empty, "")]
        return _RUNS[(skip_empty, "id=" if self.id_like is not None else "[iI][dD]=")]


def parse_sts_record(txt: str, subject: str) -> tuple[str | None, list[Finding]]:
    """The record's `id` when the record is valid, else None and `record_invalid` findings.

    `subject` is the `_mta-sts.<domain>` name the record was found at.
    """
    reading = _Reading()
    problems = reading.problems
    body = txt
    stripped = txt.rstrip(" \t")
    if stripped != txt and not stripped.endswith(";"):
        problems.add(
            "the record ends in whitespace; whitespace is allowed only around ';' separators"
        )
        body = stripped
    first, rest = fields.after_first(body)
    if first == _VERSION:
        _read_fields(rest, reading)
    elif first.startswith(_VERSION) and first[len(_VERSION)].isspace():
        problems.add(
            f"the fields must be separated by ';', but {shown(first)} has none after 'v=STSv1'"
        )
        words = ";".join(first[len(_VERSION) :].split())
        _read_fields(f"{words};{rest}" if words and rest is not None else words or rest, reading)
    else:
        how = " (first, and case-sensitive)" if _VERSION.lower() in txt.lower() else ""
        problems.add(
            f"the record must begin with exactly 'v=STSv1'{how}, but it begins {shown(first)}"
        )
        # Every field but the version counts, wherever it is; empty ones are not reported.
        _read_fields(body, reading, skip_empty=True)
    if reading.id_value is None:
        extra = ""
        if reading.id_like is not None:
            extra = (
                f" (the field '{reading.id_like}=' is not 'id=': field names are case-sensitive)"
            )
        problems.add(f"the record has no 'id' field{extra}; 'id' is required")
    if not problems:
        return reading.id_value, []
    fixed = sts_record(_fixed_id(reading.id_value, txt))
    fix = f"Publish this TXT record at {subject} instead: {fixed}"
    return None, problems.findings(
        "record_invalid", subject, fix, consequence=_CONSEQUENCE, where=" in the same record"
    )


def _read_fields(text: str | None, reading: _Reading, *, skip_empty: bool = False) -> None:
    """Check the `;`-separated fields of `text` in order; once the problems shown are
    known, count the rest at once (`_count_rest`)."""
    if text is None:
        return
    pos, size = 0, len(text)
    while pos <= size:
        if pos and reading.problems.full:
            _count_rest(fields.rest_from(text, pos), reading, skip_empty)
            return
        pos = fields.skip(reading.run(skip_empty), text, pos)
        item, pos = fields.next_field(text, pos)
        if skip_empty and (not item or item.lower() == _VERSION.lower()):
            continue
        _read_field(item, reading)


def _read_field(item: str, reading: _Reading) -> None:
    if fields.GOOD.fullmatch(item) and not (item.startswith("id=") and reading.id_value is None):
        if reading.id_like is None and item[:3].lower() == "id=":
            reading.id_like = item[:2]
        return
    problem, id_seen = _check_field(item, reading.id_value is None)
    if id_seen is not None:
        reading.id_value = id_seen
    if problem:
        reading.problems.add(problem)
    name = item.split("=", 1)[0].strip()
    if reading.id_like is None and name.lower() == "id" and name != "id":
        reading.id_like = name


def _count_rest(text: str, reading: _Reading, skip_empty: bool) -> None:
    """Count the problems in the fields of `text` (`;` and the fields) without checking
    them one by one.

    Every field has at most one problem: the fields that have none are the well-formed
    `name=value` ones (and, for the lenient reading, the empty ones, which it skips).
    The first `id` field, when the record still needs one, is checked on its own."""
    bad = text.count(";")
    if "=" in text:
        bad -= len(_GOOD_FIELDS.findall(text))
    if skip_empty:  # fields left empty by the delimiters (blanks only touch a `;`)
        bad -= text.replace(" ", "").replace("\t", "").split(";").count("") - 1
    if reading.id_value is None and "id" in text:
        found = _ID_FIELDS.search(text)
        if found is not None:
            item, _ = fields.next_field(text, found.end())
            problem, reading.id_value = _check_field(item, True)
            if problem and fields.GOOD.fullmatch(item):
                bad += 1  # well-formed, but not a valid id (counted as fine above)
    wanted = reading.id_value is reading.id_like is None and "id" in text.lower()
    like = _ID_LIKE_FIELDS.search(text) if wanted else None
    if like is not None:
        reading.id_like = like.group(1)
    reading.problems.more += bad


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
    if not fields.EXT_NAME.fullmatch(name):
        return (
            f"the field name {shown(name)} is malformed: a name is 1 to 32 letters, digits,"
            " '_', '-' or '.', starting with a letter or digit",
            None,
        )
    if not fields.EXT_VALUE.fullmatch(value):
        found = _NOT_VALUE_CHAR.search(value)
        bad = found.group() if found else ""
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
    bad = sorted(set(value) - _ID_CHARS)
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
    kept: list[str] = []
    for run in _ID_RUN.finditer(id_value or ""):
        kept.append(run.group())
        if sum(map(len, kept)) >= 32:
            break
    cleaned = "".join(kept)[:32]
    if cleaned:
        return cleaned
    return hashlib.sha256(txt.encode("utf-8", "replace")).hexdigest()[:16]
