"""`@mtasts DOMAIN ...` in a channel: answered in the mention's thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.conversation import run_conversation, thread_of, wants_answer
from bot.slack.flows.guard import guarded
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

Listener = Callable[
    [dict[str, Any], dict[str, Any], AsyncSay, AsyncWebClient, AsyncBoltContext], Awaitable[None]
]


def app_mention(services: Services) -> Listener:
    async def on_app_mention(
        body: dict[str, Any],
        event: dict[str, Any],
        say: AsyncSay,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if not wants_answer(event, context.bot_user_id):
            return
        team = body.get("team_id")

        async def work(record: RequestRecord) -> None:
            await run_conversation(
                services,
                record,
                event=event,
                team=team,
                say=say,
                client=client,
                private_channel=False,
            )

        async def reply(message: dict[str, Any]) -> None:
            await say(**message, thread_ts=thread_of(event))

        await guarded(
            services,
            work,
            kind="event",
            name="app_mention",
            team=team,
            user=event.get("user"),
            reply=reply,
        )

    return on_app_mention
