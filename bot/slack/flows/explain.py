"""The "Explain in thread" button: a threaded reply explaining the findings.

Posted with chat.postMessage in the thread of the result message (the
thread it is in, for a result that is itself a reply), explaining the report
the message shows while it is cached. Otherwise a placeholder ("Explaining
…") is posted at once, so the click is answered within 3 s whatever the check
costs, and chat.update replaces it with the explanation. Where the bot cannot
post (`not_in_channel`, `channel_not_found`: results of /mtasts reach channels
the bot never joined), the person who clicked gets the reason and how to
invite the bot, privately through the action's response_url. Under an
ephemeral result there is no thread, so the explanation comes ephemerally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.explain_builder import build_explain_message
from bot.slack.blocks.help_builder import (
    build_error_message,
    build_explaining_message,
    build_not_in_channel_message,
)
from bot.slack.checking import Outcome, admit, obtain, peek_cached
from bot.slack.flows.action_body import Click
from bot.slack.flows.replies import (
    CANNOT_POST,
    RESTRICTED,
    slack_error,
    tell_clicker,
)
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
    async def private(message: dict[str, Any]) -> None:
        await tell_clicker(
            respond,
            dict(message),
            client=client,
            channel=click.channel,
            user=click.user,
            logger=services.logger,
            record=record,
        )

    domain = click.domain
    if domain is None:
        record.outcome = "invalid"
        await private(build_error_message("That button does not carry a domain I can check."))
        return
    record.domains = [domain]
    # The cached report is the one the clicked message shows (when still fresh).
    cached = await peek_cached(services, domain)
    if cached is None:
        admission = await admit(services, [domain], team=click.team, user=click.user)
        if admission.limited:
            record.outcome = "rate_limited"
            await private(admission.limited_message())
            return
    record.note(cache="hit" if cached is not None else "miss")

    if click.is_ephemeral or not click.channel or not click.thread_ts:
        # No thread to reply in: the explanation comes privately.
        record.note(where="ephemeral")
        if cached is None:
            await private(build_explaining_message(domain))  # within 3 s of the click
        outcome = (
            Outcome(domain, report=cached.report) if cached else await obtain(services, domain)
        )
        if outcome.report is None:
            record.fail("check_failed")
            await private(outcome.message())
            return
        await private(build_explain_message(outcome.report))
        return

    channel, thread_ts = click.channel, click.thread_ts
    if cached is not None:
        message = build_explain_message(cached.report)
        await _post(services, record, client, private, channel, thread_ts, message)
        return
    # Nothing to explain yet: a placeholder at once (which also tells within 3 s whether
    # the bot may post here), replaced by the explanation once the check is done.
    placeholder = await _post(
        services, record, client, private, channel, thread_ts, build_explaining_message(domain)
    )
    if placeholder is None:
        return
    outcome = await obtain(services, domain)
    if outcome.report is None:
        record.fail("check_failed")
        message = outcome.message()
    else:
        message = build_explain_message(outcome.report)
    await client.chat_update(channel=channel, ts=placeholder, **message)


async def _post(
    services: Services,
    record: RequestRecord,
    client: AsyncWebClient,
    private: Callable[[dict[str, Any]], Awaitable[None]],
    channel: str,
    thread_ts: str,
    message: dict[str, Any],
) -> str | None:
    """Post `message` in the thread; the new message's ts, or None when the bot can't post."""
    try:
        resp = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    except Exception as exc:
        error = slack_error(exc)
        if error in CANNOT_POST:
            record.outcome = "not_in_channel"
            await private(
                build_not_in_channel_message("Explain in thread", restricted=error in RESTRICTED)
            )
            return None
        # Anything else (after the client's own retries of 429 and 5xx): the guard logs it
        # and tells the clicker privately that it went wrong.
        raise
    ts = resp.get("ts")
    return ts if isinstance(ts, str) else None
