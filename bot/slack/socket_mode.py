"""Socket Mode, with Slack's redeliveries answered once.

Slack sends an envelope again when it thinks the first was not acknowledged:
the same `envelope_id`, or the same payload in a new envelope (with several
instances, perhaps to another one). `OnceSocketModeHandler` asks the dedupe
(bot/slack/dedupe.py) before Bolt sees an envelope; a repeat is acknowledged
empty (so Slack stops sending it) and logged, and nothing else happens.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.reqlog import log_request
from bot.slack.services import Services


class OnceSocketModeHandler(AsyncSocketModeHandler):
    def __init__(self, app: AsyncApp, app_token: str, *, services: Services, **kw: Any) -> None:
        super().__init__(app, app_token, **kw)
        self._services = services

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        if await self._services.deduper.first_delivery(req.envelope_id, req.payload):
            await super().handle(client, req)
            return
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        payload = req.payload if isinstance(req.payload, dict) else {}
        log_request(
            self._services.logger,
            metrics=self._services.metrics,
            kind="socket",
            name=req.type,
            team=_team(payload),
            user=None,
            outcome="duplicate",
            envelope_id=req.envelope_id,
            retry=req.retry_attempt or None,
        )


def _team(payload: dict[str, Any]) -> str | None:
    team = payload.get("team_id") or payload.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    return team if isinstance(team, str) else None
