"""`Testbed`: DNS, HTTPS and SMTP servers on loopback playing a set of scenarios.

    async with Testbed(SCENARIOS) as bed:
        report = await check("good.example", bed.settings_for(BY_DOMAIN["good.example"]))

Each scenario host gets its own address in 127.77.0.0/16; all HTTPS servers
share one port and all SMTP servers another. Hosts of `shared` scenarios
(benchmarks, large MX sets) resolve to one shared HTTPS server and one shared
SMTP server per SMTP behaviour, which pick certificates by SNI. Nothing listens
outside loopback; everything started is stopped on exit.

The servers run on an event loop of their own, on a thread of their own, as
real servers would: their answers never wait behind the checks under test, in
whatever loop the caller runs them. The methods stay the caller's to await
(`start`, `add`, `stop`); counters (`accepted`, the servers' own) are plain
reads, and zone edits (`bed.zone.add`, `replace`, `remove`) are thread-safe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, TypeVar

from bot.checker.settings import Nameserver, Settings
from bot.testbed.behaviour import CertKind, HttpBehaviour, Rr, Smtp
from bot.testbed.dns import DnsServer, Zone
from bot.testbed.https import AbortServer, HttpsServer
from bot.testbed.pki import Pki, sni_context
from bot.testbed.rawsmtp import old_tls_context, weak_cipher_context
from bot.testbed.scenario import Scenario
from bot.testbed.smtp import SmtpServer

DNS_ADDRESS = "127.77.0.1"
SHARED_HTTPS_ADDRESS = "127.77.0.2"
SHARED_SMTP_ADDRESS = "127.77.0.3"
# A check's budget in the testbed: the product's default. Everything is local and ends
# long before on a quiet machine; the budget is only a ceiling, with room for a busy one
# (scenarios that wait for a step to be cut off set a short budget of their own).
DEFAULT_TIMEOUT = 10.0
_START_ATTEMPTS = 5
T = TypeVar("T")


class ServerThread:
    """An event loop running on a daemon thread of its own, for servers."""

    def __init__(self, name: str = "mtasts-testbed") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the servers' loop; the caller's loop awaits it."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def close(self) -> None:
        """Stop the loop and wait for its thread (on a worker thread: no blocking)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join)
        self.loop.close()


