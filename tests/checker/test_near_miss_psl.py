"""'Same domain' in near-miss advice means the same registrable domain (Public Suffix
List), checked end to end on the testbed: an MX under co.uk is told about the pattern in
its own registrable domain, and not about one that only shares the public suffix."""

from __future__ import annotations

from bot.checker.model import Report


def test_near_miss_uses_the_registrable_domain(catalogue_reports: dict[str, Report]) -> None:
    report = catalogue_reports["psl-uk.example"]
    by_host = {mx.host: mx for mx in report.mx}
    near = by_host["smtp.alpha-mail.co.uk"].near_miss
    assert near is not None
    assert "`mx.alpha-mail.co.uk` is in the same domain (alpha-mail.co.uk)" in near, near
    assert by_host["mx.bravo-host.co.uk"].near_miss is None  # co.uk is not a domain
    messages = " ".join(f.message for f in report.findings)
    assert "(co.uk)" not in messages, messages
