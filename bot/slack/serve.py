"""Running the app: HTTP (`POST /slack/events`, `GET /healthz`, `GET /metrics`) or Socket Mode.

`run()` is what `mtasts serve [--port]` calls. It first opens the database
(migrating it; a database that cannot be used stops start-up with one line,
exit 2; on SQLite, so does a second watch scheduler on the same file,
bot/watch/sqlite_guard.py), then checks the tokens, starts watching (the
scheduler and alert delivery, bot/watch) and serves. In OAuth mode the same
database holds the installations, and the port also serves `/slack/install`
and `/slack/oauth_redirect` (bot/slack/oauth). Without SLACK_APP_TOKEN the app
serves HTTP on the port; with it the app connects over Socket Mode and the
port serves only `/healthz` (which then reports the connection state) and
`/metrics`. `/healthz` answers from the registry of dependency checks in
`services.health` (bot/health.py); `/metrics` is `services.metrics` in
Prometheus' text format (bot/metrics.py).
SIGTERM/SIGINT stop taking requests, let work in flight finish (briefly), and
exit. A token Slack refuses at start-up stops it with one line (exit 2).

In HTTP mode every request to `/slack/events` first passes the replay guard
(bot/slack/replay.py): a bad signature, a timestamp more than five minutes
off, or the very same signed request a second time gets 401 before Bolt sees
it. Socket Mode has no signatures; the guard does not apply there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.health import Probed
from bot.metrics import CONTENT_TYPE
from bot.slack.app import (
    BotAuthorization,
    build_app,
    build_services,
    seed_authorization,
    services_of,
)
from bot.slack.config import ConfigError, SlackConfig, default_port
from bot.slack.replay import Verdict
from bot.slack.services import Services
from bot.slack.tokens import BotTokens, SingleWorkspaceToken
from bot.store import Store, StoreStartError, open_store
from bot.watch.config import WatchConfig
from bot.watch.lane import WatchLane
from bot.watch.service import WatchService
from bot.watch.sqlite_guard import SchedulerRunning, SqliteSchedulerGuard

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
# At shutdown, work in flight gets the checker's whole budget (a check started just
# before SIGTERM still ends within it) plus a margin to post its answer; but at most
# DRAIN_CAP seconds, so that what is then cancelled can still say so before a 30 s
# grace period (Kubernetes' default) ends with SIGKILL. A hung check (the cache's
# guard allows 2 x timeout + 10) is cancelled, and the person told to ask again.
DRAIN_MARGIN = 5.0
DRAIN_CAP = 25.0
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller
# Answers that mean the token itself is wrong (not that Slack is unreachable).
BAD_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)

log = logging.getLogger("mtasts.slack.serve")


def malformed(body: object) -> str | None:
    """The field of a (signed) body that Bolt would crash on, if any.

    Slack never sends these shapes; a body that has them is refused with 400
    rather than reaching Bolt, whose matchers dereference them unchecked.
    """
    if not isinstance(body, dict):
        return "body"
    for key in ("event", "view"):
        if key in body and not isinstance(body[key], dict):
            return key
    if "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "actions"
    for key in ("team", "user", "channel", "container", "message", "enterprise"):
        if body.get(key) is not None and not isinstance(body[key], (dict, str)):
            return key
    return None


def make_web_app(app: AsyncApp, *, events: bool = True) -> web.Application:
    """The aiohttp application: /healthz, /metrics and (with `events`) Slack's request URL."""
    web_app = web.Application(client_max_size=MAX_BODY)
    services = services_of(app)
    guard = services.replay

    async def slack_events(request: web.Request) -> web.Response:
        if guard is not None:
            verdict = await guard.check(await request.read(), request.headers)
            if verdict is not Verdict.OK:
                services.metrics.request("http", verdict.value)
            if verdict in (Verdict.INVALID, Verdict.REPLAY):
                # Never the signature or body: only what was wrong.
                level = logging.WARNING if verdict is Verdict.REPLAY else logging.INFO
                log.log(level, "request refused reason=%s", verdict.value)
                return web.json_response({"error": "invalid request"}, status=401)
            if verdict is Verdict.RETRY:
                log.info("request ignored reason=retry_of_a_delivery_already_accepted")
                return web.Response(status=200, text="")
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            # Signed but unreadable (not JSON / not a form Bolt understands): nothing to do.
            log.warning("request refused reason=unreadable_body error=%s", type(exc).__name__)
            return web.json_response({"error": "bad request"}, status=400)
        if (problem := malformed(bolt_request.body)) is not None:
            log.warning("request refused reason=malformed_body field=%s", problem)
            return web.json_response({"error": "bad request"}, status=400)
        try:
            bolt_response = await app.async_dispatch(bolt_request)
        except Exception as exc:  # Bolt choked on a shape Slack does not send
            log.warning("request refused reason=bolt_failed error=%s", type(exc).__name__)
            return web.json_response({"error": "bad request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    async def healthz(request: web.Request) -> web.Response:
        ok, body = await services.health.report()
        return web.json_response(body, status=200 if ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=services.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE}
        )

    if events:
        web_app.router.add_post(EVENTS_PATH, slack_events)
    oauth = getattr(app, "oauth", None)
    if oauth is not None:  # OAuth mode: the install pages (Socket Mode too)
        from bot.slack.oauth.web import add_install_routes

        add_install_routes(web_app, oauth.flow)
    web_app.router.add_get(HEALTH_PATH, healthz)
    web_app.router.add_get(METRICS_PATH, metrics)
    return web_app


def slack_auth_probe(app: AsyncApp) -> Callable[[], Awaitable[Probed]]:
    """HTTP mode: Slack is "connected" once auth.test has accepted the bot token (asked
    again here while it has not). Not required: requests are still taken meanwhile.
    OAuth mode: each workspace's token is checked with its requests; nothing to ask."""
    authorization = getattr(app, "bot_authorization", None)

    async def probe() -> Probed:
        if not isinstance(authorization, BotAuthorization):
            return Probed(True, {"workspaces": "oauth"})
        authorized = await authorization() is not None
        return Probed(authorized, {"authorized": authorized})

    return probe


async def check_tokens(app: AsyncApp, config: SlackConfig) -> None:
    """Ask Slack about the tokens; raises ConfigError if it refuses one.

    The app token is checked by asking for a Socket Mode URL (which is not
    used: the handler asks for its own when it connects). Network trouble is
    only logged: a server may well start before its network does. OAuth mode
    has no bot token of its own to check (each workspace's is checked with its
    requests).
    """
    try:
        if config.bot_token is not None:
            seed_authorization(app, await app.client.auth_test())
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in BAD_TOKEN_ERRORS:
            raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({error})") from None
        log.warning("auth.test failed at start-up error=%s", error)
    except Exception as exc:
        log.warning("auth.test failed at start-up error=%s", type(exc).__name__)
    if not config.app_token:
        return
    try:
        await app.client.apps_connections_open(app_token=config.app_token)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in BAD_TOKEN_ERRORS or error == "not_allowed_token_type":
            raise ConfigError(f"SLACK_APP_TOKEN was refused by Slack ({error})") from None
        log.warning("apps.connections.open failed at start-up error=%s", error)
    except Exception as exc:
        log.warning("apps.connections.open failed at start-up error=%s", type(exc).__name__)


async def serve(
    config: SlackConfig,
    *,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - a server for Slack (or a proxy) to reach
    app: AsyncApp | None = None,
    stop: asyncio.Event | None = None,
    started: Callable[[int], None] | None = None,
    drain_timeout: float | None = None,
    watch_config: WatchConfig | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop` is set). `started(port)` is told the bound port.

    Without `app`, the database is opened (and migrated) first, from
    MTASTS_DATABASE_URL etc.; a database that cannot be used raises ConfigError.
    `drain_timeout`: seconds work in flight may take to finish at shutdown
    (default: `drain_seconds(config)`).
    """
    store: Store | None = None
    guard: SqliteSchedulerGuard | None = None
    if app is None:
        store = await _open_store()
        watch_config = watch_config or WatchConfig()
        try:
            guard = _one_scheduler_per_sqlite_file(store, watch_config)
            watch = WatchService(store, watch_config)
            # OAuth mode keeps its installations and install states in the same database
            app = build_app(config, services=build_services(config, watch=watch), database=store)
        except BaseException:
            await store.close()
            raise
    stop = stop or asyncio.Event()
    services = services_of(app)
    loop = asyncio.get_running_loop()
    try:
        await check_tokens(app, config)
    except ConfigError:
        if guard is not None:
            guard.release()
        if store is not None:
            await store.close()
        raise
    if services.redis is not None:
        await services.redis.warm()  # opens its connections; logs a warning if Redis is away
    services.pool.open(app)  # kept-alive connections to Slack, closed after the drain
    if services.watch is not None:
        services.health.add("database", services.watch.store.ping, required=True)
    lane: WatchLane | None = None

    socket_handler: Any = None
    if config.socket_mode and config.app_token:
        from bot.slack.socket_mode import OnceSocketModeHandler

        socket_handler = OnceSocketModeHandler(
            app, config.app_token, services=services, web_client=app.client
        )
        socket_client = socket_handler.client
        # The handler asks for its own URL: one issued at start-up may be stale by now, and
        # slack_sdk retries a URL it was given forever.

        async def socket_probe() -> Probed:
            connected = bool(await socket_client.is_connected())
            return Probed(connected, {"connected": connected})

        services.health.add("slack", socket_probe, required=True)
        web_app = make_web_app(app, events=False)
    else:
        services.health.add("slack", slack_auth_probe(app), required=False)
        web_app = make_web_app(app)

    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        mode = "socket" if socket_handler else "http"
        if services.watch is not None:
            lane = WatchLane(config.settings)
            services.watch.start(
                check=lane,
                client=app.client,
                tokens=_bot_tokens(config, services),
                metrics=services.metrics,
            )
        if socket_handler is None or await _connect_unless_stopped(socket_handler, stop):
            log.info("serving mode=%s port=%s config=%r", mode, bound, config)
            if started is not None:
                started(bound)
            await stop.wait()
        log.info("shutting down: finishing work in flight")
    finally:
        # Watching stops alongside the drain: checks are abandoned (their leases given
        # back), an alert post in flight finishes.
        watch_stopped = (
            asyncio.create_task(services.watch.stop()) if services.watch is not None else None
        )
        if socket_handler is not None:
            with contextlib.suppress(Exception):
                await socket_handler.close_async()
        await runner.cleanup()  # stops taking requests
        drain = drain_seconds(config) if drain_timeout is None else drain_timeout
        if not await services.tracker.wait_idle(drain):
            log.warning("shutdown: cancelling %s unfinished requests", services.tracker.active)
            await services.tracker.cancel_all()
        await services.aclose()
        if watch_stopped is not None:
            await watch_stopped
        if lane is not None:
            lane.close()
        if guard is not None:
            guard.release()
        if store is not None:
            await store.close()
        for sig in installed:
            loop.remove_signal_handler(sig)
        log.info("stopped")


def _bot_tokens(config: SlackConfig, services: Services) -> BotTokens:
    """The tokens alerts post with: each workspace's (OAuth mode), or the one bot token."""
    if services.workspaces is not None:
        return services.workspaces
    assert config.bot_token is not None
    return SingleWorkspaceToken(config.bot_token)


def _one_scheduler_per_sqlite_file(
    store: Store, watch_config: WatchConfig
) -> SqliteSchedulerGuard | None:
    """On SQLite with the scheduler on: hold the file's scheduler lock, or refuse to start
    (ConfigError, one line: exit status 2)."""
    database = store.engine.url.database
    if not store.is_sqlite or not watch_config.enabled or not database:
        return None
    guard = SqliteSchedulerGuard(Path(database))
    try:
        guard.acquire()
    except SchedulerRunning as exc:
        raise ConfigError(str(exc)) from None
    return guard


async def _open_store() -> Store:
    try:
        return await open_store()
    except StoreStartError as exc:
        raise ConfigError(str(exc)) from None


def drain_seconds(config: SlackConfig) -> float:
    """How long shutdown waits for work in flight (see DRAIN_CAP for why it is capped)."""
    return min(config.settings.timeout + DRAIN_MARGIN, DRAIN_CAP)


async def _connect_unless_stopped(socket_handler: Any, stop: asyncio.Event) -> bool:
    """Connect over Socket Mode, or give up when `stop` is set first (True: connected).

    slack_sdk's connect() retries forever while Slack (or the network) is not
    there, so it runs as a task raced against the stop signal: SIGTERM and
    Ctrl-C work while it is still trying.
    """
    connecting = asyncio.create_task(socket_handler.connect_async(), name="mtasts-socket-connect")
    stopping = asyncio.create_task(stop.wait(), name="mtasts-stop")
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if connecting.done() and not connecting.cancelled() and connecting.exception() is None:
        return True
    if not connecting.done():
        log.warning("stopped before the Socket Mode connection was made")
        with contextlib.suppress(Exception):
            await socket_handler.close_async()  # tells the retry loop to end
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connecting
        return False
    log.warning("Socket Mode connection failed error=%s", type(connecting.exception()).__name__)
    await stop.wait()  # /healthz says so (503) until the operator stops the server
    return False


def run(port: int | None = None, *, watch_config: WatchConfig | None = None) -> int:
    """`mtasts serve [--port]`: 2 on a configuration error (one line on stderr), else 0.

    `watch_config` replaces MTASTS_WATCH_* (the benches' compressed-time runs).
    """
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        config = SlackConfig.from_env()
        watch_config = watch_config or WatchConfig.from_env(check_timeout=config.settings.timeout)
        port = port if port is not None else default_port()
        asyncio.run(serve(config, port=port, watch_config=watch_config))
    except ConfigError as exc:
        print(f"mtasts serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mtasts serve: cannot listen on port {port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
