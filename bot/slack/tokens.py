"""Which bot token posts for a workspace: the one seam between alerts and installations.

Alerts are posted outside any request, so they cannot use the token Bolt
authorised a request with; they ask `BotTokens.bot_token(team_id,
enterprise_id)`. One workspace (SLACK_BOT_TOKEN) answers with that token
whatever the team; an OAuth deployment answers from its installation store
(None: the workspace is not installed, or uninstalled since).
"""

from __future__ import annotations

from typing import Protocol


class BotTokens(Protocol):
    async def bot_token(self, team_id: str, enterprise_id: str | None) -> str | None:
        """The bot token to post into `team_id` with, or None when there is none."""
        ...


class SingleWorkspaceToken:
    """The one bot token of a single-workspace deployment (`SLACK_BOT_TOKEN`)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "SingleWorkspaceToken(***)"

    async def bot_token(self, team_id: str, enterprise_id: str | None) -> str | None:
        return self._token
