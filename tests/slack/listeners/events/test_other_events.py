"""Events without a job here are acked and ignored without dumping their payload."""

from __future__ import annotations

import logging

import pytest
from slack_harness import Harness, web_calls


async def test_other_event_is_acked_and_ignored(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mtasts.slack.bolt")
    sent = await harness.send(
        harness.slack.event({"type": "app_home_opened", "user": "U0CALLER", "tab": "home"})
    )
    assert sent.status == 200
    await harness.idle()
    assert web_calls(harness.standin.calls) == []
    assert not any(
        "Unhandled request" in r.getMessage() and r.levelno >= logging.WARNING
        for r in caplog.records
    )
