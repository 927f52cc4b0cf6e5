"""Shared fixtures: the testbed of real servers, started once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.checker.settings import Settings
from bot.testbed.bed import Testbed
from bot.testbed.scenarios import SCENARIOS


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def testbed() -> AsyncIterator[Testbed]:
    """DNS, HTTPS and SMTP servers on 127.77.0.0/16 playing the whole scenario catalogue."""
    async with Testbed(SCENARIOS) as bed:
        yield bed


@pytest.fixture
def settings(testbed: Testbed) -> Settings:
    """Settings pointing a check at the testbed (private access on, testbed CA, ports)."""
    return testbed.settings()
