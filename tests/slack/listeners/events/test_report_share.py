"""TLS-RPT reports shared with the bot through the stand-in: files in a DM, with a mention,
or pasted; answered in the thread with the summary, then the fresh check."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from slack_harness import BOT_TOKEN, Harness, running_app

from bot.slack.ratelimit import Limit, RateLimiter
from bot.testbed.reports import Failure, google_shape, gzipped, microsoft_shape, rfc_shape
from bot.testbed.slack_standin import Call

TS = "1700000100.000100"


def _posts(h: Harness) -> list[Call]:
    return h.standin.calls_to("chat.postMessage")


def _text(call: Call) -> str:
    return json.dumps(call.args.get("blocks") or call.args.get("text"))


def _expired(domain: str, count: int = 12) -> list[Failure]:
    return [Failure("certificate-expired", f"mx1.{domain}", count)]


async def _share(h: Harness, name: str, content: bytes, **kw: Any) -> None:
    info = h.standin.upload_file(name, content, **kw)
    sent = await h.send(h.slack.file_share([info], ts=TS))
    assert sent.status == 200


async def _summary_and_result(h: Harness) -> tuple[Call, Call, Call]:
    """The summary post, its update with the verdicts, and the check's result message."""
    await h.wait_for(lambda calls: len(_posts(h)) >= 2 and h.standin.calls_to("chat.update"))
    await h.idle()
    posts = _posts(h)
    assert len(posts) == 2
    return posts[0], h.standin.calls_to("chat.update")[0], posts[1]


async def test_a_gzipped_report_in_a_dm_is_explained_then_checked(harness: Harness) -> None:
    report = google_shape("shop.example", _expired("shop.example"), successes=88)
    await _share(harness, "google.com!shop.example!1!2.json.gz", gzipped(report))
    summary, update, result = await _summary_and_result(harness)

    assert summary.args["channel"] == "D0CALLER"
    assert summary.args["thread_ts"] == TS
    first = _text(summary)
    assert "TLS-RPT report for shop.example" in first
    assert "Google Inc." in first
    assert "12 of 100 sessions failed" in first
    assert "certificate-expired" in first
    assert "Renew the certificate" in first
    assert "Checking" in first  # the fresh check is under way

    assert update.args["ts"] == summary.ok and update.args["ts"]  # the summary, updated
    updated = _text(update)
    assert "Checking" not in updated
    # the fake checker's mx1 has a valid certificate now: fixed since
    assert "fixed since" in updated
    assert "renewed since" in updated

    assert result.args["thread_ts"] == TS
    assert "shop.example" in result.args["text"]
    actions = [b for b in result.args["blocks"] if b["type"] == "actions"]
    assert actions and actions[0]["elements"][0]["value"] == "shop.example"
    assert harness.checker.calls == ["shop.example"]
    # the file was fetched with the bot token, from the stand-in (Slack's file host here)
    download = harness.standin.calls_to("files.download")
    assert len(download) == 1 and download[0].token == BOT_TOKEN and download[0].ok
