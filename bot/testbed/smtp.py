"""SMTP servers for MX hosts: aiosmtpd for the well-behaved ones, a raw one for the rest.

`SmtpServer` runs one behaviour (`Smtp`) on a list of loopback addresses:
`starttls` and `plain` are aiosmtpd (with a per-reply delay, the greeting
included); `old_tls` and the hostile kinds are a small raw asyncio server
(`rawsmtp.py`); `refused` listens nowhere.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterable
from typing import Any

from aiosmtpd.smtp import SMTP

from bot.testbed.behaviour import Smtp
from bot.testbed.rawsmtp import RawSmtp

# aiosmtpd logs a traceback for every client that drops STARTTLS halfway, which
# the checker's probes (and the hostile scenarios) do on purpose.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


class _Sink:
    """aiosmtpd handler: accept and drop any message (the checker never sends one)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"

    async def handle_exception(self, error: Exception) -> str:
        # A client refusing our certificate is what many tests do: no log noise.
        return f"421 4.3.0 {type(error).__name__}"


class _DelayedSMTP(SMTP):
    """aiosmtpd's SMTP with a delay before every reply, the greeting included."""

    def __init__(self, *args: Any, delay: float = 0.0, owner: SmtpServer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._delay = delay
        self._owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._owner._transports.add(transport)
        local = transport.get_extra_info("sockname")
        if local:
            accepted = self._owner.accepted
            accepted[str(local[0])] = accepted.get(str(local[0]), 0) + 1
        super().connection_made(transport)

    async def push(self, status: Any) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        await super().push(status)


class SmtpServer:
    """One SMTP behaviour on some loopback addresses, all on one port."""

    def __init__(self, behaviour: Smtp, hostname: str, tls_context: ssl.SSLContext | None) -> None:
        self.behaviour = behaviour
        self.hostname = hostname
        self.tls_context = tls_context
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: set[asyncio.BaseTransport] = set()
        self._raw: RawSmtp | None = None
        self.accepted: dict[str, int] = {}  # local address -> TCP connections accepted

    async def listen(self, addresses: Iterable[str], port: int) -> int:
        """Listen on `addresses` at `port` (0: pick one); returns the port."""
        addrs = list(addresses)
        kind = self.behaviour.kind
        if kind == "refused" or not addrs:
            return port
        if kind in {"starttls", "plain"}:
            loop = asyncio.get_running_loop()
            ctx = self.tls_context if kind == "starttls" else None
            server = await loop.create_server(
                lambda: _DelayedSMTP(
                    _Sink(),
                    hostname=self.hostname,
                    ident="mtasts-testbed",
                    tls_context=ctx,
                    loop=loop,
                    delay=self.behaviour.delay,
                    owner=self,
                ),
                addrs,
                port,
            )
        else:
            self._raw = RawSmtp(self.behaviour, self.hostname, self.tls_context, self.accepted)
            server = await self._raw.listen(addrs, port)
        self._servers.append(server)
        return port or int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        for t in list(self._transports):
            t.abort()  # type: ignore[attr-defined]
        if self._raw is not None:
            await self._raw.stop()
        for s in self._servers:
            await s.wait_closed()
