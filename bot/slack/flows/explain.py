"""The "Explain in thread" button: a threaded reply explaining the findings.

Posted with chat.postMessage under the result message. Where the bot cannot
post (`not_in_channel`, `channel_not_found`: results of /mtasts reach channels
the bot never joined), the person who clicked gets the reason and how to
invite the bot, privately through the action's response_url. Under an
ephemeral result there is no thread, so the explanation comes ephemerally.
"""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.explain_builder import build_explain_message
from bot.slack.blocks.help_builder import build_error_message, build_not_in_channel_message
from bot.slack.checking import admit, obtain
from bot.slack.flows.action_body import Click
from bot.slack.flows.replies import CANNOT_POST, private_fallback, respond_checked, slack_error
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services


async def run_explain(
    services: Services,
    record: RequestRecord,
    *,
    click: Click,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    fallback = private_fallback(
        client, channel=click.channel, user=click.user, logger=services.logger, record=record
    )

    async def private(message: dict[str, object]) -> None:
        await respond_checked(
            respond,
            dict(message),
            logger=services.logger,
            record=record,
            fallback=fallback,
            response_type="ephemeral",
            replace_original=False,
        )

    domain = click.domain
    if domain is None:
        record.outcome = "invalid"
        await private(build_error_message("That button does not carry a domain I can check."))
        return
    record.domains = [domain]
    admission = await admit(services, [domain], team=click.team, user=click.user)
    if admission.limited:
        record.outcome = "rate_limited"
        await private(admission.limited_message())
        return
    outcome = await obtain(services, domain)
    if outcome.report is None:
        record.fail("check_failed")
        await private(outcome.message())
        return
    message = build_explain_message(outcome.report)
    if click.is_ephemeral or not click.channel or not click.message_ts:
        record.note(where="ephemeral")
        await private(message)
        return
    try:
        await client.chat_postMessage(channel=click.channel, thread_ts=click.message_ts, **message)
    except Exception as exc:
        error = slack_error(exc)
        if error in CANNOT_POST:
            record.outcome = "not_in_channel"
            await private(build_not_in_channel_message("Explain in thread"))
            return
        # Anything else (after the client's own retries of 429 and 5xx): the guard logs it
        # and tells the clicker privately that it went wrong.
        raise
