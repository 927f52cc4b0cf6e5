"""Request verification and url_verification, over real HTTP."""

from __future__ import annotations

import json
import time

from slack_harness import Harness

from bot.slack.blocks.ids import ACTION_POLICY


async def test_url_verification_echoes_the_challenge(harness: Harness) -> None:
    sent = await harness.send(harness.slack.url_verification("challenge-xyz-123"))
    assert sent.status == 200
    assert sent.json() == {"challenge": "challenge-xyz-123"}


async def test_bad_signature_is_401_and_causes_no_slack_call(harness: Harness) -> None:
    url = harness.standin.new_response_url()
    trigger = harness.standin.new_trigger_id()
    forged = [
        harness.slack.slash_command("example.com", response_url=url, secret="wrong-secret"),
        harness.slack.mention("example.com", secret="wrong-secret"),
        harness.slack.block_action(
            ACTION_POLICY, "example.com", response_url=url, trigger_id=trigger, secret="nope"
        ),
    ]
    for request in forged:
        sent = await harness.send(request)
        assert sent.status == 401
    # A signature for a different body (a tampered request) is refused too.
    good = harness.slack.slash_command("example.com", response_url=url)
    tampered = type(good)(good.body.replace("example.com", "evil.example"), good.headers)
    assert (await harness.send(tampered)).status == 401
    # No header at all.
    async with harness.session.post(harness.url, data=good.body) as r:
        assert r.status == 401
    assert harness.standin.calls == []
    assert harness.services.tracker.started == 0
    assert harness.checker.calls == []


async def test_stale_timestamp_is_401_even_with_a_valid_signature(harness: Harness) -> None:
    url = harness.standin.new_response_url()
    stale = int(time.time()) - 6 * 60
    sent = await harness.send(
        harness.slack.slash_command("example.com", response_url=url, timestamp=stale)
    )
    assert sent.status == 401
    future = int(time.time()) + 6 * 60
    sent = await harness.send(harness.slack.mention("example.com", timestamp=future))
    assert sent.status == 401
    assert harness.standin.calls == []
    assert harness.checker.calls == []


async def test_signed_request_within_five_minutes_is_accepted(harness: Harness) -> None:
    url = harness.standin.new_response_url()
    recent = int(time.time()) - 4 * 60
    sent = await harness.send(
        harness.slack.slash_command("help", response_url=url, timestamp=recent)
    )
    assert sent.status == 200
    assert "/mtasts" in json.loads(sent.text)["text"]
