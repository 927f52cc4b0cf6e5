"""The "Policy file", "DNS records" and "MX & TLS" buttons: a modal with the details.

`views.open` must happen within 3 s of the click and the trigger works once,
so it comes right after the ack: with the cached report when there is one,
else with a loading view that `views.update` replaces once the check is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.checker.model import Report
from bot.slack.blocks.details_builder import (
    build_dns_view,
    build_error_view,
    build_loading_view,
    build_mx_view,
    build_policy_view,
)
from bot.slack.blocks.help_builder import build_error_message
from bot.slack.blocks.ids import ACTION_DNS, ACTION_MX, ACTION_POLICY
from bot.slack.checking import admit, obtain, peek_cached
from bot.slack.flows.action_body import Click
from bot.slack.flows.replies import slack_error, tell_clicker
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

ViewBuilder = Callable[[Report], dict[str, Any]]

VIEWS: dict[str, ViewBuilder] = {
    ACTION_POLICY: build_policy_view,
    ACTION_DNS: build_dns_view,
    ACTION_MX: build_mx_view,
}


async def run_details(
    services: Services,
    record: RequestRecord,
    *,
    click: Click,
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    """Open the modal for `click` (already acked)."""
    build = VIEWS[click.action_id]
    domain = click.domain
    if domain is None:
        record.outcome = "invalid"
        await _open(
            services,
            record,
            client,
            respond,
            click,
            build_error_view("?", "That button does not carry a domain I can check."),
        )
        return
    record.domains = [domain]
    cached = await peek_cached(services, domain)
    if cached is not None:
        record.note(cache="hit")
        await _open(services, record, client, respond, click, build(cached.report))
        return

    record.note(cache="miss")
    view = await _open(services, record, client, respond, click, build_loading_view(domain))
    if view is None:
        return
    admission = await admit(services, [domain], team=click.team, user=click.user)
    if admission.limited:
        record.outcome = "rate_limited"
        wait = admission.limited_message()["text"]
        final = build_error_view(domain, wait)
    else:
        outcome = await obtain(services, domain)
        if outcome.report is None:
            record.fail("check_failed")
            final = build_error_view(domain, outcome.error or "The check failed.")
        else:
            final = build(outcome.report)
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=final)
    except Exception as exc:
        record.fail("update_failed", slack_error(exc) or exc)
        services.logger.warning(
            "views.update failed domain=%s error=%s", domain, slack_error(exc) or type(exc).__name__
        )
        if slack_error(exc) == "not_found":
            return  # the person closed the window: nothing to tell
        # The window would stay on "loading": say so, privately.
        await tell_clicker(
            respond,
            build_error_message(
                f"I couldn't show the details of {domain} in the window. "
                "Please click the button again."
            ),
            client=client,
            channel=click.channel,
            user=click.user,
            logger=services.logger,
            record=record,
        )


async def _open(
    services: Services,
    record: RequestRecord,
    client: AsyncWebClient,
    respond: AsyncRespond,
    click: Click,
    view: dict[str, Any],
) -> dict[str, Any] | None:
    """views.open; on failure tell the clicker privately. Returns the opened view."""
    try:
        resp = await client.views_open(trigger_id=click.trigger_id or "", view=view)
    except Exception as exc:
        error = slack_error(exc) or type(exc).__name__
        record.fail("open_failed", error)
        services.logger.warning("views.open failed error=%s", error)
        message = build_error_message(
            "I couldn't open the details window in time. Please click the button again."
        )
        await tell_clicker(
            respond,
            message,
            client=client,
            channel=click.channel,
            user=click.user,
            logger=services.logger,
            record=record,
        )
        return None
    opened = resp.get("view")
    return opened if isinstance(opened, dict) else None
