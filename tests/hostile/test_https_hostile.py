"""Hostile policy hosts: every misbehaviour is reported for what it is, within the budget,
reading at most 64 KiB of body whatever the server sends, and never following a redirect."""

from __future__ import annotations

import re
import tracemalloc

import pytest
from hostile_scenarios import MB, Checked

from bot.checker import limits
from bot.checker.engine import check
from bot.testbed.bed import Testbed

POLICY = "/.well-known/mta-sts.txt"


def test_closed_mid_handshake_is_a_connection_failure_saying_so(
    hostile: dict[str, Checked],
) -> None:
    c = hostile["h-tls-abort.example"]
    message = c.only("policy_connect_failed")
    assert "closed it during the TLS handshake" in message
    assert c.report.policy is None
    c.assert_within_budget()


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("h-stall.example", "sent its headers (HTTP 200) but only 0 bytes of the body"),
        ("h-drip.example", "sent its headers (HTTP 200) but only "),  # 1 or 2 bytes
    ],
)
def test_stalled_or_dripping_body_times_out_at_the_budget(
    hostile: dict[str, Checked], domain: str, words: str
) -> None:
    c = hostile[domain]
    message = c.only("policy_timeout")
    assert f"within this check's {c.budget:g} s budget" in message
    assert words in message, message
    if domain == "h-drip.example":
        assert re.search(r"only [123] bytes of the body", message), message
    assert c.report.policy is None
    assert c.seconds >= c.budget - 0.5  # it waited for the server, then gave up
    c.assert_within_budget()


def test_drip_fetch_stops_when_the_budget_ends(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    """One byte a second for a 2.5 s budget: the server got to send three bytes at most
    (at 0, 1 and 2 s), then the checker hung up."""
    assert hostile_bed.https.bytes_sent["mta-sts.h-drip.example"] <= 3


@pytest.mark.parametrize("framing", ["length", "close", "chunked"])
def test_10mb_body_is_too_large_and_not_read(
    hostile: dict[str, Checked], hostile_bed: Testbed, framing: str
) -> None:
    c = hostile[f"h-10mb-{framing}.example"]
    assert f"larger than {limits.MAX_POLICY_BYTES // 1024} KiB" in c.only("policy_too_large")
    assert c.report.policy is None
    # What the server managed to hand over before the checker hung up: the checker's
    # 64 KiB plus socket and TLS buffers, nowhere near the 10 MB on offer.
    sent = hostile_bed.https.bytes_sent[f"mta-sts.h-10mb-{framing}.example"]
    assert sent < 2 * MB, sent
    c.assert_within_budget()


@pytest.mark.parametrize("name", ["length", "close", "chunked", "endless", "gzip"])
async def test_memory_stays_bounded_whatever_the_body(hostile_bed: Testbed, name: str) -> None:
    """Python allocations during a whole check (checker and the in-process server alike)
    stay far below the body on offer: 10 MB, an endless stream, or a gzip bomb that
    inflates to 10 MB."""
    domain = f"h-mem-{name}.example"
    tracemalloc.start()
    try:
        report = await check(domain, hostile_bed.settings_for(domain))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {f.code for f in report.findings} == set(hostile_bed.scenario(domain).expect_codes)
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"
    if report.policy is not None:
        assert len(report.policy.text) <= limits.MAX_POLICY_BYTES


def test_redirect_to_itself_is_reported_and_not_followed(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    host = "mta-sts.h-redirect-self.example"
    c = hostile["h-redirect-self.example"]
    message = c.only("policy_redirect")
    assert f"answered 301 redirecting to https://{host}{POLICY}" in message
    assert "must not follow redirects" in message
    assert [r for r in hostile_bed.https.requests if r[0] == host] == [(host, POLICY)]


def test_http10_without_length_is_read_to_the_close(hostile: dict[str, Checked]) -> None:
    c = hostile["h-http10.example"]
    assert c.codes == set()
    assert c.report.policy is not None
    assert c.report.policy.mx == ["mx1.h-http10.example", "mx2.h-http10.example"]


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("h-latin1.example", "Line 6"),
        ("h-latin1.example", "is not valid UTF-8"),
        ("h-bom.example", "byte-order mark"),
        ("h-nul.example", "NUL bytes"),
        ("h-gzip.example", "gzip-compressed"),
    ],
)
def test_undecodable_bodies_are_syntax_errors_saying_why(
    hostile: dict[str, Checked], domain: str, words: str
) -> None:
    c = hostile[domain]
    message = c.message("policy_syntax")
    assert words in message, message
    assert "\x00" not in message
    c.assert_within_budget()


def test_gzip_is_never_asked_for_nor_decompressed(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    c = hostile["h-gzip.example"]
    # Not decompressed: the bytes sent are not text, so the report has no policy
    # (the contract: `policy` only for a body read as text), only the finding.
    assert c.report.policy is None
    assert "gzip" in c.message("policy_syntax")
    for host, headers in hostile_bed.https.request_headers:
        assert headers.get("accept-encoding") == "identity", (host, headers)
        assert headers.get("cache-control") == "no-cache", (host, headers)


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("h-many-headers.example", "invalid HTTP response (Too many headers"),
        ("h-long-header.example", "invalid HTTP response (Got more than 16384 bytes"),
        ("h-http-ssh.example", "invalid HTTP response (Bad status line"),
        ("h-http-status-0.example", "invalid HTTP response (Bad status line"),
        ("h-http-length-and-chunked.example", "Content-Length can't be present with"),
        ("h-http-two-lengths.example", "Duplicate Content-Length"),
        ("h-http-negative-length.example", "Invalid character in Content-Length"),
    ],
)
def test_malformed_http_is_refused_early_saying_why(
    hostile: dict[str, Checked], hostile_bed: Testbed, domain: str, words: str
) -> None:
    c = hostile[domain]
    message = c.only("policy_connect_failed")
    assert words in message, message
    assert len(message) < 600
    c.assert_within_budget()
