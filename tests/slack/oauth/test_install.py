"""The OAuth install through the stand-in: authorize link, redirect, oauth.v2.access, storage,
and every way it can be refused."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from oauth_browser import CLIENT_ID, CLIENT_SECRET, OAuthApp, oauth_app

from bot.slack.oauth.flow import BOT_SCOPES
from bot.store import Store
from bot.store.engine import make_engine
from bot.store.url import parse


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_install_page_links_to_slack_with_the_bot_scopes_and_a_fresh_state(
    app: OAuthApp,
) -> None:
    page, link, state = await app.install_page()
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert link.startswith(f"{app.standin.base_url}/oauth/v2/authorize?")
    query = _query(link)
    assert query["client_id"] == CLIENT_ID
    assert query["scope"].split(",") == list(BOT_SCOPES)
    assert query["state"] == state
    assert len(state) >= 32
    _, _, again = await app.install_page()
    assert again != state  # each visit gets its own


async def test_a_full_install_stores_the_workspace_and_its_token(database: Store) -> None:
    async with oauth_app(database) as app:
        app.standin.oauth.add_workspace("T0ALPHA", "Alpha Corp")
        page = await app.install("T0ALPHA")
        assert page.status == 200, page.text
        assert "mtasts is installed in Alpha Corp" in page.text
        exchange = app.standin.calls_to("oauth.v2.access")
        assert len(exchange) == 1
        assert exchange[0].ok
        assert "code" in exchange[0].args
        token = app.standin.oauth.tokens_of("T0ALPHA")
        assert len(token) == 1
        installation = await app.oauth.workspaces.find(enterprise_id=None, team_id="T0ALPHA")
        assert installation is not None
        assert installation.bot_token == token[0]
        assert installation.team_name == "Alpha Corp"
        assert installation.bot_user_id == app.standin.oauth.workspaces["T0ALPHA"].bot_user_id
        assert set(installation.bot_scopes) == set(BOT_SCOPES)
        assert "client_secret" not in exchange[0].args  # sent by Basic auth, as slack_sdk does


async def test_the_redirect_clears_the_state_cookie(app: OAuthApp) -> None:
    page = await app.install()
    assert page.status == 200
    assert "slack-app-oauth-state=deleted" in page.headers.get("Set-Cookie", "")


async def test_a_forged_state_is_refused_and_nothing_is_exchanged(app: OAuthApp) -> None:
    _, link, _ = await app.install_page()
    redirect = await app.approve(link)
    code = _query(redirect)["code"]
    forged = f"{app.base_url}/slack/oauth_redirect"
    page = await app.get(forged, cookie="forged-state", code=code, state="forged-state")
    assert page.status == 401
    assert "expired or was already used" in page.text
    assert app.standin.calls_to("oauth.v2.access") == []
    assert await app.oauth.workspaces.find(enterprise_id=None, team_id="T0STANDIN") is None


async def test_a_state_from_another_browser_is_refused(app: OAuthApp) -> None:
    _, link, _ = await app.install_page()
    page = await app.get(await app.approve(link))  # no cookie: another browser
    assert page.status == 400
    assert "another browser" in page.text
    assert app.standin.calls_to("oauth.v2.access") == []


async def test_an_expired_state_is_refused(database: Store) -> None:
    async with oauth_app(database) as app:
        _, link, state = await app.install_page()
        async with database.engine.begin() as conn:  # issued 11 minutes ago
            await conn.execute(
                sa.text("UPDATE slack_oauth_states SET expire_at = :past WHERE state = :state"),
                {"past": datetime.datetime(2001, 1, 1), "state": state},
            )
        page = await app.get(await app.approve(link), cookie=state)
        assert page.status == 401
        assert "expired" in page.text
        assert app.standin.calls_to("oauth.v2.access") == []


async def test_a_state_works_once(app: OAuthApp) -> None:
    _, link, state = await app.install_page()
    redirect = await app.approve(link)
    assert (await app.get(redirect, cookie=state)).status == 200
    again = await app.get(redirect, cookie=state)
    assert again.status == 401
    assert len(app.standin.calls_to("oauth.v2.access")) == 1


async def test_cancelling_on_slacks_page_installs_nothing(app: OAuthApp) -> None:
    app.standin.oauth.deny_next()
    page = await app.install()
    assert page.status == 200
    assert "cancelled" in page.text
    assert "mtasts was not installed" in page.text
    assert app.standin.calls_to("oauth.v2.access") == []


async def test_a_code_slack_refuses_says_so(app: OAuthApp) -> None:
    _, link, state = await app.install_page()
    redirect = await app.approve(link)
    query = _query(redirect)
    page = await app.get(
        f"{app.base_url}/slack/oauth_redirect", cookie=state, code="stale", state=query["state"]
    )
    assert page.status == 401
    assert "code was refused" in page.text
    assert app.standin.calls_to("oauth.v2.access")[0].error == "invalid_code"


async def test_slacks_error_in_the_redirect_is_escaped(app: OAuthApp) -> None:
    page = await app.get(f"{app.base_url}/slack/oauth_redirect", error="<script>alert(1)</script>")
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_a_wrong_client_secret_is_refused_by_slack(database: Store) -> None:
    async with oauth_app(database) as app:
        app.standin.oauth.register_app(
            CLIENT_ID, CLIENT_SECRET + "-rotated", f"{app.base_url}/slack/oauth_redirect"
        )
        page = await app.install()
        assert page.status == 401
        assert app.standin.calls_to("oauth.v2.access")[0].error == "bad_client_secret"
        assert app.standin.oauth.tokens == {}


async def test_the_database_going_away_gives_a_page_not_a_traceback() -> None:
    nowhere = make_engine(parse("postgresql://mtasts@127.0.0.1:9/mtasts"))  # nothing listens
    try:
        async with oauth_app(nowhere) as app:
            page = await app.get(f"{app.base_url}/slack/install")
            assert page.status == 503
            assert "database did not answer" in page.text
            assert "Traceback" not in page.text
            assert "Add to Slack" not in page.text
    finally:
        await nowhere.close()
