"""/mtasts watch, unwatch and watching through every door (command, mention, buttons, Home),
and bad input: a clear answer to the caller alone, nothing stored."""

from __future__ import annotations

import json

import pytest
from watch_harness import WatchApp, fresh_domain, healthy, texts, watching_app

from bot.slack.blocks.ids import ACTION_HOME_UNWATCH, ACTION_UNWATCH, ACTION_WATCH
from bot.store.engine import Store
from bot.testbed.bed import Testbed
from bot.testbed.slack_standin import BOT_USER_ID


@pytest.fixture
async def app(sqlite_store: Store, testbed: Testbed):  # type: ignore[no-untyped-def]
    async with watching_app(sqlite_store, testbed, limit=3) as running:
        yield running


async def watched(app: WatchApp, channel: str = "C0GENERAL") -> list[str]:
    rows = await app.service.of_team(app.h.slack.team_id)
    return sorted(r.domain for r in rows if r.channel_id == channel)


async def test_invalid_domains_are_named_and_nothing_is_stored(app: WatchApp) -> None:
    _, url = await app.command("watch not_a_domain 192.0.2.1")
    (answer,) = app.answers(url)
    assert "“not_a_domain” is not a domain" in answer
    assert "“192.0.2.1” is not a domain" in answer
    assert await watched(app) == []
    assert app.h.standin.calls_to("chat.postMessage") == []


async def test_more_than_five_is_refused_whole(app: WatchApp) -> None:
    _, url = await app.command("watch " + " ".join(f"d{i}.example" for i in range(6)))
    (answer,) = app.answers(url)
    assert "You gave me 6 domains; I check at most 5" in answer
    assert await watched(app) == []


async def test_past_the_workspace_limit_is_refused_naming_it(app: WatchApp) -> None:
    names = [await app.serve(healthy(fresh_domain("limit"))) for _ in range(4)]
    await app.command(f"watch {names[0]} {names[1]}")
    _, url = await app.command(f"watch {names[2]} {names[3]}", channel_id="C0OTHER")
    (answer,) = app.answers(url)
    assert "This workspace watches 2 of at most 3 domains" in answer
    assert "MTASTS_WATCH_LIMIT" in answer
    assert await watched(app, "C0OTHER") == []


async def test_the_limit_counts_domains_not_conversations(app: WatchApp) -> None:
    names = [await app.serve(healthy(fresh_domain("limitdomains"))) for _ in range(4)]
    await app.command(f"watch {names[0]} {names[1]} {names[2]}")  # 3 of 3
    _, url = await app.command(f"watch {names[0]}", channel_id="C0ELSEWHERE")
    assert "Now watching" in " ".join(app.answers(url))  # watched here already: free
    _, url = await app.command(f"watch {names[1]} {names[3]}", channel_id="C0ELSEWHERE")
    (answer,) = app.answers(url)
    assert "This workspace watches 3 of at most 3 domains" in answer
    assert names[3] in answer
    assert names[1] not in answer  # it costs nothing: not named as the reason
    assert sorted(await watched(app, "C0ELSEWHERE")) == [names[0]]


async def test_a_conversation_the_bot_cannot_post_in(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("private")))
    app.h.standin.set_not_in_channel("C0PRIVATE")
    _, url = await app.command(f"watch {d}", channel_id="C0PRIVATE")
    (answer,) = app.answers(url)
    assert "/invite @mtasts" in answer
    assert "not watching anything yet" in answer
    assert await watched(app, "C0PRIVATE") == []


async def test_unwatching_what_is_not_watched(app: WatchApp) -> None:
    _, url = await app.command("unwatch nothing.example")
    (answer,) = app.answers(url)
    assert "Not watched in this conversation: `nothing.example`" in answer


async def test_watching_twice_is_a_no_op(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("twice")))
    await app.watch(d)
    _, url = await app.command(f"watch {d}")
    (answer,) = app.answers(url)
    assert f"Already watched here: `{d}`" in answer
    assert len(app.h.standin.calls_to("chat.postMessage")) == 1  # one confirmation, ever


