"""`app_home_opened` (the Home tab: the workspace's watches), `app_uninstalled` and
`tokens_revoked` (the workspace's watches are deleted, and its installation in OAuth mode)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.flows.action_body import enterprise_of
from bot.slack.flows.guard import guarded
from bot.slack.flows.home import forget_workspace, publish_home
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services

HomeListener = Callable[[dict[str, Any], dict[str, Any], AsyncWebClient], Awaitable[None]]
Listener = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]


def home_opened(services: Services) -> HomeListener:
    async def on_home_opened(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        team, user = body.get("team_id"), event.get("user")
        if event.get("tab") != "home" or not isinstance(team, str) or not isinstance(user, str):
            return

        async def work(record: RequestRecord) -> None:
            await publish_home(services, client, team=team, user=user, record=record)

        await guarded(services, work, kind="event", name="app_home_opened", team=team, user=user)

    return on_home_opened


def uninstalled(services: Services, *, name: str) -> Listener:
    async def on_uninstalled(body: dict[str, Any], event: dict[str, Any]) -> None:
        team = body.get("team_id")
        if not isinstance(team, str) or not team:
            return
        if name == "tokens_revoked" and not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens were revoked: the bot still posts

        enterprise = enterprise_of(body)

        async def work(record: RequestRecord) -> None:
            await forget_workspace(services, team=team, enterprise=enterprise, record=record)

        await guarded(services, work, kind="event", name=name, team=team, user=None)

    return on_uninstalled
