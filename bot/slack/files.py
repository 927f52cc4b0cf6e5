"""Files shared with the bot: fetched from Slack's file host with the bot token, bounded.

A shared file arrives as a Slack file object in the event (`files`), with its
`url_private_download`; where the event leaves it out (`file_access:
check_file_info`), `files.info` gives it. The bytes are fetched with the bot
token (`Authorization: Bearer`), only from Slack's file host
(`files.slack.com`, or the host of `SLACK_API_URL` when that is not slack.com:
the local stand-in in tests), never following a redirect (a redirect goes to a
sign-in page, or elsewhere: the token must not follow it), at most
`MAX_REPORT_BYTES`, within `DOWNLOAD_TIMEOUT`. Every failure is one sentence
for the person; nothing raises but cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.reports.limits import MAX_REPORT_BYTES
from bot.reports.reading import sentence, shown, too_big_reason

FILES_HOST = "files.slack.com"
DOWNLOAD_TIMEOUT = 30.0  # seconds for one file, connection to last byte
CHUNK = 64 * 1024
NEEDS_FILES_READ = (
    "I can't read files shared with me yet: this app needs the files:read permission. "
    "Ask whoever runs it to reinstall it from the current manifest.yml"
)


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A shared file's bytes, or one sentence saying why there are none."""

    name: str
    data: bytes | None = None
    problem: str | None = None


def file_name(file: Mapping[str, Any]) -> str:
    for key in ("name", "title", "id"):
        value = file.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "the shared file"


def allowed(url: str, api_url: str) -> bool:
    """Whether `url` is on Slack's file host: https://files.slack.com, or the API's own
    origin when SLACK_API_URL points somewhere other than slack.com (a local stand-in)."""
    try:
        target, api = urlsplit(url), urlsplit(api_url)
        target_port, api_port = target.port, api.port
    except ValueError:
        return False
    if target.username or target.password:
        return False
    host = (target.hostname or "").lower()
    if target.scheme == "https" and host == FILES_HOST and target_port in (None, 443):
        return True
    api_host = (api.hostname or "").lower()
    if not api_host or api_host == "slack.com" or api_host.endswith(".slack.com"):
        return False
    return (target.scheme, host, target_port) == (api.scheme, api_host, api_port)


async def download(
    client: AsyncWebClient,
    file: Mapping[str, Any],
    *,
    max_bytes: int = MAX_REPORT_BYTES,
    session: aiohttp.ClientSession | None = None,
) -> Downloaded:
    """The bytes of one shared file, or why not (never raises but cancellation)."""
    name = file_name(file)
    try:
        return await _download(client, dict(file), name, max_bytes, session)
    except asyncio.CancelledError:
        raise
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error == "missing_scope":
            return Downloaded(name, problem=sentence(NEEDS_FILES_READ))
        if error in ("file_not_found", "file_deleted"):
            return Downloaded(name, problem=f"I couldn't find {shown(name)} any more (deleted?).")
        return Downloaded(
            name, problem=f"Slack refused to describe {shown(name)} ({error}); please try again."
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return Downloaded(
            name,
            problem=(
                f"I couldn't download {shown(name)} from Slack ({type(exc).__name__}); "
                "please share it again in a minute."
            ),
        )


async def _download(
    client: AsyncWebClient,
    file: dict[str, Any],
    name: str,
    max_bytes: int,
    session: aiohttp.ClientSession | None,
) -> Downloaded:
    if file.get("mode") == "tombstone":
        return Downloaded(name, problem=f"{shown(name)} has been deleted, so I can't read it.")
    url = file.get("url_private_download") or file.get("url_private")
    if not isinstance(url, str) or file.get("file_access") == "check_file_info":
        info = await client.files_info(file=str(file.get("id", "")))
        described = info.get("file")
        if isinstance(described, dict):
            file = described
            name = file_name(file)
        url = file.get("url_private_download") or file.get("url_private")
    if file.get("is_external") or file.get("mode") == "external":
        return Downloaded(
            name,
            problem=(
                f"{shown(name)} is a link to a file stored outside Slack; "
                "upload the report file itself."
            ),
        )
    if file.get("mode") == "hidden_by_limit":
        return Downloaded(
            name,
            problem=(
                f"Slack hides {shown(name)} (the workspace's file history limit), "
                "so I can't read it."
            ),
        )
    size = file.get("size")
    if isinstance(size, int) and size > max_bytes:
        return Downloaded(name, problem=sentence(too_big_reason(name, "as shared")))
    if not isinstance(url, str) or not url:
        return Downloaded(name, problem=f"Slack gave me no download link for {shown(name)}.")
    if not allowed(url, client.base_url):
        return Downloaded(
            name,
            problem=(
                f"{shown(name)} is not on Slack's file host, so I didn't fetch it "
                "(I only download files from Slack itself)."
            ),
        )
    own = session is None
    http = session or aiohttp.ClientSession()
    try:
        return await _fetch(http, url, str(client.token or ""), name, max_bytes)
    finally:
        if own:
            await http.close()


async def _fetch(
    http: aiohttp.ClientSession, url: str, token: str, name: str, max_bytes: int
) -> Downloaded:
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    async with http.get(url, headers=headers, allow_redirects=False, timeout=timeout) as resp:
        if 300 <= resp.status < 400 or resp.content_type == "text/html":
            # Slack's answer to a token that may not read files: its sign-in page.
            return Downloaded(name, problem=sentence(NEEDS_FILES_READ))
        if resp.status != 200:
            return Downloaded(
                name,
                problem=(
                    f"Slack answered HTTP {resp.status} when I fetched {shown(name)}; "
                    "please share it again in a minute."
                ),
            )
        data = bytearray()
        async for chunk in resp.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > max_bytes:
                return Downloaded(name, problem=sentence(too_big_reason(name, "as shared")))
        return Downloaded(name, data=bytes(data))
