"""Bad input: every malformed form gets one specific line naming the input and the rule,
the valid domains of the same command are still checked, and nothing hangs or crashes."""

from __future__ import annotations

import json

import pytest

from bot.checker import limits
from bot.checker.domain import DomainError, normalise_domain
from bot.testbed.bed import Testbed
from bot.testbed.cli import run_mtasts as _mtasts

# (input, DomainError.kind, words the message must contain). Forms tests/checker/test_domain.py
# does not already cover: addresses in every disguise, hidden characters, confusables.
BAD: list[tuple[str, str, str]] = [
    ("192.0.2.1", "ip_address", "an IP address"),
    ("::1", "ip_address", "an IP address"),
    ("[::1]", "ip_address", "an IP address"),
    ("[2001:db8::1]:25", "ip_address", "an IP address"),
    ("https://[fe80::1]/.well-known/mta-sts.txt", "ip_address", "an IP address"),
    ("postmaster@[10.0.0.1]", "ip_address", "an IP address"),
    ("１２７.０.０.１", "ip_address", "an IP address"),  # fullwidth digits map to 127.0.0.1
    ("127.1", "numeric_tld", "all digits"),
    ("0x7f000001", "single_label", "single label"),
    ("example", "single_label", "single label"),
    ("a..example.com", "empty_label", "empty label"),
    (".example.com", "empty_label", "empty label"),
    ("x" * 64 + ".example.com", "label_too_long", "64 octets long; a label is at most 63"),
    (".".join(["a" * 63] * 3 + ["b" * 62]), "name_too_long", "254 octets long"),
    ("exa\x1bmple.com", "bad_character", "control character '\\x1b'"),
    ("exa\nmple.com", "bad_character", "control character '\\n'"),
    ("moc.elpmaxe\u202e", "bad_character", "control character '\\u202e'"),  # bidi override
    ("exa\u200bmple.com", "bad_character", "control character '\\u200b'"),  # zero width
    ("pаypal.com", "mixed_script", "Latin ('p') and Cyrillic ('а')"),
    ("xn--pypal-4ve.com", "mixed_script", "Cyrillic"),  # the same, as an A-label
    ("gοοgle.com", "mixed_script", "Greek"),  # Greek omicrons
    ("*.example.com", "bad_character", "'*'"),
    ("example.com:443", "bad_character", "':'"),
    ("a" * 100_000, "name_too_long", "far too long"),
]


@pytest.mark.parametrize(("text", "kind", "words"), BAD, ids=lambda v: repr(v)[:30])
def test_malformed_input_names_the_input_and_the_rule(text: str, kind: str, words: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalise_domain(text)
    error = caught.value
    assert error.kind == kind
    message = str(error)
    assert words in message, message
    assert not any(c in message for c in "\n\x1b\u202e\u200b")
    assert message.startswith(repr(text)[: limits.SHOWN_INPUT_CHARS // 2])
    assert len(message) < 400


def test_whole_script_lookalike_is_a_domain_shown_as_its_a_label() -> None:
    """A label wholly in Cyrillic is a valid (registrable) name; the A-label in the report
    shows it is not the Latin look-alike. Mixed scripts in one label are refused."""
    assert normalise_domain("аррӏе.com") == "xn--80ak6aa92e.com"


async def test_cli_mixed_good_and_bad_input(hostile_bed: Testbed) -> None:
    """Every bad form in one command, between valid domains: exit 2, one stderr line per
    bad input in input order (naming it and the rule), the valid ones checked and printed
    as JSON Lines in input order."""
    bad = [text for text, _, _ in BAD if len(text) < 1000] + ["x" * 5000]
    good = ["H-HTTP10.example.", "user@h-bom.example", "<http://h-nul.example|h-nul.example>"]
    args = [bad[0], good[0], *bad[1:10], good[1], *bad[10:], good[2]]
    code, out, err = await _mtasts(hostile_bed, "--json", *args)
    assert code == 2
    assert "Traceback" not in err
    reports = [json.loads(line) for line in out.splitlines()]
    assert [r["domain"] for r in reports] == ["h-http10.example", "h-bom.example", "h-nul.example"]
    assert [r["status"] for r in reports] == ["pass", "fail", "fail"]
    lines = err.splitlines()
    assert len(lines) == len(bad)
    for line, text in zip(lines, bad, strict=True):
        assert line.startswith(f"mtasts: {repr(text)[:40]}"), (line, text)
        assert "is not a domain: " in line
        assert len(line) < 400


async def test_cli_1000_domains_in_one_command(hostile_bed: Testbed) -> None:
    """1,000 arguments: the invalid ones refused one line each, the rest all checked,
    printed in input order (the run is bounded by `wait`)."""
    args = [f"d{i}.h-none.example" if i % 100 else f"bad{i}" for i in range(1000)]
    code, out, err = await _mtasts(
        hostile_bed, "--json", "--no-smtp", "--concurrency", "50", *args, wait=60
    )
    assert code == 2
    assert len(err.splitlines()) == 10
    assert all("single label" in line for line in err.splitlines())
    domains = [json.loads(line)["domain"] for line in out.splitlines()]
    assert domains == [a for a in args if "." in a]
