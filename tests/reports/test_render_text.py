"""The terminal summary and the JSON of `mtasts tlsrpt`."""

from __future__ import annotations

import json
from typing import Any

from bot.checker.model import MxHost, Policy, Report, Tls
from bot.reports.compare import DomainCheck
from bot.reports.model import Notes
from bot.reports.parse import Parsed, parse_value
from bot.reports.render_text import render, to_json
from bot.reports.summary import Summary, summarise
from bot.testbed.reports import Failure, rfc_shape


def _summary(*reports: dict[str, Any]) -> Summary:
    notes = Notes()
    parsed = Parsed(notes=notes)
    for report in reports:
        result = parse_value(report, "r.json", notes)
        assert not isinstance(result, str)
        parsed.reports.extend(result)
    return summarise(parsed)


def test_limits_say_how_much_more_there_is() -> None:
    reports = []
    for s in range(7):
        report = rfc_shape(
            f"d{s}.example",
            [Failure(f"kind-{g}", f"mx{g}.d{s}.example", 10 - g) for g in range(7)],
            organization=f"Sender {s}",
        )
        for p in range(6):
            report["policies"].append(rfc_shape(f"p{p}.d{s}.example")["policies"][0])
        reports.append(report)
    text = render(_summary(*reports))
    assert text.startswith("TLS-RPT: 7 reports from 7 senders")
    assert "…and 2 more senders (98 failed sessions)" in text
    assert "  …and 2 more policies (0 failed sessions)" in text
    assert "    …and 2 more failure groups (9 sessions)" in text


def test_untrusted_text_cannot_drive_the_terminal() -> None:
    report = rfc_shape(
        "evil.example",
        [Failure("certificate-expired\x1b[2J", "mx\x07.evil.example", 3)],
        organization="\x1b[31mEvil\x1b[0m Corp",
    )
    text = render(_summary(report))
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\\x1b[31mEvil\\x1b[0m Corp" in text
    coloured = render(_summary(report), colour=True)
    assert "\x1b[1m" in coloured  # our own colours, only when asked
    assert "\\x1b[31mEvil" in coloured


def test_json_carries_the_verdicts_and_the_drift() -> None:
    older = ["version: STSv1", "mode: testing", "mx: mx1.d.example", "max_age: 86400"]
    summary = _summary(
        rfc_shape("d.example", [Failure("starttls-not-supported", "mx1.d.example", 4)], lines=older)
    )
    tls = Tls(reachable=True, starttls=True, cert_valid=True)
    now = Report(
        domain="d.example",
        mode="enforce",
        mx=[MxHost("mx1.d.example", 10, "mx1.d.example", ["192.0.2.1"], tls)],
    )
    now.policy = Policy(
        "STSv1", "enforce", 86400, ["mx1.d.example"], "\n".join(older).replace("testing", "enforce")
    )
    data = to_json(summary, {"d.example": DomainCheck("d.example", report=now)})
    json.dumps(data)  # serialisable
    policy = data["senders"][0]["policies"][0]
    assert policy["failure_groups"][0]["now"] == {
        "state": "fixed",
        "text": "mx1.d.example offers STARTTLS now.",
    }
    assert policy["policy_differs"]["only_in_report"] == ["mode: testing"]
    assert policy["policy_differs"]["only_published"] == ["mode: enforce"]
    assert data["checks"] == {"d.example": {"status": "pass", "mode": "enforce", "checked_at": ""}}
    assert "now" not in to_json(summary)["senders"][0]["policies"][0]["failure_groups"][0]
