"""Turn what someone typed to the bot into the domains to check.

The input is a slash command's text or a mention/DM's text as Slack delivers
it: `&`, `<`, `>` escaped as entities, domains and emails auto-linked as
`<http://example.com|example.com>` / `<mailto:a@example.com|a@example.com>`,
and mentions as `<@U123>`, `<#C123|name>`, `<!here>`.

Results are raw text: the builders escape errors when they render them.

Decisions:
- Empty text (after mentions are dropped), or a first word `help` (or `?`),
  asks for help; nothing is checked.
- A leading `check` word is ignored (`@mtasts check example.com`).
- When more than `max_domains` distinct inputs are given, nothing is checked:
  one error says the limit and how many were given.
- Each input that is not a domain gets an error naming it; the valid ones are
  still checked.
- Text over MAX_TEXT_CHARS characters or MAX_TOKENS words is refused whole
  with one error, so the work per request stays bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.checker.domain import DomainError, normalise_domain

MAX_TEXT_CHARS = 4000
MAX_TOKENS = 1000
SHOWN_TOKEN_CHARS = 80  # how much of a bad input an error quotes

_ANGLE = re.compile(r"(<[^<>]*>)")
_SPLIT = re.compile(r"[\s,;]+")
_HELP_WORDS = frozenset({"help", "?", "-h", "--help", "usage"})


@dataclass
class ParsedRequest:
    domains: list[str] = field(default_factory=list)  # normalised, deduplicated, in order
    errors: list[str] = field(default_factory=list)  # one line each, raw (escape to render)
    wants_help: bool = False


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of `&`, `<`, `>` (and nothing else)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _shown(token: str) -> str:
    flat = " ".join(token.split())
    if len(flat) > SHOWN_TOKEN_CHARS:
        return flat[: SHOWN_TOKEN_CHARS - 1] + "…"
    return flat


def _tokens(text: str) -> list[tuple[str, list[str]]]:
    """(what to show in an error, candidates to try in order) per input word."""
    out: list[tuple[str, list[str]]] = []
    for piece in _ANGLE.split(text):
        if not piece:
            continue
        if piece.startswith("<") and piece.endswith(">"):
            inner = piece[1:-1].strip()
            if not inner or inner[0] in "@#!":
                continue  # user, channel or special mention: not a domain
            target, _, label = inner.partition("|")
            target = unescape_slack(target.strip())
            label = unescape_slack(label.strip())
            if target.lower().startswith("mailto:"):
                target = target[len("mailto:") :]
            candidates = [c for c in (target, label) if c]
            if candidates:
                out.append((label or target, candidates))
            continue
        for word in _SPLIT.split(unescape_slack(piece)):
            if word:
                out.append((word, [word]))
    return out


def _normalise(candidates: list[str]) -> tuple[str | None, str]:
    """The normalised domain of the first candidate that is one, or None and why not."""
    reason = "not a domain"
    for candidate in candidates:
        try:
            return normalise_domain(candidate), ""
        except DomainError as exc:
            reason = exc.rule or reason
        except (ValueError, UnicodeError) as exc:  # defensive: never let input raise
            reason = f"not a domain ({type(exc).__name__})"
    return None, reason


def parse_request(text: str, *, max_domains: int = 5) -> ParsedRequest:
    """Parse a command/mention text into domains to check, errors, and a help request."""
    if len(text) > MAX_TEXT_CHARS:
        return ParsedRequest(
            errors=[
                f"That message is too long for me ({len(text):,} characters). "
                f"Send up to {max_domains} domains, separated by spaces."
            ]
        )
    tokens = _tokens(text)
    if len(tokens) > MAX_TOKENS:
        return ParsedRequest(
            errors=[
                f"That is too many words for me ({len(tokens):,}). "
                f"Send up to {max_domains} domains, separated by spaces."
            ]
        )
    if tokens and tokens[0][1] == [tokens[0][0]] and tokens[0][0].lower() == "check":
        tokens = tokens[1:]
    if not tokens or tokens[0][0].lower() in _HELP_WORDS:
        return ParsedRequest(wants_help=True)

    # Distinct inputs, in order (the same word twice counts once).
    seen_inputs: set[str] = set()
    unique: list[tuple[str, list[str]]] = []
    for shown, candidates in tokens:
        key = shown.lower().rstrip(".")
        if key not in seen_inputs:
            seen_inputs.add(key)
            unique.append((shown, candidates))
    if len(unique) > max_domains:
        return ParsedRequest(
            errors=[
                f"You gave me {len(unique)} domains; I check at most {max_domains} at a time, "
                "so I have not checked any. Send them in smaller groups."
            ]
        )

    result = ParsedRequest()
    for shown, candidates in unique:
        domain, reason = _normalise(candidates)
        if domain is None:
            result.errors.append(_error_line(shown, reason))
        elif domain not in result.domains:
            result.domains.append(domain)
    return result


def _error_line(shown: str, reason: str) -> str:
    reason = " ".join(reason.split())
    return f"“{_shown(shown)}” is not a domain: {reason}"


WATCH_VERBS = frozenset({"watch", "unwatch", "watching"})


def watch_verb(text: str) -> tuple[str | None, str]:
    """(`watch`, `unwatch` or `watching`, the rest) when the text starts with one of them
    (after any mentions of the bot), else (None, text)."""
    rest = text.lstrip()
    while rest.startswith("<@"):
        end = rest.find(">")
        if end < 0:
            break
        rest = rest[end + 1 :].lstrip()
    word, _, after = rest.partition(" ")
    if "\n" in word:
        word, _, tail = word.partition("\n")
        after = f"{tail} {after}"
    if word.lower() in WATCH_VERBS:
        return word.lower(), after
    return None, text
