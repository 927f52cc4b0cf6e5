"""`/mtasts DOMAIN ...`: ack at once, then post each domain's result in the channel.

The ack (an ephemeral "Checking …", or usage / an error) is decided from
memory only. Results go through the command's response_url as `in_channel`
messages, one per domain, as each check completes: that works in channels the
bot has not joined, private channels and DMs, and with at most five domains it
stays within the five posts a response_url takes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.help_builder import (
    build_checking_message,
    build_error_message,
    build_help_message,
)
from bot.slack.blocks.watch_builder import build_watch_ack
from bot.slack.checking import Admission, admit, obtain
from bot.slack.flows.replies import Fallback, private_fallback, respond_checked, tell_clicker
from bot.slack.flows.watch import Asker, run_watch_verb
from bot.slack.parse import parse_request, watch_verb
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services


async def run_command(
    services: Services,
    record: RequestRecord,
    *,
    text: str,
    team: str | None,
    user: str | None,
    ack: AsyncAck,
    respond: AsyncRespond,
    client: AsyncWebClient | None = None,
    channel: str | None = None,
    enterprise: str | None = None,
) -> None:
    verb, rest = watch_verb(text)
    if verb is not None and client is not None and team and channel:
        asker = Asker(team=team, channel=channel, user=user, enterprise=enterprise)
        await _watch_command(services, record, verb, rest, asker, ack, respond, client)
        return
    parsed = parse_request(text, max_domains=services.max_domains)
    if parsed.wants_help or (not parsed.domains and not parsed.errors):
        record.outcome = "help"
        await ack(**build_help_message(), response_type="ephemeral")
        return
    if not parsed.domains:
        record.outcome = "invalid"
        await ack(**build_error_message("\n".join(parsed.errors)), response_type="ephemeral")
        return

    record.domains = parsed.domains
    admission = await admit(services, parsed.domains, team=team, user=user)
    await ack(**ack_message(admission, parsed.errors), response_type="ephemeral")
    if parsed.errors:
        record.note(invalid=len(parsed.errors))
    if admission.limited:
        record.outcome = "rate_limited" if not admission.allowed else "partly_rate_limited"
        record.note(limited=admission.limited)
    # If the response_url refuses a result, the caller gets it privately instead.
    fallback = (
        private_fallback(client, channel=channel, user=user, logger=services.logger, record=record)
        if client is not None
        else None
    )
    await asyncio.gather(
        *(_post_one(services, record, domain, respond, fallback) for domain in admission.allowed)
    )


async def _watch_command(
    services: Services,
    record: RequestRecord,
    verb: str,
    text: str,
    asker: Asker,
    ack: AsyncAck,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """`/mtasts watch|unwatch|watching …`: ack at once, answer the caller alone."""
    if verb == "watch" and text.strip():
        await ack(**build_watch_ack(), response_type="ephemeral")
    else:
        await ack()

    async def tell(message: dict[str, Any]) -> None:
        await tell_clicker(
            respond,
            message,
            client=client,
            channel=asker.channel,
            user=asker.user,
            logger=services.logger,
            record=record,
        )

    await run_watch_verb(
        services, record, verb=verb, text=text, asker=asker, client=client, tell=tell
    )


def ack_message(admission: Admission, errors: list[str]) -> dict[str, Any]:
    """The ephemeral ack: "Checking …", plus what was refused and why."""
    parts: list[dict[str, Any]] = []
    if admission.allowed:
        parts.append(build_checking_message(admission.allowed))
    if errors:
        parts.append(build_error_message("\n".join(errors)))
    if admission.limited:
        parts.append(admission.limited_message())
    return {
        "text": "\n".join(p["text"] for p in parts),
        "blocks": [block for p in parts for block in p["blocks"]],
    }


async def _post_one(
    services: Services,
    record: RequestRecord,
    domain: str,
    respond: AsyncRespond,
    fallback: Fallback | None,
) -> None:
    outcome = await obtain(services, domain)
    if outcome.report is not None:
        options = {"response_type": "in_channel", "replace_original": False}
    else:
        record.fail("check_failed")
        options = {"response_type": "ephemeral", "replace_original": False}
    await respond_checked(
        respond,
        outcome.message(),
        logger=services.logger,
        record=record,
        fallback=fallback,
        **options,
    )
