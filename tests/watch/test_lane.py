"""Watch checks run in a worker process of their own, at a lower CPU priority."""

from __future__ import annotations

import os

from bot.testbed.bed import Testbed
from bot.watch.lane import NICENESS, WatchLane


async def test_watch_checks_run_niced_in_their_own_process(testbed: Testbed) -> None:
    lane = WatchLane(testbed.settings())
    try:
        report = await lane("good.example")
        assert report.status == "pass"
        assert lane.pid is not None
        assert lane.pid != os.getpid()
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, lane.pid) == min(mine + NICENESS, 19)
    finally:
        lane.close()
