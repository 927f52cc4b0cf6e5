"""The "Re-check" button: check again without the cache and replace the message in place.

The action's response_url replaces the message (in-channel or ephemeral
alike). Within 3 s of the click the message gets a "Re-checking…" line (or,
when the click did not carry its blocks, the clicker an ephemeral note); the
fresh result then replaces it. A rate limit or a broken check is told to the
clicker privately and leaves the message as it was.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.help_builder import (
    RECHECKING,
    build_error_message,
    build_rechecking_message,
)
from bot.slack.blocks.parts import MAX_MESSAGE_BLOCKS, context
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

    async def tell(message: dict[str, Any]) -> bool:
        """To the clicker alone (or, if Slack refuses, privately another way)."""
        return await respond_checked(
            respond,
            message,
            logger=log,
            record=record,
            fallback=fallback,
            response_type="ephemeral",
            replace_original=False,
        )

    async def replace(message: dict[str, Any], *, with_fallback: bool = False) -> bool:
        """Replace the message the button is on."""
        return await respond_checked(
            respond,
            message,
            logger=log,
            record=record,
            fallback=fallback if with_fallback else None,
            replace_original=True,
        )

    if domain is None:
        record.outcome = "invalid"
        await tell(build_error_message("That button does not carry a domain I can check."))
        return
    record.domains = [domain]
    admission = await admit(services, [domain], team=click.team, user=click.user, fresh=True)
    if admission.limited:
        record.outcome = "rate_limited"
        await tell(admission.limited_message())
        return
    # Within 3 s of the click: the message says it is being re-checked (or, when the
    # click did not carry the message, the clicker is told privately).
    original = _without_rechecking(click.message_blocks)
    text = click.message_text or domain
    if original is not None and len(original) < MAX_MESSAGE_BLOCKS:
        if not await replace({"text": text, "blocks": [*original, context(RECHECKING)]}):
            original = None  # nothing to restore
    else:
        original = None
        await tell(build_rechecking_message(domain))
    outcome = await obtain(services, domain, fresh=True)
    if outcome.report is None:
        record.fail("check_failed")
        if original is not None:  # put the message back as it was
            await replace({"text": text, "blocks": original})
        await tell(outcome.message())
        return
    # The new result replaces the message; if Slack refuses, the clicker gets it privately.
    await replace(outcome.message(), with_fallback=True)


def _without_rechecking(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The message's blocks without a "Re-checking…" line (a second click while one runs)."""
    if blocks is None:
        return None

    def is_note(block: dict[str, Any]) -> bool:
        elements = block.get("elements")
        return (
            block.get("type") == "context"
            and isinstance(elements, list)
            and len(elements) == 1
            and isinstance(elements[0], dict)
            and elements[0].get("text") == RECHECKING
        )

    kept = [b for b in blocks if not is_note(b)]
    return kept or None
