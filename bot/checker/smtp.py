"""Probe one MX address over SMTP: banner, EHLO, STARTTLS, a sender's TLS handshake.

Reads are bounded (line length, lines per reply) and the whole probe is
bounded in time; every outcome is returned as an `AddressProbe`, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.checker import limits
from bot.checker.certs import (
    OLD_PROTOCOLS,
    any_protocol_context,
    cert_info,
    describe_verify_error,
    inspecting_context,
    is_protocol_version_error,
    peer_cert_info,
    verifying_context,
)
from bot.checker.model import AddressProbe, CertInfo
from bot.checker.streams import open_stream, printable


class _SmtpError(Exception):
    """The server said or did something that ends the probe; the text says what, `kind`
    names it for the findings (AddressProbe.failure)."""

    def __init__(self, text: str, kind: str, lines: list[str] | None = None) -> None:
        super().__init__(text)
        self.kind = kind
        self.lines = lines or []  # a reply's lines read before it broke a bound


async def _reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One SMTP reply: its code and text lines (RFC 5321 §4.2), bounded."""
    lines: list[str] = []
    while len(lines) < limits.SMTP_MAX_REPLY_LINES:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _SmtpError("the server closed the connection", "closed") from None
            raw = exc.partial
        except asyncio.LimitOverrunError:
            raise _SmtpError(
                f"the server sent a reply line over {limits.SMTP_MAX_LINE} bytes",
                "too_long",
                lines,
            ) from None
        line = printable(raw.decode("utf-8", "replace").rstrip("\r\n"))
        code = line[:3]
        well_formed = (
            len(line) >= 3
            and code.isascii()
            and code.isdigit()
            and (len(line) == 3 or line[3] in " -")
        )
        if not well_formed:
            raise _SmtpError(
                f"the server sent something that is not SMTP: '{line[:80]}'", "not_smtp"
            )
        lines.append(line[4:])
        if len(line) == 3 or line[3] == " ":
            return int(code), lines
    raise _SmtpError(
        f"the server sent a reply of more than {limits.SMTP_MAX_REPLY_LINES} lines",
        "too_long",
        lines,
    )


async def _command(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str
) -> tuple[int, list[str]]:
    writer.write(line.encode("ascii") + b"\r\n")
    await writer.drain()
    return await _reply(reader)


