"""The "Policy file", "DNS records" and "MX & TLS" buttons: open a modal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.action_body import read_click
from bot.slack.flows.details import run_details
from bot.slack.flows.guard import guarded
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

Listener = Callable[[AsyncAck, dict[str, Any], AsyncWebClient, AsyncRespond], Awaitable[None]]


def show_details(services: Services) -> Listener:
    async def on_details_button(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()  # first: the trigger_id is good for 3 s from the click
        click = read_click(body)

        async def work(record: RequestRecord) -> None:
            await run_details(services, record, click=click, client=client, respond=respond)

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

    return on_details_button
