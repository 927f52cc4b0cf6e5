"""The SMTP probe against servers that say odd things (real sockets on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest_asyncio

from bot.checker import limits, tls_step
from bot.checker.engine import check
from bot.checker.smtp import probe_address
from bot.testbed.bed import Testbed


@pytest_asyncio.fixture(loop_scope="session")
async def unicode_digits_server() -> AsyncIterator[int]:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write("²²² hello\r\n".encode())  # digits to str.isdigit(), not to SMTP
        await writer.drain()
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_reply_code_of_non_ascii_digits_is_not_smtp(unicode_digits_server: int) -> None:
    deadline = asyncio.get_running_loop().time() + 3
    probe = await probe_address(
        "mx.example", "127.0.0.1", port=unicode_digits_server, ca_file=None, deadline=deadline
    )
    assert probe.reachable
    assert probe.error is not None
    assert "not SMTP" in probe.error


async def test_the_probe_answers_before_its_polite_close(testbed: Testbed) -> None:
    """With close_later, the probe's facts are complete when it returns, and the close
    (QUIT already sent) is handed over to run later, once."""
    handed: list[Coroutine[Any, Any, None]] = []
    host = "mx1.good.example"
    deadline = asyncio.get_running_loop().time() + 10
    probe = await probe_address(
        host,
        testbed.addresses[host],
        port=testbed.smtp_port,
        ca_file=testbed.ca_file,
        deadline=deadline,
        close_later=handed.append,
    )
    assert probe.cert_valid is True
    assert probe.version in ("TLSv1.2", "TLSv1.3")
    assert len(handed) == 1
    await handed[0]  # the close itself still works when it is run


async def test_every_in_flight_slot_comes_back_after_the_closes(testbed: Testbed) -> None:
    """Probes give their slot back only once their connection is closed, and always do."""
    report = await check("good.example", testbed.settings())
    assert all(mx.tls is not None and mx.tls.cert_valid for mx in report.mx)
    await asyncio.gather(*tls_step._CLOSING)
    assert not tls_step._CLOSING
    assert tls_step._in_flight_gate()._value == limits.MAX_PROBES_IN_FLIGHT
