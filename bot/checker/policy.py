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
import operator
import re
from dataclasses import dataclass, field
from itertools import islice, repeat
from typing import get_args

import idna

from bot.checker import limits
from bot.checker.domain import show
from bot.checker.findings import cap_per_code, finding, more_like_these
from bot.checker.fixes import DEFAULT_MAX_AGE, did_you_mean
from bot.checker.model import Finding, Mode, Policy

MAX_AGE_LIMIT = 31557600  # RFC 8461 §3.2: about one year
MAX_AGE_SHORT = 86400  # one day
KEYS = ("version", "mode", "max_age", "mx")
MODES: tuple[Mode, ...] = get_args(Mode)
_KEY_RE = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"  # a key (RFC 8461 §3.2: sts-policy-ext-name)
_KEY = re.compile(_KEY_RE)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LDH_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL = re.compile(_LDH_LABEL)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_STRICT = "Strict senders reject the whole policy because of it."
_UNUSABLE = "Senders treat the policy as invalid, so MTA-STS is not in effect."

# Reading a body costs time linear in its size, and Python-level work only for the lines
# a finding quotes (bench/parsers.py measures it). The lines are read the lenient way
# (leading blanks dropped, blanks before the colon dropped, a bare CR ending a line too)
# by regular expressions over the whole text, with `\r` turned into `\n` (same length, so
# positions still give line numbers): they never backtrack (possessive quantifiers).
_AT_KEY = r"^[ \t]*+"
_VALUE_RE = r"[ \t]*+:([^\n]*+)"
_FIRST = {
    key: re.compile(_AT_KEY + key + _VALUE_RE, re.M) for key in ("version", "mode", "max_age")
}
_KNOWN_LINES = re.compile(_AT_KEY + r"(version|mode|max_age)" + _VALUE_RE, re.M)
_UNKNOWN_LINES = re.compile(
    _AT_KEY + r"(?!(?:version|mode|max_age|mx)[ \t]*+:)(" + _KEY_RE + ")" + _VALUE_RE, re.M
)
_NO_COLON_LINES = re.compile(_AT_KEY + r"([^:\n]++)$", re.M)
# A line with no syntax problem (on the text as received): blank, or `key:value` with
# no control character, no undecodable byte, and no CR but the one of a CRLF.
_CLEAN = r"(?:[ \t]*+|" + _KEY_RE + r":[^\x00-\x08\x0a-\x1f\x7f\ufffd]*+)(?:\r(?=\n))?"
_CLEAN_LINES = re.compile(r"^" + _CLEAN + "$", re.M)
_CLEAN_RUN = re.compile(r"(?:" + _CLEAN + r"\n)*+")
# An mx value senders accept (what `_check_mx` passes), lower-cased: LDH labels, at most
# 253 characters, an optional `*.` first, and no IPv4 address.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LDH_NAME = rf"(?=[a-z0-9.-]{{1,253}}(?![a-z0-9.-])){_LDH_LABEL}(?:\.{_LDH_LABEL})*+"
_END = r"[ \t]*+$"
_VALID_MX = rf"(?i:\*\.{_LDH_NAME}|(?!(?:{_OCTET}\.){{3}}{_OCTET}{_END}){_LDH_NAME})(?={_END})"
_MX_AT = _AT_KEY + r"mx[ \t]*+:"
_MX_LINES = re.compile(_MX_AT, re.M)
_MX_VALID_LINES = re.compile(_MX_AT + rf"[ \t]*+({_VALID_MX})", re.M)


@functools.cache
def _mx_other_lines() -> re.Pattern[str]:
    """mx lines whose value is not valid (compiled when first needed: ~6 ms)."""
    return re.compile(_MX_AT + rf"(?![ \t]*+{_VALID_MX})([^\n]*+)", re.M)


_HINT_LINES = 200  # lines without a colon, or with an unknown key, looked at for a hint
_AFTER_LINES = 1 << 62  # sorts the summaries of the later codes after the line reading's


@dataclass(slots=True)
class _Line:
    number: int
    key: str
    value: str


