"""The SMTP probe against servers that say odd things (real sockets on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from bot.checker.smtp import probe_address


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
