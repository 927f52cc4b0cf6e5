"""Usage, error, checking, not-in-channel and rate-limit messages."""

from __future__ import annotations

from typing import Any

from slack_samples import EVIL, assert_message_limits, assert_no_markup_leak, walk_strings

from bot.slack.blocks.help_builder import (
    build_checking_message,
    build_error_message,
    build_help_message,
    build_not_in_channel_message,
    build_rate_limited_message,
)


def _text(payload: dict[str, Any]) -> str:
    return "\n".join(s for _, s in walk_strings(payload["blocks"]))


def test_help() -> None:
    payload = build_help_message()
    assert_message_limits(payload)
    text = _text(payload)
    assert "`/mtasts example.com`" in text
    assert "up to 5" in text
    assert "`@mtasts example.com`" in text
    for label in ("Policy file", "DNS records", "MX & TLS", "Explain in thread", "Re-check"):
        assert f"*{label}*" in text


def test_error_is_escaped() -> None:
    payload = build_error_message(f"“{EVIL}” is not a domain")
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    assert "&lt;!channel&gt;" in _text(payload)
    assert_message_limits(build_error_message("x" * 50_000))


def test_checking() -> None:
    payload = build_checking_message(["example.com", "example.org"])
    assert_message_limits(payload)
    assert "`example.com`, `example.org`" in _text(payload)
    assert payload["text"] == "Checking example.com, example.org …"


def test_not_in_channel() -> None:
    payload = build_not_in_channel_message("Explain in thread")
    assert_message_limits(payload)
    text = _text(payload)
    assert "`/invite @mtasts`" in text
    assert "Explain in thread" in text
    assert_no_markup_leak(build_not_in_channel_message(EVIL))


def test_rate_limited() -> None:
    assert "in 30 seconds" in _text(build_rate_limited_message(30))
    assert "in 1 second." in _text(build_rate_limited_message(0))
    assert_message_limits(build_rate_limited_message(5))
