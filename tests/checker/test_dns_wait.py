"""A slow DNS answer inside the budget is an answer: the checker waits for it as long
as the check's budget lasts, sends a lost query again, and still takes the first
query's late answer after sending it again. On the testbed's real DNS server."""

from __future__ import annotations

import asyncio

import pytest_asyncio

from bot.checker.engine import check
from bot.checker.model import Report
from bot.checker.settings import Nameserver
from bot.testbed.bed import Testbed
from bot.testbed.behaviour import DnsFault, HttpBehaviour
from bot.testbed.scenario import GOOD_ID, Scenario, make, policy_text

SLOW = "wait-slow-resolver.example"
LOST = "wait-lost-packet.example"
LATE = "wait-late-first.example"


def _slow_resolver() -> Scenario:
    """Every lookup a check starts with answered after 1 s, with a 2 s budget: all
    answers come in time; the policy host then takes 3 s more, which is not left."""
    delayed = (f"_mta-sts.{SLOW}", f"_smtp._tls.{SLOW}", f"mta-sts.{SLOW}", SLOW)
    return make(
        SLOW,
        "every first lookup answered after 1 s; the policy host answers after 3 s",
        ["policy_timeout"],
        expect_mode=None,
        http=HttpBehaviour(body=policy_text(mx=[f"mx1.{SLOW}", f"mx2.{SLOW}"]), delay=3.0),
        faults=tuple(DnsFault(name, delay=1.0) for name in delayed),
        settings={"timeout": 2.0},
    )


SCENARIOS = [
    _slow_resolver(),
    make(
        LOST,
        "the first _mta-sts query is lost; the retransmission is answered",
        faults=(DnsFault(f"_mta-sts.{LOST}", "lose_first"),),
    ),
    make(
        LATE,
        "_mta-sts answered after 1.5 s, to the first query only (retransmissions are lost)",
        faults=(DnsFault(f"_mta-sts.{LATE}", "lose_retries", delay=1.5),),
        settings={"timeout": 3.0},
    ),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def reports(testbed: Testbed) -> dict[str, Report]:
    missing = [sc for sc in SCENARIOS if sc.domain not in testbed.scenarios]
    if missing:
        await testbed.add(*missing)
    done = await asyncio.gather(*(check(sc.domain, testbed.settings_for(sc)) for sc in SCENARIOS))
    return {r.domain: r for r in done}


def test_each_scenario_gives_exactly_its_findings(reports: dict[str, Report]) -> None:
    for sc in SCENARIOS:
        report = reports[sc.domain]
        detail = "\n".join(f"  {f.code} [{f.subject}] {f.message}" for f in report.findings)
        assert {f.code for f in report.findings} == set(sc.expect_codes), f"{sc.domain}\n{detail}"
        assert report.status == sc.expect_status


def test_answers_after_a_second_are_used_and_the_late_fetch_is_cut(
    reports: dict[str, Report],
) -> None:
    report = reports[SLOW]
    assert report.record is not None
    assert report.record.id == GOOD_ID
    assert report.tlsrpt is not None
    assert [m.host for m in report.mx] == [f"mx1.{SLOW}", f"mx2.{SLOW}"]
    assert all(m.addresses for m in report.mx)
    assert report.fetch is not None
    assert report.fetch.addresses  # the policy host's (slow) address lookup came in time
    message = next(f.message for f in report.findings if f.code == "policy_timeout")
    assert "no HTTP response" in message, message


def test_a_lost_query_is_sent_again(reports: dict[str, Report], testbed: Testbed) -> None:
    report = reports[LOST]
    assert report.record is not None
    assert report.record.id == GOOD_ID
    assert testbed.zone.seen[(f"_mta-sts.{LOST}", "TXT")] >= 2


def test_the_first_querys_late_answer_is_taken_after_a_retransmission(
    reports: dict[str, Report], testbed: Testbed
) -> None:
    """The retransmission (after 1 s) is never answered; the first query's answer,
    arriving after 1.5 s, is the one the record came from."""
    report = reports[LATE]
    assert report.record is not None
    assert report.record.id == GOOD_ID
    assert testbed.zone.seen[(f"_mta-sts.{LATE}", "TXT")] >= 2


async def test_a_silent_resolver_hands_the_query_to_the_next(testbed: Testbed) -> None:
    """Two resolvers, the first silent (nothing listens there): the retransmission goes
    to the second, whose answer is used."""
    silent = Nameserver("127.77.0.254", testbed.dns_address.port)
    settings = testbed.settings(nameservers=(silent, testbed.dns_address))
    report = await check("good.example", settings)
    assert report.status == "pass", [f.message for f in report.findings]
