"""The Watch and Unwatch buttons: the watch flows for the conversation the button is in.

**Watch** (on every result message) watches that domain there, with the same
rules as `/mtasts watch`; **Unwatch** (on alerts, confirmations and lists)
stops it there; the App Home tab's **Unwatch** carries the conversation in its
value ("CHANNEL DOMAIN") and refreshes the tab afterwards. Answers go to the
clicker alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.help_builder import build_error_message
from bot.slack.flows.action_body import Click, domain_of
from bot.slack.flows.home import publish_home
from bot.slack.flows.replies import tell_clicker
from bot.slack.flows.watch import Asker, run_watch_verb
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

if TYPE_CHECKING:
    from bot.slack.listeners.actions.buttons import ButtonFlow

NO_DOMAIN = "That button does not carry a domain I can watch."


def verb_button(verb: str) -> ButtonFlow:
    """The flow of the **Watch** (`verb` "watch") or **Unwatch** ("unwatch") button."""

    async def flow(
        services: Services,
        record: RequestRecord,
        *,
        click: Click,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        async def tell(message: dict[str, Any]) -> None:
            await tell_clicker(
                respond,
                message,
                client=client,
                channel=click.channel,
                user=click.user,
                logger=services.logger,
                record=record,
            )

        if click.domain is None or not click.channel or not click.team:
            record.outcome = "invalid"
            await tell(build_error_message(NO_DOMAIN))
            return
        asker = Asker(
            team=click.team, channel=click.channel, user=click.user, enterprise=click.enterprise
        )
        await run_watch_verb(
            services, record, verb=verb, text=click.domain, asker=asker, client=client, tell=tell
        )

    return flow


run_watch_button = verb_button("watch")
run_unwatch_button = verb_button("unwatch")


async def run_home_unwatch(
    services: Services,
    record: RequestRecord,
    *,
    click: Click,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Unwatch from the Home tab: the value names the conversation, then the tab refreshes."""
    channel, _, name = click.value.partition(" ")
    domain = domain_of(name)
    watch = services.watch
    if watch is None or domain is None or not channel or not click.team:
        record.outcome = "invalid"
        return
    record.domains = [domain]
    asker = Asker(team=click.team, channel=channel, user=click.user, enterprise=click.enterprise)
    removed = await watch.remove(asker.conversation, [domain])
    record.note(removed=len(removed))
    if click.user:
        await publish_home(services, client, team=click.team, user=click.user, record=record)
