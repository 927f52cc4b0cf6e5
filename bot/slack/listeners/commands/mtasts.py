"""`/mtasts DOMAIN [DOMAIN ...]`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.action_body import enterprise_of
from bot.slack.flows.command import run_command
from bot.slack.flows.guard import guarded
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

COMMAND = "/mtasts"


def mtasts_command(
    services: Services,
) -> Callable[[AsyncAck, dict[str, Any], AsyncRespond, AsyncWebClient], Awaitable[None]]:
    async def on_mtasts_command(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        team, user = body.get("team_id"), body.get("user_id")
        channel = body.get("channel_id")

        async def work(record: RequestRecord) -> None:
            text = str(body.get("text") or "")
            await run_command(
                services,
                record,
                text=text,
                team=team,
                user=user,
                ack=ack,
                respond=respond,
                client=client,
                channel=channel if isinstance(channel, str) else None,
                enterprise=enterprise_of(body),
            )

        async def reply(message: dict[str, Any]) -> None:
            await respond(**message, response_type="ephemeral", replace_original=False)

        await guarded(
            services,
            work,
            kind="command",
            name=str(body.get("command") or COMMAND),
            team=team,
            user=user,
            ack=ack,
            reply=reply,
            ack_carries_message=True,
        )

    return on_mtasts_command
