"""The "Re-check" button: check again without the cache and replace the message in place.

The action's response_url replaces the message (in-channel or ephemeral
alike); a rate limit or a broken check is told to the clicker privately and
leaves the message as it was.
"""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.help_builder import build_error_message
from bot.slack.checking import admit, obtain
from bot.slack.flows.action_body import Click
from bot.slack.flows.replies import private_fallback, respond_checked
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services


async def run_recheck(
    services: Services,
    record: RequestRecord,
    *,
    click: Click,
    respond: AsyncRespond,
    client: AsyncWebClient | None = None,
) -> None:
    log, domain = services.logger, click.domain
    fallback = (
        private_fallback(client, channel=click.channel, user=click.user, logger=log, record=record)
        if client is not None
        else None
    )
    if domain is None:
        record.outcome = "invalid"
        message = build_error_message("That button does not carry a domain I can check.")
        await respond_checked(
            respond,
            message,
            logger=log,
            record=record,
            fallback=fallback,
            response_type="ephemeral",
            replace_original=False,
        )
        return
    record.domains = [domain]
    admission = await admit(services, [domain], team=click.team, user=click.user, fresh=True)
    if admission.limited:
        record.outcome = "rate_limited"
        await respond_checked(
            respond,
            admission.limited_message(),
            logger=log,
            record=record,
            fallback=fallback,
            response_type="ephemeral",
            replace_original=False,
        )
        return
    outcome = await obtain(services, domain, fresh=True)
    if outcome.report is None:
        record.fail("check_failed")
        await respond_checked(
            respond,
            outcome.message(),
            logger=log,
            record=record,
            fallback=fallback,
            response_type="ephemeral",
            replace_original=False,
        )
        return
    # The new result replaces the message; if Slack refuses, the clicker gets it privately.
    await respond_checked(
        respond,
        outcome.message(),
        logger=log,
        record=record,
        fallback=fallback,
        replace_original=True,
    )
