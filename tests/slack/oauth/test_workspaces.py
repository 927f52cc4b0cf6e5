"""OAuth mode serves each workspace with its own token, and nothing of one in another."""

from __future__ import annotations

from oauth_browser import OAuthApp, posts_in

from bot.slack.app import AUTHORIZE_FAILED


async def _two_workspaces(app: OAuthApp) -> tuple[str, str]:
    for team, name in (("T0ALPHA", "Alpha"), ("T0BETA", "Beta")):
        app.standin.oauth.add_workspace(team, name)
        assert (await app.install(team)).status == 200
    (alpha,) = app.standin.oauth.tokens_of("T0ALPHA")
    (beta,) = app.standin.oauth.tokens_of("T0BETA")
    return alpha, beta


async def test_each_workspace_is_answered_with_its_own_token(app: OAuthApp) -> None:
    alpha, beta = await _two_workspaces(app)
    h = app.harness
    await h.send(app.requests("T0ALPHA").mention("good.example", channel="C0ALPHA"))
    await h.send(app.requests("T0BETA").mention("good.example", channel="C0BETA"))
    await h.wait_for(lambda calls: posts_in(calls, "C0ALPHA") and posts_in(calls, "C0BETA"))
    await h.idle()
    (to_alpha,) = posts_in(h.standin.calls, "C0ALPHA")
    (to_beta,) = posts_in(h.standin.calls, "C0BETA")
    assert (to_alpha.token, to_alpha.team) == (alpha, "T0ALPHA")
    assert (to_beta.token, to_beta.team) == (beta, "T0BETA")
    # every call the app made with a token spoke for the workspace of that token
    assert all(c.ok for c in h.standin.calls if c.token)


async def test_auth_test_is_asked_once_per_workspace_not_per_request(app: OAuthApp) -> None:
    await _two_workspaces(app)
    h = app.harness
    before = len(h.standin.calls_to("auth.test"))
    for n in range(3):
        await h.send(app.requests("T0ALPHA").mention(f"d{n}.example", channel="C0ALPHA"))
    await h.wait_for(lambda calls: len(posts_in(calls, "C0ALPHA")) == 3)
    asked = [c.team for c in h.standin.calls_to("auth.test")[before:]]
    assert asked == ["T0ALPHA"]


async def test_a_workspace_that_never_installed_is_told_and_nothing_is_posted(
    app: OAuthApp,
) -> None:
    await _two_workspaces(app)
    app.standin.oauth.add_workspace("T0GAMMA")
    h = app.harness
    response_url = h.standin.new_response_url()
    sent = await h.send(
        app.requests("T0GAMMA").slash_command("good.example", response_url=response_url)
    )
    assert sent.status == 200
    await h.wait_for(lambda calls: h.standin.response_posts(response_url))
    (answer,) = h.standin.response_posts(response_url)
    assert answer.args["text"] == AUTHORIZE_FAILED
    assert h.checker.calls == []
    assert not [c for c in h.standin.calls if c.team == "T0GAMMA"]


async def test_a_command_from_an_installed_workspace_is_checked_and_answered(
    app: OAuthApp,
) -> None:
    await _two_workspaces(app)
    h = app.harness
    response_url = h.standin.new_response_url()
    sent = await h.send(
        app.requests("T0BETA").slash_command("good.example", response_url=response_url)
    )
    assert sent.status == 200
    await h.wait_for(lambda calls: len(h.standin.response_posts(response_url)) >= 1)
    await h.idle()
    assert h.checker.calls == ["good.example"]
    assert [c.team for c in h.standin.calls_to("auth.test")][-1] == "T0BETA"
