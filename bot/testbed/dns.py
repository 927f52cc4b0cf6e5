"""A small recursive-resolver stand-in: asyncio UDP + TCP, dnslib only to parse and pack.

It answers from a `Zone` (A, AAAA, TXT, MX, CNAME), follows CNAME chains it
knows (bounded, so loops end), says NXDOMAIN for names that do not exist and
NOERROR/no data for names that exist without the type asked. Per-name faults:
SERVFAIL, REFUSED, drop (no answer), lose_first (the first query of a name and
type is lost, retransmissions are answered), lose_retries (only the first query
is answered), truncate (TC over UDP, full over TCP), and
delays (global plus per name).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
import threading
from collections import defaultdict
from collections.abc import Coroutine, Iterable

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord

from bot.testbed.behaviour import DnsFault, Rr

MAX_CHAIN = 16  # CNAMEs followed in one answer


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


class Zone:
    """Every name the testbed serves, with its records and faults.

    The DNS server reads it on the testbed's thread while tests edit it on theirs:
    edits go through the methods here, which hold `lock` (as the server does while
    it answers), so an answer sees a zone before or after an edit, never halfway.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, list[Rr]]] = defaultdict(lambda: defaultdict(list))
        self.existing: set[str] = set()  # names with records, and their ancestors
        self.faults: dict[str, list[DnsFault]] = defaultdict(list)
        self.seen: dict[tuple[str, str], int] = {}  # (name, type) -> queries received

    def add(self, rrs: Iterable[Rr]) -> None:
        with self.lock:
            for rr in rrs:
                name = _norm(rr.name)
                self.records[name][rr.type].append(rr)
                labels = name.split(".")
                for i in range(len(labels)):
                    self.existing.add(".".join(labels[i:]))

    def replace(self, rrs: Iterable[Rr]) -> None:
        """Put `rrs` in place of the records of each (name, type) among them."""
        rrs = list(rrs)
        with self.lock:
            for rr in rrs:
                self.records.get(_norm(rr.name), {}).pop(rr.type, None)
            self.add(rrs)

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Drop `name`'s records of `rtype` (all of them when None); the name stays known
        to exist (NOERROR, no data) as long as other records or names below it do."""
        with self.lock:
            node = self.records.get(_norm(name))
            if node is None:
                return
            if rtype is None:
                node.clear()
            else:
                node.pop(rtype, None)

    def add_faults(self, faults: Iterable[DnsFault]) -> None:
        with self.lock:
            for fault in faults:
                self.faults[_norm(fault.name)].append(fault)

    def clear(self) -> None:
        with self.lock:
            self.records.clear()
            self.existing.clear()
            self.faults.clear()

    def remove_records(self, rrs: Iterable[Rr]) -> None:
        """Take these very records out again (each once; names stay known: NODATA)."""
        with self.lock:
            for rr in rrs:
                records = self.records.get(_norm(rr.name), {}).get(rr.type, [])
                if rr in records:
                    records.remove(rr)

    def remove_faults(self, faults: Iterable[DnsFault]) -> None:
        with self.lock:
            for fault in faults:
                faults_here = self.faults.get(_norm(fault.name), [])
                if fault in faults_here:
                    faults_here.remove(fault)

    def fault(self, name: str, qtype: str) -> tuple[str | None, float]:
        """(fault kind or None, delay) for a query; counts the query."""
        kind: str | None = None
        delay = 0.0
        with self.lock:
            seen = self.seen[name, qtype] = self.seen.get((name, qtype), 0) + 1
            for f in self.faults.get(name, ()):
                if f.qtypes and qtype not in f.qtypes:
                    continue
                if f.kind == "lose_first":
                    kind = "drop" if seen == 1 else kind
                elif f.kind == "lose_retries":
                    kind = "drop" if seen > 1 else kind
                else:
                    kind = f.kind or kind
                delay = max(delay, f.delay)
        return kind, delay


def _rdata(rr: Rr) -> object:
    if rr.type == "A":
        return A(str(rr.value))
    if rr.type == "AAAA":  # exploded: dnslib cannot read "::ffff:127.0.0.1"
        return AAAA(ipaddress.IPv6Address(str(rr.value)).exploded)
    if rr.type == "CNAME":
        return CNAME(str(rr.value))
    if rr.type == "MX":
        pref, host = str(rr.value).split(None, 1)
        return MX(host, int(pref))
    strings = (rr.value,) if isinstance(rr.value, str) else rr.value
    return TXT([s.encode() for s in strings])


class DnsServer:
    """UDP and TCP on one loopback address and port, answering from `zone`."""

    def __init__(self, zone: Zone, host: str, *, delay: float = 0.0) -> None:
        self.zone = zone
        self.host = host
        self.port = 0
        self.delay = delay
        self.queries = 0  # answered or not, for tests
        self.truncated = 0  # UDP answers cut to TC because they were too large
        self.tcp_queries: dict[str, int] = {}  # name -> queries of it that came over TCP
        self._udp_sock: socket.socket | None = None
        self._tcp: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> None:
        for _ in range(20):
            sock = _udp_socket(self.host, port)
            udp_port = int(sock.getsockname()[1])
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, udp_port)
            except OSError:
                sock.close()
                if port:
                    raise
                continue
            self._udp_sock = sock
            self.port = udp_port
            asyncio.get_running_loop().add_reader(sock.fileno(), self._read_udp)
            return
        raise OSError("no free port for the testbed DNS server")

    def _read_udp(self) -> None:
        """Drain every waiting datagram (asyncio reads one per wake-up, and bursts of
        queries from many concurrent checks would overflow the socket buffer)."""
        sock = self._udp_sock
        assert sock is not None
        while True:
            try:
                data, addr = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self._spawn(self._reply_udp(data, addr))

    async def _reply_udp(self, data: bytes, addr: tuple[str, int]) -> None:
        out = await self.answer(data, tcp=False)
        if out is not None and self._udp_sock is not None:
            with contextlib.suppress(OSError):
                self._udp_sock.sendto(out, addr)

    async def stop(self) -> None:
        if self._udp_sock is not None:
            asyncio.get_running_loop().remove_reader(self._udp_sock.fileno())
            self._udp_sock.close()
            self._udp_sock = None
        if self._tcp is not None:
            self._tcp.close()
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._tcp is not None:
            await self._tcp.wait_closed()

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, data: bytes, *, tcp: bool) -> bytes | None:
        """The reply to one query message, or None to drop it."""
        self.queries += 1
        try:
            request = DNSRecord.parse(data)
        except Exception:  # malformed query: no answer, like many resolvers
            return None
        reply = request.reply()
        reply.header.ra = 1
        if not request.questions:
            reply.header.rcode = RCODE.FORMERR
            return bytes(reply.pack())
        q = request.q
        qname = _norm(str(q.qname))
        qtype = QTYPE.get(q.qtype, str(q.qtype))
        kind, delay = self.zone.fault(qname, qtype)
        if self.delay + delay > 0:
            await asyncio.sleep(self.delay + delay)
        if kind == "drop":
            return None
        if kind == "servfail":
            reply.header.rcode = RCODE.SERVFAIL
            return bytes(reply.pack())
        if kind == "refused":
            reply.header.rcode = RCODE.REFUSED
            return bytes(reply.pack())
        if kind == "truncate" and not tcp:
            reply.header.tc = 1
            return bytes(reply.pack())
        try:
            with self.zone.lock:
                self._resolve(reply, qname, qtype)
            out = bytes(reply.pack())
        except Exception:  # a record dnslib cannot encode: fail like a broken server
            failed = request.reply()
            failed.header.rcode = RCODE.SERVFAIL
            return bytes(failed.pack())
        if not tcp and len(out) > _udp_limit(request):
            # Too big for the client's UDP buffer: TC and no records, as servers do.
            small = request.reply()
            small.header.ra = 1
            small.header.tc = 1
            small.header.rcode = reply.header.rcode
            self.truncated += 1
            return bytes(small.pack())
        return out

    def _resolve(self, reply: DNSRecord, qname: str, qtype: str) -> None:
        name = qname
        for _ in range(MAX_CHAIN):
            node = self.zone.records.get(name)
            if node is None:
                if name not in self.zone.existing:
                    reply.header.rcode = RCODE.NXDOMAIN
                return
            if qtype in node or (qtype == "ANY" and node):
                types = list(node) if qtype == "ANY" else [qtype]
                for t in types:
                    for rr in node[t]:
                        reply.add_answer(
                            RR(name, getattr(QTYPE, rr.type), rdata=_rdata(rr), ttl=rr.ttl)
                        )
                return
            cnames = node.get("CNAME")
            if not cnames:
                return  # NOERROR, no data
            rr = cnames[0]
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=_rdata(rr), ttl=rr.ttl))
            name = _norm(str(rr.value))
        # chain too long (or a loop): what we have, like a resolver giving up
        reply.header.rcode = RCODE.SERVFAIL

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readexactly(2)
                (length,) = struct.unpack("!H", head)
                data = await reader.readexactly(length)
                with contextlib.suppress(Exception):
                    name = _norm(str(DNSRecord.parse(data).q.qname))
                    self.tcp_queries[name] = self.tcp_queries.get(name, 0) + 1
                out = await self.answer(data, tcp=True)
                if out is None:
                    continue
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


def _udp_limit(request: DNSRecord) -> int:
    """The largest UDP answer the client takes: its EDNS payload size, else 512."""
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return max(512, int(rr.rclass))
    return 512


def _udp_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):  # as large as the system allows
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.setblocking(False)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
