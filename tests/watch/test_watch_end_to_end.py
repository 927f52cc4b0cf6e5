"""Watching end to end: signed Slack requests in, the testbed changes a domain between
checks, and the stand-in records each alert, once, in the right conversation."""

from __future__ import annotations

import pytest
from watch_harness import (
    HOUR,
    NEW_POLICY_ID,
    WatchApp,
    fresh_domain,
    header_of,
    healthy,
    texts,
    watching_app,
    withdrawn,
)

from bot.store import alerts
from bot.store.engine import Store
from bot.testbed.bed import Testbed
from bot.testbed.behaviour import DnsFault, Mx, Smtp
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


def mx3(d: str) -> tuple[Mx, ...]:
    return (Mx(f"mx1.{d}", 10), Mx(f"mx2.{d}", 20), Mx(f"mx3.{d}", 30))


async def test_a_new_mx_the_policy_does_not_cover(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("newmx")))
    await app.watch(d)
    same_policy = policy_text("enforce", [f"mx1.{d}", f"mx2.{d}"])
    await app.serve(healthy(d, mx=mx3(d), body=same_policy))
    await app.next_interval()
    (alert,) = app.alerts()
    assert header_of(alert) == f":incoming_envelope: {d}: MX hosts changed"
    blocks = str(alert.args["blocks"])
    assert f"mx3.{d}" in blocks
    assert "not covered" in blocks
    assert "refuse" in blocks  # enforce: senders refuse to deliver to it
    await app.next_interval()
    assert len(app.alerts()) == 1


async def test_a_policy_edited_with_a_new_id_is_not_an_alert(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("newid")))
    await app.watch(d)
    body = policy_text("enforce", [f"mx1.{d}", f"mx2.{d}"], max_age=1209600)
    await app.serve(healthy(d, body=body, sts=NEW_POLICY_ID))
    await app.next_interval()
    assert app.alerts() == []


async def test_a_mode_downgrade(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("downgrade")))
    await app.watch(d)
    await app.serve(healthy(d, mode="testing", sts=NEW_POLICY_ID))
    await app.next_interval()
    (alert,) = app.alerts()
    assert header_of(alert) == f":arrow_down: {d}: mode downgraded (enforce → testing)"
    assert "Senders that cached the `enforce` policy keep applying it" in str(alert.args["blocks"])


async def test_a_certificate_near_expiry(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("expiry")))
    await app.watch(d)
    expiring = (Mx(f"mx1.{d}", 10, Smtp(cert="expiring")), Mx(f"mx2.{d}", 20))
    await app.serve(healthy(d, mx=expiring))
    await app.next_interval()
    (alert,) = app.alerts()
    assert header_of(alert).startswith(f":hourglass_flowing_sand: {d}: a certificate expires in")
    assert f"mx1.{d}" in alert.args["text"]
    await app.next_interval()  # still expiring, same threshold: nothing more
    assert len(app.alerts()) == 1


async def test_one_dns_blip_is_not_an_alert_two_are_and_recovery_threads(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("blip")))
    await app.watch(d, channel="C0BLIP")
    blip = healthy(d, faults=[DnsFault(f"_mta-sts.{d}", "servfail")])

    await app.serve(blip)
    done, _ = await app.next_interval()
    assert done.doubted == 1
    await app.serve(healthy(d))
    await app.tick(HOUR / 6)  # the confirmation check: clean again
    assert app.alerts() == []

    await app.serve(blip)
    await app.next_interval()
    await app.tick(HOUR / 6)  # still failing: believed
    (worse,) = app.alerts()
    assert header_of(worse) == f":rotating_light: {d} got worse: checks out → failing"
    assert "MTA-STS TXT lookup failed" in str(worse.args["blocks"])
    async with app.store.read() as conn:
        (row,) = await alerts.of_conversation(conn, app.h.slack.team_id, "C0BLIP", d)
    assert (row.kind, row.status, row.incident) == ("worse", "posted", 1)
    opened = app.h.standin.messages[("C0BLIP", str(row.message_ts))]

    await app.serve(healthy(d))
    await app.next_interval()
    back = app.alerts()[-1]
    assert header_of(back) == f":white_check_mark: {d} recovered: failing → checks out"
    assert back.args["thread_ts"] == opened["ts"]
    (update,) = app.updates()
    assert update.args["ts"] == opened["ts"]
    assert header_of(update).startswith("Resolved: ")
    assert app.h.standin.messages[("C0BLIP", opened["ts"])]["text"].startswith("Resolved: ")


async def test_every_watching_conversation_hears_once(app: WatchApp) -> None:
    d = await app.serve(healthy(fresh_domain("twice")))
    await app.watch(d, channel="C0ONE")
    await app.watch(d, channel="C0TWO")
    await app.serve(withdrawn(d))
    done, _ = await app.next_interval()
    assert done.claimed == [d]  # one check for both
    assert [a.args["channel"] for a in app.alerts()] == ["C0ONE", "C0TWO"]
    async with app.store.read() as conn:
        rows = await alerts.of_conversation(conn, app.h.slack.team_id, "C0ONE", d)
    assert [(r.kind, r.status) for r in rows] == [("mode_changed", "posted")]
