"""A raw asyncio SMTP-ish server for behaviours aiosmtpd will not play.

Old-protocol-only TLS (1.0/1.1, refusing newer clients with an alert or by
closing the connection), a stalled accept, a 554 banner, garbage,
STARTTLS answered with an error, a drop right after STARTTLS. The TLS
handshake is done by hand over memory BIOs so that a refused handshake still
sends its alert (asyncio's own TLS layer closes without flushing it), and a
modern client sees a real protocol-version error.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import warnings
from collections.abc import Iterable

from bot.testbed.behaviour import Smtp


def old_tls_context(base: ssl.SSLContext) -> ssl.SSLContext:
    """Limit a server context to TLS 1.0/1.1 (needs security level 0 on OpenSSL 3)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        base.minimum_version = ssl.TLSVersion.TLSv1
        base.maximum_version = ssl.TLSVersion.TLSv1_1
    base.set_ciphers("DEFAULT:@SECLEVEL=0")
    return base


def weak_cipher_context(base: ssl.SSLContext) -> ssl.SSLContext:
    """Limit a server context to TLS 1.2 with one SHA-1 CBC cipher (ECDSA keys)."""
    base.minimum_version = ssl.TLSVersion.TLSv1_2
    base.maximum_version = ssl.TLSVersion.TLSv1_2
    base.set_ciphers("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
    return base


class _Conn:
    """A line-oriented SMTP connection, in clear or over a hand-driven TLS session."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.tls: ssl.SSLObject | None = None
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._buf = b""

    async def send(self, text: bytes) -> None:
        if self.tls is None:
            self.writer.write(text)
        else:
            self.tls.write(text)
            self.writer.write(self._out.read())
        await self.writer.drain()

    async def readline(self) -> bytes:
        if self.tls is None:
            return await self.reader.readline()
        while b"\n" not in self._buf:
            try:
                data = self.tls.read(4096)
                if not data:  # the client closed the TLS session
                    return b""
                self._buf += data
            except ssl.SSLWantReadError:
                data = await self.reader.read(4096)
                if not data:
                    return b""
                self._in.write(data)
            except ssl.SSLError:
                return b""
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    async def handshake(self, ctx: ssl.SSLContext, *, alert: bool = True) -> bool:
        """Server-side handshake; on failure the alert is still sent (unless `alert` is
        False: then the connection just closes, as many old stacks do). True when done."""
        tls = ctx.wrap_bio(self._in, self._out, server_side=True)
        while True:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                if pending := self._out.read():
                    self.writer.write(pending)
                    await self.writer.drain()
                data = await self.reader.read(16384)
                if not data:
                    return False
                self._in.write(data)
                continue
            except ssl.SSLError:
                if alert and (pending := self._out.read()):
                    self.writer.write(pending)
                    await self.writer.drain()
                return False
            if pending := self._out.read():
                self.writer.write(pending)
                await self.writer.drain()
            self.tls = tls
            return True


_HOSTILE_EHLO = {"ehlo_too_many", "ehlo_too_many_starttls", "ehlo_long_line"}


class RawSmtp:
    """Serves one hostile or old-TLS behaviour."""

    def __init__(
        self,
        behaviour: Smtp,
        hostname: str,
        tls_context: ssl.SSLContext | None,
        accepted: dict[str, int] | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.hostname = hostname
        self.tls_context = tls_context
        self.accepted = accepted if accepted is not None else {}  # local address -> count
        self.lines_sent = 0  # EHLO lines of the endless kinds, for tests
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def listen(self, addresses: Iterable[str], port: int) -> asyncio.Server:
        return await asyncio.start_server(self._serve, list(addresses), port)

    async def stop(self) -> None:
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        local = writer.get_extra_info("sockname")
        if local:
            self.accepted[str(local[0])] = self.accepted.get(str(local[0]), 0) + 1
        try:
            await self._dialogue(_Conn(reader, writer))
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the testbed is stopping; end quietly (asyncio logs a cancelled handler)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.transport.abort()

    async def _reply(self, conn: _Conn, text: str) -> None:
        if self.behaviour.delay:
            await asyncio.sleep(self.behaviour.delay)
        await conn.send(text.encode("ascii"))

    async def _hostile_ehlo(self, conn: _Conn, kind: str) -> None:
        """Answer EHLO with more than a client should read: endless lines, or one huge line."""
        await conn.send(f"250-{self.hostname}\r\n".encode())
        if kind == "ehlo_too_many_starttls":
            await conn.send(b"250-PIPELINING\r\n250-STARTTLS\r\n")
        if kind == "ehlo_long_line":
            await conn.send(b"250-" + b"X" * (8 * 1024) + b"\r\n250 OK\r\n")
            return
        while not conn.writer.is_closing():  # until the client hangs up
            first = self.lines_sent
            await conn.send(b"".join(b"250-X-MORE-%d\r\n" % (first + i) for i in range(50)))
            self.lines_sent += 50
            await asyncio.sleep(0)

    async def _dialogue(self, conn: _Conn) -> None:
        kind = self.behaviour.kind
        if kind == "stall":
            await asyncio.Event().wait()
        if kind == "hangup":
            return
        if kind in ("banner_554", "banner_421"):
            code = kind[-3:]
            text = self.behaviour.banner or f"{self.hostname} no SMTP service here"
            await conn.send(f"{code} {text}\r\n".encode("utf-8", "surrogateescape"))
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.readline(), 5.0)  # let the client QUIT
            await self._reply(conn, "221 bye\r\n")
            return
        if kind == "garbage":
            await conn.send(b"\x00\xff\xfe HTTP/1.1 400 Bad Request\r\n\x1b[0m\r\n")
            return
        await self._reply(conn, f"220 {self.hostname} ESMTP mtasts-testbed\r\n")
        while True:
            line = await conn.readline()
            if not line:
                return
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb == b"EHLO" and kind in {
                "ehlo_too_many",
                "ehlo_too_many_starttls",
                "ehlo_long_line",
            }:
                await self._hostile_ehlo(conn, kind)
                return
            if verb == b"EHLO":
                ext = "" if conn.tls else "250-STARTTLS\r\n"
                host = self.hostname
                if kind == "ehlo_many":
                    many = "".join(f"250-X-EXTENSION-{i} with some words\r\n" for i in range(30))
                    ext = many + ext + many
                await self._reply(conn, f"250-{host}\r\n250-PIPELINING\r\n{ext}250 8BITMIME\r\n")
            elif verb == b"HELO":
                await self._reply(conn, f"250 {self.hostname}\r\n")
            elif verb == b"STARTTLS" and conn.tls is None:
                if kind == "starttls_error":
                    await self._reply(conn, "454 4.7.0 TLS not available\r\n")
                    continue
                await self._reply(conn, "220 2.0.0 Ready to start TLS\r\n")
                if kind == "tls_stall":
                    await asyncio.Event().wait()  # until the client goes or the testbed stops
                if kind == "drop_after_starttls" or self.tls_context is None:
                    return
                if not await conn.handshake(self.tls_context, alert=kind != "old_tls_close"):
                    return
            elif verb == b"QUIT":
                await self._reply(conn, "221 2.0.0 bye\r\n")
                return
            elif verb in {b"NOOP", b"RSET"}:
                await self._reply(conn, "250 OK\r\n")
            else:
                await self._reply(conn, "502 5.5.2 command not implemented\r\n")
