"""One HTTP/1.1 exchange over an open stream, as much as the policy fetch needs, bounded.

The policy fetch is a single GET with `Connection: close`: this writes the request,
reads the status line and the headers (each line at most MAX_HTTP_HEADER_BYTES, at most
MAX_HTTP_HEADERS of them), and reads the body as the response frames it (Content-Length,
chunked, or up to the close) without ever holding more than a given number of bytes.

It replaces a general HTTP client (aiohttp), whose import alone cost the `mtasts check`
command 110 to 275 ms, several times the whole check (issue 10). Anything that is not
HTTP as RFC 9112 frames it raises `HttpError` saying what, never a traceback.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.checker import limits

_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) ([0-9]{3})(?: ([^\r\n]*))?\r?\n")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_MAX_INTERIM = 5  # 1xx responses skipped before the real one
_CLOSED = "the server closed the connection without a complete answer"
_CUT = "the server broke off while sending the policy"


class HttpError(Exception):
    """The server's answer is not HTTP as it must be framed; the message says why."""


class Disconnected(HttpError):
    """The server closed the connection before a complete answer."""


class BodyCut(HttpError):
    """The server closed the connection in the middle of the body."""


@dataclass(slots=True)
class Response:
    status: int
    version: str  # "1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)  # names lower-cased

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower case), or None."""
        return next((value for key, value in self.headers if key == name), None)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def request(path: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("ascii")


async def read_head(reader: asyncio.StreamReader) -> Response:
    """The status line and headers of the response (interim 1xx responses skipped)."""
    for _ in range(_MAX_INTERIM + 1):
        line = await _line(reader, "the status line")
        if not line:
            raise Disconnected(_CLOSED)
        found = _STATUS_LINE.fullmatch(line)
        if found is None:
            raise HttpError(f"Bad status line {_shown(line)}")
        response = Response(int(found[3]), f"{found[1].decode()}.{found[2].decode()}")
        response.headers = await _headers(reader)
        if not 100 <= response.status < 200 or response.status == 101:
            return response
    raise HttpError(f"more than {_MAX_INTERIM} interim (1xx) responses")


async def read_body(
    reader: asyncio.StreamReader, response: Response, most: int, received: Callable[[int], None]
) -> bytes:
    """At most `most` bytes of the body, as the response frames it; `received` is told the
    size of each piece as it comes (for a timeout's message)."""
    encodings = [
        v.strip().lower()
        for value in response.values("transfer-encoding")
        for v in value.split(",")
    ]
    lengths = response.values("content-length")
    if encodings:
        if lengths:
            raise HttpError("Content-Length can't be present with Transfer-Encoding")
        if encodings != ["chunked"]:
            raise HttpError(
                f"unsupported Transfer-Encoding {_shown(', '.join(encodings).encode())}"
            )
        return await _chunked(reader, most, received)
    if lengths:
        if len(lengths) > 1:
            raise HttpError("Duplicate Content-Length")
        if not lengths[0].isascii() or not lengths[0].isdigit():
            raise HttpError(f"Invalid character in Content-Length {_shown(lengths[0].encode())}")
        return await _exactly(reader, min(int(lengths[0]), most), received)
    return await _read(reader, most, received)  # up to the close (HTTP/1.0 style)


async def _read(reader: asyncio.StreamReader, most: int, received: Callable[[int], None]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < most:
        chunk = await reader.read(most - size)
        if not chunk:
            break
        chunks.append(chunk)
        received(len(chunk))
        size += len(chunk)
    return b"".join(chunks)


async def _exactly(
    reader: asyncio.StreamReader, size: int, received: Callable[[int], None]
) -> bytes:
    """`size` bytes of the body; BodyCut when the server closes before."""
    data = await _read(reader, size, received)
    if len(data) < size:
        raise BodyCut(_CUT)
    return data


async def _chunked(
    reader: asyncio.StreamReader, most: int, received: Callable[[int], None]
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < most:
        line = await _line(reader, "a chunk size")
        if not line:
            raise BodyCut(_CUT)
        found = _CHUNK_SIZE.fullmatch(line)
        if found is None:
            raise HttpError(f"invalid chunk size {_shown(line)}")
        length = int(found[1], 16)
        if length == 0:
            break
        data = await _exactly(reader, min(length, most - size), received)
        chunks.append(data)
        size += len(data)
        if size >= most:
            break
        end = await _line(reader, "a chunk's end")
        if end not in (b"\r\n", b"\n"):
            raise HttpError("a chunk is longer than its size says")
    return b"".join(chunks)


async def _headers(reader: asyncio.StreamReader) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    while True:
        line = await _line(reader, "a header")
        if not line:
            raise Disconnected(_CLOSED)
        if line in (b"\r\n", b"\n"):
            return headers
        if len(headers) >= limits.MAX_HTTP_HEADERS:
            raise HttpError(f"Too many headers (more than {limits.MAX_HTTP_HEADERS})")
        name, colon, value = line.rstrip(b"\r\n").partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise HttpError(f"Invalid header line {_shown(line)}")
        if b"\r" in value or b"\x00" in value:
            raise HttpError(f"Invalid header value {_shown(line)}")
        headers.append((name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")))


async def _line(reader: asyncio.StreamReader, what: str) -> bytes:
    """One line (with its end) of at most MAX_HTTP_HEADER_BYTES, or b"" at the end."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise Disconnected(_CLOSED) from None
        return b""
    except asyncio.LimitOverrunError:
        raise HttpError(
            f"Got more than {limits.MAX_HTTP_HEADER_BYTES} bytes when reading {what}"
        ) from None


def _shown(data: bytes) -> str:
    text = data[:60].decode("latin-1").rstrip("\r\n")
    return repr(text) + ("…" if len(data) > 60 else "")
