"""Run checks on an event loop of their own, in a thread.

A server that must answer quickly (the Slack app acknowledges every request
within 3 s, and aims at a few milliseconds) should not share its event loop
with dozens of checks: their TLS handshakes and DNS parsing queue ahead of
every acknowledgement. `BackgroundChecker` keeps the checks on a second loop;
the caller awaits them as usual.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from bot.checker.model import Report
from bot.checker.settings import Settings

CheckFn = Callable[[str, Settings], Awaitable[Report]]


class BackgroundChecker:
    """`await checker.check(domain)` runs `check(domain, settings)` on a worker loop."""

    def __init__(self, settings: Settings, check: CheckFn | None = None) -> None:
        self._settings = settings
        self._check = check
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name="mtasts-checks", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    async def check(self, domain: str) -> Report:
        loop = self._ensure_started()
        future = asyncio.run_coroutine_threadsafe(self._run(domain), loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def _run(self, domain: str) -> Report:
        check = self._check
        if check is None:
            from bot.checker.engine import check as engine_check

            check = engine_check
        return await check(domain, self._settings)

    def close(self, timeout: float = 2.0) -> None:
        """Cancel what is running and stop the worker thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def _shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(_shutdown(), loop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()
