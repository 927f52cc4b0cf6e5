"""Policy file / DNS records / MX & TLS: a modal via views.open within the trigger window."""

from __future__ import annotations

import json

import pytest
from slack_harness import Harness

from bot.slack.blocks.ids import ACTION_DNS, ACTION_MX, ACTION_POLICY

TITLES = {ACTION_POLICY: "Policy", ACTION_DNS: "DNS", ACTION_MX: "MX"}


async def _warm(harness: Harness, domain: str) -> None:
    _, url = await harness.command(domain)
    await harness.wait_for(lambda calls: harness.standin.response_posts(url))
    await harness.idle()


@pytest.mark.parametrize("action_id", [ACTION_POLICY, ACTION_DNS, ACTION_MX])
async def test_cached_result_opens_the_modal_at_once(harness: Harness, action_id: str) -> None:
    await _warm(harness, "example.com")
    sent, _, trigger_id = await harness.click(action_id, "example.com")
    assert sent.status == 200
    assert sent.text == ""
    opened = (await harness.wait_for(lambda calls: harness.standin.calls_to("views.open")))[0]
    await harness.idle()
    assert opened.ok, opened.error
    assert opened.args["trigger_id"] == trigger_id
    view = opened.args["view"]
    assert view["type"] == "modal"
    assert TITLES[action_id] in view["title"]["text"]
    assert "example.com" in json.dumps(view)
    assert harness.standin.calls_to("views.update") == []
    assert harness.checker.calls == ["example.com"]  # no second check


async def test_cache_miss_opens_a_loading_view_then_updates_it(harness: Harness) -> None:
    gate = harness.checker.hold("cold.example")
    await harness.click(ACTION_POLICY, "cold.example")
    opened = (await harness.wait_for(lambda calls: harness.standin.calls_to("views.open")))[0]
    # views.open happened while the check was still held: within the trigger's window.
    assert opened.ok
    assert "Loading" in opened.args["view"]["title"]["text"]
    assert harness.standin.calls_to("views.update") == []
    gate.set()
    update = (await harness.wait_for(lambda calls: harness.standin.calls_to("views.update")))[0]
    assert update.ok, update.error
    view_id = update.args["view_id"]
    final = harness.standin.view(view_id)
    assert final is not None
    assert "Policy" in final["title"]["text"]
    assert "version: STSv1" in json.dumps(final)


async def test_failed_check_updates_the_modal_with_an_error(harness: Harness) -> None:
    harness.checker.failing.add("bug.example")
    await harness.click(ACTION_MX, "bug.example")
    update = (await harness.wait_for(lambda calls: harness.standin.calls_to("views.update")))[0]
    text = json.dumps(update.args["view"])
    assert "bug.example" in text
    assert "Traceback" not in text


async def test_expired_trigger_tells_the_clicker_privately(harness: Harness) -> None:
    await _warm(harness, "example.com")
    response_url = harness.standin.new_response_url()
    trigger_id = harness.standin.new_trigger_id()
    harness.standin._triggers[trigger_id] -= 10  # issued 10 s ago: expired
    await harness.send(
        harness.slack.block_action(
            ACTION_DNS, "example.com", response_url=response_url, trigger_id=trigger_id
        )
    )
    post = (await harness.wait_for(lambda calls: harness.standin.response_posts(response_url)))[0]
    await harness.idle()
    assert harness.standin.calls_to("views.open")[0].error == "expired_trigger_id"
    assert post.args["response_type"] == "ephemeral"
    assert post.args["replace_original"] is False
    assert "again" in post.args["text"]


async def test_button_value_that_is_not_a_domain_gets_an_error_modal(harness: Harness) -> None:
    await harness.click(ACTION_POLICY, "<!channel> not a domain")
    opened = (await harness.wait_for(lambda calls: harness.standin.calls_to("views.open")))[0]
    text = json.dumps(opened.args["view"])
    assert "<!channel>" not in text
    assert harness.checker.calls == []
