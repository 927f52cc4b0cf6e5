"""Hostile-input tests of the Slack app: reuse the app harness of tests/slack."""

from __future__ import annotations

import sys
from pathlib import Path

# slack_harness lives beside the other Slack app tests; make it importable when this
# folder runs on its own (pytest puts only this folder on sys.path then).
_SLACK_TESTS = str(Path(__file__).resolve().parent.parent / "slack")
if _SLACK_TESTS not in sys.path:
    sys.path.insert(0, _SLACK_TESTS)

from collections.abc import AsyncIterator  # noqa: E402

import pytest_asyncio  # noqa: E402
from slack_harness import Harness, running_app  # noqa: E402


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_app() as h:
        yield h
