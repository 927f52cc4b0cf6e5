"""Slack's retries of an event never produce a second answer."""

from __future__ import annotations

import json

from slack_harness import Harness


async def test_event_delivered_twice_is_answered_once(harness: Harness) -> None:
    first = harness.slack.mention("example.com", event_id="Ev0RETRY01", ts="1700000020.000100")
    retry = harness.slack.event(json.loads(first.body)["event"], event_id="Ev0RETRY01", retry_num=1)
    assert (await harness.send(first)).status == 200
    assert (await harness.send(retry)).status == 200
    assert retry.headers["X-Slack-Retry-Num"] == "1"

    # A different event afterwards: once it is answered and all is idle, count answers.
    await harness.send(harness.slack.mention("other.example", ts="1700000021.000100"))
    await harness.wait_for(lambda calls: len(harness.standin.calls_to("chat.postMessage")) >= 2)
    await harness.idle()
    posts = harness.standin.calls_to("chat.postMessage")
    assert sorted(p.args["thread_ts"] for p in posts) == ["1700000020.000100", "1700000021.000100"]
    assert harness.services.tracker.started == 2  # the retry never reached a listener


async def test_retry_of_a_slow_event_still_being_handled_is_ignored(harness: Harness) -> None:
    gate = harness.checker.hold("slow.example")
    first = harness.slack.mention("slow.example", event_id="Ev0SLOW01", ts="1700000022.000100")
    await harness.send(first)
    await harness.checker.started.wait()
    for n in (1, 2, 3):
        retry = harness.slack.event(
            json.loads(first.body)["event"], event_id="Ev0SLOW01", retry_num=n
        )
        assert (await harness.send(retry)).status == 200
    gate.set()
    await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage"))
    await harness.idle()
    assert len(harness.standin.calls_to("chat.postMessage")) == 1
    assert harness.checker.calls == ["slow.example"]


async def test_a_new_event_with_retry_headers_is_still_handled(harness: Harness) -> None:
    # The first delivery never reached us (say, a restart): the retry is the one to answer.
    retry = harness.slack.mention("example.com", event_id="Ev0LOST01", retry_num=1)
    assert (await harness.send(retry)).status == 200
    await harness.wait_for(lambda calls: harness.standin.calls_to("chat.postMessage"))
