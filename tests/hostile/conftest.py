"""Hostile servers and bad input: a testbed of its own, playing servers that misbehave.

Every scenario of hostile_scenarios.py is checked once by the `hostile_run`
fixture (all at once, as the CLI checks many domains; those waiting on a stall
afterwards, together); the tests then hold each
report to what an operator must be told, and to the time budget. Tests that
count connections or bytes on one host use hosts no other test touches.

`no_internet` guards every test of this folder (and the shared run): a TCP
connection to anything but loopback is refused before a packet leaves, and
recorded, so tests can assert on the addresses the checker chose.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from hostile_scenarios import HOSTILE, SOLO, Checked, Connects, Run, loopback_only

from bot.checker.engine import check
from bot.testbed.bed import Testbed
from bot.testbed.scenario import Scenario


@pytest.fixture(autouse=True)
def no_internet() -> Iterator[Connects]:
    """Every test of this folder stays on loopback; the attempts are the test's to read."""
    with loopback_only() as connects:
        yield connects


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def hostile_bed() -> AsyncIterator[Testbed]:
    async with Testbed([*HOSTILE, *SOLO]) as bed:
        yield bed


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def hostile_run(hostile_bed: Testbed) -> Run:
    """Every hostile scenario checked once, on loopback only: all at once (as the CLI
    checks many domains), then those that wait for a stalled step to be cut off (tag
    "slow"), together, so that the load of the first batch does not eat into their
    short budgets (the servers answer from their own thread either way)."""

    async def one(sc: Scenario) -> Checked:
        settings = hostile_bed.settings_for(sc)
        started = time.monotonic()
        report = await check(sc.domain, settings)
        return Checked(report, time.monotonic() - started, settings.timeout)

    with loopback_only() as connects:
        results = await asyncio.gather(*(one(sc) for sc in HOSTILE if "slow" not in sc.tags))
        results += await asyncio.gather(*(one(sc) for sc in HOSTILE if "slow" in sc.tags))
    return Run({c.report.domain: c for c in results}, connects)


@pytest.fixture
def hostile(hostile_run: Run) -> dict[str, Checked]:
    return hostile_run.checked
