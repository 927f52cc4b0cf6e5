"""The metrics: one registry per app, every series named in one place, text format."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics


def test_two_apps_count_apart() -> None:
    one, two = Metrics(), Metrics()
    one.request("command", "ok")
    assert (
        one.registry.get_sample_value("mtasts_requests_total", {"kind": "command", "outcome": "ok"})
        == 1
    )
    assert (
        two.registry.get_sample_value("mtasts_requests_total", {"kind": "command", "outcome": "ok"})
        is None
    )


def test_every_series_is_exposed_in_the_text_format() -> None:
    metrics = Metrics()
    metrics.request("event", "duplicate")
    metrics.check_done("pass", 0.12)
    metrics.check_done("error", 10.0)
    metrics.cache_lookup(hit=True)
    metrics.check_joined()
    metrics.slack_api_error("chat.postMessage", "not_in_channel")
    metrics.redis_state(False)
    metrics.redis_fallback("rate")
    metrics.alert_posted("worse")
    metrics.set_scheduler_lag(-3)  # never negative: nothing overdue is 0
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    assert set(families) >= {
        "mtasts_requests",
        "mtasts_checks",
        "mtasts_check_duration_seconds",
        "mtasts_cache_lookups",
        "mtasts_checks_joined",
        "mtasts_slack_api_errors",
        "mtasts_redis_up",
        "mtasts_redis_fallbacks",
        "mtasts_alerts_posted",
        "mtasts_scheduler_lag_seconds",
    }
    assert metrics.registry.get_sample_value("mtasts_check_duration_seconds_count") == 2
    assert metrics.registry.get_sample_value("mtasts_scheduler_lag_seconds") == 0
    assert metrics.registry.get_sample_value("mtasts_alerts_posted_total", {"event": "worse"}) == 1