@dataclass(slots=True)
class _State:
    host: str
    findings: list[Finding] = field(default_factory=list)
    first: dict[str, _Line] = field(default_factory=dict)  # version/mode/max_age/mx
    mx_lines: int = 0
    mx_valid: list[str] = field(default_factory=list)  # the valid ones, lower-cased
    mx_invalid: list[_Line] = field(default_factory=list)  # the first invalid ones
    mx_more: int = 0  # invalid ones beyond those
    mx_more_names: list[str] = field(default_factory=list)  # a few of them, for the summary
    unknown: list[_Line] = field(default_factory=list)  # the first _HINT_LINES
    unknown_total: int = 0
    no_colon: list[_Line] = field(default_factory=list)  # the first _HINT_LINES
    # Line-ordered findings of the line reading: (line, order within it, finding).
    by_line: list[tuple[int, int, Finding]] = field(default_factory=list)
    summaries: list[tuple[int, int, Finding]] = field(default_factory=list)

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
    read = state.findings
    state.findings = []
    _read_lines(content, state, shown=len(read))
    policy.version = _version(state)
    policy.mode = _mode(state)
    policy.max_age = _max_age(state, policy.mode)
    policy.mx = _mx(state, policy.mode)
    _report_unknown(state)
    # As the lines were read: their findings in line order, then the rest; summaries last,
    # those of the line reading first (cap_per_code keeps summaries, and the order).
    by_line = [f for *_, f in sorted(state.by_line, key=lambda t: t[:2])]
    summaries = [f for *_, f in sorted(state.summaries, key=lambda t: t[:2])]
    findings = read + by_line + state.findings + summaries
    return policy, cap_per_code(findings, policy_host, where=" in the policy")


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


def _read_lines(content: str, state: _State, shown: int) -> None:
    _syntax(content, state, shown)
    text = content.replace("\r", "\n")  # the lenient reading: a bare CR ends a line too
    _entries(content, text, state)


def _number(content: str, pos: int) -> int:
    return content.count("\n", 0, pos) + 1


def _syntax(content: str, state: _State, shown: int) -> None:
    """One `policy_syntax` finding per line with problems: the first ones in words (the
    lines between them skipped by one regex match), the others counted. `shown`: how
    many there are already (the byte-order mark's)."""
    cap = limits.MAX_FINDINGS_PER_CODE
    pos, size, number = 0, len(content), 1
    while pos <= size:
        skipped = _CLEAN_RUN.match(content, pos)
        if skipped is not None and skipped.end() > pos:
            number += content.count("\n", pos, skipped.end())
            pos = skipped.end()
        end = content.find("\n", pos)
        last = end < 0
        raw = content[pos:] if last else content[pos:end]
        line = raw if last else raw.removesuffix("\r")
        problems = _line_problems(line)
        if problems:
            if shown == cap:
                rest = content[pos:]
                lines = rest.count("\n") + 1
                more = lines - len(_CLEAN_LINES.findall(rest))
                summary = more_like_these("policy_syntax", more, state.host, " in the policy")
                state.summaries.append((number, 1, summary))
                return
            shown += 1
            fix = (
                "End every line with LF (or CRLF), not a lone CR."
                if "\r" in line
                else _fixed_line(line)
            )
            message = f"Line {number} {show(line)} {_join(problems)}. {_STRICT}"
            state.by_line.append((number, 1, finding("policy_syntax", state.host, message, fix)))
        if last:
            return
        pos, number = end + 1, number + 1


def _line_problems(line: str) -> list[str]:
    """What is wrong with one line (its parts, when bare CRs split it), in order."""
    if line.count("\r") >= _MANY_PARTS:
        return _many_parts_problems(line)
    problems: list[str] = []
    parts = [line]
    if "\r" in line:
        problems.append(_BARE_CR)
        parts = line.split("\r")
    for part in parts:
        problems += _part_problems(part)
    return problems


def _part_problems(part: str) -> list[str]:
    problems: list[str] = []
    if not part.strip(" \t"):
        return problems
    if part[0] in " \t":
        problems.append(_LEADING)
        part = part.lstrip(" \t")
    if _CONTROL.search(part):
        problems.append(_CONTROL_CHAR)
    if "\ufffd" in part:
        problems.append(_UNDECODABLE)
    if ":" not in part:
        problems.append(_NO_COLON)
        return problems
    key = part.split(":", 1)[0]
    if key != key.rstrip(" \t"):
        problems.append(_SPACE_BEFORE_COLON)
        key = key.rstrip(" \t")
    if not _KEY.fullmatch(key):
        problems.append(_malformed(key))
    return problems


