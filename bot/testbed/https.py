"""A raw asyncio HTTP/1.1-over-TLS server playing many policy hosts at once.

One `ssl` context picks the certificate by SNI name; the request's Host header
(or, without one, the local address) picks the host's `HttpBehaviour`, which
is data. `_respond` turns it into bytes on the wire, so hostile behaviours are
one more field and a few lines there.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Iterable

from bot.testbed.behaviour import HttpBehaviour

POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_HEAD = 16 * 1024
PIECE = 16 * 1024  # body bytes written at once
SMALL_SNDBUF = 16 * 1024  # socket send buffer for large bodies
FILLER = b"# filler " + b"x" * 4086 + b"\n"  # 4 KiB of a comment line

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class HttpsServer:
    """Listens on many loopback addresses, one port; behaviours are looked up per host."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        behaviour_for: Callable[[str], HttpBehaviour | None],
        host_at: Callable[[str], str | None],
    ) -> None:
        self.ssl_context = ssl_context
        self.behaviour_for = behaviour_for  # host name -> behaviour
        self.host_at = host_at  # local address -> host name (requests without Host)
        self.port = 0
        self.requests: list[tuple[str, str]] = []  # (host, path) seen, for tests
        self.request_headers: list[tuple[str, dict[str, str]]] = []  # (host, lower-cased headers)
        self.bytes_sent: dict[str, int] = {}  # host -> response bytes the client's socket took
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def listen(self, addresses: Iterable[str], port: int = 0) -> int:
        """Listen on more addresses (same port once chosen); returns the port."""
        addrs = list(addresses)
        if not addrs:
            return self.port
        server = await asyncio.start_server(
            self._serve, addrs, port or self.port, ssl=self.ssl_context
        )
        self._servers.append(server)
        if not self.port:
            self.port = int(server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for s in self._servers:
            await s.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except ssl.SSLError:
            pass
        except asyncio.CancelledError:
            pass  # the testbed is stopping; end quietly (asyncio logs a cancelled handler)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()  # flushes what is buffered, then closes

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1] if len(parts) == 3 else ""
        host = ""
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
            if name.strip().lower() == "host":
                host = value.strip().lower()
                if host.startswith("["):
                    host = host.split("]")[0] + "]"
                else:
                    host = host.rsplit(":", 1)[0] if ":" in host else host
        if not host:
            local = writer.get_extra_info("sockname")
            host = (self.host_at(str(local[0])) if local else None) or ""
        self.requests.append((host, path))
        self.request_headers.append((host, headers))
        behaviour = self.behaviour_for(host) if path == POLICY_PATH else None
        if behaviour is None:
            behaviour = HttpBehaviour(status=404, body=b"not found\n")
        self.bytes_sent.setdefault(host, 0)

        def sent(n: int) -> None:
            self.bytes_sent[host] += n

        await _respond(writer, behaviour, sent)


def _ignore(n: int) -> None:
    return None


async def _respond(
    writer: asyncio.StreamWriter, b: HttpBehaviour, sent: Callable[[int], None] = _ignore
) -> None:
    if b.delay:
        await asyncio.sleep(b.delay)
    reason = REASONS.get(b.status, "Status")
    head = [f"{b.version} {b.status} {reason}", "Server: mtasts-testbed"]
    if b.content_type is not None:
        head.append(f"Content-Type: {b.content_type}")
    if b.location is not None:
        head.append(f"Location: {b.location}")
    if b.framing == "length" and not b.endless:
        head.append(f"Content-Length: {len(b.body)}")
    elif b.framing == "chunked":
        head.append("Transfer-Encoding: chunked")
    head.append("Connection: close")
    head.extend(f"{k}: {v}" for k, v in b.headers)
    if b.endless or len(b.body) > SMALL_SNDBUF:
        # A small socket send buffer, so what the server counts as sent is what the
        # client read, give or take its receive buffer (not megabytes queued in the kernel).
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_SNDBUF)
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    if b.stall_after_headers:
        await asyncio.Event().wait()  # until the client goes or the testbed stops
    await _send(writer, b.body, b, sent)
    while b.endless:
        await _send(writer, FILLER, b, sent)
        await asyncio.sleep(0)  # drain() need not yield; let the client read
    if b.framing == "chunked":
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()


async def _send(
    writer: asyncio.StreamWriter,
    data: bytes,
    b: HttpBehaviour,
    sent: Callable[[int], None] = _ignore,
) -> None:
    """Send body bytes in pieces of at most 16 KiB (one byte when dripping), waiting for
    each to be taken, so a large body never sits whole in a buffer and `sent` counts
    only what the client's side accepted (give or take the socket buffers)."""
    step = 1 if b.drip else PIECE
    for i in range(0, len(data), step):
        piece = data[i : i + step]
        if b.framing == "chunked":
            piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        if writer.is_closing():  # the client hung up: writes would vanish uncounted
            raise ConnectionResetError("the client closed the connection")
        writer.write(piece)
        await writer.drain()
        # drain() returns at once while nothing is queued, and writes to a connection the
        # client has reset are dropped (nothing queues): yield, so that the loss is heard
        # (drain raises next time) before the next piece is counted as sent.
        await asyncio.sleep(0)
        if writer.is_closing():  # lost with the connection, not taken by the client
            raise ConnectionResetError("the client closed the connection")
        sent(len(piece))
        if b.drip:
            await asyncio.sleep(b.drip)


class AbortServer:
    """Accepts TCP on policy-host addresses, reads the TLS ClientHello, and closes."""

    def __init__(self) -> None:
        self._servers: list[asyncio.Server] = []
        self.accepted: dict[str, int] = {}  # local address -> TCP connections accepted

    async def listen(self, addresses: Iterable[str], port: int) -> None:
        addrs = list(addresses)
        if addrs:
            self._servers.append(await asyncio.start_server(self._serve, addrs, port))

    async def stop(self) -> None:
        for s in self._servers:
            s.close()
        for s in self._servers:
            await s.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname")
        if local:
            self.accepted[str(local[0])] = self.accepted.get(str(local[0]), 0) + 1
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.read(4096), 5.0)
        writer.transport.abort()
