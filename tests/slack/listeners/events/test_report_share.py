"""TLS-RPT reports shared with the bot through the stand-in: files in a DM, with a mention,
or pasted; answered in the thread with the summary, then the fresh check."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from slack_harness import BOT_TOKEN, Harness, running_app

from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.testbed.reports import Failure, google_shape, gzipped, microsoft_shape, rfc_shape
from bot.testbed.slack_standin import Call

TS = "1700000100.000100"


def _posts(h: Harness) -> list[Call]:
    return h.standin.calls_to("chat.postMessage")


def _text(call: Call) -> str:
    return json.dumps(call.args.get("blocks") or call.args.get("text"), ensure_ascii=False)


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

    # the summary itself is updated in place with the verdicts
    assert update.ok
    stored = harness.standin.messages[(update.args["channel"], update.args["ts"])]
    assert stored["thread_ts"] == TS
    assert stored["blocks"] == update.args["blocks"]
    updated = _text(update)
    assert "Checking" not in updated
    # the fake checker's mx1 has a valid certificate now: fixed since
    assert "fixed since" in updated
    assert "renewed since" in updated

    assert result.args["thread_ts"] == TS
    assert "shop.example" in result.args["text"]
    actions = [b for b in result.args["blocks"] if b["type"] == "actions"]
    assert actions
    assert actions[0]["elements"][0]["value"] == "shop.example"
    assert harness.checker.calls == ["shop.example"]
    # the file was fetched with the bot token, from the stand-in (Slack's file host here)
    download = harness.standin.calls_to("files.download")
    assert len(download) == 1
    assert download[0].token == BOT_TOKEN
    assert download[0].ok


async def test_a_zip_of_a_week_shared_with_a_mention_is_one_summary_in_its_thread(
    harness: Harness,
) -> None:
    days = [
        (f"google.com!shop.example!{n}.json.gz", gzipped(google_shape("shop.example", [])))
        for n in range(7)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in days:
            archive.writestr(name, data)
    info = harness.standin.upload_file("week.zip", buffer.getvalue(), filetype="zip")
    await harness.send(harness.slack.mention("what does this say?", ts=TS, files=[info]))
    summary, update, result = await _summary_and_result(harness)
    assert (summary.args["channel"], summary.args["thread_ts"]) == ("C0GENERAL", TS)
    assert "From Google Inc.* · `smtp-tls-reporting@google.com` · 7 reports" in _text(summary)
    assert "All 7,000 sessions succeeded" in _text(update)
    assert result.args["thread_ts"] == TS


async def test_several_files_from_two_senders_in_one_message(harness: Harness) -> None:
    google = harness.standin.upload_file("g.json.gz", gzipped(google_shape("shop.example", [])))
    microsoft = harness.standin.upload_file(
        "m.json", json.dumps(microsoft_shape("shop.example", _expired("shop.example"))).encode()
    )
    await harness.send(harness.slack.file_share([google, microsoft], ts=TS))
    summary, _, _ = await _summary_and_result(harness)
    text = _text(summary)
    assert "TLS-RPT reports for shop.example" in text
    assert text.index("From Microsoft Corporation") < text.index(
        "From Google Inc."
    )  # failures first
    assert len(harness.standin.calls_to("files.download")) == 2


async def test_pasted_json_as_slack_delivers_it(harness: Harness) -> None:
    report = json.dumps(rfc_shape("shop.example", _expired("shop.example")), indent=1)
    # Slack escapes & < > and turns addresses and URLs into links in a message's text
    text = (
        "```"
        + report.replace(
            "sts-reporting@company-x.example",
            "<mailto:sts-reporting@company-x.example|sts-reporting@company-x.example>",
        )
        + "```"
    )
    await harness.send(harness.slack.direct_message(text, ts=TS))
    summary, _update, _ = await _summary_and_result(harness)
    assert "`sts-reporting@company-x.example`" in _text(summary)
    assert "12 of 1,012 sessions failed" in _text(summary)
    assert harness.standin.calls_to("files.download") == []


async def test_pasted_json_in_a_mention(harness: Harness) -> None:
    report = json.dumps(google_shape("shop.example", _expired("shop.example")))
    await harness.send(harness.slack.mention(report, ts=TS))
    summary, _, _ = await _summary_and_result(harness)
    assert summary.args["channel"] == "C0GENERAL"
    assert "TLS-RPT report for shop.example" in _text(summary)


async def test_an_image_gets_one_sentence_and_nothing_else(harness: Harness) -> None:
    await _share(harness, "screenshot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, filetype="png")
    await harness.wait_for(lambda calls: _posts(harness))
    await harness.idle()
    (post,) = _posts(harness)
    assert post.args["thread_ts"] == TS
    assert post.args["text"].startswith("screenshot.png is an image (PNG), not a TLS-RPT report; ")
    assert len(post.args["blocks"]) == 1
    assert harness.checker.calls == []
    assert harness.standin.calls_to("chat.update") == []


async def test_pasted_dmarc_xml_is_told_what_it_is(harness: Harness) -> None:
    xml = (
        '&lt;?xml version="1.0"?&gt;&lt;feedback&gt;&lt;report_metadata&gt;'
        "&lt;/report_metadata&gt;&lt;/feedback&gt;"
    )
    await harness.send(harness.slack.direct_message(xml, ts=TS))
    post = (await harness.wait_for(lambda calls: _posts(harness)))[0]
    assert "is a DMARC aggregate report (XML), not a TLS-RPT report" in post.args["text"]


async def test_a_link_to_another_host_is_not_fetched(harness: Harness) -> None:
    forged = {"id": "F0FORGED", "name": "r.json", "url_private_download": "https://evil.example/r"}
    await harness.send(harness.slack.file_share([forged], ts=TS))
    post = (await harness.wait_for(lambda calls: _posts(harness)))[0]
    assert "r.json is not on Slack's file host, so I didn't fetch it" in post.args["text"]
    assert harness.standin.calls_to("files.download") == []


async def test_a_rate_limited_check_is_said_in_the_summary() -> None:
    limiter = MemoryRateLimiter(user=Limit(burst=1, per_second=0.001), team=Limit(60, 1.0))
    async with running_app(limiter=limiter) as h:
        await h.send(h.slack.direct_message("other.example", ts="1700000000.000001"))
        await h.wait_for(lambda calls: _posts(h))  # the one token is spent
        await h.idle()
        await _share(
            h, "r.json.gz", gzipped(google_shape("shop.example", _expired("shop.example")))
        )
        await h.wait_for(lambda calls: h.standin.calls_to("chat.update"))
        await h.idle()
        update = h.standin.calls_to("chat.update")[0]
        assert "I couldn't check `shop.example` now: that's a lot of checks" in _text(update)
        assert h.checker.calls == ["other.example"]
        assert len(_posts(h)) == 2  # the domain's answer and the summary; no result message


async def test_a_cached_result_is_reused(harness: Harness) -> None:
    await harness.send(harness.slack.direct_message("shop.example", ts="1700000000.000001"))
    await harness.wait_for(lambda calls: _posts(harness))
    await harness.idle()
    await _share(harness, "r.json.gz", gzipped(google_shape("shop.example", [])))
    await harness.wait_for(lambda calls: len(_posts(harness)) == 3)
    await harness.idle()
    assert harness.checker.calls == ["shop.example"]  # through the cache
    assert "cached" in _text(_posts(harness)[2])


async def test_a_plain_domain_in_a_dm_is_still_a_check(harness: Harness) -> None:
    await harness.send(harness.slack.direct_message("shop.example", ts=TS))
    post = (await harness.wait_for(lambda calls: _posts(harness)))[0]
    await harness.idle()
    assert post.args["text"].startswith("shop.example: ")
    assert harness.standin.calls_to("files.download") == []


async def test_bots_and_edits_are_ignored(harness: Harness) -> None:
    info = harness.standin.upload_file("r.json", b"{}")
    report = json.dumps(google_shape("shop.example", []))
    from_a_bot = {"subtype": "file_share", "files": [info], "bot_id": "B0OTHER"}
    await harness.send(harness.slack.direct_message("x", ts=TS, extra=from_a_bot))
    await harness.send(
        harness.slack.direct_message(report, ts=TS, extra={"subtype": "message_changed"})
    )
    await harness.send(harness.slack.direct_message(report, ts=TS, user="U0STANDBOT"))
    await harness.idle()
    assert _posts(harness) == []
    assert harness.standin.calls_to("files.download") == []


async def test_where_the_bot_may_not_post_the_person_gets_it_in_a_dm(harness: Harness) -> None:
    harness.standin.restrict_posting("C0GENERAL")
    info = harness.standin.upload_file("r.json.gz", gzipped(google_shape("shop.example", [])))
    await harness.send(harness.slack.mention("", ts=TS, files=[info]))
    await harness.wait_for(lambda calls: len([c for c in _posts(harness) if c.ok]) >= 3)
    await harness.idle()
    delivered = [c for c in _posts(harness) if c.ok]
    assert {c.args["channel"] for c in delivered} == {"U0CALLER"}
    assert "restricts who can post" in delivered[0].args["text"]
    assert "TLS-RPT report for shop.example" in _text(delivered[0])


async def test_a_bug_is_an_apology_in_the_thread_never_a_traceback(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.slack.flows.tlsrpt as flow

    def broken(*args: Any) -> Any:
        raise RuntimeError("Traceback (most recent call last): a bug")

    monkeypatch.setattr(flow, "build_report_message", broken)
    await _share(harness, "r.json.gz", gzipped(google_shape("shop.example", [])))
    post = (await harness.wait_for(lambda calls: _posts(harness)))[0]
    await harness.idle()
    assert post.args["thread_ts"] == TS
    assert "Something went wrong on my side" in post.args["text"]
    assert "Traceback" not in _text(post)


async def test_a_policy_domain_that_is_no_domain_is_never_checked(harness: Harness) -> None:
    report = google_shape("shop.example", _expired("shop.example"))
    for name in ("127.0.0.1", "localhost"):
        extra = google_shape(name, _expired(name))["policies"][0]
        report["policies"].append(extra)
    await _share(harness, "r.json", json.dumps(report).encode())
    _, update, _ = await _summary_and_result(harness)
    text = _text(update)
    assert "I couldn't check `127.0.0.1` now: it is not a domain I can check" in text
    assert "I couldn't check `localhost` now: it is not a domain I can check" in text
    assert harness.checker.calls == ["shop.example"]


async def test_a_bomb_and_a_dmarc_zip_get_one_sentence_each(harness: Harness) -> None:
    corpus = Path(__file__).parents[3] / "reports" / "corpus"
    files = [
        harness.standin.upload_file(name, (corpus / name).read_bytes())
        for name in ("gzip-bomb.json.gz", "dmarc-google.zip")
    ]
    await harness.send(harness.slack.file_share(files, ts=TS))
    post = (await harness.wait_for(lambda calls: _posts(harness)))[0]
    await harness.idle()
    assert len(_posts(harness)) == 1
    body = post.args["blocks"][0]["text"]["text"]
    assert body.startswith(":warning: I found no TLS-RPT report in these files:")
    assert "gzip-bomb.json.gz is larger than 10 MiB once decompressed" in body
    assert "is a DMARC aggregate report (XML), not a TLS-RPT report" in body
    assert harness.checker.calls == []
