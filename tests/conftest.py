"""Shared fixtures: the testbed of real servers, started once per session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot.checker.settings import Settings
from bot.testbed.bed import Testbed
from bot.testbed.scenarios import SCENARIOS

# Property tests: no wall-clock deadline (a busy 2-core CI machine is not a bug), and
# in CI the same examples every run, so a red build is reproducible.
hypothesis_settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def testbed() -> AsyncIterator[Testbed]:
    """DNS, HTTPS and SMTP servers on 127.77.0.0/16 playing the whole scenario catalogue."""
    async with Testbed(SCENARIOS) as bed:
        yield bed


@pytest.fixture
def settings(testbed: Testbed) -> Settings:
    """Settings pointing a check at the testbed (private access on, testbed CA, ports)."""
    return testbed.settings()
