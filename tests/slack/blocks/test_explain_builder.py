"""The "Explain in thread" reply."""

from __future__ import annotations

from slack_samples import assert_message_limits, assert_no_markup_leak, blocks_text, hostile_report

from bot.checker.findings import finding
from bot.checker.model import Report
from bot.slack.blocks.explain_builder import build_explain_message, why_it_matters


def test_passing_domain_nothing_to_fix(good: Report) -> None:
    payload = build_explain_message(good)
    assert_message_limits(payload)
    assert "Nothing to fix" in blocks_text(payload)
    assert "Nothing to fix" in payload["text"]
    assert len(payload["blocks"]) == 1


def test_explains_each_problem_with_mode_consequence(good: Report) -> None:
    good.findings = [
        finding(
            "tlsrpt_missing",
            "example.com",
            "No TLS-RPT record.",
            "Publish: v=TLSRPTv1; rua=mailto:t@example.com",
        ),
        finding("mx_not_covered", "mx2.example.com", "mx2 is not listed.", mode="enforce"),
        finding("mx_implicit", "example.com", "Implicit MX."),
    ]
    payload = build_explain_message(good)
    assert_message_limits(payload)
    text = blocks_text(payload)
    assert "2 problems" in text
    assert text.index("mx2 is not listed") < text.index("No TLS-RPT record")
    assert "MTA-STS senders will refuse to deliver to it" in text
    assert "you get no reports" in text
    assert "```v=TLSRPTv1; rua=mailto:t@example.com```" in text
    assert "Worth knowing, nothing to fix: Implicit MX" in text


def test_testing_mode_consequence() -> None:
    f = finding("mx_cert_invalid", "mx.example.com", "bad cert", mode="testing")
    assert "mail still flows" in why_it_matters(f, "testing")
    assert "opportunistic" in why_it_matters(finding("record_missing", "x", "m"), None)


def test_hostile_and_huge() -> None:
    for report in (hostile_report(findings_count=10), hostile_report(60, 200, 40)):
        payload = build_explain_message(report)
        assert_message_limits(payload)
        assert_no_markup_leak(payload)
    assert "more; run `mtasts check example.com`" in blocks_text(payload)


def test_consequence_not_repeated_when_message_says_it() -> None:
    f = finding(
        "mx_not_covered",
        "mx.example.com",
        "Not listed; MTA-STS senders will refuse to deliver to it.",
        mode="enforce",
    )
    assert why_it_matters(f, "enforce") == ""
