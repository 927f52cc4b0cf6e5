import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checker.fixes import policy_text
from bot.checker.model import Policy
from bot.checker.policy import parse_policy, policy_usable

HOST = "mta-sts.example.com"
GOOD = b"version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n"


def codes(body: bytes) -> list[str]:
    return [f.code for f in parse_policy(body, HOST)[1]]


def messages(body: bytes, code: str) -> list[str]:
    return [f.message for f in parse_policy(body, HOST)[1] if f.code == code]


def test_good_policy() -> None:
    policy, findings = parse_policy(GOOD, HOST)
    assert findings == []
    assert policy == Policy(
        "STSv1", "enforce", 604800, ["mail.example.com", "*.example.net"], GOOD.decode()
    )
    assert policy_usable(policy)


def test_crlf_no_final_newline_and_blank_lines_are_fine() -> None:
    body = b"version: STSv1\r\n\r\nmode: testing\r\nmx:   MAIL.example.com  \r\nmax_age: 86400"
    policy, findings = parse_policy(body, HOST)
    assert findings == []
    assert (policy.mode, policy.max_age, policy.mx) == ("testing", 86400, ["mail.example.com"])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            b" version: STSv1\nmode: none\nmax_age: 86400\n",
            "Line 1 ' version: STSv1' starts with whitespace",
        ),
        (b"version : STSv1\nmode: none\nmax_age: 86400\n", "space before the colon"),
        (b"version: STSv1\nmode none\nmax_age: 86400\n", "Line 2 'mode none' has no ':'"),
        (b"version: STSv1\rmode: none\rmax_age: 86400\r", "bare CR"),
        (b"\xef\xbb\xbfversion: STSv1\nmode: none\nmax_age: 86400\n", "byte-order mark"),
        (b"\x1f\x8b\x08\x00\x00\x00", "NUL bytes"),
        (b"<!DOCTYPE html><html></html>", "HTML"),
        (b"", "empty"),
        (b"version: STSv1\nmo de: none\n", "malformed key"),
        (b"version: STSv1\nmode: no\xffne\n", "not valid UTF-8"),
        (b"version: STSv1\nmode: no\x01ne\n", "control character"),
    ],
)
def test_syntax(body: bytes, words: str) -> None:
    found = messages(body, "policy_syntax")
    assert any(words in m for m in found), found


def test_syntax_findings_are_capped() -> None:
    body = GOOD + b"junk line\n" * 100
    found = messages(body, "policy_syntax")
    assert len(found) == 21
    assert found[-1].startswith("And 80 more")


def test_lenient_read_after_syntax_error() -> None:
    policy, _ = parse_policy(b" version : STSv1\nmode: none\nmax_age: 86400\n", HOST)
    assert policy.version == "STSv1"
    assert policy_usable(policy)


@pytest.mark.parametrize(
    ("line", "words"),
    [(b"version: STSv2", "'STSv2'"), (b"version: stsv1", "case-sensitive"), (b"", "no 'version'")],
)
def test_version_invalid(line: bytes, words: str) -> None:
    body = line + b"\nmode: none\nmax_age: 86400\n"
    found = messages(body, "policy_version_invalid")
    assert found
    assert words in found[0]
    assert not policy_usable(parse_policy(body, HOST)[0])


@pytest.mark.parametrize(
    ("value", "meant"),
    [
        (b"Enforce", "enforce"),
        (b"enforcing", "enforce"),
        (b"enforced", "enforce"),
        (b"test", "testing"),
        (b"TESTING", "testing"),
        (b"off", "none"),
    ],
)
def test_mode_invalid_suggests(value: bytes, meant: str) -> None:
    body = b"version: STSv1\nmode: " + value + b"\nmx: mail.example.com\nmax_age: 86400\n"
    found = parse_policy(body, HOST)[1]
    mode = [f for f in found if f.code == "policy_mode_invalid"]
    assert mode
    assert f"Did you mean '{meant}'" in mode[0].message
    assert mode[0].fix == f"Write 'mode: {meant}'."


def test_mode_missing_notes_typo_key() -> None:
    found = messages(b"version: STSv1\nMode: enforce\nmax_age: 86400\n", "policy_mode_invalid")
    assert found
    assert "no 'mode' line" in found[0]
    assert "'Mode'" in found[0]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "no 'max_age'"),
        (b"1w", "not a whole number"),
        (b"604800s", "not a whole number"),
        (b"-5", "negative"),
        (b"31557601", "over 31557600"),
        (b"99999999999", "over 31557600"),
        (b"9" * 5000, "over 31557600"),
        (b"00000000001", "more than 10 digits"),
    ],
)
def test_max_age_invalid(value: bytes | None, words: str) -> None:
    body = b"version: STSv1\nmode: none\n" + (b"max_age: " + value + b"\n" if value else b"")
    found = messages(body, "policy_max_age_invalid")
    assert found
    assert words in found[0]


def test_max_age_short() -> None:
    body = b"version: STSv1\nmode: testing\nmx: a.example.com\nmax_age: 3600\n"
    policy, findings = parse_policy(body, HOST)
    short = [f for f in findings if f.code == "policy_max_age_short"]
    assert len(short) == 1
    assert "3600" in short[0].message
    assert "604800" in (short[0].fix or "")
    assert policy_usable(policy)
    # The contract lists the code whatever the mode; in mode none it says why it may be fine.
    _, withdrawn = parse_policy(b"version: STSv1\nmode: none\nmax_age: 3600\n", HOST)
    (none_short,) = [f for f in withdrawn if f.code == "policy_max_age_short"]
    assert "withdrawing" in none_short.message
    assert "policy_max_age_short" not in codes(GOOD.replace(b"604800", b"31557600"))


