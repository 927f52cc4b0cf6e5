"""The workspaces of an OAuth deployment: each one's installation and bot token, kept fresh.

`Workspaces` wraps slack_sdk's installation store:

- `refreshed(installation)`: with token rotation on, a bot token expires
  (after 12 hours); it is refreshed `REFRESH_BEFORE_MINUTES` ahead, under a
  lock across instances (bot/slack/oauth/locks.py). Inside the lock the
  installation is read again: if another instance refreshed it meanwhile,
  that token is used and Slack is not asked again. (Slack's refresh token is
  good for one exchange, so two instances refreshing at once would leave one
  of them with a refused token.)
- `bot_token(team_id, enterprise_id)`: the `BotTokens` interface the alert
  deliverer posts with (bot/slack/tokens.py), refreshed the same way.
- `forget(...)`: the app was uninstalled (or its bot token revoked): the
  workspace's installation and bot rows are deleted.

`WorkspaceAuthorize` is Bolt's installation-store authorize with that locked
refresh, and auth.test answers kept per token (a bounded TTL cache), so a
request from an installed workspace costs one database read before its ack,
not a call to Slack.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth.locks import Locks

REFRESH_BEFORE_MINUTES = 120  # refresh a token this long before it expires (Bolt's default)
AUTH_CACHE_SIZE = 10_000  # workspaces whose auth.test answer is kept
AUTH_CACHE_TTL = 3600.0  # seconds an auth.test answer is kept for a token

log = logging.getLogger("mtasts.slack.oauth")


class Workspaces:
    def __init__(
        self,
        store: AsyncInstallationStore,
        *,
        rotator: AsyncTokenRotator,
        locks: Locks,
        refresh_before_minutes: int = REFRESH_BEFORE_MINUTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._rotator = rotator
        self.locks = locks  # public: tests watch who waits
        self.refresh_before_minutes = refresh_before_minutes
        self._clock = clock
        self.refreshes = 0  # tokens this instance refreshed

    async def find(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self.store.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    def _expiring(self, installation: Installation) -> bool:
        expires = installation.bot_token_expires_at
        if installation.bot_refresh_token is None or expires is None:
            return False
        return expires <= self._clock() + self.refresh_before_minutes * 60

    async def refreshed(self, installation: Installation) -> Installation | None:
        """The installation with a fresh bot token if it expires soon; None: keep it as it is.

        Raises SlackTokenRotationError when Slack refuses the refresh."""
        if not self._expiring(installation):
            return None
        name = f"rotate:{installation.enterprise_id or '-'}:{installation.team_id or '-'}"
        async with self.locks.hold(name) as held:
            current = await self.find(
                enterprise_id=installation.enterprise_id,
                team_id=installation.team_id,
                is_enterprise_install=installation.is_enterprise_install,
            )
            if current is None:  # uninstalled meanwhile
                return None
            if not self._expiring(current):  # another instance refreshed it meanwhile
                return current if current.bot_token != installation.bot_token else None
            if not held:
                log.warning(
                    "token refresh: another instance holds the lock; using the current token "
                    "team=%s",
                    installation.team_id,
                )
                return None
            rotated = await self._rotator.perform_token_rotation(
                installation=current, minutes_before_expiration=self.refresh_before_minutes
            )
            if rotated is None:
                return None
            await self.store.async_save(rotated)
            self.refreshes += 1
            log.info("token refreshed team=%s", installation.team_id)
            return rotated

    async def bot_token(self, team_id: str, enterprise_id: str | None) -> str | None:
        """The workspace's bot token (refreshed if due), or None when it is not installed."""
        installation = await self.find(enterprise_id=enterprise_id, team_id=team_id)
        if installation is None:
            return None
        try:
            installation = await self.refreshed(installation) or installation
        except SlackTokenRotationError as exc:
            log.error("token refresh refused team=%s error=%s", team_id, _slack_error(exc))
        return installation.bot_token

    async def forget(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete the workspace's installation and bot rows (uninstalled, or token revoked)."""
        await self.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)


class WorkspaceAuthorize(AsyncInstallationStoreAuthorize):
    """Bolt's installation-store authorize, with the locked refresh and a bounded cache."""

    def __init__(
        self,
        workspaces: Workspaces,
        *,
        client: AsyncWebClient,
        client_id: str,
        client_secret: str,
        logger: logging.Logger,
    ) -> None:
        super().__init__(
            logger=logger,
            installation_store=workspaces.store,
            client_id=client_id,
            client_secret=client_secret,
            token_rotation_expiration_minutes=workspaces.refresh_before_minutes,
            cache_enabled=True,
            client=client,
        )
        self.workspaces = workspaces
        self.authorize_result_cache = TTLCache(  # type: ignore[assignment]  # a bounded dict
            maxsize=AUTH_CACHE_SIZE, ttl=AUTH_CACHE_TTL
        )

    async def __call__(self, **kwargs: Any) -> AuthorizeResult | None:
        try:
            return await super().__call__(**kwargs)
        except Exception as exc:  # the database is away, say: the person is told to try again
            context = kwargs.get("context")
            team = context.team_id if isinstance(context, AsyncBoltContext) else None
            log.warning("authorize failed team=%s error=%s", team, type(exc).__name__)
            return None

    async def _rotate_and_save_tokens_if_necessary(
        self, installation: Installation | None
    ) -> Installation | None:
        if installation is None:
            return None
        return await self.workspaces.refreshed(installation)


def _slack_error(exc: SlackTokenRotationError) -> str:
    response = getattr(exc.api_error, "response", None)
    error = response.get("error") if response is not None else None
    return str(error or type(exc.api_error).__name__)
