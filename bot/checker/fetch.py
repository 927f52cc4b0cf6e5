"""Fetch the policy file as RFC 8461 §3.3 says a sender must.

HTTPS GET with SNI for `mta-sts.<domain>`, the certificate validated for that
exact name (DNS-ID only), no redirects followed, no HTTP cache, no compression
asked for, at most 64 KiB read, and the whole fetch bounded in time. The
connection goes only to addresses the engine already resolved (through the
configured resolver) and allowed. Outcomes come back as a `FetchResult`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot import __version__
from bot.checker import limits
from bot.checker.certs import (
    cert_info,
    completed_handshakes,
    describe_verify_error,
    inspecting_context,
    peer_cert_info,
    verifying_context,
)
from bot.checker.model import CertInfo, PolicyFetch
from bot.checker.names import policy_host, policy_url

FetchOutcome = Literal[
    "ok", "connect_failed", "tls_invalid", "redirect", "http_status", "too_large", "timeout"
]


@dataclass(slots=True)
class FetchResult:
    outcome: FetchOutcome
    evidence: PolicyFetch
    body: bytes | None = None  # read only with status 200 (cut at 64 KiB + 1 byte)
    error: str | None = None  # in words, for the finding's message


class _PinnedResolver(AbstractResolver):
    """Hands aiohttp the addresses we resolved ourselves, so nothing else resolves."""

    def __init__(self, addresses: list[str]) -> None:
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self._addresses
        ]

    async def close(self) -> None:
        return None


def _bounded_window_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """A socket whose receive buffer (the TCP window offered) fits a policy, not the
    megabytes the kernel would grow it to: a server pushing a 10 MB body gets to hand
    over about that much before the checker, having read 64 KiB, hangs up."""
    family, type_, proto = addr_info[0], addr_info[1], addr_info[2]
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, limits.POLICY_RECEIVE_BUFFER)
    return sock


async def fetch_policy(
    domain: str,
    addresses: list[str],
    *,
    port: int,
    ca_file: str | None,
    deadline: float,
) -> FetchResult:
    """GET the policy from one of `addresses`; never raises for network trouble."""
    host = policy_host(domain)
    evidence = PolicyFetch(url=policy_url(domain, port), addresses=list(addresses))
    loop = asyncio.get_running_loop()
    # The whole rest of the check's budget: RFC 8461 suggests senders wait up to a
    # minute, so `--timeout 60` must really wait that long.
    budget = max(0.05, deadline - loop.time())
    connector = aiohttp.TCPConnector(
        resolver=_PinnedResolver(addresses),
        ssl=verifying_context(ca_file, recording=True),
        use_dns_cache=False,
        force_close=True,
        limit=4,
        socket_factory=_bounded_window_socket,
    )
    headers = {
        "User-Agent": limits.USER_AGENT.format(version=__version__),
        "Accept": "text/plain",
        "Accept-Encoding": "identity",
        "Cache-Control": "no-cache",
    }
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=budget),
        auto_decompress=False,
        max_line_size=limits.MAX_HTTP_HEADER_BYTES,
        max_field_size=limits.MAX_HTTP_HEADER_BYTES,
        trust_env=False,
    )
    handshakes: list[ssl.SSLObject] = []
    completed_handshakes.set(handshakes)
    received: list[int] = []  # sizes of the body pieces read so far
    try:
        async with asyncio.timeout(budget + 0.5), session:
            return await _get(session, evidence, host, headers, handshakes, received)
    except TimeoutError:
        if evidence.status is None:
            error = f"no HTTP response within {budget:.1f} s"
        else:
            error = (
                f"the server sent its headers (HTTP {evidence.status}) but only "
                f"{sum(received)} bytes of the body within {budget:.1f} s"
            )
        return FetchResult("timeout", evidence, error=error)
    except aiohttp.ClientConnectorCertificateError as exc:
        verify = exc.certificate_error
        if isinstance(verify, ssl.SSLCertVerificationError):
            error = describe_verify_error(verify, host)
        else:
            error = f"the certificate does not validate ({verify})"
        evidence.error = error
        evidence.cert = await _read_invalid_cert(host, addresses, port, deadline)
        return FetchResult("tls_invalid", evidence, error=error)
    except aiohttp.ClientSSLError as exc:
        error = f"the TLS handshake failed ({_reason(exc)})"
        evidence.error = error
        return FetchResult("connect_failed", evidence, error=error)
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, ConnectionResetError | BrokenPipeError):
            # TCP was accepted (a refusal is ECONNREFUSED): it broke during the handshake.
            error = f"port {port} accepted the connection, then closed it during the TLS handshake"
        else:
            why = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
            error = f"could not connect to port {port} ({why})"
        evidence.error = error
        return FetchResult("connect_failed", evidence, error=error)
    except (aiohttp.ClientError, OSError) as exc:
        error = _client_error_text(exc)
        evidence.error = error
        return FetchResult("connect_failed", evidence, error=error)


async def _get(
    session: aiohttp.ClientSession,
    evidence: PolicyFetch,
    host: str,
    headers: dict[str, str],
    handshakes: list[ssl.SSLObject],
    received: list[int],
) -> FetchResult:
    async with session.get(evidence.url, headers=headers, allow_redirects=False) as resp:
        evidence.status = resp.status
        ctype = resp.headers.get("Content-Type")
        evidence.content_type = None if ctype is None else _printable(ctype[:200])
        if handshakes:
            evidence.cert = peer_cert_info(handshakes[-1])
        if 300 <= resp.status < 400:
            evidence.location = _printable(resp.headers.get("Location", "")[:500])
            return FetchResult("redirect", evidence)
        if resp.status != 200:
            return FetchResult("http_status", evidence)
        body = await _read_bounded(resp.content, received)
        if len(body) > limits.MAX_POLICY_BYTES:
            return FetchResult("too_large", evidence, body=body[: limits.MAX_POLICY_BYTES])
        return FetchResult("ok", evidence, body=body)


async def _read_bounded(content: aiohttp.StreamReader, received: list[int]) -> bytes:
    """Read at most 64 KiB + 1 byte: enough to know the body is too large."""
    wanted = limits.MAX_POLICY_BYTES + 1
    chunks: list[bytes] = []
    size = 0
    while size < wanted:
        chunk = await content.read(wanted - size)
        if not chunk:
            break
        chunks.append(chunk)
        received.append(len(chunk))
        size += len(chunk)
    return b"".join(chunks)


async def _read_invalid_cert(
    host: str, addresses: list[str], port: int, deadline: float
) -> CertInfo | None:
    """A second, non-validating handshake, only to show what the bad certificate says."""
    loop = asyncio.get_running_loop()
    for address in addresses[:1]:
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + 3.0)):
                _, writer = await asyncio.open_connection(
                    address, port, ssl=inspecting_context(), server_hostname=host
                )
                ssl_object = writer.get_extra_info("ssl_object")
                if isinstance(ssl_object, ssl.SSLObject):
                    return cert_info(ssl_object.getpeercert(binary_form=True))
        except (OSError, TimeoutError, ssl.SSLError):
            return None
        finally:
            if writer is not None:
                writer.close()
    return None


def _printable(text: str) -> str:
    """Header text as shown to people: control characters escaped (no terminal tricks)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _reason(exc: BaseException) -> str:
    inner: Any = getattr(exc, "os_error", None) or exc
    return str(getattr(inner, "reason", None) or inner)[:160]


def _client_error_text(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without a complete answer"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the server broke off while sending the policy"
    if isinstance(exc, aiohttp.ClientResponseError):
        what = " ".join(str(exc.message).split())  # aiohttp's parser speaks in several lines
        return _printable(f"the server sent an invalid HTTP response ({what}"[:199] + ")")
    return _printable(f"the connection failed ({type(exc).__name__}: {exc})"[:200])
