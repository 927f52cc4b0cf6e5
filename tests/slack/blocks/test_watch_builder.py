"""The watch confirmation, the answers to watch/unwatch/watching, and the App Home tab."""

from __future__ import annotations

from typing import Any

from reports import make
from slack_samples import (
    assert_block_limits,
    assert_message_limits,
    assert_no_markup_leak,
    blocks_text,
)

from bot.slack.blocks.home_builder import build_home
from bot.slack.blocks.watch_builder import (
    build_cannot_watch_here,
    build_limit_reached,
    build_unwatch_result,
    build_watch_confirmation,
    build_watch_result,
    build_watching_list,
)
from bot.store.watches import WatchRow

NOW = 1_800_000_000.0


def row(domain: str, channel: str = "C0GENERAL", **kw: Any) -> WatchRow:
    values: dict[str, Any] = {
        "id": 1,
        "team_id": "T1",
        "enterprise_id": None,
        "channel_id": channel,
        "domain": domain,
        "created_by": "U1",
        "created_at": NOW - 86400,
        "paused_at": None,
        "paused_reason": None,
        "status": "pass",
        "mode": "enforce",
        "checked_at": NOW - 600,
        "next_check_at": NOW + 3000,
    }
    values.update(kw)
    return WatchRow(**values)


def test_confirmation_says_status_mode_interval_and_what_alerts() -> None:
    payload = build_watch_confirmation(
        [make("a.example"), make("b.example", mode="testing")], interval=3600, resumed=["b.example"]
    )
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    assert payload["text"] == "Watching a.example, b.example here"
    body = blocks_text(payload)
    assert (
        "*Watching `a.example` here.* Right now it :white_check_mark: checks out (mode `enforce`)."
        in body
    )
    assert "*Watching again `b.example` here.*" in body
    assert "I check them every hour." in body
    assert "a certificate is 14, 7, 3 or 1 days from expiry" in body
    ids = [b["accessory"]["action_id"] for b in payload["blocks"] if "accessory" in b]
    assert ids == ["mtasts_unwatch:0", "mtasts_unwatch:1"]  # unique in the message


def test_watch_result_per_domain() -> None:
    payload = build_watch_result(
        added=["a.example"],
        resumed=["b.example"],
        already=["c.example"],
        problems=["“<!channel>” is not a domain: bad characters"],
        interval=60,
    )
    assert_message_limits(payload)
    body = blocks_text(payload)
    assert "Now watching `a.example` here, every minute." in body
    assert "Watching `b.example` here again (it was paused)." in body
    assert "Already watched here: `c.example` — nothing to do." in body
    assert "&lt;!channel&gt;" in body


def test_unwatch_result() -> None:
    payload = build_unwatch_result(removed=["a.example"], not_watched=["z.example"])
    body = blocks_text(payload)
    assert "Stopped watching `a.example` here." in body
    assert "Not watched in this conversation: `z.example`." in body


def test_refusals_say_what_to_do() -> None:
    assert "/invite @mtasts" in blocks_text(build_cannot_watch_here("not_in_channel"))
    assert "restricts who can post" in blocks_text(build_cannot_watch_here("restricted_action"))
    limit = blocks_text(
        build_limit_reached(count=199, limit=200, wanted=["a.example", "b.example"])
    )
    assert "watches 199 of at most 200 domains" in limit
    assert "(1 more fit)" in limit
    assert "MTASTS_WATCH_LIMIT" in limit


def test_watching_list_with_a_paused_watch() -> None:
    rows = [
        row("a.example"),
        row("b.example", status=None, mode=None, checked_at=None),
        row("c.example", status="fail", mode=None, paused_at=NOW, paused_reason="is_archived"),
    ]
    payload = build_watching_list(rows, now=NOW, interval=3600)
    assert_message_limits(payload)
    body = blocks_text(payload)
    assert "`a.example`* · :white_check_mark: checks out · `enforce` · checked 10 min ago" in body
    assert "next check in 50 min" in body
    assert "`b.example`* · not checked yet" in body
    assert "no usable policy" in body
    assert ":double_vertical_bar: *paused*: the channel is archived" in body


def test_watching_list_empty_and_long() -> None:
    assert build_watching_list([], now=NOW, interval=3600)["text"] == "No domains watched here."
    many = build_watching_list([row(f"d{i}.example") for i in range(200)], now=NOW, interval=3600)
    assert_message_limits(many)
    assert "…and 155 more." in blocks_text(many)


def test_home_lists_the_workspace_with_channels_and_unwatch_buttons() -> None:
    view = build_home(
        [row("a.example", "C0ONE"), row("b.example", "C0TWO")], now=NOW, interval=3600, limit=200
    )
    assert view["type"] == "home"
    assert_block_limits(view["blocks"])
    body = blocks_text(view)
    assert "watches *2* of at most 200 domains" in body
    assert "`a.example`* in <#C0ONE>" in body
    assert "/mtasts watch example.com" in body
    buttons = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("mtasts_home_unwatch:0", "C0ONE a.example"),
        ("mtasts_home_unwatch:1", "C0TWO b.example"),
    ]


def test_home_counts_domains_against_the_limit_not_watches() -> None:
    rows = [row("a.example", "C0ONE"), row("a.example", "C0TWO"), row("b.example", "C0TWO")]
    assert "watches *2* of at most 200 domains" in blocks_text(
        build_home(rows, now=NOW, interval=3600, limit=200)
    )
    many = build_home(rows, now=NOW, interval=3600, limit=200, total=150, domains=120)
    assert "watches *120* of at most 200 domains" in blocks_text(many)
    assert "…and 147 more" in blocks_text(many)  # the watches not shown


def test_home_stays_within_a_hundred_blocks() -> None:
    rows = [row(f"d{i}.example") for i in range(150)]
    view = build_home(rows, now=NOW, interval=3600, limit=200, total=180)
    assert len(view["blocks"]) <= 100
    assert_block_limits(view["blocks"])
    assert "…and 88 more" in blocks_text(view)


def test_a_channel_id_that_is_not_one_is_shown_as_code() -> None:
    view = build_home([row("a.example", "<!here>")], now=NOW, interval=3600, limit=200)
    shown = view["blocks"][-1]["text"]["text"]  # (the button's value is not shown)
    assert "<!here>" not in shown
    assert "&lt;!here&gt;" in shown