async def test_unwatch_then_watching_is_empty(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("gone")))
    await app.watch(d)
    _, url = await app.command(f"unwatch {d}")
    assert f"Stopped watching `{d}` here." in app.answers(url)[0]
    _, listed = await app.command("watching")
    (answer,) = app.answers(listed)
    assert answer.startswith("No domains watched here.")


async def test_watch_by_mention_answers_privately(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("mention")))
    await app.h.send(app.h.slack.mention(f"watch {d}", channel="C0TEAM"))
    await app.h.idle()
    (private,) = app.h.standin.calls_to("chat.postEphemeral")
    assert private.args["channel"] == "C0TEAM"
    assert private.args["user"] == "U0CALLER"
    assert "Now watching" in private.args["text"]
    assert texts(app.h.standin.calls_to("chat.postMessage")) == [f"Watching {d} here"]
    assert await watched(app, "C0TEAM") == [d]


async def test_watch_in_a_dm_sends_alerts_to_the_dm(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("dm")))
    await app.h.send(app.h.slack.direct_message(f"watch {d}", channel="D0CALLER"))
    await app.h.idle()
    posts = app.h.standin.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posts] == ["D0CALLER", "D0CALLER"]  # confirmation, answer
    assert await watched(app, "D0CALLER") == [d]


async def test_the_watch_and_unwatch_buttons(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("button")))
    sent, url, _ = await app.h.click(ACTION_WATCH, d, channel="C0RESULTS")
    await app.h.idle()
    assert sent.status == 200
    assert "Now watching" in texts(app.h.standin.response_posts(url))[0]
    assert await watched(app, "C0RESULTS") == [d]
    _, url, _ = await app.h.click(ACTION_UNWATCH, d, channel="C0RESULTS")
    await app.h.idle()
    assert f"Stopped watching `{d}` here." in texts(app.h.standin.response_posts(url))[0]
    assert await watched(app, "C0RESULTS") == []


async def test_app_home_lists_the_workspace_and_unwatches(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("home")))
    await app.watch(d, channel="C0HOME")
    opened = {"type": "app_home_opened", "user": "U0CALLER", "tab": "home", "channel": "D0HOME"}
    await app.h.send(app.h.slack.event(opened))
    await app.h.idle()
    (published,) = app.h.standin.calls_to("views.publish")
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert published.args["user_id"] == "U0CALLER"
    text = json.dumps(view)
    assert d in text
    assert "<#C0HOME>" in text
    assert "checks out" in text
    buttons = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (f"{ACTION_HOME_UNWATCH}:0", f"C0HOME {d}")
    ]

    await app.h.click(f"{ACTION_HOME_UNWATCH}:0", f"C0HOME {d}", channel="D0HOME")
    await app.h.idle()
    assert await watched(app, "C0HOME") == []
    again = app.h.standin.calls_to("views.publish")[-1]
    assert d not in json.dumps(again.args["view"])


async def test_uninstalling_deletes_the_workspace_watches(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("uninstall")))
    await app.watch(d)
    await app.h.send(app.h.slack.event({"type": "app_uninstalled"}))
    await app.h.idle()
    assert await watched(app) == []


async def test_revoking_only_user_tokens_keeps_the_watches(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("revoked")))
    await app.watch(d)
    users_only = {"type": "tokens_revoked", "tokens": {"oauth": ["U0SOMEONE"]}}
    await app.h.send(app.h.slack.event(users_only))
    await app.h.idle()
    assert await watched(app) == [d]
    bot = {"type": "tokens_revoked", "tokens": {"bot": [BOT_USER_ID]}}
    await app.h.send(app.h.slack.event(bot))
    await app.h.idle()
    assert await watched(app) == []


async def test_without_a_database_watching_says_so(testbed: Testbed) -> None:
    from slack_harness import running_app

    async with running_app() as h:
        _, url = await h.command("watch example.com")
        await h.idle()
        (answer,) = [str(c.args["text"]) for c in h.standin.response_posts(url)]
    assert "Watching is not available on this server" in answer
