"""OAuth mode with three real `mtasts serve` processes on PostgreSQL and Redis: installs
through the stand-in (the install page served by one instance, the redirect by another),
each workspace answered with its own token by any instance, two workspaces' commands and
watches kept apart, uninstall deleting, and a token refreshed once with all three racing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest_asyncio
import sqlalchemy as sa
from deployment import Deployment, deployment, poll
from oauth_browser import CLIENT_ID, CLIENT_SECRET, Browser, posts_in, requests_for

from bot.store.tables import watches as watches_table
from bot.testbed.bed import Testbed


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def oauth_three(testbed: Testbed, redis_url: str) -> AsyncIterator[Deployment]:
    async with deployment(
        testbed,
        redis_url,
        count=3,
        bot_token=None,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
    ) as d:
        d.standin.oauth.register_app(
            CLIENT_ID, CLIENT_SECRET, f"{d.instances[0].base_url}/slack/oauth_redirect"
        )
        for team in ("T0ALPHA", "T0BETA", "T0GAMMA", "T0ROTATE"):
            d.standin.oauth.add_workspace(team, team.removeprefix("T0").title())
        yield d


async def _installed(d: Deployment, team: str, via: int) -> str:
    """Install `team` from instance `via`'s page (the redirect lands on instance 0)."""
    if not d.standin.oauth.tokens_of(team):
        page = await Browser(d.http).install(d.instances[via].base_url, team)
        assert page.status == 200, page.text
        assert f"installed in {team.removeprefix('T0').title()}" in page.text
    return d.standin.oauth.tokens_of(team)[-1]


async def test_any_instance_answers_each_workspace_with_its_own_token(
    oauth_three: Deployment,
) -> None:
    d = oauth_three
    alpha = await _installed(d, "T0ALPHA", via=1)
    beta = await _installed(d, "T0BETA", via=2)
    for i, (team, token) in enumerate((("T0ALPHA", alpha), ("T0BETA", beta)) * 3):
        channel = f"C0{team[2:]}{i}"
        mention = requests_for(d.standin, team).mention("good.example", channel=channel)
        assert (await d.send(d.instances[i % 3], mention))[0] == 200
        (post,) = await d.standin.wait_for(lambda calls, c=channel: posts_in(calls, c), timeout=30)
        assert (post.token, post.team) == (token, team)
    for one in d.instances:
        status, body = await d.health(one)
        assert status == 200
        assert body["checks"]["slack"] == {"ok": True, "required": False, "workspaces": "oauth"}
        assert body["checks"]["database"]["ok"] is True


async def test_two_workspaces_commands_and_watches_are_kept_apart(oauth_three: Deployment) -> None:
    d = oauth_three
    alpha = await _installed(d, "T0ALPHA", via=0)
    beta = await _installed(d, "T0BETA", via=0)
    a, b = requests_for(d.standin, "T0ALPHA"), requests_for(d.standin, "T0BETA")
    # Each workspace watches a domain in a channel of its own, through different instances;
    # the answer to the person comes once the watch is stored.
    answered = []
    for slack, one, text, channel in (
        (a, d.instances[0], "watch good.example", "C0ALPHAWATCH"),
        (b, d.instances[1], "watch testing.example", "C0BETAWATCH"),
    ):
        _, url = await d.command(one, text, user="U0WATCHER", slack=slack, channel_id=channel)
        answered.append(url)
    await d.standin.wait_until(
        lambda: all(d.standin.response_posts(u) for u in answered), timeout=30
    )
    (to_alpha,) = posts_in(d.standin.calls, "C0ALPHAWATCH")
    (to_beta,) = posts_in(d.standin.calls, "C0BETAWATCH")
    assert (to_alpha.token, to_beta.token) == (alpha, beta)
    assert "good.example" in str(to_alpha.args["text"])
    assert "testing.example" not in str(to_alpha.args["text"])

    # Beta's list and Home tab show Beta's watch only, whichever instance answers.
    _, url = await d.command(
        d.instances[2], "watching", user="U0WATCHER", slack=b, channel_id="C0BETAWATCH"
    )
    (listing,) = await d.standin.wait_for(lambda calls: d.standin.response_posts(url), timeout=30)
    text = json.dumps(listing.args)
    assert "testing.example" in text
    assert "good.example" not in text
    home = b.event({"type": "app_home_opened", "user": "U0WATCHER", "tab": "home"})
    assert (await d.send(d.instances[0], home))[0] == 200
    (view,) = await d.standin.wait_for(
        lambda calls: [c for c in calls if c.method == "views.publish" and c.team == "T0BETA"],
        timeout=30,
    )
    assert view.token == beta
    assert "testing.example" in json.dumps(view.args)
    assert "good.example" not in json.dumps(view.args)
    async with d.store.read() as conn:
        rows = (
            await conn.execute(sa.select(watches_table.c.team_id, watches_table.c.domain))
        ).all()
    assert ("T0ALPHA", "good.example") in rows
    assert ("T0BETA", "testing.example") in rows


