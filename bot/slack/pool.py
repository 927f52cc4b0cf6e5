"""One pooled HTTP session for every call to Slack: Web API methods and response_urls.

Without it, slack_sdk opens a new connection for each Web API call (a
client without `session` makes a ClientSession per request) and Bolt's
`respond()` a new one for each response_url post: a TCP connect, and against
Slack a TLS handshake, every time. Measured on one instance answering 50
/mtasts at once (bench 9, against the stand-in: no TLS), connecting and closing
took a tenth of the event loop's time, in front of the next acknowledgements.

`SlackPool.open(app)` (in the running loop, at start-up) makes one session
with kept-alive connections and gives it to the app's client (Bolt hands
`client.session` to the client it makes for each request, and the alert
deliverer uses the app's client); `pooled_respond` is a middleware giving
listeners a `respond()` that posts through it. `aclose()` comes last at
shutdown, after work in flight has drained.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.response import BoltResponse
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

CONNECTIONS = 64  # open at most, to all of Slack's hosts together
PER_HOST = 32
KEEPALIVE = 30.0  # seconds an idle connection is kept (Slack's edges keep them longer)
RESPOND_TIMEOUT = 30  # seconds per response_url post (slack_sdk's default)


class SlackPool:
    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None

    def open(self, app: AsyncApp) -> aiohttp.ClientSession:
        """Make the session (in the running loop) and give it to the app's client."""
        if self.session is None:
            connector = aiohttp.TCPConnector(
                limit=CONNECTIONS, limit_per_host=PER_HOST, keepalive_timeout=KEEPALIVE
            )
            self.session = aiohttp.ClientSession(connector=connector)
            app.client.session = self.session
        return self.session

    async def aclose(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            await session.close()


class PooledRespond(AsyncRespond):
    """Bolt's `respond()`, posting through the pooled session."""

    def __init__(self, *, response_url: str, session: aiohttp.ClientSession, **kw: Any) -> None:
        super().__init__(response_url=response_url, **kw)
        self.session = session

    async def __call__(  # type: ignore[override]  # the same parameters, all by keyword here
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        **options: Any,
    ) -> WebhookResponse:
        assert self.response_url is not None
        client = AsyncWebhookClient(
            url=self.response_url,
            timeout=RESPOND_TIMEOUT,
            proxy=self.proxy,
            ssl=self.ssl,
            session=self.session,
        )
        if isinstance(text, dict):
            return await client.send_dict(_build_message(**text))
        message = _build_message(text=text, blocks=blocks, attachments=attachments, **options)
        return await client.send_dict(message)


def pooled_respond(pool: SlackPool) -> Callable[..., Awaitable[BoltResponse]]:
    """A Bolt global middleware: requests with a response_url get a pooled `respond()`."""

    async def respond_through_the_pool(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        url = context.response_url
        # (Bolt may have made its own respond() already: it makes one on first use.)
        if (
            pool.session is not None
            and url
            and not isinstance(context.get("respond"), PooledRespond)
        ):
            context["respond"] = PooledRespond(
                response_url=url,
                session=pool.session,
                proxy=context.client.proxy,
                ssl=context.client.ssl,
            )
        return await next()

    return respond_through_the_pool
