"""`watch`, `unwatch` and `watching`: from the slash command, a mention, or a button.

Watch, per the contract:
1. Parse the domains exactly as for a check (up to 5; invalid ones named).
2. Refuse, storing nothing, what would take the workspace past
   MTASTS_WATCH_LIMIT; skip what this conversation watches already.
3. The baseline: each domain's check (the cached result when fresh; the rate
   limits apply as for any check).
4. The in-channel confirmation with chat.postMessage, *before* anything is
   stored: alerts are posted the same way, so if Slack says the bot cannot
   post here (not_in_channel, channel_not_found, archived, restricted), the
   caller is told how to fix that and no watch is created.
5. Store the watches (with the baselines); only then tell the caller it is
   done. Should the database fail here, the confirmation is deleted again.

Unwatch deletes this conversation's watches of the domains; watching lists
them. Every answer goes to the caller alone (`tell`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.checker.model import Report
from bot.slack.blocks.help_builder import build_error_message
from bot.slack.blocks.watch_builder import (
    build_cannot_watch_here,
    build_limit_reached,
    build_store_unavailable,
    build_unwatch_result,
    build_watch_confirmation,
    build_watch_result,
    build_watch_usage,
    build_watching_list,
)
from bot.slack.checking import admit, obtain
from bot.slack.flows.replies import CANNOT_POST, slack_error
from bot.slack.parse import ParsedRequest, parse_request
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services
from bot.store.engine import TRANSIENT_ERRORS
from bot.store.watches import Conversation
from bot.watch.service import LimitReached, WatchService

Tell = Callable[[dict[str, Any]], Awaitable[object]]

NOT_AVAILABLE = (
    "Watching is not available on this server (it runs without a database). "
    "One-off checks still work: `/mtasts example.com`."
)


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asked, and the conversation the watch is for."""

    team: str
    channel: str
    user: str | None
    enterprise: str | None = None

    @property
    def conversation(self) -> Conversation:
        return Conversation(self.team, self.channel, self.enterprise)


async def run_watch_verb(
    services: Services,
    record: RequestRecord,
    *,
    verb: str,
    text: str,
    asker: Asker,
    client: AsyncWebClient,
    tell: Tell,
) -> None:
    """`watch DOMAIN…`, `unwatch DOMAIN…` or `watching`, answered through `tell`."""
    record.note(verb=verb)
    watch = services.watch
    if watch is None:
        record.outcome = "unavailable"
        await tell(build_error_message(NOT_AVAILABLE))
        return
    try:
        if verb == "watching":
            await _watching(watch, record, asker, tell)
        elif verb == "unwatch":
            await _unwatch(services, watch, record, text, asker, tell)
        else:
            await watch_domains(services, watch, record, text, asker, client, tell)
    except TRANSIENT_ERRORS as exc:
        record.fail("store_unavailable", exc)
        services.logger.warning("watch store unavailable error=%s", type(exc).__name__)
        await tell(build_store_unavailable(_ACTIONS.get(verb, verb)))


_ACTIONS = {
    "watch": "set up the watch",
    "unwatch": "stop the watch",
    "watching": "list the watches",
}


async def _watching(watch: WatchService, record: RequestRecord, asker: Asker, tell: Tell) -> None:
    rows = await watch.of_conversation(asker.conversation)
    record.note(watches=len(rows))
    await tell(build_watching_list(rows, now=watch.clock(), interval=watch.config.interval))


async def _domains(
    services: Services, record: RequestRecord, text: str, tell: Tell
) -> ParsedRequest | None:
    """The domains of a watch or unwatch request; None (usage told) when it asks for help."""
    parsed = parse_request(text, max_domains=services.max_domains)
    if parsed.wants_help or not (parsed.domains or parsed.errors):
        record.outcome = "help"
        await tell(build_watch_usage(services.max_domains))
        return None
    record.domains = parsed.domains
    return parsed


async def _unwatch(
    services: Services,
    watch: WatchService,
    record: RequestRecord,
    text: str,
    asker: Asker,
    tell: Tell,
) -> None:
    parsed = await _domains(services, record, text, tell)
    if parsed is None:
        return
    removed = await watch.remove(asker.conversation, parsed.domains) if parsed.domains else []
    not_watched = [d for d in parsed.domains if d not in removed]
    if not removed:
        record.outcome = "not_watched" if parsed.domains else "invalid"
    await tell(
        build_unwatch_result(removed=removed, not_watched=not_watched, problems=parsed.errors)
    )


