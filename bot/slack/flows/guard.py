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

RESTARTED = "I was restarted before I could finish — please ask again."
RESTART_NOTICE_TIMEOUT = 5.0  # seconds a shutdown notice may take


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
        request_log(
            services.logger, kind=kind, name=name, team=team, user=user, metrics=services.metrics
        ) as record,
    ):
        try:
            await work(record)
        except asyncio.CancelledError:
            record.fail("cancelled")
            if reply is not None and services.tracker.cancelling:
                await _restarted(services, reply)
            raise
        except Exception as exc:
            services.logger.exception("listener failed kind=%s name=%s", kind, name)
            record.fail("error", exc)
            await _apologise(services, ack, reply, ack_carries_message)
        finally:
            if ack is not None and ack.response is None:
                await ack()


async def _restarted(services: Services, reply: Reply) -> None:
    """Best effort, at shutdown: tell the person their request was cut off.

    The notice runs as a task of its own (shielded from the cancellation that
    ended the work) and gets at most RESTART_NOTICE_TIMEOUT seconds.
    """

    async def tell() -> None:
        await reply(build_error_message(RESTARTED))

    notice = asyncio.create_task(tell(), name="mtasts-restarted")
    done, _ = await asyncio.wait({notice}, timeout=RESTART_NOTICE_TIMEOUT)
    if notice not in done:
        notice.cancel()
        services.logger.warning("shutdown: could not tell the person in time")
    elif (exc := notice.exception()) is not None:
        services.logger.warning("shutdown: could not tell the person error=%s", type(exc).__name__)


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
