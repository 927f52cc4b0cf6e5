"""Hostile MX hosts: a silent, garbled, refusing or endless SMTP server gives its own
finding naming what it did, within the budget; reads are bounded in lines and bytes."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import pytest
from hostile_scenarios import Checked

from bot.checker import engine, limits, smtp, tls_step
from bot.checker.model import AddressProbe
from bot.testbed.bed import Testbed


def _d(kind: str) -> str:
    return f"h-smtp-{kind}.example"


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [
        ("stall", "mx_timeout", "accepted the connection but sent no greeting"),
        ("garbage", "mx_unreachable", "sent something that is not SMTP"),
        ("banner-554", "mx_unreachable", "greeted with 554"),
        ("drop-after-starttls", "mx_tls_failed", "closed the connection during the TLS handshake"),
        ("starttls-error", "mx_tls_failed", "answered STARTTLS with 454"),
        ("tls-stall", "mx_timeout", "accepted STARTTLS but did not complete the TLS handshake"),
        ("ehlo-too-many", "mx_starttls_missing", f"more than {limits.SMTP_MAX_REPLY_LINES} lines"),
        (
            "ehlo-too-many-starttls",
            "mx_tls_failed",
            f"more than {limits.SMTP_MAX_REPLY_LINES} lines",
        ),
        ("ehlo-long-line", "mx_starttls_missing", f"line over {limits.SMTP_MAX_LINE} bytes"),
        ("banner-421", "mx_unreachable", "greeted with 421"),
        ("hangup", "mx_unreachable", "closed the connection"),
    ],
)
def test_hostile_smtp_gives_its_finding_and_says_what_happened(
    hostile: dict[str, Checked], kind: str, code: str, words: str
) -> None:
    c = hostile[_d(kind)]
    assert c.codes == {code}
    message = c.only(code)
    assert words in message, message
    assert f"mx1.{_d(kind)}" in message
    c.assert_within_budget()


@pytest.mark.parametrize("kind", ["stall", "tls-stall"])
def test_stalls_are_cut_at_the_budget(hostile: dict[str, Checked], kind: str) -> None:
    c = hostile[_d(kind)]
    assert c.seconds >= c.budget - 0.5  # it waited for the server, then gave up
    c.assert_within_budget()
    (mx,) = c.report.mx
    assert mx.tls is not None
    assert mx.tls.reachable


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("banner-554", True),
        ("garbage", True),
        ("banner-421", False),
        ("hangup", False),
        ("ehlo-too-many", False),
        ("ehlo-long-line", False),
        ("ehlo-too-many-starttls", False),
    ],
)
def test_the_blocklist_hint_is_for_refusals_and_non_smtp_answers_only(
    hostile: dict[str, Checked], kind: str, hint: bool
) -> None:
    """An MX refusing the session (5xx greeting) or answering something that is not SMTP
    may be refusing this checker's address; a busy server, a hang-up or an EHLO reply
    past the bounds is the MX's own doing, and is explained as such."""
    c = hostile[_d(kind)]
    text = " ".join(f.message for f in c.report.findings)
    assert ("blocklists" in text) is hint, text


def test_an_overlong_ehlo_reply_is_the_mx_s_tls_problem_naming_the_bound(
    hostile: dict[str, Checked],
) -> None:
    missing = hostile[_d("ehlo-too-many")].only("mx_starttls_missing")
    assert "past the read bounds" in missing, missing
    assert "STARTTLS is not among the lines read" in missing, missing
    failed = hostile[_d("ehlo-too-many-starttls")].only("mx_tls_failed")
    assert "lists STARTTLS, but its EHLO reply goes past the read bounds" in failed, failed
    (mx,) = hostile[_d("ehlo-too-many-starttls")].report.mx
    assert mx.tls is not None
    assert mx.tls.starttls is True
    assert [p.failure for p in mx.tls.probes] == ["ehlo_too_long"]


def test_garbage_is_shown_escaped(hostile: dict[str, Checked]) -> None:
    message = hostile[_d("garbage")].only("mx_unreachable")
    assert "\x00" not in message
    assert "\x1b" not in message
    assert "\\x00" in message


