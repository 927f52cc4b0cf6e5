import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checker.domain import DomainError, normalise_domain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("user@example.com", "example.com"),
        ("https://example.com/path", "example.com"),
        ("http://Example.com:8080/x?y", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("<http://example.com|example.com>", "example.com"),
        ("<mailto:a@example.com|a@example.com>", "example.com"),
        ("<http://example.com>", "example.com"),
        ("  example.com\n", "example.com"),
        ('"example.com"', "example.com"),
        ("`example.com`", "example.com"),
        ("example.com,", "example.com"),
        ("(example.com).", "example.com"),
        ("mail。example。com", "mail.example.com"),
        ("mailto:a@Example.com?subject=x", "example.com"),
        ("https://user@example.com:443/", "example.com"),
        ("<https://bücher.example/x|bücher.example>", "xn--bcher-kva.example"),
    ],
)
def test_accepts_what_people_paste(text: str, expected: str) -> None:
    assert normalise_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("", "empty", "nothing"),
        ("10.0.0.1", "ip_address", "IP address"),
        ("2001:db8::1", "ip_address", "IP address"),
        ("[2001:db8::1]", "ip_address", "IP address"),
        ("localhost", "single_label", "single label"),
        ("a..b", "empty_label", "empty label"),
        ("a" * 64 + ".com", "label_too_long", "at most 63"),
        (".".join(["a" * 60] * 5), "name_too_long", "at most 253"),
        ("a_b.example.com", "bad_character", "underscore"),
        ("_mta-sts.example.com", "bad_character", "not the record name"),
        ("exa mple.com", "bad_character", "space"),
        ("exa\x07mple.com", "bad_character", "control character"),
        ("example.com/x", "bad_character", "'/'"),
        ("-a.example.com", "hyphen", "hyphen"),
        ("a-.example.com", "hyphen", "hyphen"),
        ("xn--zz.com", "idna", "A-label"),
        ("a\u200db.com", "idna", "IDNA"),
        ("pаypal.com", "mixed_script", "Cyrillic"),
        ("example.123", "numeric_tld", "all digits"),
    ],
)
def test_rejects_with_the_rule(text: str, kind: str, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalise_domain(text)
    assert caught.value.kind == kind
    assert words in str(caught.value)
    assert caught.value.input == text
    assert str(caught.value).startswith(repr(text)[:20])


def test_message_is_one_line_and_bounded() -> None:
    with pytest.raises(DomainError) as caught:
        normalise_domain("a\nb c" + "x" * 5000)
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < 400
    assert str(
        DomainError(
            "10.0.0.1", "an IP address; give the mail domain, e.g. example.com", "ip_address"
        )
    ) == ("'10.0.0.1' is not a domain: an IP address; give the mail domain, e.g. example.com")


@given(st.text(max_size=80))
def test_only_domain_errors_and_idempotent(text: str) -> None:
    try:
        once = normalise_domain(text)
    except DomainError:
        return
    assert normalise_domain(once) == once
    assert once == once.lower()
    assert once.isascii()


tricky = st.text(alphabet="aZ0.-_@:/[]<>|\"'` \t\nü。xn-1", max_size=40)


@given(tricky)
def test_structured_junk_raises_only_domain_error(text: str) -> None:
    error: DomainError | None = None
    try:
        once = normalise_domain(text)
    except DomainError as exc:
        error = exc
    if error is not None:
        assert error.rule
        assert "\n" not in str(error)
        return
    assert normalise_domain(once) == once


label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True).filter(
    lambda s: "--" not in s
)


@given(st.lists(label, min_size=1, max_size=3), st.sampled_from(["com", "org", "example"]))
def test_valid_names_normalise_idempotently(labels: list[str], tld: str) -> None:
    name = ".".join([*labels, tld])
    once = normalise_domain(name)
    assert once == name.lower()
    assert normalise_domain(once) == once
