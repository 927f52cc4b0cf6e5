"""Unknown block actions are acked and logged in one line, with no Slack call."""

from __future__ import annotations

import logging

import pytest
from slack_harness import Harness, web_calls


async def test_unknown_action_is_acked_quietly(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sent, _, _ = await harness.click("open_docs_link", "example.com")
    assert sent.status == 200
    await harness.idle()
    assert web_calls(harness.standin.calls) == []
    assert harness.checker.calls == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("name=open_docs_link" in m and "outcome=ignored" in m for m in messages)
    # Bolt's "unhandled request" warning (which dumps the payload) never fires.
    assert not any("legacy-verification-token" in m for m in messages)
