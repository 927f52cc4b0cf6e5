"""Usage, error, checking, not-in-channel and rate-limit messages."""

from __future__ import annotations

import dataclasses

from slack_samples import (
    EVIL,
    assert_message_limits,
    assert_no_markup_leak,
    blocks_text,
    good_report,
)

from bot.checker.findings import finding
from bot.slack.blocks.help_builder import (
    build_checking_message,
    build_error_message,
    build_help_message,
    build_not_in_channel_message,
    build_private_copy,
    build_rate_limited_message,
)
from bot.slack.blocks.result_builder import build_result_message


def test_help() -> None:
    payload = build_help_message()
    assert_message_limits(payload)
    text = blocks_text(payload)
    assert "`/mtasts example.com`" in text
    assert "up to 5" in text
    assert "`@mtasts example.com`" in text
    for label in ("Policy file", "DNS records", "MX & TLS", "Explain in thread", "Re-check"):
        assert f"*{label}*" in text


def test_error_is_escaped() -> None:
    payload = build_error_message(f"“{EVIL}” is not a domain")
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    assert "&lt;!channel&gt;" in blocks_text(payload)
    assert_message_limits(build_error_message("x" * 50_000))


def test_checking() -> None:
    payload = build_checking_message(["example.com", "example.org"])
    assert_message_limits(payload)
    assert "`example.com`, `example.org`" in blocks_text(payload)
    assert payload["text"] == "Checking example.com, example.org …"


def test_not_in_channel() -> None:
    payload = build_not_in_channel_message("Explain in thread")
    assert_message_limits(payload)
    text = blocks_text(payload)
    assert "`/invite @mtasts`" in text
    assert "Explain in thread" in text
    assert_no_markup_leak(build_not_in_channel_message(EVIL))


def test_rate_limited() -> None:
    assert "in 30 seconds" in blocks_text(build_rate_limited_message(30))
    assert "in 1 second." in blocks_text(build_rate_limited_message(0))
    assert_message_limits(build_rate_limited_message(5))


def test_private_copy_of_a_full_result_keeps_header_and_buttons() -> None:
    many = [
        finding("policy_unknown_key", f"k{i}", f"unknown key k{i}", mode="enforce")
        for i in range(60)
    ]
    result = build_result_message(dataclasses.replace(good_report(), findings=many))
    assert len(result["blocks"]) == 50  # full size: the case that lost its buttons
    copy = build_private_copy(result, "Here it is just for you.")
    assert_message_limits(copy)
    blocks = copy["blocks"]
    assert len(blocks) == 50
    assert blocks[0]["type"] == "section"
    assert "just for you" in blocks[0]["text"]["text"]
    assert "didn't fit" in blocks[0]["text"]["text"]
    assert blocks[1] == result["blocks"][0]  # the header
    assert blocks[1]["type"] == "header"
    assert blocks[-1] == result["blocks"][-1]  # the buttons
    assert blocks[-1]["type"] == "actions"
    assert blocks[-2] == result["blocks"][-2]  # the context line, and the "more" note
    assert blocks[-3] == result["blocks"][-3]
    # exactly one finding gave way
    kept = [b for b in blocks[1:] if b not in result["blocks"]]
    assert kept == []
    assert sum(1 for b in result["blocks"] if b not in blocks) == 1


def test_private_copy_of_a_small_message_keeps_everything() -> None:
    message = build_error_message("nope")
    copy = build_private_copy(message, "note")
    assert copy["blocks"][1:] == message["blocks"]
    assert "didn't fit" not in copy["blocks"][0]["text"]["text"]