def test_multiline_ehlo_with_starttls_in_the_middle_is_understood(
    hostile: dict[str, Checked],
) -> None:
    c = hostile[_d("ehlo-many")]
    assert c.codes == set()
    (mx,) = c.report.mx
    assert mx.tls is not None
    assert mx.tls.starttls is True
    assert mx.tls.version in ("TLSv1.2", "TLSv1.3")
    assert mx.tls.cert_valid is True


def test_endless_ehlo_is_read_only_up_to_the_line_bound(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    """The server would send EHLO lines forever; the probe stops after
    SMTP_MAX_REPLY_LINES lines and hangs up (the server got rid of some buffered
    thousands at most: the probe hung up, so the stream ended)."""
    c = hostile[_d("ehlo-too-many")]
    assert c.seconds < c.budget  # ended by the bound, not by the clock
    (mx,) = c.report.mx
    assert mx.tls is not None
    assert mx.tls.starttls is False  # not among the lines read
    raw = [s._raw for s in hostile_bed._smtp if s.hostname == f"mx1.{_d('ehlo-too-many')}"]
    assert raw
    assert raw[0] is not None
    assert raw[0].lines_sent < 100_000


def test_long_line_ends_the_probe_without_waiting(hostile: dict[str, Checked]) -> None:
    c = hostile[_d("ehlo-long-line")]
    assert c.seconds < c.budget


def test_no_message_of_any_hostile_report_carries_control_characters(
    hostile: dict[str, Checked],
) -> None:
    """Banners, headers, records and bodies chosen by a server reach a terminal or Slack
    only with their control characters escaped (no screen clearing, colours or bells)."""
    for c in hostile.values():
        for f in c.report.findings:
            for text in (f.message, f.subject, f.fix or ""):
                assert all(ch.isprintable() or ch == "\n" for ch in text), (f.code, text)
    banner = hostile["h-escape-banner.example"].only("mx_unreachable")
    assert "\\x1b[2J\\x1b[31mPWNED\\x07" in banner


async def test_probes_in_flight_are_bounded_across_checks(
    hostile_bed: Testbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three checks of a domain with 100 MX at once: never more than
    MAX_PROBES_IN_FLIGHT SMTP probes open together (here lowered to 10), all complete."""
    in_flight, peak = 0, 0
    real = smtp.probe_address

    async def counted(*args: Any, **kwargs: Any) -> AddressProbe:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await real(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(limits, "MAX_PROBES_IN_FLIGHT", 10)
    monkeypatch.setattr(tls_step, "_IN_FLIGHT", weakref.WeakKeyDictionary())
    monkeypatch.setattr(tls_step, "probe_address", counted)
    settings = hostile_bed.settings_for("h-mx-100.example")
    reports = await asyncio.gather(*(engine.check("h-mx-100.example", settings) for _ in range(3)))
    assert peak == 10
    assert [r.status for r in reports] == ["pass"] * 3


async def test_one_address_gets_at_most_smtp_probe_timeout(
    hostile_bed: Testbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A silent MX is given up after SMTP_PROBE_TIMEOUT (here lowered to 0.3 s) even when
    the check's budget is longer, so it cannot hold a probe slot for the whole budget."""
    monkeypatch.setattr(limits, "SMTP_PROBE_TIMEOUT", 0.3)
    domain = _d("stall")
    settings = hostile_bed.settings_for(domain, timeout=5.0)
    started = asyncio.get_running_loop().time()
    report = await engine.check(domain, settings)
    elapsed = asyncio.get_running_loop().time() - started
    assert {f.code for f in report.findings} == {"mx_timeout"}
    assert "waits up to 0.3 s" in report.findings[0].message
    assert elapsed < settings.timeout  # cut by the per-address bound, not by the budget


async def test_100_slow_mx_hosts_are_all_checked_within_the_default_budget(
    hostile_bed: Testbed,
) -> None:
    """100 MX hosts whose servers take about 1.5 s per probe (each reply line 0.15 s
    late): with the default budget every one is probed to the end (the in-flight bound
    lets one check probe them in two rounds, not seven), none is cut off or left out."""
    domain = "h-mx-100-slow.example"
    report = await engine.check(domain, hostile_bed.settings_for(domain))
    assert len(report.mx) == 100
    assert all(m.tls is not None and m.tls.starttls and m.tls.cert_valid for m in report.mx)
    assert {f.code for f in report.findings} == set(), [f.message for f in report.findings]
