from bot.checker.findings import CODES, finding
from bot.checker.model import Report


def test_report_status_follows_worst_severity() -> None:
    report = Report(domain="example.com")
    assert report.status == "pass"
    report.findings.append(finding("mode_testing", "example.com", "testing"))
    assert report.status == "pass"
    report.findings.append(finding("tlsrpt_missing", "example.com", "none"))
    assert report.status == "warn"
    report.findings.append(finding("mx_not_covered", "mx.example.com", "x", mode="enforce"))
    assert report.status == "fail"
    assert len(CODES) == 44


async def test_tests_cannot_leave_loopback() -> None:
    """The session guard (tests/conftest.py) refuses the network beyond loopback."""
    import asyncio
    import errno

    import pytest

    with pytest.raises(OSError, match="tests stay on loopback") as refused:
        await asyncio.open_connection("192.0.2.1", 443)
    assert refused.value.errno == errno.ENETUNREACH
