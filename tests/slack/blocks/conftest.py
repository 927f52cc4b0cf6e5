"""Fixtures for the builder tests: a good, a hostile and a huge report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from slack_samples import good_report, hostile_report

from bot.checker.model import Report

# The alert builder tests build their reports with the watch tests' helpers.
_WATCH_TESTS = str(Path(__file__).resolve().parents[2] / "watch")
if _WATCH_TESTS not in sys.path:
    sys.path.append(_WATCH_TESTS)


@pytest.fixture
def good() -> Report:
    return good_report()


@pytest.fixture
def hostile() -> Report:
    return hostile_report()


@pytest.fixture
def huge() -> Report:
    return hostile_report(mx_count=60, findings_count=200, text_size=40)