class Testbed:
    """Real servers for `scenarios`; use as an async context manager."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        scenarios: Iterable[Scenario] = (),
        *,
        delay: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
        threaded: bool = True,
    ) -> None:
        self.threaded = threaded  # False: the servers share the caller's event loop
        self._thread: ServerThread | None = None
        self.scenarios: dict[str, Scenario] = {}
        self.delay = delay  # added to every DNS answer
        self.timeout = timeout
        self.pki = Pki()
        self.zone = Zone()
        self.dns = DnsServer(self.zone, DNS_ADDRESS, delay=delay)
        self.addresses: dict[str, str] = {}  # host name -> its loopback address
        self._http: dict[str, HttpBehaviour] = {}  # policy host -> behaviour
        self._https_certs: dict[str, CertKind] = {}
        self._smtp_certs: dict[str, CertKind] = {}
        self._host_at: dict[str, str] = {}  # address -> host (requests without Host)
        self._records: dict[str, list[Rr]] = {}  # domain -> the DNS records its scenario added
        self._https_listening: set[str] = set()  # addresses the HTTPS server listens on
        self._shared_smtp: dict[Smtp, str] = {}  # behaviour -> its shared server's address
        self._next = 0
        self.https = HttpsServer(
            sni_context(self.pki, "testbed.invalid", "valid", self._https_certs.get),
            self._http.get,
            self._host_at.get,
        )
        self._smtp: list[SmtpServer] = []
        self._abort = AbortServer()
        self.https_port = 0
        self.smtp_port = 0
        self._pending = list(scenarios)
        self._started = False

    # -- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> Testbed:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _on_servers(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` where the servers live: their own thread's loop, else this one."""
        if self._thread is None:
            return await coro
        return await self._thread.run(coro)

    async def start(self) -> None:
        """Start the servers (on their own thread and loop unless `threaded=False`)."""
        if self.threaded and self._thread is None:
            self._thread = ServerThread()
        try:
            await self._on_servers(self._start())
        except BaseException:
            await self._close_thread()
            raise

    async def _start(self) -> None:
        """Start DNS, the shared servers, then every scenario's servers.

        The HTTPS and SMTP ports are picked on the shared addresses and reused on
        every host address; if one is taken there (another testbed on this machine),
        everything is stopped and started again on new ports.
        """
        await self.dns.start()
        pending, self._pending = self._pending, []
        for attempt in range(_START_ATTEMPTS):
            try:
                await self._start_shared()
                self._started = True
                await self._add_all(pending)
                return
            except OSError:
                await self._stop_servers()
                self._reset()
                if attempt == _START_ATTEMPTS - 1:
                    raise

    def _reset(self) -> None:
        """Forget every scenario and server (in place: servers hold these maps)."""
        self._started = False
        self.https = HttpsServer(self.https.ssl_context, self._http.get, self._host_at.get)
        self._abort = AbortServer()
        self.https_port = self.smtp_port = 0
        self.scenarios.clear()
        self.addresses.clear()
        for m in (self._http, self._https_certs, self._smtp_certs, self._host_at, self._records):
            m.clear()
        self._https_listening.clear()
        self._shared_smtp.clear()
        self._next = 0
        self.zone.clear()

    async def _start_shared(self) -> None:
        self.https_port = await self.https.listen([SHARED_HTTPS_ADDRESS])
        shared = SmtpServer(
            Smtp(),
            "shared-mx.testbed.invalid",
            sni_context(self.pki, "shared-mx.testbed.invalid", "valid", self._smtp_certs.get),
        )
        self._smtp.append(shared)
        self.smtp_port = await shared.listen([SHARED_SMTP_ADDRESS], 0)

    async def _stop_servers(self) -> None:
        await self.https.stop()
        await self._abort.stop()
        for s in self._smtp:
            await s.stop()
        self._smtp.clear()

    async def stop(self) -> None:
        try:
            await self._on_servers(self._stop())
        finally:
            await self._close_thread()
            self.pki.close()

    async def _stop(self) -> None:
        await self._stop_servers()
        await self.dns.stop()

    async def _close_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await thread.close()

    # -- scenarios -------------------------------------------------------------

    async def add(self, *scenarios: Scenario) -> None:
        """Serve more scenarios (works before and after start; cheap for shared ones)."""
        if not self._started:
            self._pending.extend(scenarios)
            return
        await self._on_servers(self._add_all(scenarios))

    async def _add_all(self, scenarios: Iterable[Scenario]) -> None:
        https_addrs: list[str] = []
        for sc in scenarios:
            if sc.domain in self.scenarios:
                raise ValueError(f"scenario {sc.domain} is already served")
            self.scenarios[sc.domain] = sc
            https_addrs += await self._add(sc)
        await self._listen_https(https_addrs)

    async def change(self, scenario: Scenario) -> None:
        """Serve `scenario` in place of the served one with the same domain, from now on.

        For tests that change a domain between checks: its DNS records and faults,
        its policy host's answer and certificate, its MX hosts (a new host gets its
        server; a known one keeps its server and takes the new certificate kind).
        """
        if scenario.domain not in self.scenarios:
            raise ValueError(f"scenario {scenario.domain} is not served")
        await self._on_servers(self._change(scenario))

    async def _change(self, scenario: Scenario) -> None:
        old = self.scenarios[scenario.domain]
        self.zone.remove_records(self._records.pop(scenario.domain, []))
        self.zone.remove_faults(old.faults)
        self.scenarios[scenario.domain] = scenario
        await self._listen_https(await self._add(scenario))

    async def _listen_https(self, addresses: list[str]) -> None:
        fresh = [a for a in dict.fromkeys(addresses) if a not in self._https_listening]
        await self.https.listen(fresh)
        self._https_listening.update(fresh)

    def scenario(self, domain: str) -> Scenario:
        return self.scenarios[domain]

    def _address(self, host: str, shared: str | None) -> str:
        if host in self.addresses:
            return self.addresses[host]
        if shared is not None:
            addr = shared
        else:
            n = self._next
            self._next += 1
            if n >= 250 * 254:
                raise RuntimeError("the testbed ran out of 127.77.x.y addresses")
            addr = f"127.77.{1 + n // 254}.{1 + n % 254}"
            self._host_at[addr] = host
        self.addresses[host] = addr
        return addr

    async def _add(self, sc: Scenario) -> list[str]:
        """Put a scenario into DNS and start its servers; returns new HTTPS addresses."""
        d = sc.domain
        rrs = [Rr(f"_mta-sts.{d}", "TXT", txt) for txt in sc.sts]
        rrs += [Rr(f"_smtp._tls.{d}", "TXT", txt) for txt in sc.tlsrpt]
        https_addrs: list[str] = []
        ph = sc.policy
        if ph.resolvable:
            default = ph.cert == "valid" and ph.listening and not ph.tls_abort
            addr = self._address(
                sc.policy_host, SHARED_HTTPS_ADDRESS if sc.shared and default else None
            )
            rrs.append(Rr(sc.policy_host, "A", addr))
            self._http[sc.policy_host] = ph.http
            self._https_certs[sc.policy_host] = ph.cert
            if ph.tls_abort and addr != SHARED_HTTPS_ADDRESS:
                await self._abort.listen([addr], self.https_port)
            elif ph.listening and addr != SHARED_HTTPS_ADDRESS:
                https_addrs.append(addr)
                self.pki.context(sc.policy_host, ph.cert)  # made now, not mid-handshake
        for mx in sc.mx:
            if mx.published:
                target = "." if mx.host == "." else mx.host
                rrs.append(Rr(d, "MX", f"{mx.preference} {target}"))
            if mx.host == "." or not mx.resolvable:
                continue
            fresh = mx.host not in self.addresses
            shared_at = await self._shared_smtp_for(mx.smtp) if sc.shared else None
            addr = self._address(mx.host, shared_at)
            rrs.append(Rr(mx.host, "A", addr))
            self._smtp_certs[mx.host] = mx.smtp.cert
            if fresh and shared_at is None:
                await self._start_smtp(mx.host, mx.smtp, addr)
        rrs += sc.records
        self._records[d] = rrs
        for rr in sc.records:
            # An MX name that is a CNAME to a scenario's SMTP host: that server's
            # certificate names the alias too (as a provider's certificate would).
            target = str(rr.value).lower().rstrip(".")
            if rr.type == "CNAME" and target in self._smtp_certs:
                self._smtp_certs.setdefault(rr.name.lower(), self._smtp_certs[target])
        self.zone.add(rrs)
        self.zone.add_faults(sc.faults)
        return https_addrs

    async def _shared_smtp_for(self, behaviour: Smtp) -> str | None:
        """The address of the shared SMTP server playing `behaviour` (started on first
        use), for the hosts of `shared` scenarios; None for kinds that are not shared.
        Hosts on one shared server get their own certificates by SNI."""
        if behaviour == Smtp():
            return SHARED_SMTP_ADDRESS
        if behaviour.kind not in ("starttls", "plain"):
            return None
        addr = self._shared_smtp.get(behaviour)
        if addr is None:
            addr = self._address(f"shared-mx-{len(self._shared_smtp) + 1}.testbed.invalid", None)
            self._shared_smtp[behaviour] = addr
            server = SmtpServer(
                behaviour,
                "shared-mx.testbed.invalid",
                sni_context(self.pki, "shared-mx.testbed.invalid", "valid", self._smtp_certs.get),
            )
            self._smtp.append(server)
            await server.listen([addr], self.smtp_port)
        return addr

    async def _start_smtp(self, host: str, behaviour: Smtp, addr: str) -> None:
        if behaviour.kind in ("old_tls", "old_tls_close"):
            ctx = old_tls_context(sni_context(self.pki, host, behaviour.cert, lambda _n: None))
        elif behaviour.kind == "weak_cipher":
            ctx = weak_cipher_context(sni_context(self.pki, host, behaviour.cert, lambda _n: None))
        else:
            ctx = sni_context(self.pki, host, behaviour.cert, self._smtp_certs.get)
        server = SmtpServer(behaviour, host, ctx)
        self._smtp.append(server)
        await server.listen([addr], self.smtp_port)

    def accepted(self, host: str) -> int:
        """TCP connections accepted so far on `host`'s address by the servers that count
        them at accept time (SMTP servers, and policy hosts with `tls_abort`)."""
        addr = self.addresses.get(host)
        if addr is None:
            return 0
        counts = [self._abort.accepted] + [s.accepted for s in self._smtp]
        return sum(c.get(addr, 0) for c in counts)

    # -- what the checker needs ------------------------------------------------

    @property
    def ca_file(self) -> str:
        return self.pki.ca_file

    @property
    def dns_address(self) -> Nameserver:
        return Nameserver(self.dns.host, self.dns.port)

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing a check at this testbed (private access on), with overrides."""
        base = Settings(
            nameservers=(self.dns_address,),
            ca_file=self.ca_file,
            allow_private=True,
            timeout=self.timeout,
            https_port=self.https_port,
            smtp_port=self.smtp_port,
        )
        return dataclasses.replace(base, **overrides)

    def settings_for(self, scenario: Scenario | str, **overrides: Any) -> Settings:
        """`settings()` with the scenario's own overrides (e.g. a short timeout)."""
        sc = self.scenarios[scenario] if isinstance(scenario, str) else scenario
        return self.settings(**{**sc.overrides(), **overrides})
