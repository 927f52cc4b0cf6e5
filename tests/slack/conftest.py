"""Fixtures for the Slack app tests: the app served over HTTP against the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from slack_harness import Harness, running_app


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_app() as h:
        yield h
