"""Watching end to end: signed Slack requests in, the testbed changes a domain between
checks, and the stand-in records each alert, once, in the right conversation."""

from __future__ import annotations

import pytest
from watch_harness import (
    WatchApp,
    fresh_domain,
    header_of,
    healthy,
    texts,
    watching_app,
)

from bot.store.engine import Store
from bot.testbed.bed import Testbed
from bot.testbed.scenario import policy_text


@pytest.fixture
async def app(sqlite_store: Store, testbed: Testbed):  # type: ignore[no-untyped-def]
    async with watching_app(sqlite_store, testbed) as running:
        yield running


async def test_watch_posts_one_confirmation_and_lists_it(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("confirm")))
    sent, url = await app.command(f"watch {d}")
    assert sent.status == 200
    assert "Checking first" in sent.json()["text"]
    posts = app.h.standin.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posts] == ["C0GENERAL"]
    assert texts(posts) == [f"Watching {d} here"]
    assert any("Now watching" in t for t in app.answers(url))
    _, listed = await app.command("watching")
    (answer,) = app.answers(listed)
    assert "1 domain watched here" in answer
    blocks = str(app.h.standin.response_posts(listed)[0].args["blocks"])
    assert d in blocks
    assert "checks out" in blocks


async def test_policy_edited_without_a_new_id_alerts_once(store: Store, testbed: Testbed) -> None:
    async with watching_app(store, testbed) as app:
        d = await app.serve(healthy(fresh_domain("sameid")))
        await app.watch(d, channel="C0ALERTS")
        await app.next_interval()
        assert app.alerts() == []  # nothing changed
        body = policy_text("enforce", [f"mx1.{d}", f"mx2.{d}", f"mx9.{d}"])
        await app.serve(healthy(d, body=body))  # same TXT id
        await app.next_interval()
        (alert,) = app.alerts()
        assert alert.args["channel"] == "C0ALERTS"
        assert header_of(alert) == f":memo: {d}: policy changed, but its id did not"
        assert "mx9" in str(alert.args["blocks"])
        # the next checks (and a restart of the deliverer) post nothing more
        await app.next_interval()
        restarted = type(app.deliverer)(app.store, app.h.app.client, app.deliverer.tokens)
        await restarted.deliver_due()
        assert len(app.alerts()) == 1
