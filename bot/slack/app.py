"""Building the Bolt AsyncApp: Web API client, services, middleware, listeners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
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

from bot.health import Health
from bot.metrics import Metrics
from bot.slack import listeners
from bot.slack.cache import CheckFn, MemoryResultCache, ResultCache
from bot.slack.config import SlackConfig
from bot.slack.dedupe import DEFAULT_MAXSIZE as DEDUPE_MAXSIZE
from bot.slack.dedupe import Deduper, dedupe_middleware
from bot.slack.marks import Marks, MemoryMarks
from bot.slack.pool import pooled_respond
from bot.slack.ratelimit import MemoryRateLimiter, RateLimiter
from bot.slack.replay import DEFAULT_MAXSIZE as REPLAY_MAXSIZE
from bot.slack.replay import ReplayGuard
from bot.slack.reqlog import LOGGER_NAME
from bot.slack.services import Services

if TYPE_CHECKING:
    from bot.slack.oauth.stores import Database
    from bot.watch.service import WatchService

AUTHORIZE_FAILED = (
    ":warning: I couldn't confirm my own Slack token just now, so I can't answer. "
    "Please try again in a minute; if it keeps happening, tell whoever runs this app."
)
MAX_RETRY_AFTER = 30.0  # longer Retry-After than this: give up rather than hold a listener
WEB_API_TIMEOUT = 15  # seconds per Web API call
# Added to the interactive checks' worker's niceness: acknowledgements first, then the
# checks people wait for, then watch checks (bot/watch/lane.py). Measured on two busy
# cores (bench 9): the fresh /mtasts ack p99 at 50 concurrent fell by a quarter to a third.
CHECK_NICENESS = 5

log = logging.getLogger("mtasts.slack.app")


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


class BotAuthorization:
    """Bolt's `authorize=` hook for one workspace and one bot token.

    auth.test is asked once however many requests arrive together (single
    flight: the first caller starts it, the others await the same call), and
    its answer is kept for every later request; `seed` takes the answer of the
    start-up check, so that no request waits at all. A failed call is not
    kept: the next request asks again. url_verification and ssl_check never
    come here (Bolt's authorization middleware skips them).
    """

    def __init__(self, client: AsyncWebClient, bot_token: str) -> None:
        self._client = client
        self._bot_token = bot_token
        self._result: AuthorizeResult | None = None
        self._pending: asyncio.Task[AuthorizeResult | None] | None = None
        self.calls = 0  # auth.test calls made here (not counting a seed)

    @property
    def authorized(self) -> bool:
        return self._result is not None

    def seed(self, response: AsyncSlackResponse) -> None:
        if self._result is None and response.get("ok"):
            self._result = self._to_result(response)

    def _to_result(self, response: AsyncSlackResponse) -> AuthorizeResult:
        scopes = (response.headers or {}).get("x-oauth-scopes")
        return AuthorizeResult.from_auth_test_response(
            bot_token=self._bot_token,
            bot_scopes=scopes if isinstance(scopes, str) else None,
            auth_test_response=response,
        )

    async def __call__(self) -> AuthorizeResult | None:
        if self._result is not None:
            return self._result
        if self._pending is None:
            self._pending = asyncio.create_task(self._ask(), name="mtasts-auth-test")
        task = self._pending
        # shield: a waiter that is cancelled does not cancel the others' call
        return await asyncio.shield(task)

    async def _ask(self) -> AuthorizeResult | None:
        try:
            self.calls += 1
            response = await self._client.auth_test(token=self._bot_token)
            self.seed(response)
            return self._result
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            log.error("auth.test refused the bot token error=%s", error or "unknown")
            return None
        except Exception as exc:  # network trouble: the person is told to try again
            log.warning("auth.test failed error=%s", type(exc).__name__)
            return None
        finally:
            self._pending = None


def seed_authorization(app: AsyncApp, response: AsyncSlackResponse) -> None:
    """Hand the start-up auth.test answer to the app, so requests need not ask again."""
    auth = getattr(app, "bot_authorization", None)
    if isinstance(auth, BotAuthorization):
        auth.seed(response)


# Bolt switches to the OAuth flow (an installation store, per-workspace tokens) whenever
# both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are in the environment, whatever the
# constructor is given; and it reads SLACK_BOT_TOKEN as a static token (then warns that
# the client's is used). This app has one workspace and one bot token, handed to Bolt
# only through `authorize`: these are hidden while the app is built.
BOLT_ENV = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN")


@contextlib.contextmanager
def _without_bolt_env() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in BOLT_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextlib.contextmanager
def _tokenless(client: AsyncWebClient) -> Iterator[None]:
    """AsyncApp takes a client's token as a static `token`, and then warns that
    `authorize` makes it unused; the token is the authorizer's to hand out."""
    token, client.token = client.token, None
    try:
        yield
    finally:
        client.token = token


class ApiErrorCounter(AsyncRetryHandler):
    """Counts failed Web API calls (`mtasts_slack_api_errors_total`) by method and error.

    A retry handler, first in the client's list, that never asks for a retry: slack_sdk
    shows every response and exception to its retry handlers, and Bolt copies the app
    client's handlers into the client it makes for each request, so the calls listeners
    make are counted too. An attempt that failed and was retried counts as one error.
    """

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)
        self.metrics: Metrics | None = None

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if self.metrics is None:
            return False
        method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "?"
        if error is not None:
            self.metrics.slack_api_error(method, type(error).__name__)
        elif response is not None:
            body = response.body if isinstance(response.body, dict) else {}
            if body.get("ok") is False:
                self.metrics.slack_api_error(method, str(body.get("error") or "unknown")[:64])
            elif response.status_code >= 400:
                self.metrics.slack_api_error(method, f"http_{response.status_code}")
        return False


