"""The TLS-RPT TXT record at `_smtp._tls.<domain>` (RFC 8460 §3).

    tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
    field-delim   = *WSP ";" *WSP
    tlsrpt-rua    = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
    tlsrpt-uri    = URI  ; mailto: or https:

Unknown extension fields are ignored. When `rua` appears more than once the
first is used and the others are reported.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from bot.checker import limits
from bot.checker.domain import DomainError, normalise_domain
from bot.checker.domain import show as shown
from bot.checker.findings import cap_per_code, finding
from bot.checker.fixes import tlsrpt_record
from bot.checker.model import Finding
from bot.checker.record import EXT_NAME, EXT_VALUE, split_fields

_VERSION = "v=TLSRPTv1"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+|\"[^\"]*\"")
_CONSEQUENCE = "Reporters ignore an invalid record, so you receive no TLS failure reports."
_PARTIAL = (
    "Reporters may ignore the whole record, or send reports only to the entries they can use."
)


def is_tlsrpt_record(txt: str) -> bool:
    """True when the TXT record begins `v=TLSRPTv1` followed by `;`, whitespace or the end."""
    return re.match(r"v=TLSRPTv1(?:[;\s]|\Z)", txt) is not None


def parse_tlsrpt_record(txt: str, subject: str) -> tuple[list[str], list[Finding]]:
    """The usable `rua` URIs, in order, and `tlsrpt_invalid` findings.

    `subject` is the `_smtp._tls.<domain>` name the record was found at.
    """
    domain = subject.removeprefix("_smtp._tls.").rstrip(".") or "example.com"
    problems: list[str] = []
    fields = split_fields(txt)
    if fields[0] != _VERSION:
        problems.append(
            f"the record must begin with exactly 'v=TLSRPTv1', but it begins {shown(fields[0])}"
        )
    rua: list[str] | None = None
    rua_like: str | None = None
    for field in fields[1:] if fields[0] == _VERSION else fields:
        if field == _VERSION:
            continue
        if not field:
            problems.append("the record has an empty field (two ';' in a row)")
            continue
        if "=" not in field:
            problems.append(f"the field {shown(field)} has no '='; fields are written name=value")
            continue
        name, value = field.split("=", 1)
        if name != name.rstrip() or value != value.lstrip():
            problems.append(
                f"the field {shown(field)} has whitespace around '='"
                " (whitespace is allowed only around ';' and ',')"
            )
            name, value = name.strip(), value.strip()
        if name == "rua":
            if rua is None:
                rua = _parse_rua(value, problems)
            else:
                problems.append("'rua' appears more than once; reporters use only the first")
            continue
        if name.lower() == "rua":
            rua_like = name
        if not EXT_NAME.fullmatch(name):
            problems.append(f"the field name {shown(name)} is malformed")
        elif not EXT_VALUE.fullmatch(value):
            problems.append(
                f"the value of {shown(name)} is malformed: printable ASCII without spaces,"
                " '=' or ';'"
            )
    if rua is None:
        extra = ""
        if rua_like is not None:
            extra = f" (the field '{rua_like}=' is not 'rua=': field names are case-sensitive)"
        problems.append(f"the record has no 'rua' field{extra}, which says where to send reports")
    fix = f"Publish this TXT record at {subject}, with an address that reads the reports: "
    fix += _repaired(txt) or tlsrpt_record(domain)
    consequence = _CONSEQUENCE if not rua else _PARTIAL
    findings = [
        finding("tlsrpt_invalid", subject, f"{p[:1].upper()}{p[1:]}. {consequence}", fix)
        for p in problems
    ]
    return rua or [], cap_per_code(findings, subject, where=" in the same record")


def _repaired(txt: str) -> str | None:
    """The record with its usable entries, plus bare addresses given a mailto: scheme."""
    entries: list[str] = []
    for field in split_fields(txt):
        name, _, value = field.partition("=")
        if name.strip() != "rua":
            continue
        for uri in _uris(value):
            if uri and _check_uri(uri) is None:
                entries.append(uri)
            elif "@" in uri and _SCHEME.match(uri) is None and _check_uri(f"mailto:{uri}") is None:
                entries.append(f"mailto:{uri}")
        break
    if not entries:
        return None
    return f"{_VERSION}; rua={','.join(entries)}"


def _parse_rua(value: str, problems: list[str]) -> list[str]:
    if not value.strip():
        problems.append("'rua' is empty; it must list at least one mailto: or https: URI")
        return []
    good: list[str] = []
    for uri in _uris(value):
        problem = _check_uri(uri)
        if problem:
            problems.append(problem)
        else:
            good.append(uri)
    return good


def _uris(value: str) -> list[str]:
    """The comma-separated rua entries, at most MAX_RUA_URIS of them (the rest ignored:
    no real record has that many, and each costs a host-name check)."""
    return re.split(r"[ \t]*,[ \t]*", value.strip(" \t"), maxsplit=limits.MAX_RUA_URIS)[
        : limits.MAX_RUA_URIS
    ]


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
    if any(c.isspace() for c in uri):
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
    try:
        normalise_domain(host)
    except DomainError as exc:
        return f"the rua entry {shown(uri)} has a bad mail domain: {exc.rule}"
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
    try:
        normalise_domain(host)
    except DomainError as exc:
        return f"the rua entry {shown(uri)} has a bad host: {exc.rule}"
    return None
