"""The scenario catalogue: covers every finding code, consistent, and served as declared."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from bot.checker.findings import CODES
from bot.testbed.bed import Testbed
from bot.testbed.scenario import healthy_domain, status_for
from bot.testbed.scenarios import BY_DOMAIN, DEMO, SCENARIOS


def test_catalogue_covers_every_finding_code() -> None:
    covered = set().union(*(s.expect_codes for s in SCENARIOS))
    assert set(CODES) - covered == set()


def test_domains_unique_lowercase_reserved() -> None:
    domains = [s.domain for s in SCENARIOS]
    assert len(domains) == len(set(domains))
    for d in domains:
        assert d == d.lower()
        assert d.endswith(".example")


def test_expectations_are_consistent() -> None:
    for s in SCENARIOS:
        assert s.expect_codes <= CODES.keys(), s.domain
        assert s.expect_status == status_for(s.expect_codes, s.expect_mode), s.domain
        if not s.expect_codes:
            assert s.expect_status == "pass"
    assert BY_DOMAIN["good.example"].expect_codes == frozenset()
    assert BY_DOMAIN["testing-backup.example"].expect_status == "warn"
    assert BY_DOMAIN["backup-not-covered.example"].expect_status == "fail"
    assert BY_DOMAIN["mx-cert-none.example"].expect_status == "warn"  # mode_none; MX info


def test_tlsrpt_present_unless_tested() -> None:
    for s in SCENARIOS:
        if any(c.startswith("tlsrpt_") for c in s.expect_codes):
            continue
        assert len(s.tlsrpt) == 1, s.domain
        assert "".join(s.tlsrpt[0]).startswith("v=TLSRPTv1; rua=mailto:"), s.domain


def test_demo_samples() -> None:
    demo = {s.domain for s in DEMO}
    assert {"good.example", "dash-id.example", "typo-key.example"} <= demo
    assert "wildcard-short.example" in demo


async def test_every_host_on_testbed_loopback(testbed: Testbed) -> None:
    # Other tests may add their own domains to the shared session testbed.
    assert set(BY_DOMAIN) <= set(testbed.scenarios)
    net = ipaddress.ip_network("127.77.0.0/16")
    for host, addr in testbed.addresses.items():
        assert ipaddress.ip_address(addr) in net, host
    own = [d for d, sc in BY_DOMAIN.items() if not sc.shared]  # shared: on shared servers
    catalogue = {
        host: addr
        for host, addr in testbed.addresses.items()
        if any(host == d or host.endswith("." + d) for d in own)
    }
    assert catalogue
    assert len(set(catalogue.values())) == len(catalogue)  # one address each
    settings = testbed.settings_for("record-timeout.example")
    assert settings.timeout == 2.0
    assert settings.allow_private
    assert testbed.settings_for("private.example").allow_private is False
    assert settings.nameservers == (testbed.dns_address,)
    assert settings.https_port == testbed.https_port
    settings.validate()


async def test_healthy_domains_share_servers() -> None:
    async with Testbed() as bed:
        servers = len(bed._smtp)
        await bed.add(*(healthy_domain(f"d{i}.bench.example") for i in range(200)))
        assert len(bed._smtp) == servers  # no new SMTP servers
        assert len(set(bed.addresses.values())) == 2  # shared HTTPS + shared SMTP address
        assert len(bed.zone.records) >= 200 * 5


class _Collides(Testbed):
    """A testbed whose first choice of ports is taken on its first host address."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.attempts = 0
        self.blocker = socket.socket()

    async def _start_shared(self) -> None:
        await super()._start_shared()
        self.attempts += 1
        if self.attempts == 1:
            self.blocker.bind(("127.77.1.1", self.https_port))
            self.blocker.listen()


async def test_start_retries_when_a_port_is_taken_on_a_host_address() -> None:
    bed = _Collides([BY_DOMAIN["good.example"]])
    try:
        async with bed:
            assert bed.attempts == 2
            assert bed.addresses["mta-sts.good.example"] == "127.77.1.1"
            reader, writer = await asyncio.open_connection(
                "127.77.1.1",
                bed.https_port,
                ssl=bed.pki.client_context(),
                server_hostname="mta-sts.good.example",
            )
            writer.write(
                b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.good.example\r\n\r\n"
            )
            assert (await reader.readline()).startswith(b"HTTP/1.1 200")
            writer.close()
    finally:
        bed.blocker.close()


async def test_add_after_start_serves_new_hosts() -> None:
    from bot.testbed.scenario import make

    async with Testbed() as bed:
        await bed.add(make("late.example", "added after start"))
        addr = bed.addresses["mx1.late.example"]
        assert addr.startswith("127.77.1.")
        reader, writer = await asyncio.open_connection(addr, bed.smtp_port)
        assert (await reader.readline()).startswith(b"220 mx1.late.example ")
        writer.close()
        reader, writer = await asyncio.open_connection(
            bed.addresses["mta-sts.late.example"],
            bed.https_port,
            ssl=bed.pki.client_context(),
            server_hostname="mta-sts.late.example",
        )
        writer.write(b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.late.example\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 200 ")
        writer.close()
        assert "late.example" in bed.zone.records
