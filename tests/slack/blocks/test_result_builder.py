"""The result message: content, escaping and Block Kit limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from slack_samples import (
    EVIL,
    assert_message_limits,
    assert_no_markup_leak,
    blocks_text,
    hostile_report,
)
from slack_sdk.models.blocks import Block

from bot.checker.findings import finding
from bot.checker.model import MxHost, Report
from bot.slack.blocks.details_builder import build_mx_view
from bot.slack.blocks.ids import RESULT_ACTIONS
from bot.slack.blocks.result_builder import build_result_message, fallback_text, split_fix


def _buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    actions = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    return list(actions[0]["elements"])


def test_passing_domain(good: Report) -> None:
    payload = build_result_message(good)
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    head = payload["blocks"][0]
    assert head["type"] == "header"
    assert ":white_check_mark:" in head["text"]["text"]
    assert "example.com" in head["text"]["text"]
    text = blocks_text(payload)
    assert "`enforce`" in text
    assert "`20240101`" in text
    assert "604,800 s (7 days)" in text
    assert "mailto:tls@example.com" in text
    assert "covered by `mx1.example.com`" in text
    assert "until 2027-01-01" in text
    assert "TLSv1.3" in text
    assert "Checked 2026-11-29 10:00:00 UTC in 412 ms" in text
    assert "cached" not in text


def test_buttons_are_the_six_actions_with_domain_value(good: Report) -> None:
    buttons = _buttons(build_result_message(good))
    assert [b["action_id"] for b in buttons] == list(RESULT_ACTIONS)
    assert [b["text"]["text"] for b in buttons] == [
        "Policy file",
        "DNS records",
        "MX & TLS",
        "Explain in thread",
        "Re-check",
        "Watch",
    ]
    assert {b["value"] for b in buttons} == {"example.com"}


def test_cached_age_in_context(good: Report) -> None:
    payload = build_result_message(good, cached_age=42.4)
    contexts = [b for b in payload["blocks"] if b["type"] == "context"]
    assert "cached 42s ago" in contexts[-1]["elements"][0]["text"]


@pytest.mark.parametrize(
    ("severity_codes", "emoji", "status_word"),
    [
        (["mx_not_covered"], ":x:", "problems"),
        (["tlsrpt_missing"], ":warning:", "warnings"),
        (["mx_implicit"], ":white_check_mark:", "checks out"),
    ],
)
def test_verdict_emoji(
    good: Report, severity_codes: list[str], emoji: str, status_word: str
) -> None:
    good.findings = [finding(c, "x", "msg", mode="enforce") for c in severity_codes]
    payload = build_result_message(good)
    header = payload["blocks"][0]["text"]["text"]
    assert header.startswith(emoji)
    assert status_word in header
    assert status_word in payload["text"]


def test_fallback_text_is_plain_summary(good: Report) -> None:
    good.findings = [
        finding("mx_not_covered", "mx2.example.com", "not covered", mode="enforce"),
        finding("tlsrpt_missing", "example.com", "no record"),
        finding("cert_expiring", "mx1.example.com", "soon"),
    ]
    text = fallback_text(good)
    assert text == build_result_message(good)["text"]
    assert "example.com" in text
    assert "mode enforce" in text
    assert "1 error, 2 warnings" in text
    assert not re.search(r"[*_`<>]", text)


def test_findings_ordered_errors_first_with_fix_in_code_block(good: Report) -> None:
    good.findings = [
        finding(
            "tlsrpt_missing",
            "example.com",
            "No TLS-RPT record.",
            "Publish: v=TLSRPTv1; rua=mailto:a@example.com",
        ),
        finding("mx_implicit", "example.com", "Implicit MX."),
        finding(
            "mx_not_covered",
            "mx2.example.com",
            "mx2 is not covered.",
            "Publish this policy:\nversion: STSv1\nmode: enforce\nmx: mx2.example.com\n",
            mode="enforce",
        ),
    ]
    text = blocks_text(build_result_message(good))
    assert text.index("mx2 is not covered") < text.index("No TLS-RPT") < text.index("Implicit MX")
    assert "*Fix:* Publish this policy:\n```version: STSv1\nmode: enforce" in text
    assert "*Fix:* Publish:\n```v=TLSRPTv1; rua=mailto:a@example.com```" in text


def test_not_covered_mx_is_flagged_and_the_near_miss_left_to_its_finding(good: Report) -> None:
    good.mx.append(
        MxHost("mx.eu.example.net", 20, None, near_miss="*.example.net covers one label only")
    )
    text = blocks_text(build_result_message(good))
    assert "`mx.eu.example.net` (20) · :x: not covered · " in text
    # The table row stays short (a cut sentence could split a code span); the
    # finding and the MX & TLS view carry the explanation.
    assert "covers one label only" not in text
    assert "covers one label only" in blocks_text(build_mx_view(good))
    assert "TLS not probed" in text


def test_no_policy_and_no_mx() -> None:
    report = Report(
        domain="example.org", findings=[finding("record_missing", "example.org", "none")]
    )
    payload = build_result_message(report)
    assert_message_limits(payload)
    text = blocks_text(payload)
    assert "no usable policy" in text
    assert "No MX hosts" in text
    assert ":warning: not set up" in text


def test_hostile_report_never_leaks_markup() -> None:
    payload = build_result_message(hostile_report(findings_count=20), cached_age=3)
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    text = blocks_text(payload)
    assert "&lt;!channel&gt;" in text  # shown, escaped
    assert "```fence```" not in text  # fences neutralised


def test_huge_report_stays_within_limits(huge: Report) -> None:
    payload = build_result_message(huge, cached_age=10)
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    text = blocks_text(payload)
    assert "…and 50 more — see *MX & TLS*" in text or re.search(r"…and \d+ more — see", text)
    more = re.search(r"…and (\d+) more findings", text)
    assert more is not None
    shown = sum(1 for b in payload["blocks"] if b["type"] == "section") - 2
    assert shown + int(more.group(1)) == 200
    assert payload["blocks"][-1]["type"] == "actions"


@pytest.mark.parametrize("mx_count", [0, 1, 9, 10, 11, 60])
@pytest.mark.parametrize("findings_count", [0, 1, 47, 200])
def test_limits_across_sizes(mx_count: int, findings_count: int) -> None:
    report = hostile_report(mx_count=mx_count, findings_count=findings_count, text_size=5)
    if findings_count == 0:
        report.findings = []
    payload = build_result_message(report)
    assert_message_limits(payload)
    assert_no_markup_leak(payload)


def test_long_domain_header_is_cut() -> None:
    domain = ".".join(["a" * 63] * 3) + ".example"
    payload = build_result_message(Report(domain=domain))
    assert_message_limits(payload)
    assert all(b["value"] == domain for b in _buttons(payload))


def test_slack_sdk_accepts_every_block(huge: Report) -> None:
    for block in build_result_message(huge)["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.to_dict()  # runs slack_sdk's own validation
    json.dumps(build_result_message(huge))


@pytest.mark.parametrize(
    ("fix", "prose", "code"),
    [
        ("Change the id.", "Change the id.", None),
        ("Publish this record: v=STSv1; id=1", "Publish this record:", "v=STSv1; id=1"),
        ("v=STSv1; id=2", "", "v=STSv1; id=2"),
        ("Serve this:\nversion: STSv1\nmode: none", "Serve this:", "version: STSv1\nmode: none"),
        ("version: STSv1\nmode: none", "", "version: STSv1\nmode: none"),
    ],
)
def test_split_fix(fix: str, prose: str, code: str | None) -> None:
    assert split_fix(fix) == (prose, code)


def test_evil_is_really_evil() -> None:
    assert "<!channel>" in EVIL  # the fixture would test nothing otherwise
