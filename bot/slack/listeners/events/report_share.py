"""A TLS-RPT report shared with the bot: files (or pasted JSON) in a DM, or with a mention.

Registered before the conversation listeners with matchers, so a message that
shares files or pastes a report comes here and any other goes on as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.conversation import thread_of
from bot.slack.flows.guard import guarded
from bot.slack.flows.tlsrpt import is_report_share, run_report_share
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

Listener = Callable[
    [dict[str, Any], dict[str, Any], AsyncSay, AsyncWebClient, AsyncBoltContext], Awaitable[None]
]


async def _in_dm(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    return event.get("channel_type") == "im" and is_report_share(event, context.bot_user_id)


async def _in_mention(event: dict[str, Any], context: AsyncBoltContext) -> bool:
    return is_report_share(event, context.bot_user_id)


def register(app: AsyncApp, services: Services) -> None:
    app.event("message", matchers=[_in_dm])(report_share(services, name="report.im", direct=True))
    app.event("app_mention", matchers=[_in_mention])(
        report_share(services, name="report.mention", direct=False)
    )


def report_share(services: Services, *, name: str, direct: bool) -> Listener:
    async def on_report(
        body: dict[str, Any],
        event: dict[str, Any],
        say: AsyncSay,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        team = body.get("team_id")

        async def work(record: RequestRecord) -> None:
            await run_report_share(
                services, record, event=event, team=team, client=client, direct=direct
            )

        async def reply(message: dict[str, Any]) -> None:
            await say(**message, thread_ts=thread_of(event))

        await guarded(
            services, work, kind="event", name=name, team=team, user=event.get("user"), reply=reply
        )

    return on_report
