"""Bench 1: one cold check's latency against its critical path of round trips.

    .venv/bin/python -m bench.latency [--delay-ms 25] [--runs 15]

A testbed in its own process (bench.testbed_server) delays every DNS answer,
HTTP response and SMTP reply by the same D. The bench checks fresh healthy
enforce domains (two MX hosts each; no cache anywhere: a new domain every run)
with the real engine, in this process, full and with smtp=False, at D and at
D=0 (the floor: CPU, TCP and TLS handshakes, no waiting). It prints the median
against the critical path (5 D full, 2 D without SMTP), the "effective round
trips" (median(D) - median(0)) / D, which should equal the path's length, the
checker's and the testbed's CPU per check, and the timeline of one traced check.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import bot.checker.dns as checker_dns
import bot.checker.engine as engine
import bot.checker.fetch as fetch
import bot.checker.smtp as checker_smtp
import bot.checker.tls_step as tls_step
from bench.common import (
    BedInfo,
    TestbedProcess,
    cpu_wait,
    header,
    median,
    parse_args,
    process_cpu,
    table,
)

# The longest chains of dependent round trips, read from bot/checker/engine.py
# (check(), _policy_step, _mx_step, _probe_all) and bot/checker/smtp.py (probe_address).
CHAIN_FULL = (
    "MX <domain> (D)",
    "A+AAAA mx1/mx2 in parallel (D)",
    "[waits for the usable policy: TXT (D) | A+AAAA mta-sts (D) -> HTTPS GET (D) = 2D, "
    "already done]",
    "TCP connect to port 25 (not delayed)",
    "SMTP banner (D)",
    "EHLO reply (D)",
    "STARTTLS reply (D)",
    "TLS handshake (not delayed), QUIT written, close",
)
CHAIN_POLICY = (
    "A+AAAA mta-sts.<domain> (D)",
    "TCP + TLS handshake (not delayed)",
    "HTTP response (D)",
    "[in parallel: TXT _mta-sts (D), TXT _smtp._tls (D), MX (D) -> A+AAAA of each MX (D)]",
)
HOPS_FULL = 5
HOPS_POLICY = 2


@dataclass
class Series:
    wall: list[float] = field(default_factory=list)
    checker_cpu: list[float] = field(default_factory=list)
    testbed_cpu: list[float] = field(default_factory=list)
    waited: float = 0.0  # per check, this process runnable but waiting for a CPU
    testbed_waited: float = 0.0  # per check, the same for the testbed process
    statuses: list[str] = field(default_factory=list)


async def _measure(info: BedInfo, domains: Sequence[str], *, smtp: bool) -> Series:
    out = Series()
    settings = info.settings(smtp=smtp)
    bed0 = process_cpu(info.pid)
    wait0, bed_wait0 = cpu_wait(), cpu_wait(info.pid)
    for domain in domains:
        cpu0 = time.process_time()
        start = time.perf_counter()
        report = await engine.check(domain, settings)
        out.wall.append(time.perf_counter() - start)
        out.checker_cpu.append(time.process_time() - cpu0)
        out.statuses.append(report.status)
    # /proc counts in clock ticks (10 ms): the testbed's CPU is averaged over the series.
    out.testbed_cpu = [(process_cpu(info.pid) - bed0) / max(1, len(domains))]
    out.waited = (cpu_wait() - wait0) / max(1, len(domains))
    out.testbed_waited = (cpu_wait(info.pid) - bed_wait0) / max(1, len(domains))
    return out


# -- one traced check: when each step started and ended ------------------------------


Event = tuple[str, str, float, float]


def _traced(events: list[Event], t0: list[float], label: str, subject: Callable[..., str]) -> Any:
    def wrap(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def inner(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                events.append((label, subject(*args), start - t0[0], end - t0[0]))

        return inner

    return wrap


async def trace_one(info: BedInfo, domain: str) -> tuple[float, list[Event]]:
    """Check `domain` with the engine's steps wrapped (this process only; restored after)."""
    events: list[Event] = []
    t0 = [0.0]
    patches: list[tuple[Any, str, Any]] = [
        (checker_dns.Dns, "_query", _traced(events, t0, "dns", lambda _s, n, t: f"{t.name} {n}")),
        (fetch, "fetch_policy", _traced(events, t0, "https", lambda d, *a, **k: f"GET {d}")),
        (tls_step, "probe_address", _traced(events, t0, "smtp", lambda h, a, **k: f"probe {h}")),
        (checker_smtp, "_reply", _traced(events, t0, "reply", lambda *a: "SMTP reply")),
        (checker_smtp, "_handshake", _traced(events, t0, "tls", lambda h, *a: f"STARTTLS TLS {h}")),
        (checker_smtp, "_close", _traced(events, t0, "close", lambda *a: "close")),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, wrapper in patches:
        setattr(obj, name, wrapper(getattr(obj, name)))
    try:
        t0[0] = time.perf_counter()
        await engine.check(domain, info.settings())
        total = time.perf_counter() - t0[0]
    finally:
        for obj, name, original in saved:
            setattr(obj, name, original)
    return total, sorted(events, key=lambda e: e[2])


# -- the bench ---------------------------------------------------------------------------


def run(delay: float, runs: int, warmup: int = 2) -> str:
    return asyncio.run(_run(delay, runs, warmup))


async def series_at(
    delay: float, runs: int, warmup: int = 2, *, trace: bool = False
) -> tuple[dict[bool, Series], tuple[float, list[Event]] | None]:
    """`runs` full checks and `runs` with smtp=False (fresh domains), in this process,
    against a testbed process delaying every answer by `delay`; and one traced check."""
    async with TestbedProcess(
        warmup + 2 * runs + 1, delay, prefix=f"lat{int(delay * 1000)}-"
    ) as info:
        names = info.domains
        for name in names[:warmup]:  # imports, first handshakes: not measured
            await engine.check(name, info.settings())
        rest = names[warmup:]
        full = await _measure(info, rest[:runs], smtp=True)
        policy_only = await _measure(info, rest[runs : 2 * runs], smtp=False)
        traced = await trace_one(info, rest[2 * runs]) if trace else None
    return {True: full, False: policy_only}, traced


async def _run(delay: float, runs: int, warmup: int) -> str:
    series: dict[tuple[float, bool], Series] = {}
    trace: tuple[float, list[Event]] | None = None
    for d in (delay, 0.0) if delay > 0 else (0.0,):
        found, traced = await series_at(d, runs, warmup, trace=d == delay)
        series[(d, True)], series[(d, False)] = found[True], found[False]
        trace = trace or traced

    rows = []
    for smtp, hops in ((True, HOPS_FULL), (False, HOPS_POLICY)):
        at_d = series[(delay, smtp)]
        floor = series[(0.0, smtp)]
        path = hops * delay
        med = median(at_d.wall)
        med0 = median(floor.wall)
        rows.append(
            [
                "full (SMTP probes)" if smtp else "smtp=False (--no-smtp)",
                f"{delay * 1000:.0f} ms",
                f"{hops} D = {path * 1000:.0f} ms",
                f"{med * 1000:.1f} ms",
                f"{min(at_d.wall) * 1000:.1f} / {max(at_d.wall) * 1000:.1f} ms",
                f"{med / path:.2f}" if path else "-",
                f"{med0 * 1000:.1f} ms",
                f"{(med - med0) / delay:.2f}" if delay else "-",
                f"{median(at_d.checker_cpu) * 1000:.1f} ms",
                f"{median(at_d.testbed_cpu) * 1000:.1f} ms",
                f"{at_d.waited * 1000:.1f} / {at_d.testbed_waited * 1000:.1f} ms",
                ",".join(sorted(set(at_d.statuses + floor.statuses))),
            ]
        )
    text = header(
        "Bench 1: cold check latency vs critical path",
        "bench.latency",
        "--delay-ms",
        f"{delay * 1000:g}",
        "--runs",
        runs,
    )
    text += (
        f"\nD = {delay * 1000:.0f} ms on every DNS answer, HTTP response and SMTP reply; "
        f"{runs} checks per row (a fresh domain each), medians; engine.check() in this process, "
        "testbed in a child process. Target: median / critical path <= 1.3.\n\n"
    )
    text += table(
        [
            "check",
            "D",
            "critical path",
            "median",
            "min / max",
            "ratio",
            "median at D=0 (floor)",
            "effective round trips",
            "checker CPU/check",
            "testbed CPU/check",
            "waited for a CPU/check (checker / testbed)",
            "status",
        ],
        rows,
    )
    text += "\n\nCritical path, full check (" + str(HOPS_FULL) + " D):\n\n"
    text += "".join(f"    {i}. {step}\n" for i, step in enumerate(CHAIN_FULL, 1))
    text += "\nCritical path, smtp=False (" + str(HOPS_POLICY) + " D):\n\n"
    text += "".join(f"    {i}. {step}\n" for i, step in enumerate(CHAIN_POLICY, 1))
    text += (
        "\n'effective round trips' = (median at D - median at D=0) / D: the number of D the "
        "check waits in sequence; it matches the path length when the engine overlaps "
        "everything that can be overlapped.\n"
    )
    if trace is not None:
        total, events = trace
        text += f"\nTimeline of one traced full check at D (total {total * 1000:.1f} ms):\n\n"
        text += "    step   what                                         start     end  (ms)\n"
        for label, what, start, end in events:
            text += f"    {label:<6} {what[:44]:<44} {start * 1000:7.1f} {end * 1000:7.1f}\n"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--delay-ms", type=float, default=25.0, help="D, default 25")
    parser.add_argument("--runs", type=int, default=15, help="checks per row, default 15")
    args = parse_args(parser, argv)
    print(run(args.delay_ms / 1000, args.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
