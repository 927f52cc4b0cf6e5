"""A TLS-RPT report shared with the bot, explained in the thread, then checked afresh.

A file shared in a DM with the bot (a `message` of subtype `file_share`), or
with a mention in a channel (`app_mention` with `files`), or a report's JSON
pasted as the text of either: the files are fetched from Slack (bounded,
bot token, Slack's file host only), read and summarised away from the event
loop, and the summary is posted in the thread of the message. Then each
policy domain is checked through the result cache (admitted by the rate
limiter like any check), the summary is updated with what is still failing
and what is fixed since, and each check's usual result message (with its
buttons) follows in the thread.

Anything that is not a report gets one sentence per file, in that thread only.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.reports.compare import DomainCheck, checkable
from bot.reports.limits import MAX_DOMAINS_CHECKED, MAX_FILES_PER_MESSAGE
from bot.reports.parse import Parsed, parse_read
from bot.reports.reading import Unreadable, read_bytes, read_text
from bot.reports.summary import Summariser, Summary
from bot.slack.blocks.tlsrpt_builder import build_report_message, build_unreadable_message
from bot.slack.checking import Outcome, admit, obtain
from bot.slack.files import download, file_name
from bot.slack.flows.conversation import thread_of
from bot.slack.flows.replies import CANNOT_POST, cannot_post_note, direct_message, slack_error
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^<>]*)?>")
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def pasted_report(text: str) -> str | None:
    """The text of a message that looks like a pasted report (JSON, or a DMARC report's
    XML, which gets its one sentence too), unescaped from Slack's formatting; else None."""
    body = _MENTION.sub("", text).strip()
    if body.startswith("```"):
        body = body[3:].removesuffix("```").strip()
    if body.startswith("{") or re.match(r"\[\s*\{", body):
        return unslack(body)
    if body.startswith(("&lt;?xml", "&lt;feedback")):
        return unslack(body)
    return None


def unslack(text: str) -> str:
    """Undo what Slack does to a message's text: links `<https://a|a>` back to their
    label (or URL), `&lt;` `&gt;` `&amp;` back to characters."""
    text = _SLACK_LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1), text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def is_report_share(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A person's message sharing files, or pasting what looks like a report."""
    if event.get("subtype") not in (None, "file_share"):
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return False
    if not isinstance(event.get("ts"), str) or not isinstance(event.get("channel"), str):
        return False
    files = event.get("files")
    if isinstance(files, list) and any(isinstance(f, dict) for f in files):
        return True
    return pasted_report(str(event.get("text") or "")) is not None


@dataclass(slots=True)
class _Thread:
    """Posts in the thread of the message; where the bot may not post (a mention in a
    restricted channel), the answer goes to the person in a DM instead."""

    services: Services
    client: AsyncWebClient
    record: RequestRecord
    channel: str
    thread_ts: str
    user: str | None
    direct: bool

    async def post(self, message: dict[str, Any]) -> tuple[str, str] | None:
        """(channel, ts) of the new message; None when it went to a DM instead."""
        try:
            resp = await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, **message
            )
        except Exception as exc:
            error = slack_error(exc)
            if self.direct or error not in CANNOT_POST or not self.user:
                raise
            self.record.note(cannot_post=error)
            delivered = await direct_message(
                self.client,
                user=self.user,
                message=message,
                note=cannot_post_note(error),
                logger=self.services.logger,
                record=self.record,
            )
            if not delivered:
                raise
            return None
        return (str(resp.get("channel") or self.channel), str(resp.get("ts") or ""))

    async def replace(self, where: tuple[str, str] | None, message: dict[str, Any]) -> None:
        """Update a message posted here; if that fails, post the new version instead."""
        if where is not None and where[1]:
            try:
                await self.client.chat_update(channel=where[0], ts=where[1], **message)
                return
            except Exception as exc:
                error = slack_error(exc) or type(exc).__name__
                self.services.logger.warning("summary update failed error=%s: posting it", error)
        await self.post(message)


