"""The testbed DNS server answers a real resolver (dnspython) as a recursive resolver would."""

from __future__ import annotations

import time

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.resolver
import pytest

from bot.testbed.bed import Testbed
from bot.testbed.behaviour import DnsFault, Rr
from bot.testbed.dns import DnsServer, Zone


def _resolver(bed: Testbed) -> dns.asyncresolver.Resolver:
    r = dns.asyncresolver.Resolver(configure=False)
    r.nameservers = [bed.dns.host]
    r.port = bed.dns.port
    r.lifetime = 2.0
    return r


async def test_txt_record_keeps_its_strings(testbed: Testbed) -> None:
    answer = await _resolver(testbed).resolve("_mta-sts.multi-string.example", "TXT")
    assert [r.strings for r in answer] == [(b"v=STSv1; ", b"id=2024", b"0101T000000")]


async def test_mx_records_and_null_mx(testbed: Testbed) -> None:
    r = _resolver(testbed)
    mx = await r.resolve("good.example", "MX")
    assert sorted((x.preference, x.exchange.to_text()) for x in mx) == [
        (10, "mx1.good.example."),
        (20, "mx2.good.example."),
    ]
    null = await r.resolve("null-mx.example", "MX")
    assert [(x.preference, x.exchange.to_text()) for x in null] == [(0, ".")]


async def test_address_of_mx_host_is_testbed_loopback(testbed: Testbed) -> None:
    a = await _resolver(testbed).resolve("mx1.good.example", "A")
    assert [x.address for x in a] == [testbed.addresses["mx1.good.example"]]
    assert a[0].address.startswith("127.77.")


async def test_cname_chain_is_followed_in_one_answer(testbed: Testbed) -> None:
    answer = await _resolver(testbed).resolve("_mta-sts.cname-chain.example", "TXT")
    assert answer.canonical_name.to_text() == "_mta-sts.hop2.example."
    assert [rrset.name.to_text() for rrset in answer.response.answer] == [
        "_mta-sts.cname-chain.example.",
        "sts.hop1.example.",
        "_mta-sts.hop2.example.",
    ]
    assert [r.strings for r in answer] == [(b"v=STSv1; id=chain2024",)]


async def test_servfail_and_refused_fail_the_lookup(testbed: Testbed) -> None:
    r = _resolver(testbed)
    for name in ("_mta-sts.record-servfail.example", "_mta-sts.record-refused.example"):
        with pytest.raises(dns.resolver.NoNameservers):
            await r.resolve(name, "TXT")


async def test_fault_limited_to_one_type(testbed: Testbed) -> None:
    q = dns.message.make_query("mx-servfail.example", "MX")
    resp = await dns.asyncquery.udp(q, testbed.dns.host, port=testbed.dns.port, timeout=2)
    assert resp.rcode() == dns.rcode.SERVFAIL
    q = dns.message.make_query("mx-servfail.example", "TXT")
    resp = await dns.asyncquery.udp(q, testbed.dns.host, port=testbed.dns.port, timeout=2)
    assert resp.rcode() == dns.rcode.NOERROR


async def test_truncated_over_udp_complete_over_tcp(testbed: Testbed) -> None:
    name = "_mta-sts.truncated.example"
    q = dns.message.make_query(name, "TXT")
    udp = await dns.asyncquery.udp(q, testbed.dns.host, port=testbed.dns.port, timeout=2)
    assert udp.flags & dns.flags.TC
    assert udp.answer == []
    tcp = await dns.asyncquery.tcp(q, testbed.dns.host, port=testbed.dns.port, timeout=2)
    assert not tcp.flags & dns.flags.TC
    assert len(tcp.answer) == 1
    answer = await _resolver(testbed).resolve(name, "TXT")  # the resolver retries over TCP
    assert [r.strings for r in answer] == [(b"v=STSv1; id=20240101T000000",)]


