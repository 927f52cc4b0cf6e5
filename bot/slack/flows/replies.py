"""Sending answers and noticing when Slack refused them (respond() does not raise on 4xx).

A response_url post that Slack answers 429 or 5xx is tried once more (after
Retry-After, if short). When it still fails, or Slack refuses it (404: the
URL is used up or expired), the answer goes privately to the person instead
when the caller gives a `fallback`: an ephemeral message in the conversation,
else a direct message. Every failure is logged; nothing is lost silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.help_builder import build_private_copy
from bot.slack.reqlog import RequestRecord

# Where the channel only lets some people post, or only in (or outside) threads:
# announcement-only channels, read-only channels, thread-only channels.
RESTRICTED = frozenset(
    {
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
    }
)
# Where chat.postMessage / chat.postEphemeral cannot post for the bot.
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived"}) | RESTRICTED
RESPOND_RETRY_DELAY = 0.25  # seconds before retrying a 5xx from a response_url
MAX_RESPOND_RETRY_AFTER = 10.0  # a longer Retry-After: go to the fallback instead

Fallback = Callable[[dict[str, Any]], Awaitable[bool]]

PRIVATE_NOTE = "Slack didn't accept my answer where you asked for it, so here it is just for you."
NOT_IN_CHANNEL_NOTE = (
    "I can't post in that conversation (I'm not a member), so here is my answer just for you. "
    "Invite me there with `/invite @mtasts`, or use `/mtasts`, which works everywhere."
)
RESTRICTED_NOTE = (
    "That channel restricts who can post there (or how), so I couldn't answer in it: "
    "here is my answer just for you. Ask a channel manager to let me post there, "
    "or ask me here in a direct message."
)


def cannot_post_note(error: str | None) -> str:
    """Why the answer comes privately, and what would let the bot post (for `error`)."""
    return RESTRICTED_NOTE if error in RESTRICTED else NOT_IN_CHANNEL_NOTE


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            first = value[0] if isinstance(value, (list, tuple)) and value else value
            try:
                return max(0.0, float(first))
            except (TypeError, ValueError):
                return None
    return None


async def respond_checked(
    respond: AsyncRespond,
    message: dict[str, Any],
    *,
    logger: logging.Logger,
    record: RequestRecord,
    fallback: Fallback | None = None,
    **options: Any,
) -> bool:
    """Post through the response_url; retry a 429/5xx once, else log and use `fallback`.

    True when the message reached the person (through the URL or the fallback).
    """
    for attempt in (1, 2):
        try:
            resp = await respond(**message, **options)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # network trouble reaching the response_url
            logger.warning("response_url post failed error=%s", type(exc).__name__)
            record.fail("reply_failed", exc)
            break
        if resp.status_code == 200:
            return True
        body = (resp.body or "")[:100].replace("\n", " ")
        logger.warning("response_url refused status=%s body=%r", resp.status_code, body)
        record.fail("reply_failed", f"http_{resp.status_code}")
        if attempt == 2 or not (resp.status_code == 429 or resp.status_code >= 500):
            break
        wait = _retry_after(resp.headers or {}) if resp.status_code == 429 else None
        wait = RESPOND_RETRY_DELAY if wait is None else wait
        if wait > MAX_RESPOND_RETRY_AFTER:
            break
        await asyncio.sleep(wait)
    if fallback is None:
        return False
    return await fallback(message)


def private_fallback(
    client: AsyncWebClient,
    *,
    channel: str | None,
    user: str | None,
    logger: logging.Logger,
    record: RequestRecord,
    note: str = PRIVATE_NOTE,
) -> Fallback | None:
    """Deliver a message to `user` alone: ephemeral in `channel`, else in a direct message."""
    if not user:
        return None

    async def deliver(message: dict[str, Any]) -> bool:
        if channel:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, **message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "ephemeral fallback failed error=%s", slack_error(exc) or type(exc).__name__
                )
            else:
                record.note(fallback="ephemeral")
                return True
        return await direct_message(
            client, user=user, message=message, note=note, logger=logger, record=record
        )

    return deliver


async def tell_clicker(
    respond: AsyncRespond,
    message: dict[str, Any],
    *,
    client: AsyncWebClient,
    channel: str | None,
    user: str | None,
    logger: logging.Logger,
    record: RequestRecord,
) -> bool:
    """An ephemeral answer to the person who clicked (or typed the command), through the
    response_url; if Slack refuses it, privately another way (ephemeral in the channel,
    else a DM)."""
    fallback = private_fallback(client, channel=channel, user=user, logger=logger, record=record)
    return await respond_checked(
        respond,
        message,
        logger=logger,
        record=record,
        fallback=fallback,
        response_type="ephemeral",
        replace_original=False,
    )


async def direct_message(
    client: AsyncWebClient,
    *,
    user: str,
    message: dict[str, Any],
    note: str,
    logger: logging.Logger,
    record: RequestRecord,
) -> bool:
    """Post `message` with `note` in the bot's direct message with `user` (the App Home DM)."""
    try:
        await client.chat_postMessage(channel=user, **build_private_copy(message, note))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = slack_error(exc) or type(exc).__name__
        logger.warning("direct message fallback failed error=%s", error)
        record.note(fallback="failed")
        return False
    record.note(fallback="dm")
    return True


def slack_error(exc: BaseException) -> str | None:
    """The `error` code of a Web API failure (e.g. `not_in_channel`), else None."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return str(error) if error else "unknown_error"
    return None
