import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checker.matching import first_match, first_matches, near_miss, pattern_matches

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
domain = st.lists(label, min_size=2, max_size=4).map(".".join)


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("Mail.Example.COM.", "mail.example.com", True),
        ("mail.example.com", "MAIL.example.com.", True),
        ("*.example.com", "mail.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "mail.example.net", False),
        ("example.com", "mail.example.com", False),
        ("*.", "mail.example.com", False),
        ("", "mail.example.com", False),
    ],
)
def test_pattern_matches(pattern: str, host: str, expected: bool) -> None:
    assert pattern_matches(pattern, host) is expected


def test_first_match_keeps_policy_order() -> None:
    patterns = ["other.example.org", "*.example.com", "mx1.example.com"]
    assert first_match(patterns, "mx1.example.com") == "*.example.com"
    assert first_match(patterns, "example.com") is None


short = st.sampled_from(["a", "b", "mx", "A", ""])
name = st.lists(short, min_size=1, max_size=4).map(".".join)
pattern = st.one_of(name, name.map(lambda n: "*." + n), st.sampled_from(["*.", "*", " mx.a "]))


@given(st.lists(pattern, max_size=12), st.lists(st.one_of(name, name.map(str.upper)), max_size=8))
def test_first_matches_agrees_with_first_match(patterns: list[str], hosts: list[str]) -> None:
    """The linear-time index gives, for every host, what the pattern-by-pattern rule does
    (`first_match` is the index for one host: the rule is spelled out here)."""
    by_rule = [next((p for p in patterns if pattern_matches(p, h)), None) for h in hosts]
    assert first_matches(patterns, hosts) == by_rule
    assert [first_match(patterns, h) for h in hosts] == by_rule


@pytest.mark.parametrize(
    ("patterns", "host", "words"),
    [
        (["*.example.com"], "example.com", ["not example.com itself"]),
        (["*.example.com"], "mx1.mail.example.com", ["one label", "*.mail.example.com"]),
        (["mial.example.com"], "mail.example.com", ["typo", "one character"]),
        (["example.com"], "mail.example.com", ["exact host", "*.example.com"]),
        (["mail.example.com"], "smtp.example.com", ["same domain", "different host"]),
        (["*.mail.example.com"], "smtp.example.com", ["elsewhere in example.com"]),
    ],
)
def test_near_miss_explains_closest(patterns: list[str], host: str, words: list[str]) -> None:
    sentence = near_miss(patterns, host)
    assert sentence is not None
    for word in words:
        assert word in sentence


def test_near_miss_none_when_far_or_covered() -> None:
    assert near_miss(["mx.provider.net"], "mail.example.com") is None
    assert near_miss(["*.example.com"], "mail.example.com") is None
    assert near_miss([], "mail.example.com") is None


@pytest.mark.parametrize(
    ("pattern", "host", "same"),
    [
        ("mx.alpha-mail.co.uk", "smtp.alpha-mail.co.uk", "alpha-mail.co.uk"),
        ("mx.bravo-host.co.uk", "smtp.alpha-mail.co.uk", None),  # both in co.uk: not one domain
        ("*.mail.bravo.com.au", "smtp.alpha.com.au", None),
        ("*.in.example.com", "smtp.example.com", "example.com"),
        ("mx.alpha.example.co.jp", "smtp.alpha.example.co.jp", "example.co.jp"),
    ],
)
def test_same_domain_means_the_same_registrable_domain(
    pattern: str, host: str, same: str | None
) -> None:
    """Near-miss advice says "same domain" by the Public Suffix List, not the last two
    labels: mx.a.co.uk and mx.b.co.uk are two domains."""
    sentence = near_miss([pattern], host)
    if same is None:
        assert sentence is None or "same domain" not in sentence, sentence
        assert sentence is None or " is elsewhere in " not in sentence, sentence
    else:
        assert sentence is not None
        assert f"({same})" in sentence or f"elsewhere in {same}" in sentence, sentence


def test_near_miss_prefers_the_closest_pattern() -> None:
    sentence = near_miss(["smtp.example.com", "*.example.com"], "a.b.example.com")
    assert sentence is not None
    assert sentence.startswith("`*.example.com`")


@given(domain, label, label)
def test_wildcard_never_matches_base_or_two_deeper(base: str, a: str, b: str) -> None:
    assert not pattern_matches(f"*.{base}", base)
    assert not pattern_matches(f"*.{base}", f"{a}.{b}.{base}")
    assert pattern_matches(f"*.{base}", f"{a}.{base}")


@given(domain, domain)
def test_exact_pattern_matches_only_itself(pattern: str, host: str) -> None:
    assert pattern_matches(pattern, pattern.upper())
    assert pattern_matches(pattern, host) is (pattern == host)