async def _watch_count(d: Deployment, team: str) -> int:
    async with d.store.read() as conn:
        query = sa.select(sa.func.count()).select_from(watches_table)
        return int((await conn.execute(query.where(watches_table.c.team_id == team))).scalar() or 0)


async def _installed_rows(d: Deployment, team: str) -> int:
    """The team's installations, bots and watches, all told."""
    async with d.store.read() as conn:
        query = sa.text(
            "SELECT (SELECT count(*) FROM slack_installations WHERE team_id = :t)"
            " + (SELECT count(*) FROM slack_bots WHERE team_id = :t)"
            " + (SELECT count(*) FROM watches WHERE team_id = :t)"
        )
        return int((await conn.execute(query, {"t": team})).scalar() or 0)


async def test_uninstalling_deletes_the_installation_and_the_watches(
    oauth_three: Deployment,
) -> None:
    d = oauth_three
    await _installed(d, "T0GAMMA", via=2)
    g = requests_for(d.standin, "T0GAMMA")
    await d.command(d.instances[0], "watch good.example", user="U0G", slack=g, channel_id="C0GAMMA")
    await d.standin.wait_for(lambda calls: posts_in(calls, "C0GAMMA"), timeout=30)
    # The confirmation is posted before the watch is stored (the contract): wait for the
    # row, or an uninstall racing ahead of it would find nothing to delete.
    await poll(lambda: _watch_count(d, "T0GAMMA"), bool, 30)

    d.standin.oauth.revoke("T0GAMMA")  # Slack revokes the tokens, then sends the event
    uninstalled = g.event({"type": "app_uninstalled"})
    assert (await d.send(d.instances[1], uninstalled))[0] == 200
    try:  # the event is handled after its ack: the database says when
        await poll(lambda: _installed_rows(d, "T0GAMMA"), lambda left: left == 0, 30)
    except TimeoutError:
        log = d.instances[1].text()
        raise AssertionError(f"still installed; instance 1 said:\n{log}") from None
    # Another instance, asked by Gamma now, has no token for it and posts nothing.
    before = len([c for c in d.standin.calls if c.team == "T0GAMMA"])
    mention = g.mention("good.example", channel="C0GAMMA2")
    assert (await d.send(d.instances[2], mention))[0] == 200
    ping = requests_for(d.standin, "T0ALPHA").mention("good.example", channel="C0AFTER")
    await d.send(d.instances[2], ping)  # Alpha is unaffected
    await d.standin.wait_for(lambda calls: posts_in(calls, "C0AFTER"), timeout=30)
    assert posts_in(d.standin.calls, "C0GAMMA2") == []
    assert len([c for c in d.standin.calls if c.team == "T0GAMMA"]) == before


async def test_three_instances_racing_refresh_a_token_once(oauth_three: Deployment) -> None:
    d = oauth_three
    app = d.standin.oauth.app
    assert app is not None
    app.rotation, app.token_lifetime = True, 3600  # due for refresh at once
    try:
        old = await _installed(d, "T0ROTATE", via=0)
        app.token_lifetime = 43_200
        r = requests_for(d.standin, "T0ROTATE")
        mentions = [r.mention(f"d{i}.example", channel=f"C0ROT{i}") for i in range(6)]
        statuses = await asyncio.gather(
            *(d.send(d.instances[i % 3], m) for i, m in enumerate(mentions))
        )
        assert [s for s, _ in statuses] == [200] * 6
        await d.standin.wait_for(
            lambda calls: all(posts_in(calls, f"C0ROT{i}") for i in range(6)), timeout=60
        )
    finally:
        app.rotation = False
    refreshes = [
        c
        for c in d.standin.calls
        if c.method == "oauth.v2.access" and c.args.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1
    assert refreshes[0].ok
    new = d.standin.oauth.tokens_of("T0ROTATE")[-1]
    assert new != old
    assert {posts_in(d.standin.calls, f"C0ROT{i}")[0].token for i in range(6)} <= {old, new}
