"""The policy body at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.2).

Choices where the RFC leaves room:
- Lines end in LF or CRLF; a last line without a newline is fine. Empty (or
  whitespace-only) lines are skipped silently: widely published and harmless.
- Each line that breaks the grammar (leading whitespace, a space before the
  colon, a bare CR, a byte-order mark, a malformed key, control characters)
  gets a `policy_syntax` finding; the fields are still read the way lenient
  senders read them, so the rest of the report is about the content. Strict
  senders refuse such a policy, and the syntax error already fails the check.
- A body holding NUL bytes, mostly undecodable bytes, or HTML is reported once
  as not being a policy and not read further.
- `version`, `mode` and `max_age` keep their first value; later ones are
  reported (`policy_key_duplicate`).
- A short `max_age` is not reported in mode `none`: that is what §8.3 asks for
  when withdrawing a policy.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import get_args

import idna

from bot.checker import limits
from bot.checker.domain import show
from bot.checker.findings import cap_per_code, finding
from bot.checker.fixes import DEFAULT_MAX_AGE, did_you_mean
from bot.checker.model import Finding, Mode, Policy

MAX_AGE_LIMIT = 31557600  # RFC 8461 §3.2: about one year
MAX_AGE_SHORT = 86400  # one day
KEYS = ("version", "mode", "max_age", "mx")
MODES: tuple[Mode, ...] = get_args(Mode)
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_STRICT = "Strict senders reject the whole policy because of it."
_UNUSABLE = "Senders treat the policy as invalid, so MTA-STS is not in effect."


@dataclass(slots=True)
class _Line:
    number: int
    key: str
    value: str


@dataclass(slots=True)
class _State:
    host: str
    findings: list[Finding] = field(default_factory=list)
    first: dict[str, _Line] = field(default_factory=dict)  # version/mode/max_age
    mx_lines: list[_Line] = field(default_factory=list)
    unknown: list[_Line] = field(default_factory=list)
    no_colon: list[_Line] = field(default_factory=list)  # first word, whole line

    def add(self, code: str, message: str, fix: str | None = None, subject: str = "") -> None:
        self.findings.append(finding(code, subject or self.host, message, fix))


def parse_policy(body: bytes, policy_host: str) -> tuple[Policy, list[Finding]]:
    """Read a policy body: the Policy (valid values only) and the findings about it."""
    text = body.decode("utf-8", errors="replace")
    state = _State(policy_host)
    policy = Policy(version=None, mode=None, max_age=None, mx=[], text=text)
    if not _is_text(body, text, state):
        return policy, cap_per_code(state.findings, policy_host, where=" in the policy")
    content = text
    if body.startswith(b"\xef\xbb\xbf"):
        state.add(
            "policy_syntax",
            "The policy starts with a UTF-8 byte-order mark (BOM): strict senders then read"
            " the first key as '\\ufeffversion' and find no version. " + _STRICT,
            "Save the file as UTF-8 without a byte-order mark.",
        )
        content = text[1:]
    _read_lines(content, state)
    policy.version = _version(state)
    policy.mode = _mode(state)
    policy.max_age = _max_age(state, policy.mode)
    policy.mx = _mx(state, policy.mode)
    _report_unknown(state)
    return policy, cap_per_code(state.findings, policy_host, where=" in the policy")


def policy_usable(policy: Policy) -> bool:
    """Whether senders can apply the policy: valid version, mode, max_age, and mx unless none."""
    return (
        policy.version == "STSv1"
        and policy.mode in MODES
        and policy.max_age is not None
        and 0 <= policy.max_age <= MAX_AGE_LIMIT
        and (policy.mode == "none" or bool(policy.mx))
    )


def readable_as_text(body: bytes) -> bool:
    """False for a body that is not text at all (compressed, binary, NUL bytes, mostly
    not UTF-8): the report then has no policy, only the finding that says why."""
    text = body.decode("utf-8", "replace")
    return not (
        body.startswith(b"\x1f\x8b")
        or b"\x00" in body
        or (text.count("\ufffd") * 10 > len(text) and text.count("\ufffd") >= 4)
    )


def _is_text(body: bytes, text: str, state: _State) -> bool:
    why = ""
    if not body.strip():
        why = "The policy file is empty"
    elif body.startswith(b"\x1f\x8b"):
        why = (
            "The policy is gzip-compressed data (binary, with NUL bytes), not text: the server"
            " compressed it although the request asked for no compression, and senders do"
            " not decompress it"
        )
    elif b"\x00" in body:
        why = "The policy contains NUL bytes: it is not a text file (perhaps compressed)"
    elif text.count("\ufffd") * 10 > len(text) and text.count("\ufffd") >= 4:
        why = "The policy is mostly not UTF-8 text (perhaps compressed or binary)"
    elif text.lstrip("\ufeff \t\r\n").startswith("<"):
        why = (
            "The policy is an HTML or XML page, not a policy (often a web server's or CDN's"
            " error or challenge page)"
        )
    if not why:
        return True
    state.add(
        "policy_syntax",
        f"{why}. {_UNUSABLE}",
        "Serve the plain-text policy at /.well-known/mta-sts.txt, starting with 'version: STSv1'.",
    )
    return False


def _read_lines(content: str, state: _State) -> None:
    raw_lines = content.split("\n")
    for number, raw in enumerate(raw_lines, start=1):
        # A CR is a line end only before LF; the last segment has no LF after it.
        line = raw.removesuffix("\r") if number < len(raw_lines) else raw
        parts = [line]
        problems: list[str] = []
        if "\r" in line:
            problems.append("contains a bare CR (lines must end in LF or CRLF)")
            parts = line.split("\r")
        for part in parts:
            _read_line(number, part, problems, state)
        if problems:
            fix = (
                "End every line with LF (or CRLF), not a lone CR."
                if "\r" in line
                else _fixed_line(line)
            )
            state.add(
                "policy_syntax", f"Line {number} {show(line)} {_join(problems)}. {_STRICT}", fix
            )


def _read_line(number: int, line: str, problems: list[str], state: _State) -> None:
    if not line.strip(" \t"):
        return
    if line[0] in " \t":
        problems.append("starts with whitespace")
        line = line.lstrip(" \t")
    if any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in line):
        problems.append("contains a control character")
    if "\ufffd" in line:
        problems.append("is not valid UTF-8")
    if ":" not in line:
        problems.append("has no ':' (every line is 'key: value')")
        state.no_colon.append(_Line(number, (line.split() or [line])[0], line))
        return
    key, value = line.split(":", 1)
    if key != key.rstrip(" \t"):
        problems.append("has a space before the colon")
        key = key.rstrip(" \t")
    if not _KEY.fullmatch(key):
        problems.append(
            f"has the malformed key {show(key)} (a key is 1 to 32 letters, digits, '_', '-' or '.')"
        )
        return
    entry = _Line(number, key, value.strip(" \t"))
    if key == "mx":
        state.mx_lines.append(entry)
    elif key in KEYS:
        if key in state.first:
            _duplicate(state.first[key], entry, state)
        else:
            state.first[key] = entry
    else:
        state.unknown.append(entry)


def _duplicate(first: _Line, later: _Line, state: _State) -> None:
    if first.value == later.value:
        effect = f"both say {show(first.value)}, so senders agree, but the extra line is noise"
    else:
        effect = (
            f"RFC 8461 keeps the first ({show(first.value)}), while some implementations"
            f" (e.g. postfix-mta-sts-resolver) keep the last ({show(later.value)}), so senders"
            " disagree about this policy"
        )
    state.add(
        "policy_key_duplicate",
        f"'{first.key}' appears on line {first.number} and again on line {later.number}: {effect}.",
        f"Keep one '{first.key}' line (line {first.number}) and delete line {later.number}.",
    )


# Lines without a colon, or with an unknown key, looked at for a "did you mean" hint.
_HINT_LINES = 200


@functools.lru_cache(maxsize=512)
def _meant(key: str) -> str | None:
    return did_you_mean(key, KEYS)


def _hint_for(key: str, state: _State) -> str:
    """A note on an unknown key that was probably meant to be `key`."""
    for line in state.no_colon[:_HINT_LINES]:
        if line.key == key or _meant(line.key) == key:
            return (
                f" Line {line.number} {show(line.value)} looks meant as '{key}' but has no"
                " colon, so senders cannot read it."
            )
    for line in state.unknown[:_HINT_LINES]:
        if _meant(line.key) == key:
            return (
                f" Line {line.number} has {show(line.key)}, probably meant as '{key}', but keys"
                " are case-sensitive and exact, so senders ignore it."
            )
    return ""


def _version(state: _State) -> str | None:
    line = state.first.get("version")
    fix = "Put 'version: STSv1' as the first line."
    if line is None:
        state.add(
            "policy_version_invalid",
            f"The policy has no 'version' line.{_hint_for('version', state)} {_UNUSABLE}",
            fix,
        )
        return None
    if line.value != "STSv1":
        hint = " (values are case-sensitive)" if line.value.lower() == "stsv1" else ""
        state.add(
            "policy_version_invalid",
            f"Line {line.number}: the version is {show(line.value)}, not 'STSv1'{hint}."
            f" {_UNUSABLE}",
            "Write 'version: STSv1'.",
        )
        return None
    return "STSv1"


def _likely_mode(value: str) -> Mode | None:
    low = value.lower().strip(" .;")
    if low.startswith("enforc"):
        return "enforce"
    if low.startswith("test") or low in {"report", "reporting", "monitor"}:
        return "testing"
    if low in {"off", "disabled", "disable", "no", "false", "0", "none"}:
        return "none"
    choice = did_you_mean(low, MODES)
    return choice if choice in MODES else None


def _mode(state: _State) -> Mode | None:
    line = state.first.get("mode")
    if line is None:
        state.add(
            "policy_mode_invalid",
            f"The policy has no 'mode' line.{_hint_for('mode', state)} {_UNUSABLE}",
            "Add 'mode: testing' (reports only) or 'mode: enforce'.",
        )
        return None
    for mode in MODES:
        if line.value == mode:
            return mode
    likely = _likely_mode(line.value)
    suggestion = f" Did you mean '{likely}'?" if likely else ""
    fix = f"Write 'mode: {likely}'." if likely else "Write 'mode: testing' or 'mode: enforce'."
    state.add(
        "policy_mode_invalid",
        f"Line {line.number}: the mode is {show(line.value)}; it must be exactly 'enforce',"
        f" 'testing' or 'none' (lower case).{suggestion} {_UNUSABLE}",
        fix,
    )
    return None


def _max_age(state: _State, mode: Mode | None) -> int | None:
    line = state.first.get("max_age")
    fix = f"Write 'max_age: {DEFAULT_MAX_AGE}' (one week) or more."
    if line is None:
        state.add(
            "policy_max_age_invalid",
            f"The policy has no 'max_age' line.{_hint_for('max_age', state)} {_UNUSABLE}",
            fix,
        )
        return None
    value = line.value
    why = ""
    if value.startswith("-") and value[1:].isdigit():
        why = "is negative"
    elif not (value.isascii() and value.isdigit()):
        why = "is not a whole number of seconds (no units, signs or separators)"
    elif len(value.lstrip("0")) > 10 or int(value.lstrip("0") or "0") > MAX_AGE_LIMIT:
        why = f"is over {MAX_AGE_LIMIT} seconds (about a year), the most RFC 8461 allows"
    elif len(value) > 10:
        why = "has more than 10 digits, the most RFC 8461 allows"
    if why:
        state.add(
            "policy_max_age_invalid",
            f"Line {line.number}: max_age {show(value)} {why}. {_UNUSABLE}",
            fix,
        )
        return None
    seconds = int(value)
    if seconds < MAX_AGE_SHORT and mode == "none":
        state.add(
            "policy_max_age_short",
            f"max_age is {seconds} seconds, under a day. In mode none that is what RFC 8461"
            " §8.3 asks for while withdrawing a policy; if you mean to keep MTA-STS, a short"
            " max_age lets an attacker who blocks the policy fetch strip TLS soon after.",
            "If this is a withdrawal, keep it, and remove the record once the old max_age has"
            " passed; otherwise use `max_age: 604800` or more.",
        )
    elif seconds < MAX_AGE_SHORT:
        state.add(
            "policy_max_age_short",
            f"max_age is {seconds} seconds, under a day: senders forget the policy quickly,"
            " so an attacker who blocks the policy fetch can strip TLS again soon after.",
            fix,
        )
    return seconds


def _mx(state: _State, mode: Mode | None) -> list[str]:
    valid: list[str] = []
    invalid: list[tuple[_Line, str, str | None]] = []
    for line in state.mx_lines:
        problem, corrected = _check_mx(line.value)
        if problem is None:
            valid.append(line.value.lower())
        else:
            invalid.append((line, problem, corrected))
    none_left = not valid and mode in ("enforce", "testing")
    for line, problem, corrected in invalid:
        effect = (
            " No valid mx is left, so the policy is invalid."
            if none_left
            else " Senders ignore this line, so it covers no MX host."
        )
        fix = f"Write 'mx: {corrected}'." if corrected else None
        state.add(
            "policy_mx_invalid",
            f"Line {line.number}: the mx {show(line.value)} {problem}.{effect}",
            fix,
            subject=line.value[:255] or state.host,
        )
    if not state.mx_lines and mode in ("enforce", "testing"):
        state.add(
            "policy_mx_missing",
            f"The policy is in mode '{mode}' but lists no 'mx' line, so no MX host can match"
            f" it.{_hint_for('mx', state)} {_UNUSABLE}",
            "Add one 'mx: <host>' line per MX host (or a '*.' wildcard covering them).",
        )
    return valid


def _check_mx(value: str) -> tuple[str | None, str | None]:
    """What is wrong with an mx pattern (None when valid), and a corrected pattern."""
    low = value.lower()
    if not value:
        return "is empty", None
    if _SCHEME.match(value) or low.startswith(("smtp:", "mailto:")):
        rest = re.sub(r"^[a-z][a-z0-9+.-]*:(//)?", "", low)
        host = re.split(r"[/:?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
        return "has a scheme; an mx is a host name only", _valid_or_none(host)
    bare = low[1:-1] if low.startswith("[") and low.endswith("]") else low
    if _is_ip(bare) or _is_ip(low.rsplit(":", 1)[0].strip("[]")):
        return "is an IP address; an mx must be a host name (the MX record's name)", None
    if re.fullmatch(r"[^:]+:\d*", low):
        host = low.split(":", 1)[0]
        return "has a port; an mx is a host name only (SMTP is always port 25)", _valid_or_none(
            host
        )
    if low == "*":
        return "is a bare '*', which matches nothing; write '*.' and the domain", None
    if "*" in low.removeprefix("*."):
        return (
            "uses '*' other than as the whole leftmost label ('*.example.com'); a wildcard"
            " covers exactly one label",
            None,
        )
    base = low.removeprefix("*.")
    if "_" in base:
        return "contains an underscore, which host names cannot have", None
    if base.endswith("."):
        return "ends in a dot; write it without", _valid_or_none(value[:-1].lower())
    if not base.isascii():
        try:
            alabel = idna.encode(base, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return "is not a valid internationalised name", None
        prefix = "*." if low.startswith("*.") else ""
        return "is not in A-label form (IDNs are written as xn-- labels)", prefix + alabel
    if len(base) > 253:
        return "is longer than 253 characters", None
    for label in base.split("."):
        if not label:
            return "has an empty label (two dots in a row, or a leading dot)", None
        if len(label) > 63:
            return "has a label over 63 characters", None
        if not _LABEL.fullmatch(label):
            bad = next((c for c in label if not (c.isalnum() or c == "-")), None)
            if bad is not None:
                return f"contains {bad!r}; a host name has only letters, digits and hyphens", None
            return "has a label starting or ending with a hyphen", None
    return None, None


def _valid_or_none(host: str) -> str | None:
    return host if host and _check_mx(host)[0] is None else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _report_unknown(state: _State) -> None:
    for index, line in enumerate(state.unknown):
        # Only the first findings of a code are shown (`cap_per_code`): suggest for those only,
        # so 64 KiB of made-up keys costs no more than a few.
        meant = _meant(line.key) if index < limits.MAX_FINDINGS_PER_CODE else None
        if meant:
            message = (
                f"Line {line.number}: {show(line.key)} is not a key RFC 8461 defines; did you"
                f" mean '{meant}'? Keys are case-sensitive, so senders ignore this line."
            )
            fix: str | None = f"Write '{meant}: {line.value}'."
        else:
            message = (
                f"Line {line.number}: {show(line.key)} is not a key RFC 8461 defines;"
                " senders ignore it."
            )
            fix = None
        state.add("policy_unknown_key", message, fix)


def _fixed_line(line: str) -> str | None:
    cleaned = line.replace("\r", " ").strip(" \t")
    if ":" not in cleaned:
        return None
    key, value = (part.strip(" \t") for part in cleaned.split(":", 1))
    return f"Write it as: {key}: {value}"


def _join(problems: list[str]) -> str:
    unique = list(dict.fromkeys(problems))
    if len(unique) == 1:
        return unique[0]
    return ", ".join(unique[:-1]) + " and " + unique[-1]
