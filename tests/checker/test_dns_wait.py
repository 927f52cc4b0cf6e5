"""A slow DNS answer inside the budget is an answer: the checker waits for it as long
as the check's budget lasts, sends a lost query again, and still takes the first
query's late answer after sending it again. On the testbed's real DNS server (the
scenarios are in the catalogue, bot/testbed/scenarios.py: `wait-*.example`)."""

from __future__ import annotations

from bot.checker.dns import Dns
from bot.checker.model import Report
from bot.checker.settings import Nameserver
from bot.testbed.bed import Testbed
from bot.testbed.scenario import GOOD_ID

SLOW = "wait-slow-resolver.example"
LOST = "wait-lost-packet.example"
LATE = "wait-late-first.example"


def test_answers_after_a_second_are_used_and_the_late_fetch_is_cut(
    catalogue_reports: dict[str, Report],
) -> None:
    """Every lookup answered after 1 s with a 2 s budget: the record, TLS-RPT record, MX
    hosts and policy host are all found; the policy host then needs 3 s more, which is
    not left: policy_timeout, and nothing else."""
    report = catalogue_reports[SLOW]
    assert {f.code for f in report.findings} == {"policy_timeout"}
    assert report.record is not None
    assert report.record.id == GOOD_ID
    assert report.tlsrpt is not None
    assert [m.host for m in report.mx] == [f"mx1.{SLOW}", f"mx2.{SLOW}"]
    assert all(m.addresses for m in report.mx)
    assert report.fetch is not None
    assert report.fetch.addresses  # the policy host's (slow) address lookup came in time
    message = next(f.message for f in report.findings if f.code == "policy_timeout")
    assert "no HTTP response" in message, message


def test_a_lost_query_is_sent_again(catalogue_reports: dict[str, Report], testbed: Testbed) -> None:
    report = catalogue_reports[LOST]
    assert report.status == "pass", [f.message for f in report.findings]
    assert report.record is not None
    assert report.record.id == GOOD_ID
    assert testbed.zone.seen[(f"_mta-sts.{LOST}", "TXT")] >= 2


def test_the_first_querys_late_answer_is_taken_after_a_retransmission(
    catalogue_reports: dict[str, Report], testbed: Testbed
) -> None:
    """The retransmission (after 1 s) is never answered; the first query's answer,
    arriving after 1.5 s, is the one the record came from."""
    report = catalogue_reports[LATE]
    assert report.status == "pass", [f.message for f in report.findings]
    assert report.record is not None
    assert report.record.id == GOOD_ID
    assert testbed.zone.seen[(f"_mta-sts.{LATE}", "TXT")] >= 2


async def test_a_silent_resolver_hands_the_query_to_the_next(testbed: Testbed) -> None:
    """Two resolvers, the first silent (nothing listens there): the retransmission goes
    to the second, whose answer is used."""
    silent = Nameserver("127.77.0.254", testbed.dns_address.port)
    dns = Dns(testbed.settings(nameservers=(silent, testbed.dns_address)))
    lookup = await dns.txt("_mta-sts.good.example")
    assert lookup.outcome == "ok", lookup.error
    assert lookup.records == [f"v=STSv1; id={GOOD_ID}"]
