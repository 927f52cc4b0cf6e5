"""The "Re-check" button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.action_body import read_click
from bot.slack.flows.guard import guarded
from bot.slack.flows.recheck import run_recheck
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

Listener = Callable[[AsyncAck, dict[str, Any], AsyncRespond, AsyncWebClient], Awaitable[None]]


def recheck(services: Services) -> Listener:
    async def on_recheck_button(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        click = read_click(body)

        async def work(record: RequestRecord) -> None:
            await run_recheck(services, record, click=click, respond=respond, client=client)

        async def reply(message: dict[str, Any]) -> None:
            await respond(**message, response_type="ephemeral", replace_original=False)

        await guarded(
            services,
            work,
            kind="action",
            name=click.action_id,
            team=click.team,
            user=click.user,
            reply=reply,
        )

    return on_recheck_button
