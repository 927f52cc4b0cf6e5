"""Fixtures for the builder tests: a good, a hostile and a huge report."""

from __future__ import annotations

import pytest
from slack_samples import good_report, hostile_report

from bot.checker.model import Report


@pytest.fixture
def good() -> Report:
    return good_report()


@pytest.fixture
def hostile() -> Report:
    return hostile_report()


@pytest.fixture
def huge() -> Report:
    return hostile_report(mx_count=60, findings_count=200, text_size=40)
