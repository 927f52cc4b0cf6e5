"""Forged, stale and replayed requests are refused with 401 before any work.

Every request here is sent over HTTP to the real app (build_app + make_web_app).
"Before any work" is checked three ways: the Web API stand-in received no call
(not even Bolt's lazy auth.test), no listener started (tracker), and the
checker was never called.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
from slack_harness import BOT_TOKEN, SIGNING_SECRET, Harness, running_app, web_calls

from bot.slack.blocks.ids import ACTION_POLICY, ACTION_RECHECK
from bot.slack.replay import WINDOW, ReplayGuard, Verdict
from bot.testbed.slack_standin import SignedRequest, sign


def assert_no_work(h: Harness) -> None:
    assert h.standin.calls == []
    assert h.services.tracker.started == 0
    assert h.checker.calls == []


async def test_bad_signatures_of_every_kind_are_401_without_work(harness: Harness) -> None:
    h = harness
    url, trigger = h.standin.new_response_url(), h.standin.new_trigger_id()
    good = h.slack.slash_command("example.com", response_url=url)
    ts = good.headers["X-Slack-Request-Timestamp"]
    variants: list[SignedRequest] = [
        h.slack.slash_command("example.com", response_url=url, secret="wrong"),
        h.slack.mention("example.com", secret="wrong"),
        h.slack.direct_message("example.com", secret="wrong"),
        h.slack.block_action(
            ACTION_POLICY, "example.com", response_url=url, trigger_id=trigger, secret="x"
        ),
        # right secret, wrong version prefix / truncated / upper-cased hex / empty
        SignedRequest(good.body, {**good.headers, "X-Slack-Signature": "v1=" + sign("s", "", 0)}),
        SignedRequest(
            good.body, {**good.headers, "X-Slack-Signature": good.headers["X-Slack-Signature"][:-1]}
        ),
        SignedRequest(
            good.body,
            {**good.headers, "X-Slack-Signature": good.headers["X-Slack-Signature"].upper()},
        ),
        SignedRequest(good.body, {**good.headers, "X-Slack-Signature": ""}),
        # timestamp header that is not a number, or missing
        SignedRequest(good.body, {**good.headers, "X-Slack-Request-Timestamp": ts + "x"}),
        SignedRequest(good.body, {k: v for k, v in good.headers.items() if "Timestamp" not in k}),
        # a signature for another body (tampered text) or another timestamp
        SignedRequest(good.body.replace("example.com", "evil.example"), good.headers),
        SignedRequest(good.body, {**good.headers, "X-Slack-Request-Timestamp": str(int(ts) + 1)}),
    ]
    for request in variants:
        sent = await h.send(request)
        assert sent.status == 401, request.headers
        assert "example.com" not in sent.text  # nothing of the request echoed
    assert_no_work(h)


@pytest.mark.parametrize("offset", [WINDOW + 1, -(WINDOW + 1), 3600, -86400, 10**9])
async def test_timestamps_outside_five_minutes_are_401_past_and_future(offset: int) -> None:
    async with running_app() as h:
        url = h.standin.new_response_url()
        stamp = int(time.time()) + offset
        for request in (
            h.slack.slash_command("example.com", response_url=url, timestamp=stamp),
            h.slack.mention("example.com", timestamp=stamp),
            h.slack.block_action(
                ACTION_RECHECK, "example.com", response_url=url, trigger_id="t", timestamp=stamp
            ),
        ):
            assert (await h.send(request)).status == 401
        assert_no_work(h)


async def test_replayed_slash_command_is_401_and_runs_once(harness: Harness) -> None:
    h = harness
    url = h.standin.new_response_url()
    request = h.slack.slash_command("replay.example", response_url=url)
    first = await h.send(request)
    assert first.status == 200
    await h.wait_for(lambda calls: h.standin.response_posts(url))
    await h.idle()
    before = (list(h.standin.calls), h.services.tracker.started, list(h.checker.calls))
    for _ in range(3):
        again = await h.send(request)
        assert again.status == 401
        assert "replay.example" not in again.text
    await h.idle()
    assert (h.standin.calls, h.services.tracker.started, h.checker.calls) == before
    assert len(h.standin.response_posts(url)) == 1


async def test_replayed_button_click_and_mention_are_401(harness: Harness) -> None:
    h = harness
    url, trigger = h.standin.new_response_url(), h.standin.new_trigger_id()
    click = h.slack.block_action(
        ACTION_RECHECK, "click.example", response_url=url, trigger_id=trigger
    )
    mention = h.slack.mention("mention.example", ts="1700000100.000100")
    assert (await h.send(click)).status == 200
    assert (await h.send(mention)).status == 200
    await h.wait_for(
        lambda calls: h.standin.response_posts(url) and h.standin.calls_to("chat.postMessage")
    )
    await h.idle()
    started = h.services.tracker.started
    n_calls = len(web_calls(h.standin.calls))
    assert (await h.send(click)).status == 401
    assert (await h.send(mention)).status == 401
    await h.idle()
    assert h.services.tracker.started == started
    assert len(web_calls(h.standin.calls)) == n_calls
    assert sorted(h.checker.calls) == ["click.example", "mention.example"]


async def test_replay_with_retry_headers_added_does_no_work(harness: Harness) -> None:
    # An attacker adding X-Slack-Retry-Num to a replayed command gains nothing: still 401.
    h = harness
    url = h.standin.new_response_url()
    request = h.slack.slash_command("help", response_url=url)
    assert (await h.send(request)).status == 200
    forged = SignedRequest(request.body, {**request.headers, "X-Slack-Retry-Num": "1"})
    assert (await h.send(forged)).status == 401
    # An event replayed as a "retry" is acked (Slack must not count a failure) but never
    # reaches a listener.
    event = h.slack.mention("retry.example", event_id="EvREPLAY1", ts="1700000101.000100")
    assert (await h.send(event)).status == 200
    await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage"))
    await h.idle()
    started = h.services.tracker.started
    as_retry = SignedRequest(event.body, {**event.headers, "X-Slack-Retry-Num": "1"})
    sent = await h.send(as_retry)
    assert sent.status == 200
    assert sent.text == ""
    await h.idle()
    assert h.services.tracker.started == started
    assert len(h.standin.calls_to("chat.postMessage")) == 1


async def test_slacks_real_retry_has_a_new_signature_and_is_acked_once(harness: Harness) -> None:
    h = harness
    first = h.slack.mention("slow.example", event_id="EvRETRY9", ts="1700000102.000100")
    gate = h.checker.hold("slow.example")
    assert (await h.send(first)).status == 200
    await h.checker.started.wait()
    event = json.loads(first.body)["event"]
    for n, later in ((1, 1), (2, 61), (3, 299)):  # re-signed at each delivery
        stamp = int(first.headers["X-Slack-Request-Timestamp"]) + later
        retry = h.slack.event(event, event_id="EvRETRY9", retry_num=n, timestamp=stamp)
        assert retry.headers["X-Slack-Signature"] != first.headers["X-Slack-Signature"]
        assert (await h.send(retry)).status == 200
    gate.set()
    await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage"))
    await h.idle()
    assert len(h.standin.calls_to("chat.postMessage")) == 1
    assert h.checker.calls == ["slow.example"]


async def test_guard_forgets_a_signature_once_its_timestamp_is_stale() -> None:
    now = [1_800_000_000.0]
    guard = ReplayGuard("secret", maxsize=10, clock=lambda: now[0])
    body = "token=x&text=a"
    stamp = int(now[0])
    headers = {
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign("secret", body, stamp),
    }
    assert await guard.check(body, headers) is Verdict.OK
    now[0] += WINDOW  # still inside the window: a replay
    assert await guard.check(body, headers) is Verdict.REPLAY
    assert len(guard.marks) == 1  # type: ignore[arg-type]
    now[0] += 2  # outside: stale, and forgotten
    assert await guard.check(body, headers) is Verdict.INVALID
    assert len(guard.marks) == 0  # type: ignore[arg-type]


async def test_guard_memory_is_bounded_and_forged_requests_are_not_remembered() -> None:
    now = [1_800_000_000.0]
    guard = ReplayGuard("secret", maxsize=5, clock=lambda: now[0])
    stamp = int(now[0])
    for i in range(50):
        body = f"n={i}"
        forged = {
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign("bad", body, stamp),
        }
        assert await guard.check(body, forged) is Verdict.INVALID
    assert len(guard.marks) == 0  # type: ignore[arg-type]
    for i in range(50):
        body = f"n={i}"
        good = {
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign("secret", body, stamp),
        }
        assert await guard.check(body, good) is Verdict.OK
    assert len(guard.marks) == 5  # type: ignore[arg-type]


async def test_refusals_log_the_reason_but_no_secret_or_signature(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.DEBUG)
    url = h.standin.new_response_url()
    good = h.slack.slash_command("help", response_url=url)
    forged = h.slack.slash_command("help", response_url=url, secret="wrong")
    assert (await h.send(good)).status == 200
    assert (await h.send(good)).status == 401
    assert (await h.send(forged)).status == 401
    await h.idle()
    text = "\n".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    )
    assert "reason=replay" in text
    assert "reason=invalid" in text
    for secret in (
        SIGNING_SECRET,
        BOT_TOKEN,
        good.headers["X-Slack-Signature"],
        forged.headers["X-Slack-Signature"],
    ):
        assert secret not in text
