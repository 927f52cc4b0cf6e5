"""`Testbed`: DNS, HTTPS and SMTP servers on loopback playing a set of scenarios.

    async with Testbed(SCENARIOS) as bed:
        report = await check("good.example", bed.settings_for(BY_DOMAIN["good.example"]))

Each scenario host gets its own address in 127.77.0.0/16; all HTTPS servers
share one port and all SMTP servers another. Hosts of `shared` scenarios
(benchmarks) resolve to one shared HTTPS and one shared SMTP server that pick
certificates by SNI. Nothing listens outside loopback; everything started is
stopped on exit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from bot.checker.settings import Nameserver, Settings
from bot.testbed.behaviour import CertKind, HttpBehaviour, Rr, Smtp
from bot.testbed.dns import DnsServer, Zone
from bot.testbed.https import AbortServer, HttpsServer
from bot.testbed.pki import Pki, sni_context
from bot.testbed.rawsmtp import old_tls_context
from bot.testbed.scenario import Scenario
from bot.testbed.smtp import SmtpServer

DNS_ADDRESS = "127.77.0.1"
SHARED_HTTPS_ADDRESS = "127.77.0.2"
SHARED_SMTP_ADDRESS = "127.77.0.3"
DEFAULT_TIMEOUT = 5.0  # a check's budget in the testbed: everything is local
_START_ATTEMPTS = 5


class Testbed:
    """Real servers for `scenarios`; use as an async context manager."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        scenarios: Iterable[Scenario] = (),
        *,
        delay: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
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

    async def start(self) -> None:
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
                await self.add(*pending)
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
        self._next = 0
        self.zone.records.clear()
        self.zone.existing.clear()
        self.zone.faults.clear()

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
        await self._stop_servers()
        await self.dns.stop()
        self.pki.close()

    # -- scenarios -------------------------------------------------------------

    async def add(self, *scenarios: Scenario) -> None:
        """Serve more scenarios (works before and after start; cheap for shared ones)."""
        if not self._started:
            self._pending.extend(scenarios)
            return
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
        old = self.scenarios.get(scenario.domain)
        if old is None:
            raise ValueError(f"scenario {scenario.domain} is not served")
        self.zone.remove(self._records.pop(scenario.domain, []))
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
            default = mx.smtp == Smtp()
            fresh = mx.host not in self.addresses
            addr = self._address(mx.host, SHARED_SMTP_ADDRESS if sc.shared and default else None)
            rrs.append(Rr(mx.host, "A", addr))
            self._smtp_certs[mx.host] = mx.smtp.cert
            if fresh and addr != SHARED_SMTP_ADDRESS:
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

    async def _start_smtp(self, host: str, behaviour: Smtp, addr: str) -> None:
        if behaviour.kind == "old_tls":
            ctx = old_tls_context(sni_context(self.pki, host, behaviour.cert, lambda _n: None))
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
