"""Run checks away from the caller's event loop: in a worker process, or a thread.

A server that must answer quickly (the Slack app acknowledges every request
within 3 s, and aims at a few milliseconds) should not share its event loop
with dozens of checks: their TLS handshakes and DNS parsing queue ahead of
every acknowledgement. `ProcessChecker` (what the app uses) runs them in a
worker process, so they share neither the loop nor the GIL; `BackgroundChecker`
runs any check function on a second loop in a thread (tests and tools that
patch the engine use it). The caller awaits either as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

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


class ProcessChecker:
    """`await checker.check(domain)` runs the real check in a worker process.

    A thread still shares the GIL: under a burst of fresh checks, a server's
    acknowledgements wait for it. A process does not. Requests and reports cross a
    pipe (reports are plain dataclasses, pickled); the worker runs many checks at
    once on its own event loop. If it dies, waiting checks fail with a message and
    the next check starts a new one.
    """

    def __init__(self, settings: Settings, *, nice: int = 0) -> None:
        self._settings = settings
        self._nice = nice  # added to the worker's CPU niceness (a lower priority)
        self._conn: Connection | None = None
        self._proc: BaseProcess | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[Report]] = {}
        self._ids = itertools.count(1)

    @property
    def pid(self) -> int | None:
        """The worker process's id, once started."""
        return self._proc.pid if self._proc is not None else None

    def _ensure_started(self) -> Connection:
        if self._conn is not None:
            return self._conn
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker_main,
            args=(child, self._settings, self._nice),
            name="mtasts-checks",
            daemon=True,
        )
        proc.start()
        child.close()
        loop = asyncio.get_running_loop()
        loop.add_reader(parent.fileno(), self._readable)
        self._conn, self._proc, self._loop = parent, proc, loop
        return parent

    async def check(self, domain: str) -> Report:
        conn = self._ensure_started()
        request = next(self._ids)
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        conn.send(("check", request, domain))
        try:
            return await future
        except asyncio.CancelledError:
            if self._conn is conn:
                with contextlib.suppress(OSError):
                    conn.send(("cancel", request, ""))
            raise
        finally:
            self._pending.pop(request, None)

    def _readable(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            kind, request, payload = conn.recv()
        except (EOFError, OSError):
            self._lost("the check worker process stopped")
            return
        future = self._pending.get(request)
        if future is None or future.done():
            return
        if kind == "ok":
            future.set_result(payload)
        else:
            future.set_exception(RuntimeError(str(payload)))

    def _lost(self, why: str) -> None:
        self._drop_connection()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError(why))

    def _drop_connection(self) -> None:
        conn, loop = self._conn, self._loop
        self._conn = None
        if conn is not None:
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(conn.fileno())
            conn.close()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker (it finishes nothing: callers were told already)."""
        proc = self._proc
        self._lost("the checker was closed")
        self._proc = None
        if proc is not None:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout)


def _worker_main(conn: Connection, settings: Settings, nice: int = 0) -> None:
    if nice:
        _lower_priority(nice)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_worker(conn, settings))


def _lower_priority(nice: int) -> None:
    """Run below the parent: one real-time priority lower if it runs real-time (benches
    under SCHED_FIFO), else `nice` more (out of the real-time class if it was at its floor)."""
    with contextlib.suppress(OSError, AttributeError):
        policy = os.sched_getscheduler(0)
        if policy in (os.SCHED_FIFO, os.SCHED_RR):
            priority = os.sched_getparam(0).sched_priority
            if priority > os.sched_get_priority_min(policy):
                os.sched_setscheduler(0, policy, os.sched_param(priority - 1))
                return
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.nice(nice)


async def _worker(conn: Connection, settings: Settings) -> None:
    from bot.checker.engine import check

    loop = asyncio.get_running_loop()
    tasks: dict[int, asyncio.Task[None]] = {}
    closed = asyncio.Event()

    async def run(request: int, domain: str) -> None:
        try:
            report = await check(domain, settings)
            message: tuple[str, int, object] = ("ok", request, report)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # a bug of ours: the caller says so, in one line
            message = ("error", request, f"internal error ({type(exc).__name__}: {exc})"[:300])
        finally:
            tasks.pop(request, None)
        with contextlib.suppress(OSError):
            conn.send(message)

    def readable() -> None:
        try:
            kind, request, domain = conn.recv()
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            closed.set()
            return
        if kind == "check":
            tasks[request] = asyncio.create_task(run(request, domain))
        elif kind == "cancel" and (task := tasks.get(request)) is not None:
            task.cancel()

    loop.add_reader(conn.fileno(), readable)
    await closed.wait()
    for task in list(tasks.values()):
        task.cancel()
