"""Fetch the policy file as RFC 8461 §3.3 says a sender must.

HTTPS GET with SNI for `mta-sts.<domain>`, the certificate validated for that
exact name (DNS-ID only), no redirects followed, no HTTP cache, no compression
asked for, at most 64 KiB read, and the whole fetch bounded in time. The
connection goes only to addresses the engine already resolved (through the
configured resolver) and allowed. Outcomes come back as a `FetchResult`.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Literal

from bot import __version__
from bot.checker import http, limits
from bot.checker.certs import (
    cert_info,
    describe_verify_error,
    inspecting_context,
    peer_cert_info,
    verifying_context,
)
from bot.checker.model import CertInfo, PolicyFetch
from bot.checker.names import POLICY_PATH, policy_host, policy_url
from bot.checker.streams import open_stream, printable

FetchOutcome = Literal[
    "ok", "connect_failed", "tls_invalid", "redirect", "http_status", "too_large", "timeout"
]
STAGGER = 0.25  # seconds before the next address is tried too (Happy Eyeballs, RFC 8305)


@dataclass(slots=True)
class FetchResult:
    outcome: FetchOutcome
    evidence: PolicyFetch
    body: bytes | None = None  # read only with status 200 (cut at 64 KiB + 1 byte)
    error: str | None = None  # in words, for the finding's message


class _Failed(Exception):
    """Connecting or the TLS handshake failed: the outcome and the words for it."""

    def __init__(self, outcome: FetchOutcome, error: str) -> None:
        super().__init__(error)
        self.outcome: FetchOutcome = outcome
        self.error = error


async def _open(address: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """TCP to `address`, with a receive window that fits a policy (64 KiB are read)."""
    return await open_stream(
        address,
        port,
        receive_buffer=limits.POLICY_RECEIVE_BUFFER,
        limit=limits.MAX_HTTP_HEADER_BYTES,
    )


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
    received: list[int] = []  # sizes of the body pieces read so far
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(budget):
            reader, writer = await _connect(host, addresses, port, ca_file)
            ssl_object = writer.get_extra_info("ssl_object")
            if isinstance(ssl_object, ssl.SSLObject):
                evidence.cert = peer_cert_info(ssl_object)
            return await _get(reader, writer, evidence, host, port, received)
    except TimeoutError:
        if evidence.status is None:
            error = f"no HTTP response within {budget:.1f} s"
        else:
            error = (
                f"the server sent its headers (HTTP {evidence.status}) but only "
                f"{sum(received)} bytes of the body within {budget:.1f} s"
            )
        return FetchResult("timeout", evidence, error=error)
    except _Failed as failed:
        evidence.error = failed.error
        if failed.outcome == "tls_invalid":
            evidence.cert = await _read_invalid_cert(host, addresses, port, deadline)
        return FetchResult(failed.outcome, evidence, error=failed.error)
    except http.HttpError as exc:
        error = str(exc)
        if not isinstance(exc, http.Disconnected | http.BodyCut):
            error = printable(f"the server sent an invalid HTTP response ({error}"[:199] + ")")
        evidence.error = error
        return FetchResult("connect_failed", evidence, error=error)
    except (OSError, ssl.SSLError) as exc:  # the connection broke after the handshake
        error = printable(f"the connection failed ({type(exc).__name__}: {exc})"[:200])
        evidence.error = error
        return FetchResult("connect_failed", evidence, error=error)
    finally:
        if writer is not None:
            writer.transport.abort()  # Connection: close, and nothing more is read


async def _connect(
    host: str, addresses: list[str], port: int, ca_file: str | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """TCP to the first address that answers (the next one tried after STAGGER seconds
    too), then TLS with SNI `host`, validated as a compliant sender does."""
    Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
    failures: list[BaseException] = []
    pending: set[asyncio.Task[Streams]] = set()
    waiting = list(addresses)
    winner: Streams | None = None
    try:
        while winner is None and (waiting or pending):
            if waiting:
                pending.add(asyncio.ensure_future(_open(waiting.pop(0), port)))
            done, pending = await asyncio.wait(
                pending, timeout=STAGGER if waiting else None, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if (error := task.exception()) is not None:
                    failures.append(error)
                elif winner is None:
                    winner = task.result()
                else:
                    task.result()[1].transport.abort()
    finally:
        for task in pending:
            task.cancel()
    if winner is None:
        first = failures[0] if failures else None
        why = (first.strerror if isinstance(first, OSError) else None) or str(first or "no address")
        raise _Failed("connect_failed", f"could not connect to port {port} ({why})")
    reader, writer = winner
    try:
        await writer.start_tls(verifying_context(ca_file), server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        writer.transport.abort()
        raise _Failed("tls_invalid", describe_verify_error(exc, host)) from None
    except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError, asyncio.IncompleteReadError):
        writer.transport.abort()
        raise _Failed(
            "connect_failed",
            f"port {port} accepted the connection, then closed it during the TLS handshake",
        ) from None
    except ssl.SSLError as exc:
        writer.transport.abort()
        why = str(exc.reason or exc)[:160]
        raise _Failed("connect_failed", f"the TLS handshake failed ({why})") from None
    return reader, writer


async def _get(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    evidence: PolicyFetch,
    host: str,
    port: int,
    received: list[int],
) -> FetchResult:
    headers = {
        "User-Agent": limits.USER_AGENT.format(version=__version__),
        "Accept": "text/plain",
        "Accept-Encoding": "identity",
        "Cache-Control": "no-cache",
    }
    writer.write(http.request(POLICY_PATH, host if port == 443 else f"{host}:{port}", headers))
    await writer.drain()
    response = await http.read_head(reader)
    evidence.status = response.status
    ctype = response.header("content-type")
    evidence.content_type = None if ctype is None else printable(ctype[:200])
    if 300 <= response.status < 400:
        evidence.location = printable((response.header("location") or "")[:500])
        return FetchResult("redirect", evidence)
    if response.status != 200:
        return FetchResult("http_status", evidence)
    wanted = limits.MAX_POLICY_BYTES + 1  # enough to know the body is too large
    body = await http.read_body(reader, response, wanted, received.append)
    if len(body) > limits.MAX_POLICY_BYTES:
        return FetchResult("too_large", evidence, body=body[: limits.MAX_POLICY_BYTES])
    return FetchResult("ok", evidence, body=body)


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