async def watch_domains(
    services: Services,
    watch: WatchService,
    record: RequestRecord,
    text: str,
    asker: Asker,
    client: AsyncWebClient,
    tell: Tell,
) -> None:
    parsed = await _domains(services, record, text, tell)
    if parsed is None:
        return
    problems = list(parsed.errors)
    if not parsed.domains:
        record.outcome = "invalid"
        await tell(build_watch_result(problems=problems, interval=watch.config.interval))
        return
    where = asker.conversation
    existing = await watch.find(where, parsed.domains)
    already = [d for d in parsed.domains if d in existing and not existing[d].paused]
    wanted = [d for d in parsed.domains if d not in already]
    new = [d for d in wanted if d not in existing]
    count, new_here = await watch.usage(asker.team, new)  # the limit counts domains
    if new_here and count + len(new_here) > watch.config.limit:
        record.outcome = "limit"
        await tell(build_limit_reached(count=count, limit=watch.config.limit, wanted=new_here))
        return
    baselines, more = await _baselines(services, record, wanted, asker)
    problems += more
    if not baselines:
        record.outcome = "nothing_watched" if not already else record.outcome
        await tell(
            build_watch_result(already=already, problems=problems, interval=watch.config.interval)
        )
        return
    resumed = [d for d in baselines if d in existing]
    confirmation = build_watch_confirmation(
        list(baselines.values()), interval=watch.config.interval, resumed=resumed
    )
    try:
        posted = await client.chat_postMessage(channel=asker.channel, **confirmation)
    except Exception as exc:
        error = slack_error(exc)
        record.fail("cannot_post", error or exc)
        if error in CANNOT_POST:
            await tell(build_cannot_watch_here(error))
        else:
            services.logger.warning("watch confirmation failed error=%s", error or type(exc))
            await tell(
                build_error_message(
                    "Slack didn't take my confirmation message just now, so I'm not watching "
                    "anything yet. Please try again in a minute."
                )
            )
        return
    try:
        added = await watch.add(where, user=asker.user, baselines=baselines)
    except LimitReached as exc:  # someone else filled the workspace meanwhile
        await _take_back(client, asker.channel, posted.get("ts"))
        record.outcome = "limit"
        await tell(build_limit_reached(count=exc.count, limit=exc.limit, wanted=new_here))
        return
    except TRANSIENT_ERRORS:
        await _take_back(client, asker.channel, posted.get("ts"))
        raise
    record.note(added=len(added.added), resumed=len(added.resumed))
    await tell(
        build_watch_result(
            added=added.added,
            resumed=added.resumed,
            already=already + added.already,
            problems=problems,
            interval=watch.config.interval,
        )
    )


async def _baselines(
    services: Services, record: RequestRecord, domains: Sequence[str], asker: Asker
) -> tuple[dict[str, Report], list[str]]:
    """Each domain's check (the baseline), and a line for each that has none."""
    problems: list[str] = []
    admission = await admit(services, domains, team=asker.team, user=asker.user)
    if admission.limited:
        record.note(limited=admission.limited)
        wait = max(1, round(admission.retry_after)) if admission.retry_after < 1e9 else 60
        problems.append(
            f"Not watching {', '.join(admission.limited)} yet: that's a lot of checks in a "
            f"short time. Try again in {wait} seconds."
        )
    outcomes = await asyncio.gather(*(obtain(services, d) for d in admission.allowed))
    baselines: dict[str, Report] = {}
    for outcome in outcomes:
        if outcome.report is None:
            record.fail("check_failed")
            problems.append(
                f"Not watching {outcome.domain}: I couldn't check it for the baseline "
                f"({outcome.error or 'the check failed'})."
            )
        else:
            baselines[outcome.domain] = outcome.report
    return baselines, problems


async def _take_back(client: AsyncWebClient, channel: str, ts: object) -> None:
    """Delete a confirmation whose watch could not be stored (best effort)."""
    if not isinstance(ts, str):
        return
    try:
        await client.chat_delete(channel=channel, ts=ts)
    except Exception:  # the caller is told anyway; a stray confirmation is the lesser evil
        return
