"""Without --allow-private the checker never connects to a non-global address: proved by
listeners on loopback that count accepted connections, and by the connection attempts
the process made (see `loopback_only`). A host with global and non-global addresses is
contacted on the global ones only."""

from __future__ import annotations

import asyncio

import pytest
from hostile_scenarios import BLOCKED, GLOBAL4, GLOBAL6, MIXED, Checked, Connects, Run

from bot.checker.addresses import allowed, is_global
from bot.checker.engine import check
from bot.checker.model import MxHost
from bot.checker.tls_step import probe_all
from bot.testbed.bed import Testbed

NOT_GLOBAL = [
    *BLOCKED.values(),
    "127.255.255.254",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.0.1",
    "100.127.255.254",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "224.0.0.1",  # multicast
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fdff:ffff::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:192.168.0.1",
    "::ffff:100.64.0.1",
    "::ffff:0.0.0.0",
    "::ffff:224.0.0.1",
    "::ffff:0:a00:1",  # IPv4-translated 10.0.0.1
    "::7f00:1",  # IPv4-compatible 127.0.0.1 (deprecated)
    "::808:808",  # IPv4-compatible, whatever it embeds
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "not-an-address",
    "",
]
GLOBAL = [GLOBAL4, GLOBAL6, "8.8.8.8", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert not is_global(address)
    assert allowed([address], allow_private=False) == []
    assert allowed([address], allow_private=True) == [address]


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_are_allowed(address: str) -> None:
    assert is_global(address)


def test_allowed_keeps_order_and_drops_only_non_global() -> None:
    assert allowed(list(MIXED), allow_private=False) == [GLOBAL4, GLOBAL6]


@pytest.mark.parametrize("name", sorted(BLOCKED))
def test_blocked_hosts_are_reported_and_never_contacted(
    hostile: dict[str, Checked], hostile_run: Run, name: str
) -> None:
    address = BLOCKED[name]
    c = hostile[f"h-blocked-{name}.example"]
    assert address in c.only("policy_host_blocked")
    assert address in c.only("mx_address_blocked")
    fixes = [f.fix or "" for f in c.report.findings]
    assert all("--allow-private" in f for f in fixes)
    assert c.report.fetch is None
    assert all(m.tls is None for m in c.report.mx)
    connects = hostile_run.connects
    assert address not in {a for a, _ in connects.attempts}


def test_the_whole_hostile_run_stayed_on_the_testbed(
    hostile_run: Run, hostile_bed: Testbed
) -> None:
    """Every connection of the run went to a testbed address, or to the two global
    addresses of h-mixed (refused by the guard before any packet left)."""
    connects = hostile_run.connects
    assert connects.attempts
    for address, _ in connects.attempts:
        assert address.startswith("127.77.") or address in (GLOBAL4, GLOBAL6), address


async def test_no_connection_without_private_access_and_some_with_it(
    hostile_bed: Testbed, no_internet: Connects
) -> None:
    """Listeners on 127.77.x.y count accepted connections. Private access off: the
    findings say blocked and nothing is accepted; on: the same hosts are contacted."""
    policy_host, mx_host = "mta-sts.h-counted.example", "mx1.h-counted-mx.example"
    before = hostile_bed.accepted(policy_host), hostile_bed.accepted(mx_host)
    ports = (hostile_bed.https_port, hostile_bed.smtp_port)

    off = hostile_bed.settings(allow_private=False)
    blocked, blocked_mx = await asyncio.gather(
        check("h-counted.example", off), check("h-counted-mx.example", off)
    )
    assert {f.code for f in blocked.findings} == {"policy_host_blocked", "mx_address_blocked"}
    assert {f.code for f in blocked_mx.findings} == {"policy_host_blocked", "mx_address_blocked"}
    assert (hostile_bed.accepted(policy_host), hostile_bed.accepted(mx_host)) == before
    assert [a for a, p in no_internet.attempts if p in ports] == []

    on = hostile_bed.settings(allow_private=True)
    contacted, healthy = await asyncio.gather(
        check("h-counted.example", on), check("h-counted-mx.example", on)
    )
    assert {f.code for f in contacted.findings} == {"policy_connect_failed"}
    assert healthy.status == "pass"
    assert hostile_bed.accepted(policy_host) > before[0]
    assert hostile_bed.accepted(mx_host) > before[1]


async def test_mixed_policy_host_is_contacted_on_its_global_addresses_only(
    hostile_bed: Testbed, no_internet: Connects
) -> None:
    report = await check("h-mixed.example", hostile_bed.settings_for("h-mixed.example"))
    assert report.fetch is not None
    assert report.fetch.addresses == [GLOBAL4, GLOBAL6]
    tried = set(no_internet.to_port(hostile_bed.https_port))
    assert tried == {GLOBAL4, GLOBAL6}


async def test_mixed_mx_is_probed_on_its_global_addresses_only(
    hostile_bed: Testbed, no_internet: Connects
) -> None:
    """The probing step of the engine, given an MX with every kind of address."""
    mx = MxHost(host="mx1.h-mixed.example", preference=10, addresses=list(MIXED))
    settings = hostile_bed.settings(allow_private=False, timeout=1.0)
    deadline = asyncio.get_running_loop().time() + settings.timeout
    await probe_all([mx], settings, deadline)
    assert mx.tls is not None
    assert [p.address for p in mx.tls.probes] == [GLOBAL4, GLOBAL6]
    assert set(no_internet.to_port(hostile_bed.smtp_port)) == {GLOBAL4, GLOBAL6}


def test_public_address_after_many_private_ones_is_kept(hostile: dict[str, Checked]) -> None:
    """Addresses are cut at MAX_ADDRESSES_PER_HOST with the contactable ones first, so a
    host with 8 private addresses and then a public one is not called blocked."""
    c = hostile["h-mixed-mx.example"]
    (mx,) = c.report.mx
    assert mx.addresses[0] == GLOBAL4
    assert "mx_address_blocked" not in c.codes
