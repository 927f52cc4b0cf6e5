"""Escaping untrusted text for mrkdwn."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.mrkdwn import code_block, escape, inline_code, plain, safe, truncate

HOSTILE = "<!channel> <@U123> <https://evil|mta-sts.example.com> & `x` ```y```"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_escape_the_three_characters() -> None:
    assert escape("a & b <c> d") == "a &amp; b &lt;c&gt; d"
    assert escape("&amp;") == "&amp;amp;"  # already-escaped text is escaped again


def test_escape_hides_control_and_bidi_characters() -> None:
    assert escape("a\x00b\u202ec") == "a\ufffdb\ufffdc"
    assert escape("line\nnext\ttab") == "line\nnext\ttab"


def test_truncate() -> None:
    assert truncate("abcdef", 10) == "abcdef"
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abcdef", 0) == ""


def test_inline_code_hostile() -> None:
    out = inline_code(HOSTILE)
    assert out.startswith("`")
    assert out.endswith("`")
    assert out.count("`") == 2
    assert "<" not in out
    assert ">" not in out
    assert "&lt;!channel&gt;" in out


def test_inline_code_flattens_newlines_and_truncates() -> None:
    out = inline_code("a\nb\r\nc", 200)
    assert "\n" not in out
    assert "\r" not in out
    long = inline_code("x" * 500, 20)
    assert long == "`" + "x" * 19 + "…`"


def test_inline_code_empty() -> None:
    assert inline_code("") == "_(empty)_"
    assert inline_code("   ") == "` `"


def test_code_block_hostile() -> None:
    out = code_block(HOSTILE + "\nnext line")
    assert out.startswith("```")
    assert out.endswith("```")
    assert out.count("```") == 2
    assert "<" not in out
    assert ">" not in out
    assert "\nnext line" in out


def test_code_block_truncates_with_note_and_count() -> None:
    text = "".join(f"line {i} <&>\n" for i in range(2000))
    out = code_block(text, 2900, full_text_in="`mtasts check x --json`")
    assert len(out) <= 2900
    assert out.count("```") == 2
    note = re.search(r"\((\d+) more characters; full text in `mtasts check x --json`\)", out)
    assert note is not None
    shown = _unescape(out[3 : out.rindex("```")])
    assert text.startswith(shown)
    assert len(shown) + int(note.group(1)) == len(text)


def test_code_block_fits_small_limits() -> None:
    for limit in (40, 80, 200):
        assert len(code_block("<" * 1000, limit)) <= limit


def test_plain_and_safe() -> None:
    assert plain("a\nb", 10) == "a b"
    assert safe("<b>" * 10, 3) == "&lt;b…"


@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_inline_code_never_leaks_markup(text: str, limit: int) -> None:
    out = inline_code(text, limit)
    assert "<" not in out
    assert ">" not in out
    assert out.count("`") in (0, 2)
    assert "\n" not in out


@given(st.text(max_size=3000), st.integers(min_value=60, max_value=3000))
def test_code_block_never_leaks_markup_or_overflows(text: str, limit: int) -> None:
    out = code_block(text, limit)
    assert "<" not in out
    assert ">" not in out
    assert len(out) <= max(limit, len("_(empty)_"))
    assert out.count("```") in (0, 2)
