"""The testbed HTTPS server: real TLS with the testbed CA, per-host certificates and answers."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.testbed.bed import Testbed
from bot.testbed.https import POLICY_PATH
from bot.testbed.scenario import healthy_domain


async def _open(
    bed: Testbed, host: str, ctx: ssl.SSLContext | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(
        bed.addresses[host],
        bed.https_port,
        ssl=ctx or bed.pki.client_context(),
        server_hostname=host,
    )


async def _get(bed: Testbed, host: str, path: str = POLICY_PATH) -> tuple[bytes, bytes]:
    """(head, raw body) of GET https://host/path, read to EOF."""
    reader, writer = await _open(bed, host)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    body = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return head, body


class _BedResolver(AbstractResolver):
    """aiohttp resolver answering from the testbed's address map."""

    def __init__(self, bed: Testbed) -> None:
        self.bed = bed

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self.bed.addresses[host],
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        return None


async def test_aiohttp_fetches_a_good_policy(testbed: Testbed) -> None:
    connector = aiohttp.TCPConnector(
        ssl=testbed.pki.client_context(), resolver=_BedResolver(testbed)
    )
    async with aiohttp.ClientSession(connector=connector) as session:
        url = f"https://mta-sts.good.example:{testbed.https_port}{POLICY_PATH}"
        async with session.get(url) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "text/plain"
            text = await resp.text()
    assert text.startswith("version: STSv1\nmode: enforce\nmx: mx1.good.example\n")


@pytest.mark.parametrize(
    ("host", "error"),
    [
        ("mta-sts.expired-policy-cert.example", "certificate has expired"),
        ("mta-sts.wrong-name-policy-cert.example", "Hostname mismatch"),
        ("mta-sts.untrusted-policy-cert.example", "unable to get local issuer certificate"),
        ("mta-sts.self-signed-policy-cert.example", "self-signed certificate"),
    ],
)
async def test_bad_certificates_fail_verification(testbed: Testbed, host: str, error: str) -> None:
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        await _open(testbed, host)
    assert error in str(info.value)


async def test_cn_only_certificate_fails_without_cn_fallback(testbed: Testbed) -> None:
    ctx = testbed.pki.client_context()
    ctx.hostname_checks_common_name = False
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        await _open(testbed, "mta-sts.cn-only-policy-cert.example", ctx)


async def test_expiring_certificate_is_valid_with_days_left(testbed: Testbed) -> None:
    _reader, writer = await _open(testbed, "mta-sts.expiring-policy-cert.example")
    cert = writer.get_extra_info("peercert")
    writer.close()
    left = ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()
    assert 6 * 86400 < left <= 7 * 86400 + 60


async def test_status_location_and_content_type(testbed: Testbed) -> None:
    head, _ = await _get(testbed, "mta-sts.status-404.example")
    assert head.startswith(b"HTTP/1.1 404 ")
    head, _ = await _get(testbed, "mta-sts.redirect.example")
    assert head.startswith(b"HTTP/1.1 301 ")
    assert b"\r\nLocation: https://www.redirect.example/.well-known/mta-sts.txt\r\n" in head
    head, _ = await _get(testbed, "mta-sts.html-policy.example")
    assert b"\r\nContent-Type: text/html\r\n" in head
    head, body = await _get(testbed, "mta-sts.no-content-type.example")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"content-type" not in head.lower()
    assert body.startswith(b"version: STSv1")
    head, _ = await _get(testbed, "mta-sts.good.example", "/other")
    assert head.startswith(b"HTTP/1.1 404 ")


async def test_large_bodies_in_three_framings(testbed: Testbed) -> None:
    head, body = await _get(testbed, "mta-sts.large-policy.example")
    assert b"Content-Length: " in head
    assert len(body) > 64 * 1024
    head, body = await _get(testbed, "mta-sts.large-unframed.example")
    assert b"Content-Length" not in head
    assert b"chunked" not in head
    assert len(body) > 64 * 1024
    head, body = await _get(testbed, "mta-sts.large-chunked.example")
    assert b"Transfer-Encoding: chunked" in head
    assert body.endswith(b"0\r\n\r\n")
    assert len(body) > 64 * 1024


async def test_endless_body_keeps_coming(testbed: Testbed) -> None:
    reader, writer = await _open(testbed, "mta-sts.endless-policy.example")
    writer.write(
        f"GET {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.endless-policy.example\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    got = await reader.readexactly(256 * 1024)
    writer.close()
    assert len(got) == 256 * 1024


async def test_headers_then_stall(testbed: Testbed) -> None:
    reader, writer = await _open(testbed, "mta-sts.stalled-policy.example")
    writer.write(
        f"GET {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.stalled-policy.example\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), 0.2)
    writer.close()


async def test_refused_policy_host_has_nothing_listening(testbed: Testbed) -> None:
    with pytest.raises(ConnectionRefusedError):
        await _open(testbed, "mta-sts.policy-refused.example")


async def test_shared_server_picks_certificate_by_sni() -> None:
    async with Testbed(
        [healthy_domain("a.bench.example"), healthy_domain("b.bench.example")]
    ) as bed:
        assert bed.addresses["mta-sts.a.bench.example"] == bed.addresses["mta-sts.b.bench.example"]
        for name in ("a", "b"):
            host = f"mta-sts.{name}.bench.example"
            _reader, writer = await _open(bed, host)
            assert ("DNS", host) in writer.get_extra_info("peercert")["subjectAltName"]
            writer.close()
            _head, body = await _get(bed, host)
            assert f"mx: mx1.{name}.bench.example\n".encode() in body


async def test_http10_without_length_and_tls_abort(testbed: Testbed) -> None:
    head, body = await _get(testbed, "mta-sts.http10.example")
    assert head.startswith(b"HTTP/1.0 200 ")
    assert b"Content-Length" not in head
    assert body.startswith(b"version: STSv1\n")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await _open(testbed, "mta-sts.policy-tls-abort.example")