def test_mx_missing_mentions_typo() -> None:
    body = b"version: STSv1\nmode: enforce\nnmx: mail.example.com\nmax_age: 86400\n"
    policy, findings = parse_policy(body, HOST)
    missing = [f for f in findings if f.code == "policy_mx_missing"]
    assert missing
    assert "'nmx'" in missing[0].message
    assert not policy_usable(policy)
    unknown = [f for f in findings if f.code == "policy_unknown_key"]
    assert unknown
    assert "did you mean 'mx'" in unknown[0].message
    assert "policy_mx_missing" not in codes(b"version: STSv1\nmode: none\nmax_age: 86400\n")


@pytest.mark.parametrize(
    ("pattern", "words", "fix"),
    [
        ("192.0.2.1", "IP address", None),
        ("[2001:db8::1]", "IP address", None),
        ("a_b.example.com", "underscore", None),
        ("smtp://mail.example.com", "scheme", "Write 'mx: mail.example.com'."),
        ("mail.example.com:25", "port", "Write 'mx: mail.example.com'."),
        ("*mail.example.com", "whole leftmost label", None),
        ("mail.*.example.com", "whole leftmost label", None),
        ("*.*.example.com", "whole leftmost label", None),
        ("*", "bare '*'", None),
        ("-mail.example.com", "hyphen", None),
        ("mail..example.com", "empty label", None),
        ("bücher.example", "A-label", "Write 'mx: xn--bcher-kva.example'."),
    ],
)
def test_mx_invalid(pattern: str, words: str, fix: str | None) -> None:
    body = f"version: STSv1\nmode: enforce\nmx: {pattern}\nmx: ok.example.com\nmax_age: 86400\n"
    policy, findings = parse_policy(body.encode(), HOST)
    bad = [f for f in findings if f.code == "policy_mx_invalid"]
    assert len(bad) == 1
    assert words in bad[0].message
    assert bad[0].subject == pattern
    assert bad[0].fix == fix
    assert policy.mx == ["ok.example.com"]


def test_duplicate_keeps_first_and_names_both_values() -> None:
    body = GOOD + b"mode: testing\n"
    policy, findings = parse_policy(body, HOST)
    dup = [f for f in findings if f.code == "policy_key_duplicate"]
    assert policy.mode == "enforce"
    assert dup
    assert "keeps the first ('enforce')" in dup[0].message
    assert "keep the last ('testing')" in dup[0].message


@pytest.mark.parametrize(
    ("key", "meant"), [("Mode", "mode"), ("max-age", "max_age"), ("MX", "mx"), ("foo", None)]
)
def test_unknown_key(key: str, meant: str | None) -> None:
    found = messages(GOOD + f"{key}: x\n".encode(), "policy_unknown_key")
    assert found
    assert f"'{key}'" in found[0]
    assert (f"did you mean '{meant}'" in found[0]) if meant else ("did you mean" not in found[0])


def test_never_emits_mode_findings() -> None:
    assert not {"mode_testing", "mode_none"} & set(
        codes(b"version: STSv1\nmode: none\nmax_age: 1\n")
    )


@given(st.binary(max_size=600))
def test_never_raises_on_bytes(body: bytes) -> None:
    policy, findings = parse_policy(body, HOST)
    assert isinstance(policy, Policy)
    assert isinstance(policy.text, str)
    assert all(isinstance(p, str) for p in policy.mx)
    assert isinstance(policy_usable(policy), bool)
    assert all(f.code.startswith("policy_") for f in findings)


@given(st.text(max_size=400))
def test_never_raises_on_text(text: str) -> None:
    policy, _ = parse_policy(text.encode("utf-8", "surrogatepass"), HOST)
    assert policy.mode in (None, "enforce", "testing", "none")


policy_line = st.text(alphabet="vesionmdxa_:* .-STv1\t\r\ufeff\x00é0123456789", max_size=30)


@given(st.lists(policy_line, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]))
def test_never_raises_on_line_structured_text(lines: list[str], end: str) -> None:
    policy, findings = parse_policy(end.join(lines).encode(), HOST)
    assert policy.max_age is None or 0 <= policy.max_age <= 31557600
    assert len(findings) < 200


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
host = st.tuples(
    st.lists(label, min_size=1, max_size=3), st.sampled_from(["com", "net", "example"])
).map(lambda t: ".".join([*t[0], t[1]]))


@given(
    st.sampled_from(["enforce", "testing", "none"]),
    st.lists(st.one_of(host, host.map(lambda h: "*." + h)), min_size=1, max_size=5, unique=True),
    st.integers(min_value=86400, max_value=31557600),
)
def test_policy_text_round_trips(mode: str, hosts: list[str], max_age: int) -> None:
    policy, findings = parse_policy(policy_text(mode, hosts, max_age).encode(), HOST)
    assert [f for f in findings if f.severity == "error"] == []
    assert (policy.mode, policy.max_age, policy.mx) == (mode, max_age, hosts)
    assert policy_usable(policy)
