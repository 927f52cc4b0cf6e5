"""Building the Bolt AsyncApp: Web API client, services, middleware, listeners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack import listeners
from bot.slack.cache import CheckFn, MemoryResultCache, ResultCache
from bot.slack.config import SlackConfig
from bot.slack.dedupe import EventDeduper, dedupe_middleware
from bot.slack.ratelimit import RateLimiter
from bot.slack.replay import ReplayGuard
from bot.slack.reqlog import LOGGER_NAME
from bot.slack.services import Services

MAX_RETRY_AFTER = 30.0  # longer Retry-After than this: give up rather than hold a listener
WEB_API_TIMEOUT = 15  # seconds per Web API call


class RetryAfterHandler(AsyncRetryHandler):
    """Retry a 429 once after exactly its Retry-After (no jitter), if that is short."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and _retry_after(response) <= MAX_RETRY_AFTER
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await asyncio.sleep(_retry_after(response) if response is not None else 1.0)
        state.increment_current_attempt()


class ProportionalJitter(Jitter):
    """Up to the interval again (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return 1.0
    return 1.0


class SingleFlightAuthorization(AsyncSingleTeamAuthorization):
    """Bolt's single-workspace authorization, with one auth.test however many requests wait.

    Bolt calls auth.test lazily on the first request and caches the answer, but
    every request that arrives before that answer calls it again: 200 commands
    at start-up made 200 auth.test calls (and risk Slack's rate limit). Here the
    first caller makes the call and the others wait for it; `seed` takes the
    answer of the start-up check so that no request waits at all.
    """

    def __init__(self, base: AsyncSingleTeamAuthorization) -> None:
        super().__init__(
            base_logger=base.logger,
            user_facing_authorize_error_message=base.user_facing_authorize_error_message,
        )
        self._lock = asyncio.Lock()

    def seed(self, result: AsyncSlackResponse) -> None:
        if self.auth_test_result is None and result.get("ok"):
            self.auth_test_result = result

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        if self.auth_test_result is None:
            async with self._lock:
                if self.auth_test_result is None:
                    # On failure Bolt's own path below asks again and reports it.
                    with contextlib.suppress(Exception):
                        self.auth_test_result = await req.context.client.auth_test()
        return await super().async_process(req=req, resp=resp, next=next)


def _single_flight_authorization(app: AsyncApp) -> SingleFlightAuthorization | None:
    """Swap Bolt's authorization middleware for the single-flight one (if it is there)."""
    middleware = app._async_middleware_list  # private: no public hook precedes authorization
    for i, mw in enumerate(middleware):
        if type(mw) is AsyncSingleTeamAuthorization:
            middleware[i] = replacement = SingleFlightAuthorization(mw)
            return replacement
    return None


def seed_authorization(app: AsyncApp, result: AsyncSlackResponse) -> None:
    """Hand the start-up auth.test answer to the app, so requests need not ask again."""
    auth = getattr(app, "single_flight_auth", None)
    if isinstance(auth, SingleFlightAuthorization):
        auth.seed(result)


def make_client(config: SlackConfig, *, retry_backoff: float = 0.5) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, and one retry for 429, 5xx and dropped connections."""
    return AsyncWebClient(
        token=config.bot_token,
        base_url=config.api_url,
        timeout=WEB_API_TIMEOUT,
        logger=logging.getLogger("mtasts.slack.web"),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            RetryAfterHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(
                max_retry_count=1,
                interval_calculator=BackoffRetryIntervalCalculator(
                    backoff_factor=retry_backoff, jitter=ProportionalJitter()
                ),
            ),
        ],
    )


def default_check(config: SlackConfig) -> CheckFn:
    """The real checker with the configured Settings, on an event loop of its own.

    Checks run in a worker thread (`BackgroundChecker`), so their TLS handshakes and
    DNS parsing never queue ahead of an acknowledgement on the app's loop. The
    returned callable has `close()`, which the cache calls at shutdown.
    """
    from bot.checker.background import BackgroundChecker

    return _ThreadedCheck(BackgroundChecker(config.settings))


class _ThreadedCheck:
    def __init__(self, checker: Any) -> None:
        self._checker = checker

    async def __call__(self, domain: str) -> Any:
        return await self._checker.check(domain)

    def close(self) -> None:
        self._checker.close()


def build_services(
    config: SlackConfig,
    *,
    check: CheckFn | None = None,
    cache: ResultCache | None = None,
    limiter: RateLimiter | None = None,
    logger: logging.Logger | None = None,
) -> Services:
    if cache is None:
        # A guard well above the checker's own budget: a hung check must not hang waiters.
        guard = config.settings.timeout * 2 + 10
        cache = MemoryResultCache(
            check or default_check(config), ttl=config.cache_ttl, check_timeout=guard
        )
    return Services(
        cache=cache,
        limiter=limiter or RateLimiter(),
        deduper=EventDeduper(),
        logger=logger or logging.getLogger(LOGGER_NAME),
        replay=ReplayGuard(config.signing_secret) if config.signing_secret else None,
    )


def build_app(
    config: SlackConfig,
    *,
    check: CheckFn | None = None,
    client: AsyncWebClient | None = None,
    services: Services | None = None,
) -> AsyncApp:
    """The Bolt app with every listener registered; `app.services` holds what they share."""
    services = services or build_services(config, check=check)
    if services.replay is None and config.signing_secret:
        services.replay = ReplayGuard(config.signing_secret)  # HTTP mode always has one
    app = AsyncApp(
        name="mtasts",
        client=client or make_client(config),
        # Socket Mode requests are not signed; Bolt skips verification for them.
        signing_secret=config.signing_secret or "",
        logger=logging.getLogger("mtasts.slack.bolt"),
        process_before_response=False,
        # No OAuth: one workspace, one bot token (ignore SLACK_CLIENT_ID/SECRET if set).
        installation_store=None,
    )
    app.single_flight_auth = _single_flight_authorization(app)  # type: ignore[attr-defined]
    app.middleware(dedupe_middleware(services.deduper, services.logger))
    app.error(_log_unhandled(services.logger))
    listeners.register(app, services)
    app.services = services  # type: ignore[attr-defined]
    return app


def services_of(app: AsyncApp) -> Services:
    services = getattr(app, "services", None)
    if not isinstance(services, Services):
        raise TypeError("this AsyncApp was not made by build_app")
    return services


def _log_unhandled(logger: logging.Logger) -> Any:
    async def on_unhandled_error(error: Exception, response: BoltResponse | None) -> None:
        # Listeners catch their own errors; this is Bolt's own path (middleware, parsing).
        logger.error("unhandled error in bolt: %s", type(error).__name__, exc_info=error)

    return on_unhandled_error
