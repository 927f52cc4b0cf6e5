"""A clock the tests move by hand, and a checker whose answers the tests set."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from reports import make

from bot.checker.model import Report

START = 1_800_000_000.0  # 2027-01-15, a fixed "now" for the tests


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Checker:
    """`await checker(domain)` returns the report set for the domain (a healthy one by
    default); `fail` makes it raise; `gate` holds a check until set."""

    reports: dict[str, Report] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    fail: set[str] = field(default_factory=set)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, domain: str) -> Report:
        self.calls[domain] += 1
        self.started.set()
        if (gate := self.gates.get(domain)) is not None:
            await gate.wait()
        if domain in self.fail:
            raise RuntimeError(f"checker broke on {domain}")
        return self.reports.get(domain) or make(domain)
