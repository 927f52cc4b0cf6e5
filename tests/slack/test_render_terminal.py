"""Block Kit payloads as terminal text: faithful, readable, and never emitting raw escapes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.checker.findings import finding
from bot.checker.model import Finding, MxHost, Policy, Record, Report, Tls, TlsRpt
from bot.slack.blocks.details_builder import build_mx_view, build_policy_view
from bot.slack.blocks.explain_builder import build_explain_message
from bot.slack.blocks.help_builder import build_checking_message, build_help_message
from bot.slack.blocks.result_builder import build_result_message
from bot.slack.render_terminal import render_payload, render_view, visible

ESC = "\x1b"
SGR = re.compile(r"\x1b\[[0-9;]*m")
HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\r\u202eoverride\x9b31m"


def report(domain: str = "example.com", *, failing: bool = False, **extra: Any) -> Report:
    mx = [
        MxHost(
            host=f"mx1.{domain}",
            preference=10,
            matched_by=f"mx1.{domain}",
            addresses=["192.0.2.25"],
            tls=Tls(reachable=True, starttls=True, version="TLSv1.3", cert_valid=True),
        )
    ]
    findings: list[Finding] = []
    if failing:
        mx.append(MxHost(host=f"mx2.{domain}", preference=20, addresses=["192.0.2.26"]))
        findings.append(
            finding("mx_not_covered", f"mx2.{domain}", "not in the policy", mode="enforce")
        )
    values: dict[str, Any] = {
        "domain": domain,
        "mode": "enforce",
        "record": Record(txt="v=STSv1; id=20260101", id="20260101"),
        "policy": Policy(
            "STSv1",
            "enforce",
            604800,
            [f"mx1.{domain}"],
            f"version: STSv1\nmode: enforce\nmx: mx1.{domain}\nmax_age: 604800\n",
        ),
        "mx": mx,
        "tlsrpt": TlsRpt(f"v=TLSRPTv1; rua=mailto:tls@{domain}", [f"mailto:tls@{domain}"]),
        "findings": findings,
        "checked_at": "2026-11-29T10:00:00Z",
        "duration_ms": 12.5,
    }
    values.update(extra)
    return Report(**values)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def one(text: str, **kw: Any) -> str:
    return render_payload({"blocks": [section(text)]}, **kw)


def width_of(line: str) -> int:
    return len(SGR.sub("", line))


# -- the result message --------------------------------------------------------------


def test_result_message_reads_like_slack() -> None:
    out = render_payload(build_result_message(report()))
    lines = out.splitlines()
    assert lines[0] == "✔ example.com: MTA-STS checks out"
    assert set(lines[1]) == {"━"}
    assert len(lines[1]) == len(lines[0])
    assert "The policy is enforced: senders" in out  # *enforced* became plain bold text
    # fields sit side by side: label row, then value row
    assert re.search(r"^Mode {3,}Policy id$", out, re.M)
    assert re.search(r"^enforce {3,}20260101$", out, re.M)
    assert "• mx1.example.com (10) · covered by mx1.example.com · STARTTLS ✔" in out
    assert lines[-1] == (
        "[ Policy file ] [ DNS records ] [ MX & TLS ] [ Explain in thread ] [ Re-check ] [ Watch ]"
    )
    assert "Checked 2026-11-29 10:00:00 UTC in 12 ms" in out  # times are not emoji
    assert "*" not in out
    assert "`" not in out
    assert "&amp;" not in out
    assert ESC not in out


def test_failing_result_shows_finding_with_fix_and_rule() -> None:
    out = render_payload(build_result_message(report(failing=True)))
    assert out.splitlines()[0] == "✖ example.com: MTA-STS has problems"
    assert "─" * 100 in out  # the divider before the findings
    assert "✖ MX not covered by policy · mx2.example.com" in out
    assert "• mx2.example.com (20) · ✖ not covered" in out


def test_colour_is_only_sgr_and_off_by_default() -> None:
    payload = build_result_message(report(failing=True))
    plain = render_payload(payload)
    coloured = render_payload(payload, colour=True)
    assert ESC not in plain
    assert "\x1b[1m" in coloured  # bold header
    assert "\x1b[2m" in coloured  # dimmed context and rules
    assert "\x1b[1;31m✖" in coloured or "\x1b[31m✖" in coloured
    assert ESC not in SGR.sub("", coloured)
    assert SGR.sub("", coloured) == plain


@pytest.mark.parametrize("width", [24, 40, 63, 100, 140])
def test_lines_fit_the_width(width: int) -> None:
    payload = build_result_message(report("a-rather-long-domain-name.example", failing=True))
    for line in render_payload(payload, colour=True, width=width).splitlines():
        assert width_of(line) <= width, line


def test_narrow_terminal_lists_fields_one_per_row() -> None:
    out = render_payload(build_result_message(report()), width=40)
    assert re.search(r"^Mode\nenforce\nPolicy id\n20260101$", out, re.M)


# -- untrusted text ------------------------------------------------------------------


def test_escapes_in_a_payload_are_shown_not_emitted() -> None:
    payload = {
        "text": HOSTILE,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": HOSTILE}},
            section(HOSTILE),
            {"type": "section", "text": section("x")["text"], "fields": [section(HOSTILE)["text"]]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": HOSTILE}]},
            section(f"```{HOSTILE}```"),
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": HOSTILE}}],
            },
        ],
    }
    for colour in (False, True):
        out = render_payload(payload, colour=colour)
        assert ESC not in SGR.sub("", out)
        assert "\x07" not in out
        assert "\r" not in out
        assert "\u202e" not in out
        assert "\x9b" not in out
        assert (
            out.count("evil\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\u202eoverride\\x9b31m") == 5
        )  # all but the text fallback


def test_hostile_report_text_stays_inert() -> None:
    bad = report(
        "example.com",
        record=Record(txt="v=STSv1; id=\x1b[31m", id=None),
        findings=[
            finding("record_invalid", "_mta-sts.example.com", f"id {HOSTILE} <!channel> *x*")
        ],
    )
    out = render_payload(build_result_message(bad), colour=True)
    assert ESC not in SGR.sub("", out)
    assert "@channel" not in out  # the builder escaped it; shown as literal text
    assert "<!channel>" in out


def test_visible_keeps_text_and_newlines() -> None:
    assert visible("bücher.example\nmx: *.example\tend") == "bücher.example\nmx: *.example    end"
    assert visible("a\x00b\x7fc\u200bd\ue000") == "a\\x00b\\x7fc\\u200bd\\ue000"


# -- mrkdwn --------------------------------------------------------------------------


def test_mrkdwn_markers_and_entities() -> None:
    out = one("*bold* _italic_ ~gone~ `a_b*c*` &lt;tag&gt; &amp;lt; mx_not_covered")
    assert out == "bold italic gone a_b*c* <tag> &lt; mx_not_covered"
    coloured = one("*bold* _it_ `code`", colour=True)
    assert "\x1b[1mbold\x1b[0m" in coloured
    assert "\x1b[3mit\x1b[0m" in coloured
    assert "\x1b[36mcode\x1b[0m" in coloured


def test_bold_around_code_and_nested_markers() -> None:
    assert one("*covered by `mx1.example.com`*") == "covered by mx1.example.com"
    coloured = one("*_both_*", colour=True)
    assert "\x1b[1;3mboth\x1b[0m" in coloured


def test_code_block_gets_a_gutter_and_keeps_its_lines() -> None:
    out = one("*Fix:* publish this:\n```v=STSv1; id=2024&amp;\nsecond *line*```\n_RFC 8461_")
    assert out.splitlines() == [
        "Fix: publish this:",
        "│ v=STSv1; id=2024&",
        "│ second *line*",
        "RFC 8461",
    ]


def test_unclosed_fence_is_literal() -> None:
    assert one("a ``` b") == "a ``` b"


def test_links_mentions_and_disguised_links() -> None:
    out = one(
        "<https://evil.example|mta-sts.example.com> <https://a.example> "
        "<mailto:x@example.com|x@example.com> <!here> <@U123> <#C1|general>"
    )
    assert out == (
        "mta-sts.example.com (https://evil.example) https://a.example x@example.com "
        "@here <@U123> #general".replace("<@U123>", "@U123")
    )


def test_emoji_shortcodes() -> None:
    assert one(":white_check_mark: :x: :warning: :information_source: :made_up: 10:30:00") == (
        "✔ ✖ ⚠ ℹ :made_up: 10:30:00"
    )


def test_bullets_wrap_with_a_hanging_indent() -> None:
    out = one("• " + "word " * 30, width=40)
    lines = out.splitlines()
    assert lines[0].startswith("• word")
    assert all(line.startswith("  word") for line in lines[1:])


def test_punctuation_stays_with_a_code_span() -> None:
    out = one("Worth knowing: Mode is testing (`testing-backup.example`).", width=40)
    assert out.splitlines() == ["Worth knowing: Mode is testing", "(testing-backup.example)."]


def test_wide_characters_count_double() -> None:
    out = one("メール" * 20, width=25)
    assert all(width_of(line) <= 25 for line in out.splitlines())
    assert out.replace("\n", "") == "メール" * 20


def test_long_words_are_split() -> None:
    out = one("x" * 90, width=40)
    assert [len(line) for line in out.splitlines()] == [40, 40, 10]


# -- other messages and views --------------------------------------------------------


def test_checking_help_and_explain_messages() -> None:
    checking = render_payload(build_checking_message(["example.com", "example.org"]))
    assert checking == "⧗ Checking example.com, example.org — this takes a few seconds."
    help_text = render_payload(build_help_message())
    assert "Check a domain's MTA-STS and TLS-RPT setup" in help_text
    assert "• /mtasts example.com — check one domain" in help_text
    assert "*" not in help_text
    explain = render_payload(build_explain_message(report(failing=True)))
    assert "MX not covered by policy" in explain
    assert ESC not in explain


def test_view_is_framed_with_title_and_close_button() -> None:
    out = render_view(build_mx_view(report()), width=60)
    lines = out.splitlines()
    assert lines[0].startswith("┏━ MX & TLS ━")
    assert lines[-1].startswith("┗━ [ Close ] ━")
    assert all(line.startswith("┃") for line in lines[1:-1])
    assert all(width_of(line) <= 60 for line in lines)
    assert "mx1.example.com" in out


def test_policy_view_shows_the_policy_text() -> None:
    out = render_view(build_policy_view(report()), colour=True)
    plain = SGR.sub("", out)
    assert "│ mode: enforce" in plain
    assert ESC not in plain


def test_text_fallback_when_there_are_no_blocks() -> None:
    assert render_payload({"text": "*Checking* &amp; more"}) == "Checking & more"


def test_blocks_given_as_json_text() -> None:
    payload = {"blocks": json.dumps([section("hello *there*")])}
    assert render_payload(payload) == "hello there"


def test_odd_payloads_never_raise() -> None:
    payload: dict[str, Any] = {
        "blocks": [
            None,
            3,
            {"type": "weird"},
            {"type": "section", "text": 5, "fields": "nope", "accessory": []},
            {"type": "context", "elements": [None, {"type": "image", "alt_text": "logo"}]},
            {"type": "actions", "elements": [{"type": "static_select"}, {"type": "overflow"}]},
            {"type": "image", "alt_text": "chart"},
            {"type": "input", "label": {"type": "plain_text", "text": "Domain"}},
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "hi "},
                            {"type": "link", "url": "https://x.example", "text": "x"},
                        ],
                    }
                ],
            },
        ],
        "attachments": [{"text": "old *style*"}, "junk"],
    }
    out = render_payload(payload)
    assert "[weird block]" in out
    assert "[logo]" in out
    assert "[image: chart]" in out
    assert "[ static_select ▾ ] [ … ]" in out
    assert "hi x (https://x.example)" in out
    assert "┃ old style" in out
    assert render_payload({}) == ""
    assert render_view({}).startswith("┏━ view")
