"""Bench 5: a 10 MiB TLS-RPT report summarised in under a second of CPU.

    .venv/bin/python -m bench.tlsrpt [--size MIB] [--runs N]

Makes one report of SIZE MiB of JSON (thousands of failure details, as a very
large sender's daily report would hold; bot/testbed/reports.big_report), as
`.json` and as `.json.gz`, and measures the CPU time (time.process_time) of
everything the bot does with it: reading (decompression included), parsing,
summarising, and building the Slack message and the terminal text. The median
of RUNS runs is reported per stage; the target is the total under 1 s.
No network and no fresh check: the check of the policy domain is bench 1's.
"""

from __future__ import annotations

import argparse
import gzip
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import header, table
from bot.reports.limits import MAX_REPORT_BYTES, MIB
from bot.reports.parse import parse_read
from bot.reports.reading import read_bytes
from bot.reports.render_text import render
from bot.reports.summary import summarise
from bot.slack.blocks.tlsrpt_builder import build_report_message
from bot.testbed.reports import big_report

TARGET_CPU = 1.0  # seconds, for the whole pipeline
STAGES = ("read", "parse", "summarise", "Slack message", "terminal text")
COLUMNS = ("input", "as shared", "failure details", "groups", *STAGES, "total CPU", "< 1 s")
COLUMNS = ("input", "as shared", "failure details", "groups", *STAGES, "total CPU", "< 1 s")


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    value = fn()
    return value, time.process_time() - start


def _pipeline(data: bytes, name: str) -> tuple[list[float], int, int]:
    """CPU seconds per stage; the failure details read and the groups they made."""
    read, t_read = _timed(lambda: read_bytes(data, name))
    parsed, t_parse = _timed(lambda: parse_read(read))
    assert parsed.reports, parsed.problems
    details = sum(len(p.details) for r in parsed.reports for p in r.policies)
    summary, t_sum = _timed(lambda: summarise(parsed))
    _, t_slack = _timed(lambda: build_report_message(summary))
    _, t_text = _timed(lambda: render(summary))
    groups = sum(len(p.groups) for p in summary.policies())
    return [t_read, t_parse, t_sum, t_slack, t_text], details, groups


def run(size_mib: float = 10.0, runs: int = 5) -> str:
    target = min(int(size_mib * MIB), MAX_REPORT_BYTES)
    raw = big_report("company-y.example", target)
    while len(raw) > MAX_REPORT_BYTES:  # just under the cap, as the largest report read
        target -= 64 * 1024
        raw = big_report("company-y.example", target)
    inputs = {"report.json": raw, "report.json.gz": gzip.compress(raw, compresslevel=6)}
    rows = []
    met = True
    for name, data in inputs.items():
        per_run = []
        details = groups = 0
        for _ in range(runs):
            stages, details, groups = _pipeline(data, name)
            per_run.append(stages)
        medians = [statistics.median(run[i] for run in per_run) for i in range(len(STAGES))]
        total = statistics.median(sum(run) for run in per_run)
        met = met and total < TARGET_CPU
        rows.append(
            [
                name,
                f"{len(data) / MIB:.2f} MiB",
                f"{details:,}",
                f"{groups:,}",
                *(f"{m * 1000:.0f} ms" for m in medians),
                f"**{total * 1000:.0f} ms**",
                "yes" if total < TARGET_CPU else "no",
            ]
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args = ["--size", f"{size_mib:g}", "--runs", str(runs)]
    return "\n".join(
        [
            header("Bench 5: a large TLS-RPT report, summarised", "bench.tlsrpt", *args),
            f"Report of {len(raw) / MIB:.2f} MiB of JSON (cap {MAX_REPORT_BYTES // MIB} MiB); "
            f"CPU time (process_time), median of {runs} runs per stage; target: total under "
            f"{TARGET_CPU:.0f} s of CPU.\n",
            table(COLUMNS, rows),
            f"\nPeak RSS of the bench process: {peak:.0f} MB. "
            f"Target met: {'yes' if met else 'no'}.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tlsrpt", description=__doc__)
    parser.add_argument("--size", type=float, default=10.0, help="MiB of report JSON")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(run(args.size, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
