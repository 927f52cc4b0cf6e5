"""The TLS-RPT summary message: what it says, escaped, within Block Kit's limits."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.checker.model import MxHost, Report, Tls
from bot.reports.compare import DomainCheck
from bot.reports.model import Notes
from bot.reports.parse import Parsed, parse_value
from bot.reports.reading import Unreadable
from bot.reports.summary import Summary, summarise
from bot.slack.blocks.parts import (
    MAX_FIELD_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    MESSAGE_CHAR_BUDGET,
    block_chars,
)
from bot.slack.blocks.tlsrpt_builder import (
    NOT_ALL_SHOWN,
    build_report_message,
    build_unreadable_message,
)
from bot.testbed.reports import Failure, rfc_shape

D = "company-y.example"


def _summary(*reports: dict[str, Any], problems: list[Unreadable] | None = None) -> Summary:
    notes = Notes()
    parsed = Parsed(notes=notes, problems=problems or [])
    for n, report in enumerate(reports):
        result = parse_value(report, f"r{n}.json", notes)
        assert not isinstance(result, str)
        parsed.reports.extend(result)
    return summarise(parsed)


def _mrkdwn_texts(payload: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") == "mrkdwn":
                assert item.get("verbatim") is True
                found.append(item["text"])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(payload["blocks"])
    return found


def _within_limits(payload: dict[str, Any]) -> None:
    blocks = payload["blocks"]
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    assert block_chars(blocks) <= MESSAGE_CHAR_BUDGET + 1000
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
            for f in block.get("fields", []):
                assert len(f["text"]) <= MAX_FIELD_TEXT
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    assert payload["text"]


def _check(domain: str, *, valid: bool) -> DomainCheck:
    tls = Tls(
        reachable=True,
        starttls=True,
        cert_valid=valid,
        cert_error=None if valid else "the certificate has expired",
        not_after="2026-12-04T00:00:00Z",
    )
    mx = [MxHost(f"mx{n}.{domain}", 10 * n, f"mx{n}.{domain}", ["192.0.2.1"], tls) for n in (1, 2)]
    return DomainCheck(domain, report=Report(domain=domain, mode="enforce", mx=mx))


FAILURES = [
    Failure("certificate-expired", f"mx2.{D}", 41, receiving_ip="203.0.113.12"),
    Failure("starttls-not-supported", f"mx1.{D}", 3),
    Failure("certificate-expired", f"mx1.{D}", 2),
]


def test_the_summary_reads_like_the_report() -> None:
    payload = build_report_message(_summary(rfc_shape(D, FAILURES, successes=954)))
    _within_limits(payload)
    assert payload["blocks"][0]["text"]["text"] == f"TLS-RPT report for {D}"
    text = "\n".join(_mrkdwn_texts(payload))
    assert "*46 of 1,000 sessions failed* (4.6 %)" in text
    assert "*From Company-X* · `sts-reporting@company-x.example` · 1 report · 2026-12-04" in text
    assert f"`sts` policy for `{D}`*: 954 sessions succeeded, *46 failed* (4.6 %)" in text
    # largest first, with the receiving IP, meaning and fix
    order = [text.index(f"*{n} sessions* ·") for n in (41, 3, 2)]
    assert order == sorted(order)
    assert f"`certificate-expired` at `mx2.{D}` (`203.0.113.12`)" in text
    assert text.count("*Fix:* Renew the certificate") == 1  # once per type ...
    assert "_What it means and the fix: as above._" in text  # ... then referred to
    assert "*Now:*" not in text  # no check yet
    assert payload["text"] == f"TLS-RPT: 46 of 1,000 sessions failed ({D})"


def test_while_checking_and_after() -> None:
    summary = _summary(rfc_shape(D, FAILURES))
    checking = json.dumps(build_report_message(summary, checking=[D]))
    assert f"Checking `{D}` now, to see which failures are fixed" in checking
    done = build_report_message(summary, {D: _check(D, valid=False)})
    text = "\n".join(_mrkdwn_texts(done))
    assert "Checking" not in text
    assert (
        "*Now:* 2 still failing, 1 fixed since (compared with a check just now, posted below)."
        in text
    )
    assert (
        f"*Now:* :x: *still failing* — mx2.{D}'s certificate expired on 2026-12-04 — still "
        "expired now." in text
    )
    fixed = "\n".join(_mrkdwn_texts(build_report_message(summary, {D: _check(D, valid=True)})))
    assert "*Now:* :white_check_mark: *fixed since* —" in fixed
    assert "*Now:* 3 fixed since (compared with a check just now, posted below)." in fixed


def test_a_check_that_failed_is_said() -> None:
    summary = _summary(rfc_shape(D, FAILURES))
    payload = build_report_message(summary, {D: DomainCheck(D, error="try again in 30 seconds")})
    text = "\n".join(_mrkdwn_texts(payload))
    assert f":warning: I couldn't check `{D}` now: try again in 30 seconds" in text
    assert "*can't tell* — I couldn't check" in text


def test_everything_from_the_report_is_escaped() -> None:
    evil = rfc_shape(
        "evil.example",
        [
            Failure("<!here> `x`", "mx.<https://evil.example|click>.example", 5, reason_code="```"),
            Failure("certificate-expired", "<@U0BOSS>", 4, receiving_ip="<!channel>"),
        ],
        organization="<!channel> *Evil* & <https://evil.example|Google>",
        lines=["version: STSv1", "mode: enforce\n```<!everyone>", "mx: <@U0BOSS>"],
    )
    evil["contact-info"] = "<mailto:x@evil.example|security@google.com>"
    summary = _summary(evil, problems=[Unreadable("<!here>.png", "<!here>.png is an image (PNG).")])
    payload = build_report_message(summary, {"evil.example": _check("evil.example", valid=True)})
    _within_limits(payload)
    for text in _mrkdwn_texts(payload):
        assert not re.search(r"<[!@#]|<https?:|<mailto:", text), text
        assert text.count("```") % 2 == 0
    assert "&lt;!channel&gt;" in json.dumps(payload)
    assert "<!" not in payload["text"]


def test_limits_keep_a_huge_summary_in_one_message() -> None:
    reports = []
    for s in range(8):
        report = rfc_shape(
            f"d{s}.example",
            [Failure(f"type-{g}", f"mx{g}.d{s}.example", 100 - g) for g in range(9)],
            organization=f"Sender {s} " + "x" * 300,
        )
        for p in range(7):
            extra = rfc_shape(f"p{p}.d{s}.example", [Failure("certificate-expired", "mx", 1)])
            report["policies"].append(extra["policies"][0])
        reports.append(report)
    summary = _summary(*reports)
    checks = {d: _check(d, valid=False) for d in summary.domains()[:5]}
    payload = build_report_message(summary, checks)
    _within_limits(payload)
    text = json.dumps(payload)
    assert json.dumps(NOT_ALL_SHOWN)[1:-1] in text
    assert "more failure groups for this policy" in text


def test_and_n_more_when_it_all_fits() -> None:
    report = rfc_shape(D, [Failure(f"kind-{n}", f"mx{n}.{D}", 20 - n) for n in range(8)])
    payload = build_report_message(_summary(report))
    _within_limits(payload)
    text = "\n".join(_mrkdwn_texts(payload))
    assert "…and 3 more failure groups for this policy (42 sessions)." in text
    assert "mtasts tlsrpt FILE" not in text


def test_a_clean_report_says_so() -> None:
    payload = build_report_message(_summary(rfc_shape(D, successes=880)))
    text = "\n".join(_mrkdwn_texts(payload))
    assert ":white_check_mark: *All 880 sessions succeeded*" in text
    assert payload["text"] == f"TLS-RPT: 0 of 880 sessions failed ({D})"


def test_not_a_report_is_one_sentence_and_nothing_else() -> None:
    one = build_unreadable_message([Unreadable("a.png", "a.png is an image (PNG), not a report.")])
    assert one == {
        "text": "a.png is an image (PNG), not a report.",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":warning: a.png is an image (PNG), not a report.",
                    "verbatim": True,
                },
            }
        ],
    }
    several = build_unreadable_message(
        [Unreadable(f"{n}.png", f"<!here> {n}.png is an image.") for n in range(12)]
    )
    body = several["blocks"][0]["text"]["text"]
    assert body.count("• ") == 10
    assert "…and 2 more files like these." in body
    assert "<!here>" not in body


def test_domains_left_unchecked_are_named() -> None:
    reports = [
        rfc_shape(f"d{n}.example", [Failure("certificate-expired", "mx", 10 - n)]) for n in range(7)
    ]
    summary = _summary(*reports)
    checks = {d: _check(d, valid=True) for d in summary.domains()[:5]}
    text = "\n".join(_mrkdwn_texts(build_report_message(summary, checks)))
    assert (
        "I checked 5 domains of these reports (those with the most failures); ask "
        "`/mtasts d5.example` for the 2 others." in text
    )


def test_the_help_says_reports_can_be_shared() -> None:
    from bot.slack.blocks.help_builder import build_help_message

    text = json.dumps(build_help_message())
    assert "*TLS-RPT reports*" in text
    assert "`.json.gz`" in text
