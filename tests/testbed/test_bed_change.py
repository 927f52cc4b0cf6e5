"""Testbed.change: a served domain changes between two checks (what watching is tested on)."""

from __future__ import annotations

import itertools

import pytest

from bot.checker.engine import check
from bot.testbed.bed import Testbed
from bot.testbed.behaviour import DnsFault, Mx, Smtp
from bot.testbed.scenario import make, policy_text

_names = itertools.count(1)


def fresh(label: str) -> str:
    return f"{label}-{next(_names)}.change.example"


async def test_policy_body_changes_under_the_same_id(testbed: Testbed) -> None:
    d = fresh("policy")
    await testbed.add(make(d, "before"))
    before = await check(d, testbed.settings())
    body = policy_text("enforce", [f"mx1.{d}", f"mx2.{d}"], max_age=1209600)
    await testbed.change(make(d, "after", body=body))
    after = await check(d, testbed.settings())
    assert before.policy is not None
    assert after.policy is not None
    assert before.policy.max_age == 604800
    assert after.policy.max_age == 1209600
    assert after.record is not None
    assert after.record.id == before.record.id  # type: ignore[union-attr]


async def test_a_new_mx_gets_its_own_server(testbed: Testbed) -> None:
    d = fresh("mx")
    await testbed.add(make(d, "two MX"))
    mx = (Mx(f"mx1.{d}", 10), Mx(f"mx2.{d}", 20), Mx(f"mx3.{d}", 30))
    body = policy_text("enforce", [f"mx1.{d}", f"mx2.{d}"])
    await testbed.change(make(d, "three MX, one not covered", mx=mx, body=body))
    report = await check(d, testbed.settings())
    hosts = {m.host: m for m in report.mx}
    assert set(hosts) == {f"mx1.{d}", f"mx2.{d}", f"mx3.{d}"}
    assert hosts[f"mx3.{d}"].matched_by is None
    assert hosts[f"mx3.{d}"].tls is not None
    assert hosts[f"mx3.{d}"].tls.starttls is True
    assert "mx_not_covered" in {f.code for f in report.findings}


async def test_a_certificate_near_expiry_and_back(testbed: Testbed) -> None:
    d = fresh("cert")
    await testbed.add(make(d, "healthy"))
    mx = (Mx(f"mx1.{d}", 10, Smtp(cert="expiring")), Mx(f"mx2.{d}", 20))
    await testbed.change(make(d, "expiring", mx=mx))
    report = await check(d, testbed.settings())
    assert {f.code for f in report.findings} == {"cert_expiring"}
    await testbed.change(make(d, "renewed"))
    assert (await check(d, testbed.settings())).findings == []


async def test_a_dns_fault_comes_and_goes(testbed: Testbed) -> None:
    d = fresh("blip")
    await testbed.add(make(d, "healthy"))
    blip = make(d, "servfail", faults=[DnsFault(f"_mta-sts.{d}", "servfail")])
    await testbed.change(blip)
    broken = await check(d, testbed.settings())
    assert "record_lookup_failed" in {f.code for f in broken.findings}
    await testbed.change(make(d, "healthy again"))
    assert (await check(d, testbed.settings())).status == "pass"


async def test_changing_what_is_not_served_is_an_error(testbed: Testbed) -> None:
    with pytest.raises(ValueError, match="not served"):
        await testbed.change(make(fresh("nothing"), "never added"))
