"""Any other block action (a link button, a future control): ack it and log it, nothing more.

Without this, Bolt would log the whole payload as an unhandled request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.slack.flows.action_body import read_click
from bot.slack.reqlog import log_request
from bot.slack.services import Services

Listener = Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]


def other_actions(services: Services) -> Listener:
    async def on_other_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        click = read_click(body)
        log_request(
            services.logger,
            metrics=services.metrics,
            kind="action",
            name=click.action_id[:64] or "?",
            team=click.team,
            user=click.user,
            outcome="ignored",
        )

    return on_other_action
