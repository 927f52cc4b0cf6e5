"""The whole scenario catalogue checked once per session, for every test that reads it."""

from __future__ import annotations

import asyncio

import pytest_asyncio

from bot.checker.engine import check
from bot.checker.model import Report
from bot.testbed.bed import Testbed
from bot.testbed.scenario import Scenario
from bot.testbed.scenarios import SCENARIOS


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def catalogue_reports(testbed: Testbed) -> dict[str, Report]:
    """All scenarios checked once, a dozen at a time (as the CLI would).

    The scenarios with a deliberately short budget (tag "slow": they wait for a step
    to be cut off, or for answers that come late) run together afterwards, so the load
    of the others cannot eat into their budgets."""
    gate = asyncio.Semaphore(12)

    async def one(sc: Scenario) -> Report:
        async with gate:
            return await check(sc.domain, testbed.settings_for(sc))

    quick = [sc for sc in SCENARIOS if "slow" not in sc.tags]
    slow = [sc for sc in SCENARIOS if "slow" in sc.tags]
    results = await asyncio.gather(*(one(sc) for sc in quick))
    results += await asyncio.gather(*(check(sc.domain, testbed.settings_for(sc)) for sc in slow))
    return {r.domain: r for r in results}
