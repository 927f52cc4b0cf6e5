"""Work in flight: strong references to running tasks, and a way to wait for quiet.

Listeners register the task they run in (Bolt starts it and keeps no strong
reference); shutdown waits for them to finish, and tests wait for the app to
go idle instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Tracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._active = 0
        self._idle: asyncio.Event | None = None
        self.started = 0  # how many pieces of work have begun, ever
        self.finished = 0
        self.cancelling = False  # set by cancel_all(): work ends because the server stops
        self._progress: asyncio.Event | None = None  # set when work begins

    def _event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            if self._active == 0:
                self._idle.set()
        return self._idle

    @property
    def active(self) -> int:
        return self._active

    @contextmanager
    def track(self) -> Iterator[None]:
        """Count the enclosed work as in flight and hold a strong reference to its task."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._active += 1
        self.started += 1
        self._event().clear()
        if self._progress is not None:
            self._progress.set()
            self._progress = None
        try:
            yield
        finally:
            self._active -= 1
            self.finished += 1
            if task is not None:
                self._tasks.discard(task)
            if self._active == 0:
                self._event().set()

    async def wait_idle(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until no work is in flight; False if `timeout` passed first."""
        try:
            async with asyncio.timeout(timeout):
                await self._event().wait()
        except TimeoutError:
            return False
        return True

    async def wait_started(self, count: int, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until `count` pieces of work have begun, ever; False if `timeout` passed first."""
        try:
            async with asyncio.timeout(timeout):
                while self.started < count:
                    if self._progress is None:
                        self._progress = asyncio.Event()
                    await self._progress.wait()
        except TimeoutError:
            return False
        return True

    async def cancel_all(self) -> None:
        """Cancel all work in flight and wait for it to end (its last words included)."""
        self.cancelling = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
