"""The detail modals: content, escaping and modal limits."""

from __future__ import annotations

from typing import Any

import pytest
from slack_samples import (
    POLICY_TEXT,
    assert_modal_limits,
    assert_no_markup_leak,
    blocks_text,
    hostile_report,
)
from slack_sdk.models.views import View

from bot.checker.findings import finding
from bot.checker.model import DnsEvidence, Policy, PolicyFetch, Record, Report
from bot.slack.blocks.details_builder import (
    build_dns_view,
    build_error_view,
    build_loading_view,
    build_mx_view,
    build_policy_view,
)

BUILDERS = [build_policy_view, build_dns_view, build_mx_view]


def _check(view: dict[str, Any]) -> None:
    assert_modal_limits(view)
    assert_no_markup_leak(view)
    View(**view).to_dict()  # slack_sdk's own validation


def test_policy_view(good: Report) -> None:
    view = build_policy_view(good)
    _check(view)
    assert view["title"]["text"] == "Policy file"
    assert view["private_metadata"] == "example.com"
    text = blocks_text(view)
    assert "`https://mta-sts.example.com/.well-known/mta-sts.txt`" in text
    assert "*HTTP status:* 200" in text
    assert "`text/plain`" in text
    assert "```" + POLICY_TEXT + "```" in text
    assert "`CN=mta-sts.example.com`" in text


def test_policy_view_redirect_and_no_policy() -> None:
    report = Report(
        domain="example.org",
        fetch=PolicyFetch(
            url="https://mta-sts.example.org/.well-known/mta-sts.txt",
            status=301,
            location="https://www.example.org/",
        ),
        findings=[finding("policy_redirect", "example.org", "The policy URL redirects.")],
    )
    text = blocks_text(build_policy_view(report))
    assert "*Redirects to:* `https://www.example.org/` (not followed" in text
    assert "There is no policy to show" in text
    assert "The policy URL redirects." in text


def test_policy_view_without_record() -> None:
    text = blocks_text(build_policy_view(Report(domain="example.net")))
    assert "no usable MTA-STS record at `_mta-sts.example.net`" in text


def test_huge_policy_is_cut_with_note() -> None:
    report = Report(
        domain="example.com",
        policy=Policy("STSv1", "enforce", 86400, [], "mx: a.example\n" * 5000),
    )
    view = build_policy_view(report)
    _check(view)
    assert "full text in `mtasts check example.com --json`" in blocks_text(view)


def test_dns_view(good: Report) -> None:
    good.record = Record("v=STSv1; id=1", "1", cname=["_mta-sts.example.com", "sts.host.example"])
    view = build_dns_view(good)
    _check(view)
    text = blocks_text(view)
    assert "`_mta-sts.example.com`" in text
    assert "```v=STSv1; id=20240101```" in text
    assert "```v=TLSRPTv1; rua=mailto:tls@example.com```" in text
    assert "*CNAME chain:* `_mta-sts.example.com` → `sts.host.example`" in text
    assert "```10 mx1.example.com.```" in text


def test_dns_view_empty() -> None:
    text = blocks_text(build_dns_view(Report(domain="example.com", dns=DnsEvidence())))
    assert text.count("No TXT records.") == 2
    assert "None published." in text


def test_mx_view(good: Report) -> None:
    view = build_mx_view(good)
    _check(view)
    text = blocks_text(view)
    assert "*`mx1.example.com`* (preference 10)" in text
    assert "covered by `mx1.example.com`" in text
    assert "*Address* `192.0.2.25`" in text
    assert "*STARTTLS:* yes" in text
    assert "*Protocol:* `TLSv1.3`" in text
    assert "*Certificate:* valid" in text
    assert "*Issuer:* `CN=Example CA`" in text
    assert "*Expires:* `2027-01-01T00:00:00Z` (398 days left)" in text
    assert "*Banner:* `220 mx1.example.com ESMTP`" in text


def test_mx_view_not_probed(good: Report) -> None:
    good.mx[0].tls = None
    good.smtp_checked = False
    assert "TLS SMTP probes were off." in blocks_text(build_mx_view(good))


@pytest.mark.parametrize("builder", BUILDERS)
def test_hostile_and_huge_reports(builder: Any) -> None:
    for report in (hostile_report(), hostile_report(60, 200, 40)):
        view = builder(report)
        _check(view)
        assert "&lt;!channel&gt;" in blocks_text(view)


def test_huge_mx_view_says_what_is_cut() -> None:
    view = build_mx_view(hostile_report(60, 1, 1))
    assert 10 < len(view["blocks"]) <= 100
    assert "more sections not shown" in blocks_text(view)


def test_loading_and_error_views() -> None:
    loading = build_loading_view("example.com")
    _check(loading)
    assert "example.com" in blocks_text(loading)
    error = build_error_view("example.com", "boom <!channel> & `x`")
    _check(error)
    assert "boom &lt;!channel&gt; &amp;" in blocks_text(error)
    assert len(error["title"]["text"]) <= 24
