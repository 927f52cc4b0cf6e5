"""A listener that breaks still answers the person, without a traceback."""

from __future__ import annotations

import logging

import pytest
from slack_harness import running_app

from bot.checker.model import Report
from bot.slack.blocks.ids import ACTION_RECHECK
from bot.slack.cache import Cached


class BrokenCache:
    """A cache whose every call fails, as a bug or a lost Redis connection would."""

    async def peek(self, domain: str) -> Cached | None:
        raise ConnectionError("redis://:hunter2@cache:6379 is gone")

    async def is_free(self, domain: str, *, fresh: bool = False) -> bool:
        raise ConnectionError("redis://:hunter2@cache:6379 is gone")

    async def aclose(self) -> None:
        pass

    async def get_or_check(self, domain: str, *, fresh: bool = False) -> tuple[Report, None]:
        raise ConnectionError("redis://:hunter2@cache:6379 is gone")


async def test_command_failure_before_ack_is_answered_in_the_ack(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with running_app(cache=BrokenCache()) as h:
        sent, response_url = await h.command("example.com")
        await h.idle()
        assert sent.status == 200
        ack = sent.json()
        assert ack["response_type"] == "ephemeral"
        assert "went wrong" in ack["text"]
        assert "hunter2" not in sent.text
        assert "Traceback" not in sent.text
        assert h.standin.response_posts(response_url) == []
    lines = [r.getMessage() for r in caplog.records if r.name == "mtasts.slack"]
    assert any("outcome=error" in line and "error=ConnectionError" in line for line in lines)


async def test_mention_failure_is_answered_in_the_thread() -> None:
    async with running_app(cache=BrokenCache()) as h:
        await h.send(h.slack.mention("example.com", ts="1700000040.000100"))
        post = (await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage")))[0]
        assert post.args["thread_ts"] == "1700000040.000100"
        assert "went wrong" in post.args["text"]
        assert "hunter2" not in post.args["text"]


async def test_button_failure_is_answered_privately() -> None:
    async with running_app(cache=BrokenCache()) as h:
        sent, response_url, _ = await h.click(ACTION_RECHECK, "example.com")
        assert sent.status == 200  # acked, not Bolt's 500 or a reset ack
        post = (await h.wait_for(lambda calls: h.standin.response_posts(response_url)))[0]
        assert post.args["response_type"] == "ephemeral"
        assert post.args["replace_original"] is False
        assert "hunter2" not in str(post.args)