def make_client(config: SlackConfig, *, retry_backoff: float = 0.5) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, and one retry for 429, 5xx and dropped connections."""
    return AsyncWebClient(
        token=config.bot_token,
        base_url=config.api_url,
        timeout=WEB_API_TIMEOUT,
        logger=logging.getLogger("mtasts.slack.web"),
        retry_handlers=[
            ApiErrorCounter(),  # first: it sees every response
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
    """The real checker with the configured Settings, in a worker process.

    Checks run in `ProcessChecker`'s process, so their TLS handshakes and DNS parsing
    never compete (not even for the GIL) with acknowledging Slack's requests; and at a
    lower CPU priority (CHECK_NICENESS), so that when the cores are busy the kernel runs
    the acknowledgements first (Slack waits 3 s for those; a result may take longer).
    The returned callable has `close()`, which the cache calls at shutdown.
    """
    from bot.checker.background import ProcessChecker

    return _WorkerCheck(ProcessChecker(config.settings, nice=CHECK_NICENESS))


class _WorkerCheck:
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
    metrics: Metrics | None = None,
    watch: WatchService | None = None,
) -> Services:
    """What the listeners share: in this process, or in Redis when `config.redis_url` is set
    (each Redis concern falling back to its in-process twin while Redis is away). A `cache`
    given here should count its checks in the same `metrics`."""
    metrics = metrics or Metrics()
    health = Health(mode="socket" if config.socket_mode else "http")
    # A guard well above the checker's own budget: a hung check must not hang waiters.
    guard = config.settings.timeout * 2 + 10
    redis = None
    deduper = Deduper()  # in process, unless Redis is configured
    replay_marks: Marks | None = None  # None: the guard's own, in process
    if config.redis_url:
        from bot.slack.shared.cache import RedisResultCache
        from bot.slack.shared.link import RedisLink
        from bot.slack.shared.marks import RedisMarks
        from bot.slack.shared.ratelimit import RedisRateLimiter

        redis = RedisLink.from_url(config.redis_url, prefix=config.redis_prefix, metrics=metrics)
        health.add("redis", redis.probe, required=False)  # it has in-process fallbacks
        if cache is None:
            cache = RedisResultCache(
                check or default_check(config),
                redis,
                ttl=config.cache_ttl,
                check_timeout=guard,
                metrics=metrics,
            )
        limiter = limiter or RedisRateLimiter(redis)
        deduper = Deduper(RedisMarks(redis, "dedupe", local=MemoryMarks(maxsize=DEDUPE_MAXSIZE)))
        replay_marks = RedisMarks(
            redis, "replay", local=MemoryMarks(maxsize=REPLAY_MAXSIZE, clock=time.time)
        )
    if cache is None:
        cache = MemoryResultCache(
            check or default_check(config),
            ttl=config.cache_ttl,
            check_timeout=guard,
            metrics=metrics,
        )
    return Services(
        cache=cache,
        limiter=limiter or MemoryRateLimiter(),
        deduper=deduper,
        logger=logger or logging.getLogger(LOGGER_NAME),
        replay=(
            ReplayGuard(config.signing_secret, marks=replay_marks)
            if config.signing_secret
            else None
        ),
        metrics=metrics,
        health=health,
        redis=redis,
        watch=watch,
    )


def build_app(
    config: SlackConfig,
    *,
    check: CheckFn | None = None,
    client: AsyncWebClient | None = None,
    services: Services | None = None,
    database: Database | None = None,
    state_expiration: int | None = None,
) -> AsyncApp:
    """The Bolt app with every listener registered; `app.services` holds what they share.

    One workspace (SLACK_BOT_TOKEN): its token, checked once with auth.test. OAuth mode:
    installations in `database` (required then), each request authorised for its own
    workspace; `app.oauth` holds the install flow and the workspaces.
    """
    services = services or build_services(config, check=check)
    if services.replay is None and config.signing_secret:
        services.replay = ReplayGuard(config.signing_secret)  # HTTP mode always has one
    client = client or make_client(config)
    for handler in client.retry_handlers or []:
        if isinstance(handler, ApiErrorCounter):
            handler.metrics = services.metrics
    if config.oauth is not None:
        app = _oauth_app(config, client, services, database, state_expiration)
    else:
        app = _single_workspace_app(config, client)
    app.middleware(dedupe_middleware(services.deduper, services.logger, services.metrics))
    app.middleware(pooled_respond(services.pool))
    app.error(_log_unhandled(services.logger))
    listeners.register(app, services)
    app.services = services  # type: ignore[attr-defined]
    return app


def _single_workspace_app(config: SlackConfig, client: AsyncWebClient) -> AsyncApp:
    assert config.bot_token is not None
    authorization = BotAuthorization(client, config.bot_token)

    async def authorize() -> AuthorizeResult | None:
        return await authorization()

    with _without_bolt_env(), _tokenless(client):
        app = AsyncApp(
            name="mtasts",
            client=client,
            # Socket Mode requests are not signed; Bolt skips verification for them.
            signing_secret=config.signing_secret or "",
            logger=logging.getLogger("mtasts.slack.bolt"),
            process_before_response=False,
            # One workspace, one bot token: no token= (authorize hands it out), no OAuth.
            authorize=authorize,  # type: ignore[arg-type]  # None: Slack refused or unreachable
            user_facing_authorize_error_message=AUTHORIZE_FAILED,
            installation_store=None,
            oauth_settings=None,
            oauth_flow=None,
        )
    app.bot_authorization = authorization  # type: ignore[attr-defined]
    return app


def _oauth_app(
    config: SlackConfig,
    client: AsyncWebClient,
    services: Services,
    database: Database | None,
    state_expiration: int | None,
) -> AsyncApp:
    from bot.slack.oauth.flow import build_oauth
    from bot.slack.oauth.stores import STATE_EXPIRATION

    assert config.oauth is not None
    if database is None:
        raise ValueError("OAuth mode keeps installations in the database: pass database=")
    bolt_logger = logging.getLogger("mtasts.slack.bolt")
    oauth = build_oauth(
        config,
        config.oauth,
        database,
        client=client,
        redis=services.redis,
        logger=bolt_logger,
        state_expiration=state_expiration or STATE_EXPIRATION,
    )
    with _without_bolt_env(), _tokenless(client):
        app = AsyncApp(
            name="mtasts",
            client=client,
            signing_secret=config.signing_secret or "",
            logger=bolt_logger,
            process_before_response=False,
            # An AsyncAuthorize instance (Bolt accepts one beside an OAuth flow); its __call__
            # may answer None (not installed), which Bolt's Callable annotation leaves out.
            authorize=oauth.authorize,  # type: ignore[arg-type]
            user_facing_authorize_error_message=AUTHORIZE_FAILED,
            oauth_flow=oauth.flow,
        )
    app.oauth = oauth  # type: ignore[attr-defined]
    services.workspaces = oauth.workspaces
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
