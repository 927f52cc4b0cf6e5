"""Reading a report's JSON form back: faithful for every field, strict about shapes."""

from __future__ import annotations

import json

import pytest

from bot.checker.findings import finding
from bot.checker.model import (
    AddressProbe,
    CertInfo,
    DnsEvidence,
    MxHost,
    Policy,
    PolicyFetch,
    Record,
    Report,
    ReportJsonError,
    Tls,
    TlsRpt,
    report_from_json,
)


def full_report() -> Report:
    """Every optional part filled in, including the nested certificate and probes."""
    cert = CertInfo("CN=mx1", "CN=CA", ["mx1.example.com"], "2027-01-01T00:00:00Z", 30)
    probe = AddressProbe(
        "192.0.2.1", True, True, "TLSv1.3", True, None, cert, "220 hi", None, False, False
    )
    return Report(
        domain="example.com",
        mode="testing",
        record=Record("v=STSv1; id=1", "1", ["_mta-sts.other.example."]),
        policy=Policy("STSv1", "testing", 86400, ["mx1.example.com"], "version: STSv1\n"),
        mx=[
            MxHost(
                "mx1.example.com",
                10,
                "mx1.example.com",
                ["192.0.2.1"],
                Tls(True, True, "TLSv1.3", True, None, "2027-01-01Z", "192.0.2.1", [probe]),
            ),
            MxHost("mx2.example.com", 20, None, [], None, "one label short"),
        ],
        tlsrpt=TlsRpt("v=TLSRPTv1; rua=mailto:a@example.com", ["mailto:a@example.com"]),
        findings=[finding("mode_testing", "example.com", "testing")],
        checked_at="2026-11-29T10:00:00Z",
        duration_ms=12.3,
        fetch=PolicyFetch(
            "https://mta-sts.example.com/x", ["192.0.2.9"], 200, "text/plain", None, cert, None
        ),
        dns=DnsEvidence(["v=STSv1; id=1"], ["v=TLSRPTv1; rua=mailto:a@ex.com"], ["10 mx1."], 1),
        smtp_checked=False,
    )


def test_every_field_survives_the_round_trip() -> None:
    report = full_report()
    assert report_from_json(json.loads(json.dumps(report.to_json()))) == report


def test_a_minimal_report_reads_back_with_its_defaults() -> None:
    report = Report(domain="bare.example")
    assert report_from_json(report.to_json()) == report


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.pop("domain"), "report.domain: missing"),
        (lambda d: d.update(mode="strict"), "report.mode"),
        (lambda d: d["mx"][0]["tls"].update(version=13), r"report.mx\[0\].tls.version"),
        (lambda d: d["mx"][0].update(preference=True), r"report.mx\[0\].preference"),
        (lambda d: d.update(findings={}), "report.findings: expected a list"),
        (lambda d: d.update(record="v=STSv1"), "report.record: expected an object"),
    ],
)
def test_a_wrong_shape_is_refused_naming_the_field(mutate: object, path: str) -> None:
    data = full_report().to_json()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ReportJsonError, match=path):
        report_from_json(data)


def test_not_a_report_at_all_is_refused() -> None:
    with pytest.raises(ReportJsonError):
        report_from_json(["not", "a", "report"])
