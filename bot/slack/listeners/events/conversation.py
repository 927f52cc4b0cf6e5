"""A domain asked for in a conversation: `@mtasts DOMAIN ...` in a channel
(`app_mention`) or a direct message to the bot (`message.im`), answered in the
thread of the message that asked.

Only a person's new message counts: edits and other subtypes, other bots and
the bot's own messages are ignored (Bolt drops most of the latter).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.action_body import enterprise_of
from bot.slack.flows.conversation import run_conversation, thread_of, wants_answer
from bot.slack.flows.guard import guarded
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

Listener = Callable[
    [dict[str, Any], dict[str, Any], AsyncSay, AsyncWebClient, AsyncBoltContext], Awaitable[None]
]


def conversation(services: Services, *, name: str, direct: bool) -> Listener:
    """`direct`: a DM (only `channel_type` "im" counts), else a mention in a channel."""

    async def on_message(
        body: dict[str, Any],
        event: dict[str, Any],
        say: AsyncSay,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        if direct and event.get("channel_type") != "im":
            return
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
                private_channel=direct,
                enterprise=enterprise_of(body),
            )

        async def reply(message: dict[str, Any]) -> None:
            await say(**message, thread_ts=thread_of(event))

        await guarded(
            services,
            work,
            kind="event",
            name=name,
            team=team,
            user=event.get("user"),
            reply=reply,
        )

    return on_message
