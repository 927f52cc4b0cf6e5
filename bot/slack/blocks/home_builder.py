"""The App Home tab: the workspace's watches, each with an Unwatch button, and how to add one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.slack.blocks.alert_builder import interval_words
from bot.slack.blocks.ids import ACTION_HOME_UNWATCH, numbered
from bot.slack.blocks.parts import (
    MAX_MODAL_BLOCKS,
    Block,
    button,
    context,
    divider,
    header,
    section,
)
from bot.slack.blocks.watch_builder import watch_line
from bot.store.watches import WatchRow

HOME_ROWS = MAX_MODAL_BLOCKS - 8  # a Home tab holds 100 blocks: keep room for the rest


def build_home(
    rows: Sequence[WatchRow],
    *,
    now: float,
    interval: float,
    limit: int,
    total: int | None = None,
    domains: int | None = None,
) -> dict[str, Any]:
    """The Home view for this workspace (`total`: how many watches exist, if more than rows;
    `domains`: how many domains they watch, what the limit counts)."""
    count = total if total is not None else len(rows)
    watched = domains if domains is not None else len({row.domain for row in rows})
    blocks: list[Block] = [
        header("MTA-STS watches"),
        section(
            f"This workspace watches *{watched}* of at most {limit} domains. I check each "
            f"{interval_words(interval)} and post in the conversation that watches it when its "
            "status gets worse or recovers, its mode or policy changes, its MX hosts change, or "
            "a certificate nears expiry."
        ),
        context(
            "Add one: `/mtasts watch example.com` in a channel I'm in (or in a direct message "
            "with me). Stop: *Unwatch* below, or `/mtasts unwatch example.com` there."
        ),
        divider(),
    ]
    if not rows:
        blocks.append(section("Nothing is watched yet."))
    for n, row in enumerate(rows[:HOME_ROWS]):
        value = f"{row.channel_id} {row.domain}"
        unwatch = button("Unwatch", numbered(ACTION_HOME_UNWATCH, n), value)
        blocks.append({**section(watch_line(row, now=now, channel=True)), "accessory": unwatch})
    hidden = count - min(len(rows), HOME_ROWS)
    if hidden > 0:
        blocks.append(
            context(f"…and {hidden} more: `/mtasts watching` in each conversation lists its own.")
        )
    return {"type": "home", "blocks": blocks}
