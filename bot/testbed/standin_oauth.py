"""The stand-in's workspaces, OAuth installs and tokens (used by bot/testbed/slack_standin.py).

Slack's side of an install, played for tests:

- `GET /oauth/v2/authorize?client_id&scope&state[&redirect_uri][&team]`: the
  person approves at once; the browser is sent to the redirect URL with a
  `code` (good once, for 10 minutes) and the `state`. `team` picks the
  workspace (Slack's own parameter); else the stand-in's default one.
  `deny_next()` makes the next approval a refusal (`error=access_denied`).
- `oauth.v2.access` (client id and secret by HTTP Basic auth, as slack_sdk
  sends them): `code` → a bot token for that workspace; with rotation on, also
  a refresh token and `expires_in`; `grant_type=refresh_token` → a new token
  (the refresh token works once, as a strict reading of Slack's docs has it,
  so a second, racing refresh is refused with `invalid_refresh_token`).

Every token it issued belongs to one workspace, so the stand-in knows which
workspace each call speaks for (`Call.team`); once an OAuth app is
registered, a token it did not issue (or one expired or revoked) is refused
as Slack would (`invalid_auth`, `token_expired`, `token_revoked`).
"""

from __future__ import annotations

import base64
import itertools
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

CODE_TTL = 600.0  # seconds an authorization code can be exchanged
DEFAULT_TOKEN_LIFETIME = 43_200  # seconds a rotating token lives (Slack: 12 hours)


@dataclass(frozen=True, slots=True)
class Workspace:
    team_id: str
    name: str
    bot_user_id: str
    bot_id: str


@dataclass(slots=True)
class Token:
    value: str
    team_id: str
    expires_at: float | None = None  # UNIX time; None: never (rotation off)
    revoked: bool = False


@dataclass(slots=True)
class OAuthApp:
    client_id: str
    client_secret: str
    redirect_url: str
    rotation: bool = False
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME  # for the tokens issued from now on
    scopes_asked: list[list[str]] = field(default_factory=list)  # per authorize visit


class StandinOAuth:
    def __init__(
        self, default: Workspace, app_id: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.default = default
        self.app_id = app_id
        self.workspaces: dict[str, Workspace] = {default.team_id: default}
        self.app: OAuthApp | None = None
        self.tokens: dict[str, Token] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> team id (one use each)
        self._codes: dict[str, tuple[str, float, str | None]] = {}  # code -> team, at, uri
        self._deny = False
        self._clock = clock
        self._ids = itertools.count(1)
        self.refreshes = 0  # refresh_token exchanges that succeeded

    # -- arranged by tests -------------------------------------------------------------

    def add_workspace(self, team_id: str, name: str | None = None) -> Workspace:
        n = len(self.workspaces)
        workspace = Workspace(
            team_id, name or f"Workspace {team_id}", f"U0BOT{n:04d}", f"B0BOT{n:04d}"
        )
        self.workspaces[team_id] = workspace
        return workspace

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        redirect_url: str,
        *,
        rotation: bool = False,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
    ) -> OAuthApp:
        self.app = OAuthApp(client_id, client_secret, redirect_url, rotation, token_lifetime)
        return self.app

    def deny_next(self) -> None:
        self._deny = True

    def revoke(self, team_id: str) -> None:
        """Every token of the workspace is revoked (the app was uninstalled there)."""
        for token in self.tokens.values():
            if token.team_id == team_id:
                token.revoked = True

    def tokens_of(self, team_id: str) -> list[str]:
        return [t.value for t in self.tokens.values() if t.team_id == team_id]

    # -- who a call speaks for -----------------------------------------------------------

    @property
    def strict(self) -> bool:
        return self.app is not None

    def team_of(self, token: str) -> tuple[Workspace | None, str | None]:
        """(the token's workspace, None) or (None, Slack's error); the default workspace for
        any bot token while no OAuth app is registered (single-workspace tests)."""
        issued = self.tokens.get(token)
        if issued is None:
            return (None, "invalid_auth") if self.strict else (self.default, None)
        if issued.revoked:
            return None, "token_revoked"
        if issued.expires_at is not None and issued.expires_at <= self._clock():
            return None, "token_expired"
        return self.workspaces[issued.team_id], None

    # -- the authorize page ---------------------------------------------------------------

    def authorize(self, query: Mapping[str, str]) -> tuple[int, str]:
        """(status, Location or error text) for a browser visiting the authorize page."""
        app = self.app
        if app is None or query.get("client_id") != app.client_id:
            return 400, "invalid_client_id"
        redirect = query.get("redirect_uri") or app.redirect_url
        if redirect != app.redirect_url:
            return 400, "bad_redirect_uri"
        app.scopes_asked.append([s for s in query.get("scope", "").split(",") if s])
        state = query.get("state", "")
        if self._deny:
            self._deny = False
            return 302, f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}"
        team = query.get("team") or self.default.team_id
        if team not in self.workspaces:
            return 400, "unknown_team"
        code = f"{next(self._ids)}.{secrets.token_hex(8)}"
        self._codes[code] = (team, self._clock(), query.get("redirect_uri"))
        return 302, f"{redirect}?{urlencode({'code': code, 'state': state})}"

    # -- oauth.v2.access ----------------------------------------------------------------

    def access(self, args: Mapping[str, Any], authorization: str) -> dict[str, Any]:
        app = self.app
        client_id, client_secret = _basic(authorization) or (
            str(args.get("client_id", "")),
            str(args.get("client_secret", "")),
        )
        if app is None or client_id != app.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != app.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        if args.get("grant_type") == "refresh_token":
            team_id = self._refresh.pop(str(args.get("refresh_token", "")), None)
            if team_id is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.refreshes += 1
            return self._grant(app, self.workspaces[team_id])
        code = str(args.get("code", ""))
        issued = self._codes.pop(code, None)
        if issued is None or self._clock() - issued[1] > CODE_TTL:
            return {"ok": False, "error": "invalid_code"}
        team_id, _, uri = issued
        if uri is not None and args.get("redirect_uri") != uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        answer = self._grant(app, self.workspaces[team_id])
        answer["authed_user"] = {"id": "U0INSTALLER"}
        return answer

    def _grant(self, app: OAuthApp, workspace: Workspace) -> dict[str, Any]:
        prefix = "xoxe.xoxb-" if app.rotation else "xoxb-"
        value = f"{prefix}{workspace.team_id}-{next(self._ids)}-{secrets.token_hex(8)}"
        token = Token(value, workspace.team_id)
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": self.app_id,
            "access_token": value,
            "token_type": "bot",
            "scope": ",".join(app.scopes_asked[-1] if app.scopes_asked else []),
            "bot_user_id": workspace.bot_user_id,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if app.rotation:
            token.expires_at = self._clock() + app.token_lifetime
            refresh = f"xoxe-1-{secrets.token_hex(12)}"
            self._refresh[refresh] = workspace.team_id
            answer.update(refresh_token=refresh, expires_in=app.token_lifetime)
        self.tokens[value] = token
        return answer


def _basic(authorization: str) -> tuple[str, str] | None:
    if not authorization.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password