async def _open(
    address: str, port: int, deadline: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    connect_by = min(deadline, loop.time() + limits.SMTP_CONNECT_TIMEOUT)
    async with asyncio.timeout_at(connect_by):
        # A TCP window that fits what a probe reads (an endless EHLO reply is cut early).
        return await open_stream(
            address, port, receive_buffer=limits.SMTP_RECEIVE_BUFFER, limit=limits.SMTP_MAX_LINE
        )


async def _to_tls(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, probe: AddressProbe
) -> bool:
    """Banner, EHLO, STARTTLS; True when the server is ready for the handshake."""
    code, lines = await _reply(reader)
    probe.banner = (lines[0] if lines else "")[:200]
    if code != 220:
        kind = "refused" if 500 <= code < 600 else "busy" if 400 <= code < 500 else "unexpected"
        raise _SmtpError(f"the server greeted with {code} {probe.banner}".strip(), kind)
    try:
        code, lines = await _command(reader, writer, f"EHLO {limits.SMTP_EHLO_NAME}")
    except _SmtpError as exc:
        if exc.kind != "too_long":
            raise
        # Broken on the server's side, like a reply senders cannot read: STARTTLS is
        # judged on the lines read before the bound.
        probe.starttls = _lists_starttls(exc.lines)
        probe.failure = "ehlo_too_long"
        probe.error = f"{exc} in answer to EHLO"
        return False
    if code != 250:
        raise _SmtpError(
            f"the server answered EHLO with {code} {' '.join(lines)[:120]}", "ehlo_refused"
        )
    if not _lists_starttls(lines):
        probe.starttls = False
        return False
    probe.starttls = True
    code, lines = await _command(reader, writer, "STARTTLS")
    if code != 220:
        raise _SmtpError(
            f"the server answered STARTTLS with {code} {' '.join(lines)[:120]}", "starttls_refused"
        )
    return True


def _lists_starttls(ehlo_lines: list[str]) -> bool:
    """Whether an EHLO reply's extension lines (after the first) include STARTTLS."""
    return any(line.strip().upper() == "STARTTLS" for line in ehlo_lines[1:])


async def _close(writer: asyncio.StreamWriter, deadline: float | None = None) -> None:
    """Close politely for at most 0.5 s, never past `deadline`; then just drop it."""
    loop = asyncio.get_running_loop()
    until = loop.time() + 0.5 if deadline is None else min(deadline, loop.time() + 0.5)
    if until <= loop.time():
        writer.transport.abort()
        return
    writer.close()
    try:
        async with asyncio.timeout_at(until):
            await writer.wait_closed()
    except (TimeoutError, OSError, ssl.SSLError):
        writer.transport.abort()
    except asyncio.CancelledError:  # the loop is ending (a CLI run is done): just drop it
        writer.transport.abort()
        raise


Closer = Callable[[Coroutine[Any, Any, None]], None]


async def probe_address(
    host: str,
    address: str,
    *,
    port: int,
    ca_file: str | None,
    deadline: float,
    close_later: Closer | None = None,
) -> AddressProbe:
    """Probe `address` as a sender delivering to MX `host` would, within `deadline`.

    The polite close (QUIT, TLS close_notify, FIN) tells nothing more, so with
    `close_later` the probe is returned at once and the close is handed to it (which
    runs it in the background); without, it is awaited here."""
    probe = AddressProbe(address=address, reachable=False)
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await _open(address, port, deadline)
    except TimeoutError:
        if loop.time() >= deadline:
            probe.timed_out = True
        probe.error = "the connection to port 25 timed out"
        return probe
    except OSError as exc:
        probe.error = f"could not connect to port 25 ({exc.strerror or exc})"
        return probe
    probe.reachable = True
    try:
        async with asyncio.timeout_at(deadline):
            if await _to_tls(reader, writer, probe):
                await _handshake(host, writer, probe, ca_file, deadline, address, port)
                if probe.cert_valid is False and probe.cert is None:
                    probe.cert = await _read_invalid_cert(host, address, port, deadline)
    except TimeoutError:
        probe.timed_out = True
        probe.error = _stalled_at(probe)
    except _SmtpError as exc:
        probe.error = str(exc)
        probe.failure = exc.kind
    except (OSError, EOFError) as exc:
        probe.error = f"the connection failed ({_ssl_reason(exc)})"
    finally:
        if close_later is None:
            await _close(writer, deadline)
        else:
            close_later(_close(writer, deadline))
    return probe


def _stalled_at(probe: AddressProbe) -> str:
    """Where a probe cut off by the deadline was waiting, in words."""
    if probe.banner is None:
        return "the server accepted the connection but sent no greeting"
    if probe.starttls:
        return "the server accepted STARTTLS but did not complete the TLS handshake"
    return "the server stopped answering during the SMTP dialogue"


async def _handshake(
    host: str,
    writer: asyncio.StreamWriter,
    probe: AddressProbe,
    ca_file: str | None,
    deadline: float,
    address: str,
    port: int,
) -> None:
    ctx = verifying_context(ca_file)
    # The handshake's own timeout lies past the deadline, so a stalled handshake is
    # cut off by the probe's deadline (a timeout), not reported as a TLS failure.
    timeout = max(0.1, deadline - asyncio.get_running_loop().time()) + 1.0
    try:
        await writer.start_tls(ctx, server_hostname=host, ssl_handshake_timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        probe.cert_valid = False
        probe.cert_error = describe_verify_error(exc, host)
        return
    except (ssl.SSLError, ConnectionError) as exc:
        await _explain_failed_handshake(exc, probe, host, address, port, deadline)
        return
    ssl_object = writer.get_extra_info("ssl_object")
    if isinstance(ssl_object, ssl.SSLObject):
        probe.version = ssl_object.version()
        probe.cert = peer_cert_info(ssl_object)
    probe.cert_valid = True
    with contextlib.suppress(OSError, RuntimeError):
        writer.write(b"QUIT\r\n")


async def _explain_failed_handshake(
    exc: BaseException, probe: AddressProbe, host: str, address: str, port: int, deadline: float
) -> None:
    """Say why a sender's handshake failed, after learning what the server does speak
    from a second handshake that allows old protocols and any cipher: servers that
    speak only TLS 1.0/1.1 often close the connection instead of sending an alert."""
    reason = _ssl_reason(exc)
    spoken = await _second_handshake(host, address, port, deadline, any_protocol_context())
    if spoken is not None and spoken.version in OLD_PROTOCOLS:
        probe.old_protocol = True
        probe.version = spoken.version
        probe.error = (
            f"the server speaks at most {OLD_PROTOCOLS[spoken.version]} "
            f"(a handshake allowing old protocols negotiated {spoken.version})"
        )
    elif spoken is not None:
        probe.error = (
            f"{reason}; only a handshake allowing weak ciphers completes, with "
            f"{spoken.version} and {spoken.cipher}, which senders' TLS libraries refuse "
            "by default"
        )
    elif is_protocol_version_error(exc):
        probe.old_protocol = True
        probe.error = "the server offers only protocols older than TLS 1.2"
    elif reason == _CLOSED:
        probe.error = f"{reason} during the TLS handshake"
    else:
        probe.error = f"the TLS handshake failed ({reason})"


@dataclass(frozen=True, slots=True)
class _Spoken:
    """What a second, non-validating handshake agreed on."""

    version: str | None
    cipher: str | None
    der: bytes | None  # the server's certificate


async def _second_handshake(
    host: str, address: str, port: int, deadline: float, ctx: ssl.SSLContext
) -> _Spoken | None:
    """A new connection, banner to STARTTLS, and a handshake with `ctx`; None if that
    fails too. Used only to learn facts the sender's own handshake could not give."""
    try:
        reader, writer = await _open(address, port, deadline)
    except (OSError, TimeoutError):
        return None
    try:
        async with asyncio.timeout_at(deadline):
            scratch = AddressProbe(address=address, reachable=True)
            if not await _to_tls(reader, writer, scratch):
                return None
            timeout = max(0.1, deadline - asyncio.get_running_loop().time())
            await writer.start_tls(ctx, server_hostname=host, ssl_handshake_timeout=timeout)
            ssl_object = writer.get_extra_info("ssl_object")
            if not isinstance(ssl_object, ssl.SSLObject):
                return None
            cipher = ssl_object.cipher()
            return _Spoken(
                version=ssl_object.version(),
                cipher=cipher[0] if cipher else None,
                der=ssl_object.getpeercert(binary_form=True),
            )
    except (OSError, TimeoutError, EOFError, _SmtpError, ssl.SSLError):
        return None
    finally:
        await _close(writer, deadline)


async def _read_invalid_cert(
    host: str, address: str, port: int, deadline: float
) -> CertInfo | None:
    """Open a second connection only to read an invalid certificate's details."""
    spoken = await _second_handshake(host, address, port, deadline, inspecting_context())
    return cert_info(spoken.der) if spoken is not None else None


_CLOSED = "the server closed the connection"


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ssl.SSLEOFError | EOFError):
        return _CLOSED
    reason = getattr(exc, "reason", None)
    return str(reason or exc or type(exc).__name__)[:160]
