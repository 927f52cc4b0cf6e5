"""The TLS-RPT TXT record at `_smtp._tls.<domain>` (RFC 8460 §3).

    tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
    field-delim   = *WSP ";" *WSP
    tlsrpt-rua    = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
    tlsrpt-uri    = URI  ; mailto: or https:

Unknown extension fields are ignored. When `rua` appears more than once the
first is used and the others are reported.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from bot.checker import fields, limits
from bot.checker.domain import DomainError, normalise_domain
from bot.checker.domain import show as shown
from bot.checker.findings import Capped
from bot.checker.fixes import tlsrpt_record
from bot.checker.model import Finding

_VERSION = "v=TLSRPTv1"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+|\"[^\"]*\"")
_SPACE = re.compile(r"\s")
_CONSEQUENCE = "Reporters ignore an invalid record, so you receive no TLS failure reports."
_PARTIAL = (
    "Reporters may ignore the whole record, or send reports only to the entries they can use."
)
# Read in linear time (bot/checker/fields.py); the fields that need a look of their own are
# those with a problem, up to the ones shown, and the first `rua`.
_RUNS = {stop: fields.run(stop) for stop in ("rua=", "[rR][uU][aA]=")}
_NO_PROBLEM_FIELDS = re.compile(fields.AT_FIELD + "(?!rua=)" + fields.GOOD_FIELD + fields.FIELD_END)
_RUA_FIELDS = re.compile(fields.AT_FIELD + f"(?={fields.named('rua', 'r')})")
_RUA_LIKE_FIELDS = re.compile(
    fields.AT_FIELD + f"(?={fields.named('((?!rua)[rR][uU][aA])', '[rR]')})"
)
# Spaced fields (whitespace at their `=`) that, stripped, are a well-formed extension: one
# problem (the whitespace); other spaced fields have a second one (name, value, or rua).
_SPACED_FINE_FIELDS = re.compile(
    fields.AT_FIELD
    + rf"\s*+(?!rua\s*+=){fields.NAME}(?:\s++=\s*+|=\s++){fields.VALUE}\s*+(?:(?=;)|\Z)"
)
_REPAIRED_RUA = re.compile(r";\s*+rua\s*+(=|;|\Z)")  # `_repaired`'s rua: the name stripped


def is_tlsrpt_record(txt: str) -> bool:
    """True when the TXT record begins `v=TLSRPTv1` followed by `;`, whitespace or the end."""
    return re.match(r"v=TLSRPTv1(?:[;\s]|\Z)", txt) is not None


@dataclass(slots=True)
class _Reading:
    problems: Capped = field(default_factory=Capped)
    rua: list[str] | None = None
    rua_like: str | None = None
    checked: dict[str, str | None] = field(default_factory=dict)  # uri -> its problem

    def run(self) -> re.Pattern[str]:
        """The fields that can be skipped unread: well-formed ones not named rua (nor RUA,
        while that could still explain a missing rua)."""
        return _RUNS["rua=" if self.rua is not None or self.rua_like else "[rR][uU][aA]="]


def parse_tlsrpt_record(txt: str, subject: str) -> tuple[list[str], list[Finding]]:
    """The usable `rua` URIs, in order, and `tlsrpt_invalid` findings.

    `subject` is the `_smtp._tls.<domain>` name the record was found at.
    """
    domain = subject.removeprefix("_smtp._tls.").rstrip(".") or "example.com"
    reading = _Reading()
    problems = reading.problems
    first, rest = fields.after_first(txt)
    if first != _VERSION:
        problems.add(
            f"the record must begin with exactly 'v=TLSRPTv1', but it begins {shown(first)}"
        )
        _read_fields(first if rest is None else f"{first};{rest}", reading)  # the first too
    else:
        _read_fields(rest, reading)
    rua = reading.rua
    if rua is None:
        extra = ""
        if reading.rua_like is not None:
            extra = (
                f" (the field '{reading.rua_like}=' is not 'rua=': field names are case-sensitive)"
            )
        problems.add(f"the record has no 'rua' field{extra}, which says where to send reports")
    fix = f"Publish this TXT record at {subject}, with an address that reads the reports: "
    fix += _repaired(txt, reading.checked) or tlsrpt_record(domain)
    consequence = _CONSEQUENCE if not rua else _PARTIAL
    findings = problems.findings(
        "tlsrpt_invalid", subject, fix, consequence=consequence, where=" in the same record"
    )
    return rua or [], findings


def _read_fields(text: str | None, reading: _Reading) -> None:
    """Check the fields of `text` in order; once the problems shown are known, count the
    rest at once (`_count_rest`)."""
    if text is None:
        return
    pos, size = 0, len(text)
    while pos <= size:
        if pos and reading.problems.full:
            _count_rest(fields.rest_from(text, pos), reading)
            return
        pos = fields.skip(reading.run(), text, pos)
        item, pos = fields.next_field(text, pos)
        _read_field(item, reading)


def _read_field(item: str, reading: _Reading) -> None:
    problems = reading.problems
    if item == _VERSION:
        return
    if not item:
        problems.add("the record has an empty field (two ';' in a row)")
        return
    if "=" not in item:
        problems.add(f"the field {shown(item)} has no '='; fields are written name=value")
        return
    name, value = item.split("=", 1)
    if name != name.rstrip() or value != value.lstrip():
        problems.add(
            f"the field {shown(item)} has whitespace around '='"
            " (whitespace is allowed only around ';' and ',')"
        )
        name, value = name.strip(), value.strip()
    if name == "rua":
        if reading.rua is None:
            reading.rua = _parse_rua(value, problems, reading.checked)
        else:
            problems.add("'rua' appears more than once; reporters use only the first")
        return
    if name.lower() == "rua" and reading.rua_like is None:
        reading.rua_like = name
    if not fields.EXT_NAME.fullmatch(name):
        problems.add(f"the field name {shown(name)} is malformed")
    elif not fields.EXT_VALUE.fullmatch(value):
        problems.add(
            f"the value of {shown(name)} is malformed: printable ASCII without spaces, '=' or ';'"
        )


def _count_rest(text: str, reading: _Reading) -> None:
    """Count the problems in the fields of `text` (`;` and the fields) at once.

    A field has none when it is a well-formed extension (or the version), one when it is
    otherwise malformed or a second rua, and a second one when whitespace touches its `=`
    and, stripped, it is still not a well-formed extension. The first rua, when the record
    has had none yet, is read on its own (its URIs are checked one by one)."""
    problems = reading.problems
    problems.more += text.count(";")
    if "=" in text:
        problems.more -= len(_NO_PROBLEM_FIELDS.findall(text))
        if spaced := len(fields.SPACED_FIELDS.findall(text)):
            problems.more += spaced - len(_SPACED_FINE_FIELDS.findall(text))
    if reading.rua is None and "rua" in text:
        found = _RUA_FIELDS.search(text)
        if found is not None:
            item, _ = fields.next_field(text, found.end())
            _read_field(item, reading)  # problems are full: this only counts them
            problems.more -= 1 + fields.spaced(item)  # what the counts above gave it
    if reading.rua is None and reading.rua_like is None and "rua" in text.lower():
        like = _RUA_LIKE_FIELDS.search(text)
        if like is not None:
            reading.rua_like = next(name for name in like.groups() if name)


def _repaired(txt: str, checked: dict[str, str | None]) -> str | None:
    """The record with its usable entries, plus bare addresses given a mailto: scheme."""
    found = _REPAIRED_RUA.search(";" + txt)
    if found is None or found.group(1) != "=":
        return None
    value, _ = fields.next_field(";" + txt, found.end())
    entries: list[str] = []
    for uri in _uris(value):
        if uri and _checked(uri, checked) is None:
            entries.append(uri)
        elif (
            "@" in uri and _SCHEME.match(uri) is None and _checked(f"mailto:{uri}", checked) is None
        ):
            entries.append(f"mailto:{uri}")
    if not entries:
        return None
    return f"{_VERSION}; rua={','.join(entries)}"


def _parse_rua(value: str, problems: Capped, checked: dict[str, str | None]) -> list[str]:
    if not value.strip():
        problems.add("'rua' is empty; it must list at least one mailto: or https: URI")
        return []
    good: list[str] = []
    for uri in _uris(value):
        problem = _checked(uri, checked)
        if problem:
            problems.add(problem)
        else:
            good.append(uri)
    return good


def _uris(value: str) -> list[str]:
    """The comma-separated rua entries, at most MAX_RUA_URIS of them (the rest ignored:
    no real record has that many, and each costs a host-name check). Blanks around the
    commas are dropped (split on the comma, then stripped: linear, unlike `[ \t]*,`)."""
    entries = value.strip(" \t").split(",", limits.MAX_RUA_URIS)[: limits.MAX_RUA_URIS]
    return [entry.strip(" \t") for entry in entries]


def _checked(uri: str, checked: dict[str, str | None]) -> str | None:
    """`_check_uri`, once per distinct entry and parse."""
    if uri not in checked:
        checked[uri] = _check_uri(uri)
    return checked[uri]


def _check_uri(uri: str) -> str | None:
    if not uri:
        return "'rua' has an empty entry (two commas in a row, or a comma at the end)"
    match = _SCHEME.match(uri)
    if match is None:
        if "@" in uri:
            return f"the rua entry {shown(uri)} has no scheme; write mailto:{uri}"
        return f"the rua entry {shown(uri)} is not a URI; use mailto:address or https://host/path"
    scheme = match.group(1).lower()
    rest = uri[match.end() :]
    if _SPACE.search(uri):
        return f"the rua entry {shown(uri)} contains whitespace"
    if scheme == "mailto":
        return _check_mailto(uri, rest)
    if scheme == "https":
        return _check_https(uri, rest)
    return (
        f"the rua entry {shown(uri)} uses the {scheme}: scheme; TLS-RPT accepts only"
        " mailto: and https:"
    )


def _check_mailto(uri: str, rest: str) -> str | None:
    address = unquote(rest.split("?", 1)[0])
    local, at, host = address.rpartition("@")
    if not at or not local:
        return f"the rua entry {shown(uri)} is not a mail address (expected mailto:name@domain)"
    if not _LOCAL_PART.fullmatch(local) or local.startswith(".") or ".." in local:
        return f"the rua entry {shown(uri)} has a malformed local part {shown(local)}"
    if (rule := _domain_problem(host)) is not None:
        return f"the rua entry {shown(uri)} has a bad mail domain: {rule}"
    return None


def _check_https(uri: str, rest: str) -> str | None:
    if not rest.startswith("//"):
        return f"the rua entry {shown(uri)} is not a URL (expected https://host/path)"
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    host = authority.rsplit("@", 1)[-1]
    if host.count(":") == 1:
        host, port = host.split(":")
        if not port.isdigit():
            return f"the rua entry {shown(uri)} has a malformed port"
    if (rule := _domain_problem(host)) is not None:
        return f"the rua entry {shown(uri)} has a bad host: {rule}"
    return None


@functools.lru_cache(maxsize=64)
def _domain_problem(host: str) -> str | None:
    """Why `host` is not a domain (None when it is): once per host (an IDN costs ~0.5 ms)."""
    try:
        normalise_domain(host)
    except DomainError as exc:
        return exc.rule
    return None