async def run_report_share(
    services: Services,
    record: RequestRecord,
    *,
    event: dict[str, Any],
    team: str | None,
    client: AsyncWebClient,
    direct: bool,
) -> None:
    """Explain the reports of one message in its thread, then check their domains afresh."""
    user = event.get("user")
    thread = _Thread(
        services,
        client,
        record,
        channel=str(event["channel"]),
        thread_ts=thread_of(event),
        user=str(user) if user else None,
        direct=direct,
    )
    summary = await read_shared(client, event)
    record.note(reports=summary.reports, unreadable=len(summary.problems))
    if not summary.reports:
        record.outcome = "not_a_report"
        await thread.post(build_unreadable_message(summary.problems))
        return
    record.outcome = "report"
    domains = summary.domains()[:MAX_DOMAINS_CHECKED]
    targets, refused = _targets(domains)
    record.domains = list(dict.fromkeys(targets.values()))
    admission = await admit(services, record.domains, team=team, user=thread.user)
    checking = [d for d in domains if targets.get(d) in admission.allowed]
    where = await thread.post(build_report_message(summary, checking=checking))
    if not domains:
        return
    outcomes = await asyncio.gather(*(obtain(services, n) for n in admission.allowed))
    checks = refused | _checked(targets, outcomes, admission.retry_after)
    if any(o.report is None for o in outcomes):
        record.fail("check_failed")
    await thread.replace(where, build_report_message(summary, {d: checks[d] for d in domains}))
    for outcome in outcomes:
        await thread.post(outcome.message())


def _targets(domains: list[str]) -> tuple[dict[str, str], dict[str, DomainCheck]]:
    """policy-domain -> the domain to check; and the policy-domains that are no domain."""
    targets: dict[str, str] = {}
    refused: dict[str, DomainCheck] = {}
    for domain in domains:
        name, why = checkable(domain)
        if name is None:
            refused[domain] = DomainCheck(domain, error=why)
        else:
            targets[domain] = name
    return targets, refused


def _checked(
    targets: dict[str, str], outcomes: list[Outcome], retry_after: float
) -> dict[str, DomainCheck]:
    """Each policy-domain's check, or why there is none (rate-limited when not admitted)."""
    by_name = {o.domain: o for o in outcomes}
    seconds = math.ceil(retry_after) if math.isfinite(retry_after) else 60
    checks: dict[str, DomainCheck] = {}
    for domain, name in targets.items():
        outcome = by_name.get(name)
        if outcome is None:
            why = f"that's a lot of checks in a short time; ask again in {seconds} seconds"
            checks[domain] = DomainCheck(domain, error=why)
        else:
            checks[domain] = DomainCheck(
                domain, report=outcome.report, error=outcome.error, cached_age=outcome.age
            )
    return checks


async def read_shared(client: AsyncWebClient, event: dict[str, Any]) -> Summary:
    """Every report of the message's files (or pasted text), folded into one summary.

    Files are fetched and read one at a time, so at most one file's bytes are held;
    reading and parsing run on a thread, away from the event loop.
    """
    summariser = Summariser()
    files = [f for f in event.get("files") or [] if isinstance(f, dict)]
    if not files:
        text = pasted_report(str(event.get("text") or "")) or ""
        summariser.add(await asyncio.to_thread(_parse_text, text))
        return summariser.summary()
    for file in files[:MAX_FILES_PER_MESSAGE]:
        fetched = await download(client, file)
        if fetched.data is None:
            problem = fetched.problem or f"I couldn't read {file_name(file)}."
            summariser.add(Parsed(problems=[Unreadable(fetched.name, problem)]))
            continue
        summariser.add(await asyncio.to_thread(_parse_bytes, fetched.data, fetched.name))
    return summariser.summary()


def _parse_bytes(data: bytes, name: str) -> Parsed:
    return parse_read(read_bytes(data, name))


def _parse_text(text: str) -> Parsed:
    return parse_read(read_text(text))
