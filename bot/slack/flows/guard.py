"""Every listener's safety net: log once, never leak a traceback, always answer.

`guarded` runs a listener's work inside the request log and the tracker. If
the work raises, the person gets a short apology (through the ack while it is
still open, else through `reply`) and the traceback goes to the server log
only. The ack is always sent, so Slack never waits in vain (and Bolt 1.30's
error path never resets an ack we already sent, since nothing propagates).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.blocks.help_builder import build_error_message
from bot.slack.reqlog import RequestRecord, request_log
from bot.slack.services import Services

Reply = Callable[[dict[str, Any]], Awaitable[object]]
Work = Callable[[RequestRecord], Awaitable[None]]

APOLOGY = (
    "Something went wrong on my side while handling that, sorry. "
    "Please try again in a minute; if it keeps happening, tell whoever runs this app."
)


async def guarded(
    services: Services,
    work: Work,
    *,
    kind: str,
    name: str,
    team: str | None,
    user: str | None,
    ack: AsyncAck | None = None,
    reply: Reply | None = None,
    ack_carries_message: bool = False,
) -> None:
    """Run `work(record)`; on failure answer with an apology. Never raises (but cancellation)."""
    with (
        services.tracker.track(),
        request_log(services.logger, kind=kind, name=name, team=team, user=user) as record,
    ):
        try:
            await work(record)
        except asyncio.CancelledError:
            record.fail("cancelled")
            raise
        except Exception as exc:
            services.logger.exception("listener failed kind=%s name=%s", kind, name)
            record.fail("error", exc)
            await _apologise(services, ack, reply, ack_carries_message)
        finally:
            if ack is not None and ack.response is None:
                await ack()


async def _apologise(
    services: Services, ack: AsyncAck | None, reply: Reply | None, ack_carries_message: bool
) -> None:
    message = build_error_message(APOLOGY)
    try:
        if ack is not None and ack.response is None and ack_carries_message:
            await ack(**message, response_type="ephemeral")
            return
        if ack is not None and ack.response is None:
            await ack()
        if reply is not None:
            await reply(message)
    except Exception:
        services.logger.exception("could not tell the person about a failure")
