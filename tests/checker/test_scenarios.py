"""Every scenario of the testbed catalogue, checked for real: DNS over UDP/TCP, HTTPS
with real certificates, SMTP with STARTTLS. The catalogue says what the checker must
report for each domain (bot/testbed/scenarios.py); this holds the checker to it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.checker.findings import CODES
from bot.checker.model import Report, report_from_json
from bot.testbed.scenario import Scenario
from bot.testbed.scenarios import SCENARIOS


@pytest.fixture
def reports(catalogue_reports: dict[str, Report]) -> dict[str, Report]:
    return catalogue_reports


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda sc: sc.domain)
def test_scenario_report_matches_catalogue(scenario: Scenario, reports: dict[str, Report]) -> None:
    report = reports[scenario.domain]
    codes = {f.code for f in report.findings}
    detail = "\n".join(f"  {f.code} [{f.subject}] {f.message}" for f in report.findings)
    assert codes == set(scenario.expect_codes), f"{scenario.description}\n{detail}"
    assert report.status == scenario.expect_status, detail
    assert report.mode == scenario.expect_mode, detail


def test_every_finding_code_is_produced_by_a_real_scenario(reports: dict[str, Report]) -> None:
    produced = {f.code for r in reports.values() for f in r.findings}
    assert produced == set(CODES)


def test_findings_carry_catalogue_severity_and_reference(reports: dict[str, Report]) -> None:
    for report in reports.values():
        for f in report.findings:
            spec = CODES[f.code]
            assert f.ref == spec.ref
            if not spec.mode_dependent:
                assert f.severity == spec.severity, f
            assert f.message.strip(), f


def test_mode_dependent_findings_follow_the_mode(reports: dict[str, Report]) -> None:
    expected = {"enforce": "error", "testing": "warning", "none": "info"}
    seen = set()
    for report in reports.values():
        for f in report.findings:
            if CODES[f.code].mode_dependent:
                assert report.mode is not None, f"{f.code} raised without a usable policy"
                assert f.severity == expected[report.mode], (report.domain, f)
                seen.add(report.mode)
    assert {"enforce", "testing"} <= seen


def test_json_report_has_the_contract_fields(reports: dict[str, Report]) -> None:
    contract_top = {
        "domain", "status", "mode", "record", "policy", "mx", "tlsrpt",
        "findings", "checked_at", "duration_ms",
    }  # fmt: skip
    for report in reports.values():
        data = json.loads(json.dumps(report.to_json()))
        assert contract_top <= set(data)
        assert data["status"] in {"pass", "warn", "fail"}
        assert data["checked_at"].endswith("Z")
        for mx in data["mx"]:
            assert {"host", "preference", "matched_by", "addresses", "tls"} <= set(mx)
            if mx["tls"] is not None:
                tls = mx["tls"]
                assert {"starttls", "version", "cert_valid", "cert_error", "not_after"} <= set(tls)
                if tls["reachable"] is False:
                    assert tls["starttls"] is None
                    assert tls["cert_valid"] is None
        for f in data["findings"]:
            assert {"code", "severity", "subject", "message", "ref"} <= set(f)


def test_delegation_shows_where_the_record_lives(reports: dict[str, Report]) -> None:
    assert reports["cname-record.example"].record is not None
    assert reports["cname-record.example"].record.cname == ["_mta-sts.sts-provider.example"]
    dangling = reports["cname-dangling.example"].findings[0]
    assert "_mta-sts.gone-provider.example does not exist" in dangling.message
    assert dangling.fix is not None
    assert "replace the CNAME" in dangling.fix


def test_json_report_reads_back_into_the_same_report(reports: dict[str, Report]) -> None:
    """What a cache in Redis (or a store) keeps is the JSON form; reading it back must
    give the very report, for every scenario (every finding code, every optional part)."""
    for report in reports.values():
        text = json.dumps(report.to_json())
        back = report_from_json(json.loads(text))
        assert back == replace(report, duration_ms=round(report.duration_ms, 1))
        assert json.dumps(back.to_json()) == text
