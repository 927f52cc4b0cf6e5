"""Checks on their own loop: same reports, another thread, cancellable, stoppable."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.checker.background import BackgroundChecker
from bot.checker.model import Report
from bot.checker.settings import Settings


async def test_real_check_runs_on_the_worker_thread(settings: Settings) -> None:
    checker = BackgroundChecker(settings)
    try:
        report = await checker.check("good.example")
    finally:
        checker.close()
    assert report.status == "pass"
    assert report.mode == "enforce"
    assert all(mx.tls is not None and mx.tls.cert_valid for mx in report.mx)


async def test_thread_and_loop_differ_from_the_caller() -> None:
    seen: list[tuple[threading.Thread, asyncio.AbstractEventLoop]] = []

    async def fake(domain: str, settings: Settings) -> Report:
        seen.append((threading.current_thread(), asyncio.get_running_loop()))
        return Report(domain=domain)

    checker = BackgroundChecker(Settings(), fake)
    try:
        report = await checker.check("a.example")
    finally:
        checker.close()
    assert report.domain == "a.example"
    assert seen[0][0] is not threading.current_thread()
    assert seen[0][1] is not asyncio.get_running_loop()


async def test_cancelling_the_caller_cancels_the_check() -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def hang(domain: str, settings: Settings) -> Report:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    checker = BackgroundChecker(Settings(), hang)
    task = asyncio.ensure_future(checker.check("a.example"))
    try:
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(cancelled.wait, 5)
    finally:
        checker.close()


async def test_close_stops_the_thread_and_a_later_check_restarts_it() -> None:
    async def fake(domain: str, settings: Settings) -> Report:
        return Report(domain=domain)

    checker = BackgroundChecker(Settings(), fake)
    await checker.check("a.example")
    thread = checker._thread
    assert thread is not None
    checker.close()
    assert not thread.is_alive()
    assert (await checker.check("b.example")).domain == "b.example"
    checker.close()