def _malformed(key: str) -> str:
    return f"has the malformed key {show(key)} (a key is 1 to 32 letters, digits, '_', '-' or '.')"


# One line split into many parts by bare CRs: each kind of problem is found by one search
# over the whole line (where it first occurs orders the words, as `_part_problems` would).
_MANY_PARTS = 64
_MALFORMED_NAMED = 5  # distinct malformed keys named for one line
_PART = r"\r"  # searched in "\r" + line: a literal the regex engine jumps to
_KINDS = (  # (rank within a part, problem, where it first occurs in a line of parts)
    (0, "starts with whitespace", re.compile(_PART + r"[ \t]++[^ \t\r]")),
    (1, "contains a control character", re.compile(r"[\x00-\x08\x0a-\x0c\x0e-\x1f\x7f]")),
    (2, "is not valid UTF-8", re.compile("\ufffd")),
    (
        3,
        "has no ':' (every line is 'key: value')",
        re.compile(_PART + r"[ \t]*+[^:\r \t][^:\r]*+(?=\r|\Z)"),
    ),
    (3, "has a space before the colon", re.compile(_PART + r"[ \t]*+[^:\r \t][^:\r]*?[ \t]:")),
)
_BARE_CR = "contains a bare CR (lines must end in LF or CRLF)"
_LEADING, _CONTROL_CHAR, _UNDECODABLE, _NO_COLON, _SPACE_BEFORE_COLON = (k[1] for k in _KINDS)
_MALFORMED_KEYS = re.compile(_PART + r"[ \t]*+(?!" + _KEY_RE + r"[ \t]*+:)([^:\r]*+):")


def _many_parts_problems(line: str) -> list[str]:
    found: list[tuple[int, int, str]] = []
    line = "\r" + line  # every part now follows a CR (positions are one more than in line)
    for rank, problem, pattern in _KINDS:
        if (where := pattern.search(line)) is not None:
            # The start of the part it is in (the searches of ranks 1 and 2 find a character).
            start = line.rfind("\r", 0, where.start()) if rank in (1, 2) else where.start()
            found.append((start, rank, problem))
    keys = dict.fromkeys(map(str.rstrip, _MALFORMED_KEYS.findall(line), repeat(" \t")))
    for key in islice(keys, _MALFORMED_NAMED):
        part = re.compile(_PART + r"[ \t]*+" + re.escape(key) + r"[ \t]*+:")
        if (where := part.search(line)) is not None:
            found.append((where.start(), 4, _malformed(key)))
    return [_BARE_CR] + [problem for *_, problem in sorted(found)]


