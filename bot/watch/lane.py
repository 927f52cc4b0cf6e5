"""Where watch checks run: their own worker process, at a lower CPU priority.

Interactive checks (commands, mentions, buttons) run in the app's worker
process (bot/checker/background.py, itself a little below the app, which
acknowledges requests); watch checks get a second one, niced further, so
when both have work the kernel runs the interactive checks first and a burst
of due domains never delays an answer someone is waiting for. The scheduler
bounds how many watch checks run at once (MTASTS_WATCH_CONCURRENCY), and a
guard stops a check that hangs past twice the checker's budget.
"""

from __future__ import annotations

import asyncio

from bot.checker.background import ProcessChecker
from bot.checker.model import Report
from bot.checker.settings import Settings
from bot.watch.config import check_bound

NICENESS = 10  # added to the watch worker's niceness (the interactive worker's: 5)


class WatchLane:
    """`await lane(domain)`: a full check in the watch worker process."""

    def __init__(self, settings: Settings, *, niceness: int = NICENESS) -> None:
        self._checker = ProcessChecker(settings, nice=niceness)
        self._guard = check_bound(settings.timeout)

    async def __call__(self, domain: str) -> Report:
        async with asyncio.timeout(self._guard):
            return await self._checker.check(domain)

    @property
    def pid(self) -> int | None:
        return self._checker.pid

    def close(self) -> None:
        self._checker.close()
