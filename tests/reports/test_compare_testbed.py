"""The comparison against the testbed's real servers, in process and through `mtasts tlsrpt`.

mx-expired.example's backup MX serves a certificate that expired yesterday: a report of
certificate-expired failures there is still failing now. good.example's MX certificates
are valid: the same failures reported for it have been fixed since.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.checker.engine import check
from bot.checker.settings import Settings
from bot.reports.compare import DomainCheck
from bot.reports.parse import parse_read
from bot.reports.reading import read_bytes
from bot.reports.summary import Summary, summarise
from bot.testbed.bed import Testbed
from bot.testbed.cli import run_mtasts
from bot.testbed.reports import Failure, google_shape, gzipped, policy_lines


def _expired_report(domain: str, *, mode: str = "enforce") -> bytes:
    failures = [Failure("certificate-expired", f"mx2.{domain}", 37)]
    return gzipped(google_shape(domain, failures, lines=policy_lines(domain, mode=mode)))


def _summary(data: bytes) -> Summary:
    return summarise(parse_read(read_bytes(data, "report.json.gz")))


async def test_expired_now_is_still_failing_with_its_date(settings: Settings) -> None:
    domain = "mx-expired.example"
    summary = _summary(_expired_report(domain))
    now = DomainCheck(domain, report=await check(domain, settings))
    (policy,) = summary.policies()
    (group,) = policy.groups.values()
    found = now.verdict(group)
    assert found.state == "still_failing"
    expired_on = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date()
    day_before = expired_on - dt.timedelta(days=1)  # in case the day turned during the test
    assert found.text in {
        f"mx2.{domain}'s certificate expired on {d.isoformat()} — still expired now."
        for d in (expired_on, day_before)
    }
    assert now.drift(policy) is None  # the same policy as published now


async def test_valid_now_is_fixed_since_and_an_older_policy_is_named(settings: Settings) -> None:
    domain = "good.example"
    summary = _summary(_expired_report(domain, mode="testing"))
    now = DomainCheck(domain, report=await check(domain, settings))
    (policy,) = summary.policies()
    (group,) = policy.groups.values()
    found = now.verdict(group)
    assert found.state == "fixed"
    assert found.text.startswith(f"mx2.{domain}'s certificate has been renewed since: valid until ")
    moved = now.drift(policy)
    assert moved is not None
    assert moved.in_report == ("mode: testing",)
    assert moved.published == ("mode: enforce",)


async def test_mtasts_tlsrpt_against_the_testbed(testbed: Testbed, tmp_path: Path) -> None:
    still = tmp_path / "mx-expired.json.gz"
    still.write_bytes(_expired_report("mx-expired.example"))
    code, out, err = await run_mtasts(testbed, str(still), command="tlsrpt")
    assert code == 1, err  # a failure the check finds still there
    assert err == ""
    assert "37  certificate-expired at mx2.mx-expired.example" in out
    assert "now: STILL FAILING — mx2.mx-expired.example's certificate expired on" in out
    assert "── mx-expired.example now (mtasts check) ──" in out
    assert "FAIL  mx-expired.example  mode: enforce" in out

    fixed = tmp_path / "good.json.gz"
    fixed.write_bytes(_expired_report("good.example", mode="testing"))
    code, out, err = await run_mtasts(
        testbed, "--json", "-", command="tlsrpt", stdin=fixed.read_bytes()
    )
    assert code == 0, err  # every reported failure is fixed now
    data = json.loads(out)
    policy = data["senders"][0]["policies"][0]
    assert policy["failure_groups"][0]["now"]["state"] == "fixed"
    assert policy["policy_differs"]["only_in_report"] == ["mode: testing"]
    assert data["checks"]["good.example"]["status"] == "pass"
