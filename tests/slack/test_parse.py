"""Parsing what people send the bot into domains to check."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checker.domain import normalise_domain
from bot.slack.parse import MAX_TEXT_CHARS, ParsedRequest, parse_request


def test_plain_domain() -> None:
    assert parse_request("example.com") == ParsedRequest(["example.com"], [], False)


def test_empty_and_help() -> None:
    for text in ("", "   ", "help", "HELP me", "<@U123>", "<@U123> help", "check"):
        result = parse_request(text)
        assert result.wants_help, text
        assert result.domains == []
        assert result.errors == []


def test_mention_link_forms_and_check_word() -> None:
    text = (
        "<@U0BOT|mtasts> check <http://example.com|example.com>, "
        "<mailto:a@Example.ORG|a@Example.ORG> <https://x.example/path> <#C123|general> <!here>"
    )
    result = parse_request(text)
    assert result.domains == ["example.com", "example.org", "x.example"]
    assert result.errors == []
    assert not result.wants_help


def test_unescapes_entities_and_splits_on_commas() -> None:
    result = parse_request("a.example,b.example;c.example &lt;d.example&gt;")
    assert result.domains == ["a.example", "b.example", "c.example", "d.example"]


def test_email_url_idn_and_dedupe_preserving_order() -> None:
    result = parse_request("B.example user@a.example https://b.example/x bücher.example a.example.")
    assert result.domains == ["b.example", "a.example", "xn--bcher-kva.example"]
    assert result.errors == []


def test_invalid_tokens_named_and_others_kept() -> None:
    result = parse_request("example.com 192.0.2.1 localhost")
    assert result.domains == ["example.com"]
    assert len(result.errors) == 2
    assert "192.0.2.1" in result.errors[0]
    assert "localhost" in result.errors[1]


def test_errors_are_raw_not_escaped() -> None:
    result = parse_request("a<b.example")
    assert result.domains == []
    assert result.errors
    assert "&lt;" not in result.errors[0]


def test_more_than_max_domains_checks_none() -> None:
    result = parse_request("a.example b.example c.example d.example e.example f.example")
    assert result.domains == []
    assert len(result.errors) == 1
    assert "6" in result.errors[0]
    assert "5" in result.errors[0]
    assert parse_request("a.example b.example", max_domains=1).domains == []
    assert parse_request("a.example a.example A.example", max_domains=1).domains == ["a.example"]


def test_long_input_refused_with_one_error() -> None:
    result = parse_request("a.example " * (MAX_TEXT_CHARS // 10 + 1))
    assert result.domains == []
    assert len(result.errors) == 1
    assert "too long" in result.errors[0]
    many = parse_request(" ".join(["x"] * 1500)[: MAX_TEXT_CHARS - 1])
    assert many.domains == []
    assert len(many.errors) == 1
    assert "too many" in many.errors[0]


def test_long_token_is_shortened_in_error() -> None:
    result = parse_request("a" * 300 + ".example")
    assert len(result.errors) == 1
    assert len(result.errors[0]) < 300


_slackish = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            ["check", "help", "<@U1>", "<!here>", "<#C1|x>", "&amp;", "&lt;", ",", " "]
        ),
        st.builds(
            lambda d: f"<http://{d}|{d}>", st.from_regex(r"[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True)
        ),
        st.builds(lambda d: f"<mailto:a@{d}|a@{d}>", st.text(max_size=20)),
        st.from_regex(r"[a-zA-Z0-9.-]{1,20}\.[a-z]{2,5}", fullmatch=True),
    ),
    max_size=8,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(_slackish)
def test_never_raises_and_returns_normalised_domains(text: str) -> None:
    result = parse_request(text)
    assert len(result.domains) <= 5
    assert len(set(result.domains)) == len(result.domains)
    for domain in result.domains:
        assert normalise_domain(domain) == domain
    assert all("\n" not in e for e in result.errors)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_any_text(text: str) -> None:
    result = parse_request(text)
    for domain in result.domains:
        assert normalise_domain(domain) == domain
