"""Many watches at once, straight into the store: for the benches and multi-instance tests.

`watch_domains()` stores `names` as watched from `channels` conversations of one
workspace (the i-th domain in the (i mod channels)-th), never checked yet and due
at `due` (a time, or a function of the domain), in one transaction: what 5,000
`/mtasts watch` commands would leave, without their baselines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.store import Store, domains, watches
from bot.store.tables import watched_domains
from bot.store.tables import watches as watches_table
from bot.store.watches import Conversation
from bot.testbed.slack_standin import TEAM_ID


def channel_of(index: int, *, channels: int, prefix: str) -> str:
    return f"{prefix}{index % channels:02d}"


async def watch_domains(
    store: Store,
    names: Sequence[str],
    *,
    due: float | Callable[[str], float],
    now: float,
    channels: int = 10,
    prefix: str = "C0BENCH",
    team: str = TEAM_ID,
    user: str = "U0",
) -> None:
    async with store.write() as conn:
        for i, name in enumerate(names):
            await domains.insert(
                conn,
                store.insert(watched_domains),
                domain=name,
                state=None,
                status=None,
                mode=None,
                checked_at=None,
                next_check_at=due(name) if callable(due) else due,
                now=now,
            )
            where = Conversation(team, channel_of(i, channels=channels, prefix=prefix))
            await watches.add(conn, store.insert(watches_table), where, name, user=user, now=now)
