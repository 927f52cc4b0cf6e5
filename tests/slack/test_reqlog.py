"""The per-request log line: one line, key=value, nothing a user can split or forge."""

from __future__ import annotations

import logging

import pytest

from bot.slack.reqlog import format_fields, request_log


def test_one_line_with_the_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logger = logging.getLogger("mtasts.slack.test")
    with request_log(logger, kind="command", name="/mtasts", team="T1", user="U1") as record:
        record.domains = ["a.example", "b.example"]
        record.note(limited=["b.example"])
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("request kind=command name=/mtasts team=T1 user=U1")
    assert "domains=a.example,b.example" in line
    assert "outcome=ok" in line
    assert "duration_ms=" in line
    assert "limited=b.example" in line


def test_exceptions_are_logged_as_errors_and_re_raised(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("mtasts.slack.test")
    with (
        pytest.raises(KeyError),
        request_log(logger, kind="event", name="app_mention", team=None, user=None),
    ):
        raise KeyError("x")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "outcome=error" in record.getMessage()
    assert "error=KeyError" in record.getMessage()


def test_values_cannot_break_the_line_or_fake_fields() -> None:
    line = format_fields({"user": "U1\nrequest kind=forged outcome=ok", "team": "T 1"})
    assert "\n" not in line
    assert line.startswith('user="U1\\nrequest kind=forged outcome=ok"')
    assert 'team="T 1"' in line
