"""The App Home tab (published when someone opens it), and uninstalling.

The tab lists the workspace's watches; it is built fresh each time it is
opened (and after an Unwatch in it). When the app is uninstalled or its bot
token revoked, the workspace's watches and alert history are deleted, and in
OAuth mode its installation.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.home_builder import HOME_ROWS, build_home
from bot.slack.flows.replies import slack_error
from bot.slack.reqlog import RequestRecord
from bot.slack.services import Services


async def publish_home(
    services: Services, client: AsyncWebClient, *, team: str, user: str, record: RequestRecord
) -> None:
    watch = services.watch
    if watch is None:
        record.outcome = "unavailable"
        return
    rows = await watch.of_team(team, limit=HOME_ROWS)
    total = await watch.count_team(team) if len(rows) >= HOME_ROWS else len(rows)
    domains, _ = await watch.usage(team, ())
    view = build_home(
        rows,
        now=watch.clock(),
        interval=watch.config.interval,
        limit=watch.config.limit,
        total=total,
        domains=domains,
    )
    record.note(watches=total)
    try:
        await client.views_publish(user_id=user, view=view)
    except Exception as exc:
        record.fail("publish_failed", slack_error(exc) or exc)


async def forget_workspace(
    services: Services, *, team: str, enterprise: str | None, record: RequestRecord
) -> None:
    """The app was uninstalled (or its bot token revoked): delete the workspace's watches and
    alert history, and in OAuth mode its installation (its tokens no longer work anyway)."""
    removed = 0
    if services.watch is not None:
        removed = await services.watch.forget_team(team)
        record.note(watches_deleted=removed)
    if services.workspaces is not None:
        await services.workspaces.forget(enterprise_id=enterprise, team_id=team)
        record.note(installation_deleted=True)
    services.logger.info("workspace uninstalled team=%s watches_deleted=%s", team, removed)
