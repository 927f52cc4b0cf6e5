"""OAuth mode put together: the install flow, the per-workspace authorize, the workspaces.

`build_oauth()` makes, on the app's database:
- the installation and state stores (bot/slack/oauth/stores.py);
- `Workspaces` with a token rotator calling SLACK_API_URL and the lock across
  instances (bot/slack/oauth/locks.py);
- `WorkspaceAuthorize`, which Bolt runs for every request (its own
  workspace's token);
- `InstallFlow`, Bolt's OAuth flow with this app's pages: `/slack/install`
  (a fresh `state`, kept in the database and in a cookie, and the manifest's
  bot scopes), `/slack/oauth_redirect` (checks the state, exchanges the code
  through `oauth.v2.access`, stores the installation).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.config import OAuthConfig, SlackConfig
from bot.slack.oauth import pages
from bot.slack.oauth.locks import rotation_locks
from bot.slack.oauth.stores import (
    STATE_EXPIRATION,
    Database,
    installation_store,
    state_store,
)
from bot.slack.oauth.workspaces import WorkspaceAuthorize, Workspaces

if TYPE_CHECKING:
    from bot.slack.shared.link import RedisLink

# The bot scopes of manifest.yml (tests/slack/test_manifest.py keeps them equal).
BOT_SCOPES = ("commands", "app_mentions:read", "chat:write", "im:history", "files:read")
HTML = "text/html; charset=utf-8"
MAX_REASON = 80  # characters of a reason taken from the redirect's query

log = logging.getLogger("mtasts.slack.oauth")


class InstallFlow(AsyncOAuthFlow):
    """Bolt's OAuth flow with this app's install page, and a store failure said plainly."""

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return pages.install_page(url, BOT_SCOPES)

    async def store_installation(
        self, request: AsyncBoltRequest, installation: Installation
    ) -> None:
        try:
            await super().store_installation(request, installation)
        except Exception as exc:  # Bolt turns a BoltError into the storage_error page
            log.error(
                "install not saved team=%s error=%s", installation.team_id, type(exc).__name__
            )
            raise BoltError("the installation could not be saved") from exc


def callback_options(flow_settings: AsyncOAuthSettings) -> AsyncCallbackOptions:
    """The redirect's answers: our pages, and the state cookie cleared either way."""
    clear_cookie = flow_settings.state_utils.build_set_cookie_for_deletion()

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        log.info(
            "workspace installed team=%s enterprise=%s",
            installation.team_id,
            installation.enterprise_id,
        )
        slack_url = (
            f"slack://app?team={installation.team_id}&id={installation.app_id}"
            if installation.team_id and installation.app_id
            else "slack://open"
        )
        body = pages.installed_page(installation.team_name, slack_url=slack_url)
        return BoltResponse(
            status=200, body=body, headers={"Content-Type": HTML, "Set-Cookie": clear_cookie}
        )

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        return failure_response(args.reason, args.suggested_status_code, clear_cookie)

    return AsyncCallbackOptions(success=success, failure=failure)


def failure_response(reason: str, status: int, clear_cookie: str | None = None) -> BoltResponse:
    reason = reason[:MAX_REASON]
    log.info("install refused reason=%s", reason if reason in pages.FAILURES else "slack_error")
    headers: dict[str, str | Sequence[str]] = {"Content-Type": HTML}
    if clear_cookie:
        headers["Set-Cookie"] = clear_cookie
    return BoltResponse(status=status, body=pages.failure_page(reason), headers=headers)


@dataclass(frozen=True, slots=True)
class OAuth:
    flow: InstallFlow
    authorize: WorkspaceAuthorize
    workspaces: Workspaces


def build_oauth(
    config: SlackConfig,
    oauth: OAuthConfig,
    database: Database,
    *,
    client: AsyncWebClient,
    redis: RedisLink | None,
    logger: logging.Logger,
    state_expiration: int = STATE_EXPIRATION,
) -> OAuth:
    installations = installation_store(database, oauth.client_id)
    workspaces = Workspaces(
        installations,
        rotator=AsyncTokenRotator(
            client_id=oauth.client_id, client_secret=oauth.client_secret, client=client
        ),
        locks=rotation_locks(database.engine, redis),
    )
    authorize = WorkspaceAuthorize(
        workspaces,
        client=client,
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        logger=logger,
    )
    settings = AsyncOAuthSettings(
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=oauth.redirect_uri,
        install_path=pages.INSTALL_PATH,
        redirect_uri_path=pages.REDIRECT_PATH,
        authorization_url=config.authorize_url,
        installation_store=installations,
        state_store=state_store(database, expiration=state_expiration),
        state_expiration_seconds=state_expiration,
        token_rotation_expiration_minutes=workspaces.refresh_before_minutes,
        logger=logger,
    )
    settings.authorize = authorize  # Bolt's own would refresh without the lock
    settings.callback_options = callback_options(settings)
    flow = InstallFlow(client=client, logger=logger, settings=settings)
    return OAuth(flow=flow, authorize=authorize, workspaces=workspaces)
