"""The result message's buttons: acknowledge at once, then run the button's flow.

"Policy file", "DNS records" and "MX & TLS" open a modal (flows/details.py),
"Explain in thread" replies in the thread (flows/explain.py) and "Re-check"
replaces the message (flows/recheck.py). Each flow runs under the guard, so
a failure is answered to the clicker alone, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.action_body import Click, read_click
from bot.slack.flows.guard import guarded
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

Listener = Callable[[AsyncAck, dict[str, Any], AsyncWebClient, AsyncRespond], Awaitable[None]]


class ButtonFlow(Protocol):
    def __call__(
        self,
        services: Services,
        record: RequestRecord,
        *,
        click: Click,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> Awaitable[None]: ...


def button(services: Services, flow: ButtonFlow) -> Listener:
    async def on_button(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()  # first: a trigger_id is good for 3 s from the click
        click = read_click(body)

        async def work(record: RequestRecord) -> None:
            await flow(services, record, click=click, client=client, respond=respond)

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

    return on_button
