"""Fuzzing parse_request with what Slack can deliver: escaped, linked, mentioned, hostile.

Invariants, for any input: it returns (never raises), at most `max_domains`
domains, each normalised (what normalise_domain returns for it: lower-case
A-labels, no trailing dot) and distinct; errors are single lines of bounded
length; help comes alone; and the work is bounded whatever the size.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checker.domain import normalise_domain
from bot.slack.parse import MAX_TEXT_CHARS, parse_request

LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
TLD = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=3), TLD
)
NOISE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=25
) | st.sampled_from(
    ["<", ">", "|", "&", "&amp;", "&lt;", "&gt;", "&lt;!channel&gt;", "<<", ">>", "``", "```", "\n"]
)


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def slack_token(draw: st.DrawFn) -> str:
    """One thing Slack may put in a message's text."""
    d = draw(DOMAIN)
    noise = draw(NOISE)
    kind = draw(st.integers(0, 14))
    label = draw(st.sampled_from([d, d.upper(), noise, "", f"{d}.", f"user@{d}"]))
    return [
        d,
        d.upper() + ".",
        f"<http://{d}|{label}>",
        f"<https://{d}/path?q=1&amp;x=<|{label}>",
        f"<mailto:user@{d}|{label}>",
        f"<{d}>",
        f"<@U{noise}>",
        "<!here>",
        f"<!subteam^S1|{noise}>",
        f"<#C1|{noise}>",
        slack_escape(f"<{noise}|{d}>"),
        f"user@{d}",
        f"https://{d}/{noise}",
        noise,
        f"<{noise}|{noise}>",
    ][kind]


SLACK_TEXT = st.lists(slack_token(), max_size=12).flatmap(
    lambda tokens: st.sampled_from([" ", ", ", ";", "\n", "  \t"]).map(lambda sep: sep.join(tokens))
)


def check_invariants(text: str, max_domains: int) -> None:
    result = parse_request(text, max_domains=max_domains)
    assert len(result.domains) <= max_domains
    assert len(set(result.domains)) == len(result.domains)
    for domain in result.domains:
        assert normalise_domain(domain) == domain
        assert domain == domain.lower()
        assert not domain.endswith(".")
        assert domain.isascii()
        assert not set(domain) & set("<>|&@/: ")
    for error in result.errors:
        assert "\n" not in error
        assert "\r" not in error
        assert 0 < len(error) <= 400, len(error)
    if result.wants_help:
        assert result.domains == []
        assert result.errors == []
    assert len(result.errors) <= max(max_domains, 1)


@settings(max_examples=150, deadline=None)
@given(SLACK_TEXT, st.integers(1, 8))
def test_slack_shaped_text_keeps_every_invariant(text: str, max_domains: int) -> None:
    check_invariants(text, max_domains)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=600), st.integers(1, 8))
def test_any_text_keeps_every_invariant(text: str, max_domains: int) -> None:
    check_invariants(text, max_domains)


@settings(max_examples=150, deadline=None)
@given(DOMAIN)
def test_every_form_of_one_domain_gives_that_domain(domain: str) -> None:
    expected = normalise_domain(domain)
    forms = [
        domain,
        domain.upper() + ".",
        f"<http://{domain}|{domain}>",
        f"<https://{domain}/x|{domain}/x>",
        f"<mailto:a@{domain}|a@{domain}>",
        f"<@U0BOT> check {domain}",
        slack_escape(f"{domain}"),
        f"{domain}, {domain.upper()}",
    ]
    for form in forms:
        assert parse_request(form).domains == [expected], form


@settings(max_examples=50, deadline=None)
@given(st.lists(DOMAIN, min_size=1, max_size=12, unique=True), st.integers(1, 6))
def test_more_distinct_inputs_than_the_limit_checks_none(domains: list[str], limit: int) -> None:
    result = parse_request(" ".join(domains), max_domains=limit)
    distinct = {normalise_domain(d) for d in domains}
    if len(distinct) > limit:
        assert result.domains == []
        assert len(result.errors) == 1
    else:
        assert sorted(result.domains) == sorted(distinct)


def test_huge_and_pathological_inputs_finish_quickly() -> None:
    near = MAX_TEXT_CHARS - 1
    inputs = [
        "a.example " * 10_000,  # 100 KB
        "<" * 100_000,
        "&lt;" * 25_000,
        "<http://" * 12_500,
        "|" * 100_000,
        ("x" * 63 + ".") * 1600,
        "<" * near,
        "<http://a.example|" * (near // 18),
        "&amp;lt;" * (near // 8),
        ("<@U1>" * (near // 5))[:near],
        ("a." * (near // 2))[:near],
        ("xn--" + "a" * 59 + ".") * (near // 64),
        ("é" * 62 + ".") * (near // 63),
        " ".join(["check"] * (near // 6)),
        ",".join(["a"] * (near // 2)),
    ]
    for text in inputs:
        result = parse_request(text)
        assert len(result.domains) <= 5
        assert len(result.errors) <= 5
        assert all(len(e) <= 400 for e in result.errors)
