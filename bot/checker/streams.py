"""What the policy fetch and the SMTP probe share: a TCP stream to one address, and a
server's text made safe to show."""

from __future__ import annotations

import asyncio
import socket


async def open_stream(
    address: str, port: int, *, receive_buffer: int, limit: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """TCP to `address`, its lines read up to `limit` bytes, with a receive buffer (the TCP
    window offered, set before the connection is made) of `receive_buffer` bytes: what
    the checker reads, not the megabytes the kernel would grow it to, so a server pouring
    out more (a 10 MB body, an endless EHLO reply) hands over about that much before the
    checker, having read what it needs, hangs up."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock, limit=limit)


def printable(text: str) -> str:
    """A server's text as shown to people: control characters escaped (no terminal tricks)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
