"""The testbed SMTP servers: banner, EHLO, STARTTLS with SNI and the testbed CA, faults."""

from __future__ import annotations

import asyncio
import ssl
import time
import warnings

import pytest

from bot.testbed.bed import Testbed
from bot.testbed.behaviour import Mx, Smtp
from bot.testbed.scenario import healthy_domain, make


class Client:
    """A minimal SMTP client over asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, bed: Testbed, host: str) -> Client:
        reader, writer = await asyncio.open_connection(bed.addresses[host], bed.smtp_port)
        return cls(reader, writer)

    async def reply(self) -> list[str]:
        lines: list[str] = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 5)).decode("latin-1")
            if not line:
                raise ConnectionError("closed")
            lines.append(line.rstrip("\r\n"))
            if len(line) < 4 or line[3] != "-":
                return lines

    async def command(self, text: str) -> list[str]:
        self.writer.write(text.encode() + b"\r\n")
        return await self.reply()

    async def starttls(self, host: str, ctx: ssl.SSLContext) -> None:
        assert (await self.command("STARTTLS"))[0].startswith("220")
        await self.writer.start_tls(ctx, server_hostname=host)

    def close(self) -> None:
        self.writer.close()


async def _ehlo(bed: Testbed, host: str) -> tuple[Client, list[str], list[str]]:
    client = await Client.connect(bed, host)
    banner = await client.reply()
    return client, banner, await client.command("EHLO probe.invalid")


async def test_starttls_with_sni_and_testbed_ca(testbed: Testbed) -> None:
    host = "mx1.good.example"
    client, banner, ehlo = await _ehlo(testbed, host)
    assert banner[0].startswith(f"220 {host} ")
    assert "250-STARTTLS" in ehlo or "250 STARTTLS" in ehlo
    await client.starttls(host, testbed.pki.client_context())
    tls = client.writer.get_extra_info("ssl_object")
    assert tls.version() in {"TLSv1.2", "TLSv1.3"}
    assert ("DNS", host) in client.writer.get_extra_info("peercert")["subjectAltName"]
    after = await client.command("EHLO probe.invalid")
    assert not any("STARTTLS" in line for line in after)
    assert (await client.command("QUIT"))[0].startswith("221")
    client.close()


async def test_plain_server_does_not_offer_starttls(testbed: Testbed) -> None:
    client, banner, ehlo = await _ehlo(testbed, "mx2.mx-plain.example")
    assert banner[0].startswith("220")
    assert ehlo[0].startswith("250")
    assert not any("STARTTLS" in line for line in ehlo)
    client.close()


async def test_expired_mx_certificate_fails_verification(testbed: Testbed) -> None:
    client, _, _ = await _ehlo(testbed, "mx2.mx-expired.example")
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        await client.starttls("mx2.mx-expired.example", testbed.pki.client_context())
    client.close()


async def test_old_tls_server_fails_a_default_client_with_protocol_version(
    testbed: Testbed,
) -> None:
    host = "mx1.mx-old-tls.example"
    client, _, ehlo = await _ehlo(testbed, host)
    assert any("STARTTLS" in line for line in ehlo)
    with pytest.raises(ssl.SSLError) as info:
        await client.starttls(host, testbed.pki.client_context())
    assert info.value.reason in {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"}
    client.close()


async def test_old_tls_server_speaks_tls_1_1_to_an_old_client(testbed: Testbed) -> None:
    host = "mx1.mx-old-tls.example"
    ctx = testbed.pki.client_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    client, _, _ = await _ehlo(testbed, host)
    await client.starttls(host, ctx)
    assert client.writer.get_extra_info("ssl_object").version() in {"TLSv1", "TLSv1.1"}
    assert (await client.command("EHLO probe.invalid"))[0].startswith("250")
    assert (await client.command("QUIT"))[0].startswith("221")
    client.close()


async def test_refused_and_stalled_servers(testbed: Testbed) -> None:
    with pytest.raises(ConnectionRefusedError):
        await Client.connect(testbed, "mx2.mx-refused.example")
    client = await Client.connect(testbed, "mx2.mx-stall.example")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.reader.readline(), 0.2)
    client.close()


async def test_reply_delay_applies_to_the_greeting(testbed: Testbed) -> None:
    start = time.perf_counter()
    client = await Client.connect(testbed, "mx1.slow-mx.example")
    assert (await client.reply())[0].startswith("220")
    assert time.perf_counter() - start >= 0.1
    client.close()


async def test_starttls_refused_and_dropped(testbed: Testbed) -> None:
    client, _, ehlo = await _ehlo(testbed, "mx1.mx-starttls-error.example")
    assert any("STARTTLS" in line for line in ehlo)
    assert (await client.command("STARTTLS"))[0].startswith("454")
    client.close()
    host = "mx1.mx-tls-drop.example"
    client, _, _ = await _ehlo(testbed, host)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await client.starttls(host, testbed.pki.client_context())
    client.close()


async def test_shared_smtp_server_picks_certificate_by_sni() -> None:
    async with Testbed([healthy_domain("c.bench.example", mx_count=3)]) as bed:
        hosts = [f"mx{i}.c.bench.example" for i in (1, 2, 3)]
        assert len({bed.addresses[h] for h in hosts}) == 1
        for host in hosts:
            client, _, _ = await _ehlo(bed, host)
            await client.starttls(host, bed.pki.client_context())
            assert ("DNS", host) in client.writer.get_extra_info("peercert")["subjectAltName"]
            client.close()


async def test_hostile_banners() -> None:
    scenarios = [
        make(
            "b554.hostile.example",
            "554",
            mx=(Mx("mx.b554.hostile.example", 10, Smtp("banner_554")),),
        ),
        make(
            "junk.hostile.example", "junk", mx=(Mx("mx.junk.hostile.example", 10, Smtp("garbage")),)
        ),
    ]
    async with Testbed(scenarios) as bed:
        client = await Client.connect(bed, "mx.b554.hostile.example")
        assert (await client.reply())[0].startswith("554 ")
        assert (await client.command("QUIT"))[0].startswith("221")
        client.close()
        client = await Client.connect(bed, "mx.junk.hostile.example")
        data = await asyncio.wait_for(client.reader.read(), 5)
        assert data.startswith(b"\x00\xff")
        client.close()


async def test_old_tls_close_server_refuses_a_default_client_without_an_alert(
    testbed: Testbed,
) -> None:
    """Like many old stacks: no protocol_version alert, the connection just ends."""
    host = "mx1.mx-old-tls-close.example"
    client, _, _ = await _ehlo(testbed, host)
    with pytest.raises((ConnectionError, ssl.SSLError)) as info:
        await client.starttls(host, testbed.pki.client_context())
    assert "PROTOCOL_VERSION" not in str(info.value).upper()
    client.close()
