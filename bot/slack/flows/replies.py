"""Sending answers and noticing when Slack refused them (respond() does not raise on 4xx)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.slack.reqlog import RequestRecord


async def respond_checked(
    respond: AsyncRespond,
    message: dict[str, Any],
    *,
    logger: logging.Logger,
    record: RequestRecord,
    **options: Any,
) -> bool:
    """Post through the response_url; log and note a refusal; True when Slack took it."""
    try:
        resp = await respond(**message, **options)
    except Exception as exc:  # network trouble reaching the response_url
        logger.warning("response_url post failed error=%s", type(exc).__name__)
        record.fail("reply_failed", exc)
        return False
    if resp.status_code != 200:
        body = (resp.body or "")[:100].replace("\n", " ")
        logger.warning("response_url refused status=%s body=%r", resp.status_code, body)
        record.fail("reply_failed", f"http_{resp.status_code}")
        return False
    return True


def slack_error(exc: BaseException) -> str | None:
    """The `error` code of a Web API failure (e.g. `not_in_channel`), else None."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return str(error) if error else "unknown_error"
    return None
