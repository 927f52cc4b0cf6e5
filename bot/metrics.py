"""Every Prometheus metric the app exports, defined in one place (`GET /metrics`).

Each app gets its own `CollectorRegistry` (never prometheus_client's global one),
so several apps in one process (tests, benches) count apart. The Slack layer feeds
requests, checks, cache lookups, Slack API errors and Redis' state; the watch
code feeds `alert_posted()` and `scheduler_lag()`.

Labels take only bounded values: request kinds and outcomes, check statuses,
Slack method names and error codes, alert events. Never a domain, team or user.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
# A check takes ~0.1 s on a healthy domain, up to MTASTS_TIMEOUT (10 s) when one hangs.
CHECK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mtasts_requests",
            "Requests from Slack, by kind (command, event, action, http, socket) and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.checks = Counter(
            "mtasts_checks",
            "Checks run (cache hits not counted), by result: pass, warn, fail, or error "
            "when the check itself broke.",
            ["status"],
            registry=registry,
        )
        self.check_duration = Histogram(
            "mtasts_check_duration_seconds",
            "How long checks took, however they ended.",
            buckets=CHECK_BUCKETS,
            registry=registry,
        )
        self.cache_lookups = Counter(
            "mtasts_cache_lookups",
            "Answers by where they came from: hit (a cached report) or miss (checked, "
            "or a check already running joined).",
            ["result"],
            registry=registry,
        )
        self.checks_joined = Counter(
            "mtasts_checks_joined",
            "Checks not run here because another instance was already checking the domain "
            "(its result was awaited instead).",
            registry=registry,
        )
        self.slack_api_errors = Counter(
            "mtasts_slack_api_errors",
            "Slack Web API calls that failed, by method and error (Slack's code, or the "
            "exception's type when Slack could not be reached).",
            ["method", "error"],
            registry=registry,
        )
        self.redis_up = Gauge(
            "mtasts_redis_up",
            "1 while Redis answers, 0 while its work falls back to this process "
            "(absent without REDIS_URL).",
            registry=registry,
        )
        self.redis_fallbacks = Counter(
            "mtasts_redis_fallbacks",
            "Operations done in this process because Redis was not reachable, by concern.",
            ["concern"],
            registry=registry,
        )
        # Fed by the watch code (bot/watch): hooks named here so /metrics has them all.
        self.alerts_posted = Counter(
            "mtasts_alerts_posted",
            "Watch alerts posted to Slack, by event (worse, recovered, mode_changed, ...).",
            ["event"],
            registry=registry,
        )
        self.scheduler_lag = Gauge(
            "mtasts_scheduler_lag_seconds",
            "How late the most overdue watched domain is (0 when none is due).",
            registry=registry,
        )

    def request(self, kind: str, outcome: str) -> None:
        self.requests.labels(kind=kind, outcome=outcome).inc()

    def check_done(self, status: str, seconds: float) -> None:
        self.checks.labels(status=status).inc()
        self.check_duration.observe(seconds)

    def cache_lookup(self, *, hit: bool) -> None:
        self.cache_lookups.labels(result="hit" if hit else "miss").inc()

    def check_joined(self) -> None:
        self.checks_joined.inc()

    def slack_api_error(self, method: str, error: str) -> None:
        self.slack_api_errors.labels(method=method, error=error).inc()

    def redis_state(self, up: bool) -> None:
        self.redis_up.set(1 if up else 0)

    def redis_fallback(self, concern: str) -> None:
        self.redis_fallbacks.labels(concern=concern).inc()

    def alert_posted(self, event: str) -> None:
        self.alerts_posted.labels(event=event).inc()

    def set_scheduler_lag(self, seconds: float) -> None:
        self.scheduler_lag.set(max(0.0, seconds))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
