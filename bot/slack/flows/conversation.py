"""Mentions and direct messages: answer in the thread of the message.

`@mtasts example.com` in a channel, or `example.com` in a DM: each domain's
result is posted in the thread (`thread_ts` = the parent's thread, or the
message itself), and so are usage and errors. A rate-limited request is told
privately in a channel (chat.postEphemeral: in the thread when the mention
was in one, else in the channel, since Slack shows ephemeral messages only in
threads that exist), in the thread of a DM.

Where the bot may not post in the channel (`not_in_channel`,
`channel_not_found`, `is_archived`), the answer goes to the person in a direct
message instead, saying why and how to invite the bot. Other failures (after
the client's own retries of 429 and 5xx) are logged with the domain.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.help_builder import build_error_message, build_help_message
from bot.slack.checking import admit, obtain
from bot.slack.flows.replies import CANNOT_POST, cannot_post_note, direct_message, slack_error
from bot.slack.flows.watch import Asker, Tell, run_watch_verb
from bot.slack.parse import parse_request, watch_verb
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services


def wants_answer(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Whether a message event is a person's new message (not an edit, a bot, or ourselves)."""
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return False
    return isinstance(event.get("text"), str) and isinstance(event.get("ts"), str)


def thread_of(event: dict[str, Any]) -> str:
    thread_ts = event.get("thread_ts") or event["ts"]
    return str(thread_ts)


async def run_conversation(
    services: Services,
    record: RequestRecord,
    *,
    event: dict[str, Any],
    team: str | None,
    say: AsyncSay,
    client: AsyncWebClient,
    private_channel: bool,
    enterprise: str | None = None,
) -> None:
    """Answer one mention (private_channel=False) or DM (True) in its thread."""
    thread_ts = thread_of(event)
    user = event.get("user")
    verb, rest = watch_verb(str(event.get("text", "")))
    if verb is not None and team and isinstance(event.get("channel"), str):
        asker = Asker(team=team, channel=event["channel"], user=user, enterprise=enterprise)
        tell = _privately(services, record, event, say, client, in_dm=private_channel)
        await run_watch_verb(
            services, record, verb=verb, text=rest, asker=asker, client=client, tell=tell
        )
        return

    async def post(message: dict[str, Any]) -> None:
        try:
            await say(**message, thread_ts=thread_ts)
        except Exception as exc:
            error = slack_error(exc)
            if private_channel or error not in CANNOT_POST or not user:
                raise
            record.note(cannot_post=error)
            services.logger.info("cannot post in channel error=%s: answering in a DM", error)
            delivered = await direct_message(
                client,
                user=str(user),
                message=message,
                note=cannot_post_note(error),
                logger=services.logger,
                record=record,
            )
            if not delivered:
                raise

    parsed = parse_request(str(event.get("text", "")), max_domains=services.max_domains)
    if parsed.wants_help or (not parsed.domains and not parsed.errors):
        record.outcome = "help"
        await post(build_help_message())
        return
    if parsed.errors:
        record.outcome = "invalid" if not parsed.domains else record.outcome
        record.note(invalid=len(parsed.errors))
        await post(build_error_message("\n".join(parsed.errors)))
    if not parsed.domains:
        return

    record.domains = parsed.domains
    admission = await admit(services, parsed.domains, team=team, user=user)
    if admission.limited:
        record.outcome = "rate_limited" if not admission.allowed else "partly_rate_limited"
        record.note(limited=admission.limited)
        message = admission.limited_message()
        if private_channel:
            await post(message)
        else:
            try:
                # Slack shows an ephemeral message in a thread only if the thread exists:
                # under a top-level mention it goes to the channel itself.
                in_thread = event.get("thread_ts")
                await client.chat_postEphemeral(
                    channel=event["channel"],
                    user=str(user),
                    thread_ts=str(in_thread) if in_thread else None,
                    **message,
                )
            except Exception as exc:
                error = slack_error(exc) or type(exc).__name__
                services.logger.warning("rate-limit notice failed error=%s: trying a DM", error)
                await direct_message(
                    client,
                    user=str(user),
                    message=message,
                    note=cannot_post_note(error) if error in CANNOT_POST else "",
                    logger=services.logger,
                    record=record,
                )

    async def answer(domain: str) -> None:
        outcome = await obtain(services, domain)
        if outcome.report is None:
            record.fail("check_failed")
        try:
            await post(outcome.message())
        except Exception as exc:
            record.fail("reply_failed", slack_error(exc) or exc)
            services.logger.warning(
                "could not answer in thread domain=%s error=%s",
                domain,
                slack_error(exc) or type(exc).__name__,
            )

    await asyncio.gather(*(answer(d) for d in admission.allowed))


def _privately(
    services: Services,
    record: RequestRecord,
    event: dict[str, Any],
    say: AsyncSay,
    client: AsyncWebClient,
    *,
    in_dm: bool,
) -> Tell:
    """Answers to a watch asked for in a conversation: in the thread of a DM (private
    already); for a mention, ephemeral to the person (else in a DM with them)."""
    user = str(event.get("user") or "")
    in_thread = event.get("thread_ts")

    async def tell(message: dict[str, Any]) -> None:
        if in_dm:
            await say(**message, thread_ts=thread_of(event))
            return
        try:
            await client.chat_postEphemeral(
                channel=event["channel"],
                user=user,
                thread_ts=str(in_thread) if in_thread else None,
                **message,
            )
        except Exception as exc:
            error = slack_error(exc) or type(exc).__name__
            services.logger.info("watch answer not shown in channel error=%s: DM instead", error)
            await direct_message(
                client, user=user, message=message, note="", logger=services.logger, record=record
            )

    return tell