async def test_nxdomain_and_no_data(testbed: Testbed) -> None:
    r = _resolver(testbed)
    with pytest.raises(dns.resolver.NXDOMAIN):
        await r.resolve("nothing-here.example", "A")
    with pytest.raises(dns.resolver.NXDOMAIN):
        await r.resolve("mta-sts.no-policy-host.example", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        await r.resolve("good.example", "TXT")  # exists (MX), no TXT
    with pytest.raises(dns.resolver.NoAnswer):
        await r.resolve("_tls.good.example", "TXT")  # empty non-terminal
    with pytest.raises(dns.resolver.NoAnswer):
        await r.resolve("no-mail.example", "MX")  # exists below, nothing at the apex


async def test_drop_means_no_answer(testbed: Testbed) -> None:
    q = dns.message.make_query("_mta-sts.record-timeout.example", "TXT")
    with pytest.raises(dns.exception.Timeout):
        await dns.asyncquery.udp(q, testbed.dns.host, port=testbed.dns.port, timeout=0.2)


async def test_per_name_delay(testbed: Testbed) -> None:
    start = time.perf_counter()
    await _resolver(testbed).resolve("_mta-sts.slow-dns.example", "TXT")
    assert time.perf_counter() - start >= 0.2


async def test_cname_loop_ends_in_servfail_and_global_delay() -> None:
    zone = Zone()
    zone.add([Rr("a.loop.example", "CNAME", "b.loop.example")])
    zone.add([Rr("b.loop.example", "CNAME", "a.loop.example")])
    zone.add_faults([DnsFault("slow.loop.example", "servfail", delay=0.1)])
    server = DnsServer(zone, "127.77.0.250", delay=0.05)
    await server.start()
    try:
        q = dns.message.make_query("a.loop.example", "A")
        resp = await dns.asyncquery.udp(q, server.host, port=server.port, timeout=2)
        assert resp.rcode() == dns.rcode.SERVFAIL
        start = time.perf_counter()
        q = dns.message.make_query("slow.loop.example", "A")
        resp = await dns.asyncquery.tcp(q, server.host, port=server.port, timeout=2)
        assert resp.rcode() == dns.rcode.SERVFAIL
        assert time.perf_counter() - start >= 0.15
    finally:
        await server.stop()


async def test_lost_first_query_and_lost_retries() -> None:
    """`lose_first` drops the first query of a name and type, answering the next;
    `lose_retries` answers only the first. Both count what they received."""
    zone = Zone()
    zone.add([Rr("a.lossy.example", "A", "127.0.0.9"), Rr("b.lossy.example", "A", "127.0.0.9")])
    zone.add_faults(
        [DnsFault("a.lossy.example", "lose_first"), DnsFault("b.lossy.example", "lose_retries")]
    )
    server = DnsServer(zone, "127.77.0.250")
    await server.start()
    try:

        async def ask(name: str, wait: float) -> dns.message.Message:
            q = dns.message.make_query(name, "A")
            return await dns.asyncquery.udp(q, server.host, port=server.port, timeout=wait)

        with pytest.raises(dns.exception.Timeout):
            await ask("a.lossy.example", 0.2)
        assert (await ask("a.lossy.example", 5)).answer
        assert (await ask("b.lossy.example", 5)).answer
        with pytest.raises(dns.exception.Timeout):
            await ask("b.lossy.example", 0.2)
        assert zone.seen[("a.lossy.example", "A")] == 2
        assert zone.seen[("b.lossy.example", "A")] == 2
    finally:
        await server.stop()


async def test_zone_edits_are_served_at_once(testbed: Testbed) -> None:
    """Edits from the test's thread (`replace`, `remove`) are what the next answer says,
    though the DNS server runs on the testbed's own thread and loop."""
    r = _resolver(testbed)
    name = "edited.zone-edit.example"
    testbed.zone.add([Rr(name, "TXT", ("first",))])
    assert [b"".join(x.strings) for x in await r.resolve(name, "TXT")] == [b"first"]
    testbed.zone.replace([Rr(name, "TXT", ("second",))])
    assert [b"".join(x.strings) for x in await r.resolve(name, "TXT")] == [b"second"]
    testbed.zone.remove(name, "TXT")
    with pytest.raises(dns.resolver.NoAnswer):
        await r.resolve(name, "TXT")
