"""One DNS query to the configured resolvers: UDP with retransmission, TCP when truncated.

A slow answer is still an answer. The query goes out on one UDP socket and is
sent again, with the same ID on the same socket, when no answer came within
an interval that doubles (limits.DNS_RETRANSMIT_FIRST, then ×2, at most
limits.DNS_RETRANSMIT_MAX); the next resolver gets the retransmission when
there are several. Whichever answer arrives first is used, the original
query's included, until the caller's lifetime ends: a cold recursive
resolver taking seconds is waited for, and a lost packet is sent again.

A truncated answer is asked again over TCP. SERVFAIL, REFUSED and the like
end the query once every resolver said so (one resolver's failure sends the
query to the next at once). Everything comes back as a typed outcome.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode

from bot.checker import limits
from bot.checker.settings import Nameserver


@dataclass(frozen=True, slots=True)
class ServerError:
    """A resolver's refusal to answer: its rcode (or what went wrong) and its reply."""

    server: Nameserver
    what: str  # "SERVFAIL", "REFUSED", "TCP: connection refused", ...
    response: dns.message.Message | None = None


@dataclass(slots=True)
class Outcome:
    """An answer (`response`, NOERROR or NXDOMAIN), or why there is none."""

    response: dns.message.Message | None = None
    errors: list[ServerError] = field(default_factory=list)  # every resolver failed
    timed_out: bool = False  # no answer (nor failure from every resolver) in time


class _Datagrams(asyncio.DatagramProtocol):
    """Hands every datagram received to a queue."""

    def __init__(self, inbox: asyncio.Queue[tuple[bytes, tuple[str, int]]]) -> None:
        self.inbox = inbox

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.inbox.put_nowait((data, (str(addr[0]), int(addr[1]))))


def _same_address(a: str, b: str) -> bool:
    return a.lower().split("%")[0] == b.lower().split("%")[0]


async def query(
    request: dns.message.Message, servers: Sequence[Nameserver], *, lifetime: float
) -> Outcome:
    """Ask `servers` (in turn, as retransmissions go out) until an answer or `lifetime` s."""
    if not servers:
        return Outcome(errors=[ServerError(Nameserver("none"), "no DNS server is configured")])
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
    transports: dict[int, asyncio.DatagramTransport] = {}
    wire = request.to_wire()
    failed: dict[Nameserver, ServerError] = {}
    end = loop.time() + lifetime
    try:
        async with asyncio.timeout_at(end):
            for family in {_family(s) for s in servers}:
                # An ephemeral port, as every stub resolver uses; only answers from the
                # resolvers asked, to this query's ID and question, are read.
                any_address = "::" if family == socket.AF_INET6 else "0.0.0.0"  # noqa: S104
                try:
                    transport, _ = await loop.create_datagram_endpoint(
                        lambda: _Datagrams(inbox), local_addr=(any_address, 0), family=family
                    )
                except OSError as exc:  # e.g. no IPv6 on this host
                    why = f"cannot send to it from here ({exc.strerror or exc})"
                    for server in servers:
                        if _family(server) == family:
                            failed[server] = ServerError(server, why)
                    continue
                transports[family] = transport
            turn = 0
            interval = limits.DNS_RETRANSMIT_FIRST
            send_at = loop.time()
            while True:
                if len(failed) == len(servers):
                    return Outcome(errors=list(failed.values()))
                if loop.time() >= send_at:
                    server = _next_server(servers, failed, turn)
                    turn += 1
                    transports[_family(server)].sendto(wire, (server.ip, server.port))
                    send_at = loop.time() + interval
                    interval = min(interval * 2, limits.DNS_RETRANSMIT_MAX)
                try:
                    async with asyncio.timeout_at(send_at):
                        data, source = await inbox.get()
                except TimeoutError:
                    continue  # time to send again
                server_of = _server_at(servers, source)
                if server_of is None:
                    continue  # not from a resolver we asked: ignored
                try:
                    response = dns.message.from_wire(data)
                except dns.exception.DNSException:
                    continue  # garbage: keep waiting for a real answer
                if not request.is_response(response):
                    continue
                if response.flags & dns.flags.TC:
                    try:
                        response = await dns.asyncquery.tcp(
                            request, server_of.ip, timeout=end - loop.time(), port=server_of.port
                        )
                    except (OSError, dns.exception.DNSException, EOFError) as exc:
                        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                        failed[server_of] = ServerError(server_of, f"TCP: {why}")
                        send_at = loop.time()  # the next resolver, at once
                        continue
                rcode = response.rcode()
                if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return Outcome(response=response)
                failed[server_of] = ServerError(server_of, dns.rcode.to_text(rcode), response)
                send_at = loop.time()  # the next resolver, at once
    except TimeoutError:
        return Outcome(timed_out=True)
    finally:
        for transport in transports.values():
            transport.close()


def _family(server: Nameserver) -> int:
    return socket.AF_INET6 if ":" in server.ip else socket.AF_INET


def _next_server(
    servers: Sequence[Nameserver], failed: Mapping[Nameserver, ServerError], turn: int
) -> Nameserver:
    """The resolver to send to on this turn, skipping those that already failed."""
    usable = [s for s in servers if s not in failed]
    return usable[turn % len(usable)]


def _server_at(servers: Sequence[Nameserver], source: tuple[str, int]) -> Nameserver | None:
    for server in servers:
        if server.port == source[1] and _same_address(server.ip, source[0]):
            return server
    return None
