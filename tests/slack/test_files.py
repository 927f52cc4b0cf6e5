"""Fetching shared files from the stand-in: the bot token, Slack's host only, bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.files import NEEDS_FILES_READ, allowed, download
from bot.testbed.slack_standin import SlackStandin

TOKEN = "xoxb-files-test-token"


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[SlackStandin]:
    async with SlackStandin() as slack:
        yield slack


def _client(slack: SlackStandin, token: str | None = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url)


def test_only_slacks_file_host_is_allowed() -> None:
    prod = "https://slack.com/api/"
    assert allowed("https://files.slack.com/files-pri/T1-F1/download/r.json.gz", prod)
    assert allowed("https://files.slack.com:443/files-pri/T1-F1/r.json", prod)
    for url in (
        "http://files.slack.com/files-pri/T1-F1/r.json",  # not https
        "https://files.slack.com.evil.example/r.json",
        "https://evil.example/files.slack.com/r.json",
        "https://user:pw@files.slack.com/r.json",
        "https://files.slack.com:8443/r.json",
        "https://slack.com/files-pri/T1-F1/r.json",  # the API host is not the file host
        "https://127.0.0.1:9/r.json",
        "file:///etc/passwd",
        "https://[::1/r.json",  # unparseable
    ):
        assert not allowed(url, prod), url
    local = "http://127.0.0.1:4000/api/"  # SLACK_API_URL of a stand-in: its own origin
    assert allowed("http://127.0.0.1:4000/files-pri/T1-F1/download/r.json", local)
    assert not allowed("http://127.0.0.1:4001/files-pri/T1-F1/download/r.json", local)
    assert not allowed("https://127.0.0.1:4000/files-pri/r.json", local)
    assert not allowed("http://localhost:4000/files-pri/r.json", local)


async def test_download_with_the_bot_token(standin: SlackStandin) -> None:
    info = standin.upload_file("r.json", b'{"policies": []}', mimetype="application/json")
    got = await download(_client(standin), info)
    assert got.data == b'{"policies": []}'
    assert got.problem is None
    assert got.name == "r.json"
    (call,) = standin.calls_to("files.download")
    assert call.token == TOKEN
    assert standin.calls_to("files.info") == []  # the event's link was enough


async def test_files_info_when_the_event_lacks_the_link(standin: SlackStandin) -> None:
    info = standin.upload_file("r.json.gz", b"\x1f\x8bdata")
    partial = {"id": info["id"], "file_access": "check_file_info", "mode": "hosted"}
    got = await download(_client(standin), partial)
    assert got.data == b"\x1f\x8bdata"
    assert got.name == "r.json.gz"
    assert [c.args["file"] for c in standin.calls_to("files.info")] == [info["id"]]


async def test_without_a_usable_token_slack_sends_a_sign_in_page(standin: SlackStandin) -> None:
    info = standin.upload_file("r.json", b"{}")
    got = await download(_client(standin, token="not-a-token"), info)
    assert got.data is None
    assert got.problem is not None
    assert got.problem.startswith(NEEDS_FILES_READ)
    (call,) = standin.calls_to("files.download")
    assert call.status == 302  # the redirect (to another host) was not followed


async def test_missing_scope_and_deleted_files(standin: SlackStandin) -> None:
    standin.fail_once("files.info", "missing_scope")
    got = await download(_client(standin), {"id": "F1", "file_access": "check_file_info"})
    assert got.problem is not None
    assert "files:read" in got.problem
    got = await download(_client(standin), {"id": "F404", "file_access": "check_file_info"})
    assert got.problem == "I couldn't find F404 any more (deleted?)."
    got = await download(_client(standin), {"id": "F2", "name": "r.json", "mode": "tombstone"})
    assert got.problem == "r.json has been deleted, so I can't read it."
    external = {"id": "F3", "name": "Report", "is_external": True, "url_private": "https://x"}
    got = await download(_client(standin), external)
    assert got.problem is not None
    assert "stored outside Slack" in got.problem


async def test_a_foreign_link_is_never_fetched(standin: SlackStandin) -> None:
    forged = {"id": "F1", "name": "r.json", "url_private_download": "https://evil.example/r.json"}
    got = await download(_client(standin), forged)
    assert got.problem == (
        "r.json is not on Slack's file host, so I didn't fetch it (I only download files "
        "from Slack itself)."
    )
    assert standin.calls_to("files.download") == []


@pytest.mark.parametrize("claimed", [None, 100])
async def test_size_is_capped_whatever_slack_states(
    standin: SlackStandin, claimed: int | None
) -> None:
    info = standin.upload_file("big.json", b" " * 5000, claimed_size=claimed)
    got = await download(_client(standin), info, max_bytes=4096)
    assert got.data is None
    assert got.problem is not None
    assert "big.json is larger than 10 MiB as shared" in got.problem
    # told by the stated size, nothing is downloaded; a false size is caught while reading
    assert len(standin.calls_to("files.download")) == (0 if claimed is None else 1)


async def test_a_server_error_is_one_sentence(standin: SlackStandin) -> None:
    info = standin.upload_file("r.json", b"{}")
    info["url_private_download"] = info["url_private_download"].replace(
        "/files-pri/T", "/files-pri/X"
    )
    got = await download(_client(standin), info)
    assert (
        got.problem
        == "Slack answered HTTP 404 when I fetched r.json; please share it again in a minute."
    )