class _Numbers:
    """Line numbers of positions met in increasing order (counting only what is new)."""

    def __init__(self, content: str) -> None:
        self.content, self.pos, self.number = content, 0, 1

    def __call__(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.number = 0, 1
        self.number += self.content.count("\n", self.pos, pos)
        self.pos = pos
        return self.number


def _entries(content: str, text: str, state: _State) -> None:
    """The lines as senders read them: first values, duplicates, mx values, unknown keys."""
    _known(content, text, state)
    _mx_values(content, text, state)
    numbers = _Numbers(content)
    for found in islice(_UNKNOWN_LINES.finditer(text), _HINT_LINES):
        state.unknown.append(_Line(numbers(found.start()), found[1], found[2].strip(" \t")))
    state.unknown_total = len(state.unknown)
    if state.unknown_total == _HINT_LINES:
        state.unknown_total = len(_UNKNOWN_LINES.findall(text))
    numbers = _Numbers(content)
    for found in islice(_NO_COLON_LINES.finditer(text), _HINT_LINES):
        line = found[1]
        state.no_colon.append(_Line(numbers(found.start()), (line.split() or [line])[0], line))


def _mx_values(content: str, text: str, state: _State) -> None:
    """The valid mx values (one regex pass), and the first invalid ones with their lines."""
    state.mx_valid = list(map(str.lower, _MX_VALID_LINES.findall(text)))
    state.mx_lines = len(_MX_LINES.findall(text))
    if state.mx_lines == len(state.mx_valid):
        return
    cap = limits.MAX_FINDINGS_PER_CODE
    numbers = _Numbers(content)
    last = 0
    for found in islice(_mx_other_lines().finditer(text), cap):
        state.mx_invalid.append(_Line(numbers(found.start()), "mx", found[1].strip(" \t")))
        last = found.end()
    state.mx_more = state.mx_lines - len(state.mx_valid) - len(state.mx_invalid)
    if state.mx_more:
        rest = map(str.strip, _mx_other_lines().findall(text, last), repeat(" \t"))
        subjects = dict.fromkeys(map(operator.itemgetter(slice(0, 255)), rest))
        state.mx_more_names = [name for name in islice(subjects, 5) if name][:4]


def _known(content: str, text: str, state: _State) -> None:
    """The first version/mode/max_age lines, and a `policy_key_duplicate` finding per later
    one (the first ones in words, then counted)."""
    cap = limits.MAX_FINDINGS_PER_CODE
    numbers = _Numbers(content)
    shown = 0
    for found in _KNOWN_LINES.finditer(text):
        key = found[1]
        if key not in state.first:
            state.first[key] = _Line(numbers(found.start()), key, found[2].strip(" \t"))
            continue
        number = numbers(found.start())
        if shown == cap:
            for other in ("version", "mode", "max_age"):
                if other not in state.first and (later := _FIRST[other].search(text, found.end())):
                    value = later[1].strip(" \t")
                    state.first[other] = _Line(_number(content, later.start()), other, value)
            more = len(_KNOWN_LINES.findall(text)) - len(state.first) - cap
            summary = more_like_these("policy_key_duplicate", more, state.host, " in the policy")
            state.summaries.append((number, 0, summary))
            return
        shown += 1
        later_line = _Line(number, key, found[2].strip(" \t"))
        state.by_line.append((number, 0, _duplicate(state.first[key], later_line, state.host)))


def _duplicate(first: _Line, later: _Line, host: str) -> Finding:
    if first.value == later.value:
        effect = f"both say {show(first.value)}, so senders agree, but the extra line is noise"
    else:
        effect = (
            f"RFC 8461 keeps the first ({show(first.value)}), while some implementations"
            f" (e.g. postfix-mta-sts-resolver) keep the last ({show(later.value)}), so senders"
            " disagree about this policy"
        )
    return finding(
        "policy_key_duplicate",
        host,
        f"'{first.key}' appears on line {first.number} and again on line {later.number}: {effect}.",
        f"Keep one '{first.key}' line (line {first.number}) and delete line {later.number}.",
    )


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
    none_left = not state.mx_valid and mode in ("enforce", "testing")
    effect = (
        " No valid mx is left, so the policy is invalid."
        if none_left
        else " Senders ignore this line, so it covers no MX host."
    )
    for line in state.mx_invalid:
        problem, corrected = _check_mx(line.value)
        fix = f"Write 'mx: {corrected}'." if corrected else None
        state.add(
            "policy_mx_invalid",
            f"Line {line.number}: the mx {show(line.value)} {problem}.{effect}",
            fix,
            subject=line.value[:255] or state.host,
        )
    if state.mx_more:
        names = [n for n in islice(state.mx_more_names, 4) if n != state.host][:3]
        where = f" in the policy ({', '.join(names)}, …)" if names else " in the policy"
        summary = more_like_these("policy_mx_invalid", state.mx_more, state.host, where)
        state.summaries.append((_AFTER_LINES, 2, summary))
    if not state.mx_lines and mode in ("enforce", "testing"):
        state.add(
            "policy_mx_missing",
            f"The policy is in mode '{mode}' but lists no 'mx' line, so no MX host can match"
            f" it.{_hint_for('mx', state)} {_UNUSABLE}",
            "Add one 'mx: <host>' line per MX host (or a '*.' wildcard covering them).",
        )
    return state.mx_valid


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
    cap = limits.MAX_FINDINGS_PER_CODE
    for line in state.unknown[:cap]:
        # Only the first findings of a code are shown: suggest for those only.
        meant = _meant(line.key)
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
    if state.unknown_total > cap:
        more = state.unknown_total - cap
        summary = more_like_these("policy_unknown_key", more, state.host, " in the policy")
        state.summaries.append((_AFTER_LINES, 3, summary))


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
