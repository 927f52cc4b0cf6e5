"""When a sender's handshake fails, the checker learns what the MX does speak with a
second handshake that allows old protocols and ciphers, and says so: TLS 1.0/1.1 is
`mx_tls_version_old` with the protocol named however the server refuses (an alert, or
closing the connection); a TLS 1.2 server with only weak ciphers is `mx_tls_failed`
naming the cipher. On the testbed's real SMTP servers."""

from __future__ import annotations

import pytest

from bot.checker.model import Report


@pytest.mark.parametrize("domain", ["mx-old-tls.example", "mx-old-tls-close.example"])
def test_old_protocol_is_named_however_the_server_refuses(
    catalogue_reports: dict[str, Report], domain: str
) -> None:
    report = catalogue_reports[domain]
    (old,) = [f for f in report.findings if f.code == "mx_tls_version_old"]
    assert "TLS 1.1 (TLSv1.1)" in old.message, old.message
    assert {f.code for f in report.findings} == {"mx_tls_version_old"}
    (mx,) = report.mx
    assert mx.tls is not None
    assert mx.tls.version == "TLSv1.1"
    assert all(p.old_protocol for p in mx.tls.probes)


def test_a_weak_cipher_only_server_is_named_with_its_cipher(
    catalogue_reports: dict[str, Report],
) -> None:
    report = catalogue_reports["mx-weak-cipher.example"]
    assert {f.code for f in report.findings} == {"mx_tls_failed"}
    (failed,) = report.findings
    assert "TLSv1.2 and ECDHE-ECDSA-AES128-SHA" in failed.message, failed.message
    (mx,) = report.mx
    assert mx.tls is not None
    assert mx.tls.version is None  # no handshake a sender would make completed
