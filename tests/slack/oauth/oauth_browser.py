"""The app in OAuth mode, and a browser going through Slack's install with the stand-in.

`install(app, team)` does what a person does: opens `/slack/install` (the page
sets the state cookie), follows its "Add to Slack" link to the stand-in's
authorize page (which approves and redirects with a code), and follows the
redirect back to `/slack/oauth_redirect` with the cookie, as a browser on
HTTPS would send it.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
from slack_harness import SIGNING_SECRET, Harness, running_app

from bot.slack.app import services_of
from bot.slack.config import OAuthConfig
from bot.slack.oauth.flow import OAuth
from bot.slack.oauth.stores import Database
from bot.testbed.slack_standin import Call, SlackRequests, SlackStandin

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret-abcdef"
COOKIE = "slack-app-oauth-state"
ADD_LINK = re.compile(r'href="([^"]+)">Add to Slack<')


@dataclass
class Page:
    status: int
    text: str
    headers: dict[str, str]


@dataclass
class Browser:
    """A person's browser: cookies are sent only where the test says (as on HTTPS)."""

    session: aiohttp.ClientSession

    async def get(self, url: str, *, cookie: str | None = None, **params: str) -> Page:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        async with self.session.get(
            url, params=params or None, headers=headers, allow_redirects=False
        ) as r:
            return Page(r.status, await r.text(), dict(r.headers))

    async def install_page(self, base_url: str, team: str | None = None) -> tuple[Page, str, str]:
        """GET /slack/install: (the page, its Add to Slack link, the state cookie)."""
        page = await self.get(f"{base_url}/slack/install", **({"team": team} if team else {}))
        match = ADD_LINK.search(page.text)
        assert match, page.text
        cookie = SimpleCookie(page.headers.get("Set-Cookie", ""))
        return page, html.unescape(match.group(1)), cookie[COOKIE].value if COOKIE in cookie else ""

    async def approve(self, link: str) -> str:
        """The person approves on Slack's page: the redirect URL Slack sends the browser to."""
        page = await self.get(link)
        assert page.status == 302, page.text
        return page.headers["Location"]

    async def install(self, base_url: str, team: str | None = None) -> Page:
        """The whole install, as a browser does it; the last page (installed, or why not)."""
        _, link, state = await self.install_page(base_url, team)
        return await self.get(await self.approve(link), cookie=state)


def requests_for(standin: SlackStandin, team: str) -> SlackRequests:
    """Signed requests from workspace `team` (its bot user as the stand-in made it)."""
    workspace = standin.oauth.workspaces[team]
    return SlackRequests(SIGNING_SECRET, team_id=team, bot_user_id=workspace.bot_user_id)


def posts_in(calls: list[Call], channel: str) -> list[Call]:
    """The chat.postMessage calls to `channel`."""
    return [c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == channel]


@dataclass
class OAuthApp:
    harness: Harness
    database: Database

    @property
    def standin(self) -> SlackStandin:
        return self.harness.standin

    @property
    def base_url(self) -> str:
        return self.harness.url.removesuffix("/slack/events")

    @property
    def oauth(self) -> OAuth:
        oauth = getattr(self.harness.app, "oauth", None)
        assert isinstance(oauth, OAuth)
        return oauth

    @property
    def browser(self) -> Browser:
        return Browser(self.harness.session)

    def requests(self, team: str) -> SlackRequests:
        return requests_for(self.standin, team)

    async def get(self, url: str, *, cookie: str | None = None, **params: str) -> Page:
        return await self.browser.get(url, cookie=cookie, **params)

    async def install_page(self, team: str | None = None) -> tuple[Page, str, str]:
        return await self.browser.install_page(self.base_url, team)

    async def approve(self, link: str) -> str:
        return await self.browser.approve(link)

    async def install(self, team: str | None = None) -> Page:
        return await self.browser.install(self.base_url, team)


@contextlib.asynccontextmanager
async def oauth_app(
    database: Database,
    *,
    standin: SlackStandin | None = None,
    rotation: bool = False,
    token_lifetime: int = 43_200,
    **kw: Any,
) -> AsyncIterator[OAuthApp]:
    """The app in OAuth mode on `database`; the stand-in knows it as an OAuth app (pass
    `standin` to run several instances against one Slack)."""
    async with contextlib.AsyncExitStack() as stack:
        if standin is None:
            standin = await stack.enter_async_context(SlackStandin())
        config = OAuthConfig(CLIENT_ID, CLIENT_SECRET)
        harness = await stack.enter_async_context(
            running_app(standin=standin, oauth=config, database=database, **kw)
        )
        served = OAuthApp(harness, database)
        if standin.oauth.app is None:
            standin.oauth.register_app(
                CLIENT_ID,
                CLIENT_SECRET,
                f"{served.base_url}/slack/oauth_redirect",
                rotation=rotation,
                token_lifetime=token_lifetime,
            )
        assert services_of(harness.app).workspaces is served.oauth.workspaces
        yield served
