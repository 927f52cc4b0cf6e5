"""/metrics and /healthz of the app served for real: what the counters say after real
requests, and the health registry's status codes."""

from __future__ import annotations

import json

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from slack_harness import Harness

from bot.health import Probed
from bot.testbed.slack_standin import SignedRequest


async def get(h: Harness, path: str) -> tuple[int, str, str]:
    base = h.url.rsplit("/slack/", 1)[0]
    async with aiohttp.ClientSession() as http, http.get(base + path) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


def value(h: Harness, name: str, **labels: str) -> float:
    return h.services.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_metrics_count_requests_checks_cache_hits_and_slack_errors(harness: Harness) -> None:
    h = harness
    _, first = await h.command("m.example")
    await h.wait_for(lambda calls: h.standin.response_posts(first))
    request = h.slack.slash_command("m.example", response_url=h.standin.new_response_url())
    assert (await h.send(request)).status == 200  # a cache hit
    assert (await h.send(request)).status == 401  # the same signed request again
    h.standin.fail_once("chat.postMessage", "channel_not_found")
    mention = h.slack.mention("m.example", event_id="EvMET1")
    assert (await h.send(mention)).status == 200
    event = json.loads(mention.body)["event"]
    stamp = int(mention.headers["X-Slack-Request-Timestamp"]) + 1  # Slack signs it anew
    retry = h.slack.event(event, event_id="EvMET1", retry_num=1, timestamp=stamp)
    assert (await h.send(retry)).status == 200
    await h.wait_for(lambda calls: h.standin.calls_to("chat.postMessage"))
    await h.idle()

    assert value(h, "mtasts_requests_total", kind="command", outcome="ok") == 2
    assert value(h, "mtasts_requests_total", kind="http", outcome="replay") == 1
    assert value(h, "mtasts_requests_total", kind="event", outcome="duplicate") == 1
    assert value(h, "mtasts_checks_total", status="pass") == 1
    assert value(h, "mtasts_check_duration_seconds_count") == 1
    assert value(h, "mtasts_cache_lookups_total", result="miss") == 1
    assert value(h, "mtasts_cache_lookups_total", result="hit") == 2  # command and mention
    assert (
        value(
            h, "mtasts_slack_api_errors_total", method="chat.postMessage", error="channel_not_found"
        )
        == 1
    )

    status, content_type, text = await get(h, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"mtasts_requests", "mtasts_alerts_posted", "mtasts_scheduler_lag_seconds"} <= names
    assert "m.example" not in text  # no domain, team or user in any label


async def test_a_failed_check_is_counted_as_an_error(harness: Harness) -> None:
    h = harness
    h.checker.failing.add("bug.example")
    _, url = await h.command("bug.example")
    await h.wait_for(lambda calls: h.standin.response_posts(url))
    await h.idle()
    assert value(h, "mtasts_checks_total", status="error") == 1
    assert value(h, "mtasts_requests_total", kind="command", outcome="check_failed") == 1


async def test_healthz_is_503_when_a_required_dependency_is_down(harness: Harness) -> None:
    h = harness
    status, _, text = await get(h, "/healthz")
    assert (status, json.loads(text)) == (200, {"ok": True, "mode": "http", "checks": {}})

    async def database() -> Probed:
        return Probed(False, {"error": "OperationalError"})

    h.services.health.add("database", database, required=True)
    status, _, text = await get(h, "/healthz")
    assert status == 503
    assert json.loads(text)["checks"]["database"]["ok"] is False


async def test_metrics_and_healthz_need_no_signature_but_events_do(harness: Harness) -> None:
    h = harness
    unsigned = SignedRequest("{}", {"Content-Type": "application/json"})
    assert (await h.send(unsigned)).status == 401
    assert (await get(h, "/metrics"))[0] == 200
