"""Checks on their own loop: same reports, another thread, cancellable, stoppable."""

from __future__ import annotations

import asyncio
import dataclasses
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


async def test_process_checker_runs_real_checks_in_another_process(settings: Settings) -> None:
    from bot.checker.background import ProcessChecker

    checker = ProcessChecker(settings)
    try:
        reports = await asyncio.gather(
            checker.check("good.example"), checker.check("dash-id.example")
        )
        assert checker._proc is not None
        assert checker._proc.pid != __import__("os").getpid()
    finally:
        checker.close()
    assert [r.status for r in reports] == ["pass", "fail"]
    assert reports[0].mx[0].tls is not None
    assert reports[0].mx[0].tls.cert_valid


async def test_process_checker_survives_its_worker_dying(settings: Settings) -> None:
    from bot.checker.background import ProcessChecker

    slow = dataclasses.replace(settings, timeout=5.0)
    checker = ProcessChecker(slow)
    try:
        waiting = asyncio.ensure_future(checker.check("slow-policy.example"))
        await asyncio.sleep(0)  # let the request go out
        assert checker._proc is not None
        checker._proc.kill()
        with pytest.raises(RuntimeError, match="stopped"):
            await asyncio.wait_for(waiting, 10)
        report = await asyncio.wait_for(checker.check("good.example"), 10)  # a new worker
        assert report.status == "pass"
    finally:
        checker.close()


async def test_process_checker_cancel_reaches_the_worker(settings: Settings) -> None:
    from bot.checker.background import ProcessChecker

    checker = ProcessChecker(dataclasses.replace(settings, timeout=5.0))
    try:
        task = asyncio.ensure_future(checker.check("slow-policy.example"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert checker._pending == {}
        # The worker is still serving.
        assert (await asyncio.wait_for(checker.check("good.example"), 10)).status == "pass"
    finally:
        checker.close()
