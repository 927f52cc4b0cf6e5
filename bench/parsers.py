"""Bench 7: what hostile text costs each parser (issue 10, point 6).

    .venv/bin/python -m bench.parsers [--repeat 9] [--baseline REV]

Every input of `bot/testbed/hostile_text.CATALOGUE` (the worst we know for the
`_mta-sts` and `_smtp._tls` records, the policy body, the domain normaliser, the
Slack command text, and the MX alignment a policy and an MX set feed), at the
largest size the parser is ever given (64 KiB, or its own refusal limit): the CPU
time of one parse (`time.process_time`, the median of --repeat parses, caches
forgotten before each), against the target of 20 ms, and the work counted
(`hostile_text.operations`: Python lines run and C functions called, which no
other load changes) at half and at full size: one linear pass means the second
is at most twice the first.

With --baseline REV (a git revision, e.g. the commit before this work) the same
inputs are timed against that revision's parsers too, in a child process, in the
same run: the ratio is what this work changed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import PYTHON, ROOT, header, parse_args, table
from bot.testbed.hostile_text import CATALOGUE, Hostile, fresh, operations

TARGET = 0.020  # seconds for any 64 KiB input (issue 10)


def cpu_seconds(item: Hostile, repeat: int) -> float:
    """The median CPU time of one parse of the largest input (caches forgotten each time)."""
    argument = item.make(item.largest)
    item.run(argument)  # imports, compiled patterns: not measured
    times = []
    for _ in range(repeat):
        fresh()
        started = time.process_time()
        item.run(argument)
        times.append(time.process_time() - started)
    return statistics.median(times)


@dataclass(frozen=True, slots=True)
class Row:
    parser: str
    name: str
    size: int  # characters of the largest input
    cpu: float  # seconds per parse of it
    ops_half: int  # work of one parse at half the size
    ops_full: int  # and at the full size


def measure(repeat: int) -> list[Row]:
    rows = []
    for item in CATALOGUE:
        half, full = item.make(item.largest // 2), item.make(item.largest)
        item.run(half)
        rows.append(
            Row(
                parser=item.parser,
                name=item.name,
                size=len(full[0] if isinstance(full, tuple) else full),
                cpu=cpu_seconds(item, repeat),
                ops_half=operations(item.run, half),
                ops_full=operations(item.run, full),
            )
        )
    return rows


# A revision's parsers, timed on this checkout's inputs in a child process.
_BASELINE = """
import json, signal, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from bot.testbed import hostile_text as here
sys.path.pop(0)
for name in [m for m in sys.modules if m == "bot" or m.startswith("bot.")]:
    if name != "bot.testbed.hostile_text":
        del sys.modules[name]
sys.path.insert(0, sys.argv[2])
def stop(signum, frame):
    raise TimeoutError
signal.signal(signal.SIGALRM, stop)
limit = float(sys.argv[4])
out = {}
for item in here.CATALOGUE:
    argument = item.make(item.largest)
    times = []
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        item.run(argument)  # imports, compiled patterns: not measured
        signal.setitimer(signal.ITIMER_REAL, 0)
        for _ in range(int(sys.argv[3])):
            signal.setitimer(signal.ITIMER_REAL, limit)
            started = time.process_time()
            item.run(argument)
            times.append(time.process_time() - started)
            signal.setitimer(signal.ITIMER_REAL, 0)
        out[item.parser + "/" + item.name] = statistics.median(times)
    except TimeoutError:
        out[item.parser + "/" + item.name] = f"> {limit:g} s"
    except Exception as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        out[item.parser + "/" + item.name] = type(exc).__name__
print(json.dumps(out))
"""
BASELINE_LIMIT = 10.0  # seconds: a baseline parse still running then is cut off


def baseline(revision: str, repeat: int) -> dict[str, float | str]:
    """CPU per parse of `revision`'s parsers on this checkout's inputs (a git worktree)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), revision],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            done = subprocess.run(
                [PYTHON, "-c", _BASELINE, str(ROOT), str(tree), str(repeat), str(BASELINE_LIMIT)],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
                timeout=3600,
            )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
    result: dict[str, float | str] = json.loads(done.stdout)
    return result


def run(repeat: int, revision: str | None = None) -> str:
    rows = measure(repeat)
    before = baseline(revision, max(1, repeat // 3)) if revision else {}
    args: list[object] = ["--repeat", repeat]
    if revision:
        args += ["--baseline", revision]
    text = header("Bench 7: hostile text through the parsers", "bench.parsers", *args)
    text += (
        f"\nOne parse of each input at the largest size the parser is given (64 KiB; the "
        f"normaliser refuses more than 2,048 characters and the Slack parser more than 4,000 "
        f"at once, so their limits are measured too): CPU time, median of {repeat} "
        "(`time.process_time`, caches forgotten each time), against the target of 20 ms. "
        "'work' = Python lines run + C functions called (`hostile_text.operations`), at half "
        "and at full size: one linear pass gives a ratio of at most 2 (most stay flat: the "
        "work per field or line is done by whole-text regular expressions).\n\n"
    )
    headers = ["parser", "input", "size", "CPU per parse", "/ 20 ms", "work (half / full)", "x"]
    if before:
        headers += [f"CPU at {revision}", "before / now"]
    cells = []
    for row in rows:
        line: list[object] = [
            row.parser,
            row.name,
            f"{row.size:,}",
            f"{row.cpu * 1000:.2f} ms",
            f"{row.cpu / TARGET:.2f}",
            f"{row.ops_half:,} / {row.ops_full:,}",
            f"{row.ops_full / max(1, row.ops_half):.2f}",
        ]
        if before:
            old = before.get(f"{row.parser}/{row.name}")
            if isinstance(old, float):
                line += [f"{old * 1000:.1f} ms", f"{old / max(row.cpu, 1e-6):.0f}x"]
            else:
                line += [str(old), "-"]
        cells.append(line)
    text += table(headers, cells)
    worst = max(rows, key=lambda r: r.cpu)
    growth = max(r.ops_full / max(1, r.ops_half) for r in rows)
    text += (
        f"\n\nWorst: {worst.parser} / {worst.name}, "
        f"{worst.cpu * 1000:.2f} ms = {worst.cpu / TARGET:.2f} x the target "
        f"of 20 ms; work grows at most {growth:.2f} x when the input doubles.\n"
    )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parsers", description=__doc__)
    parser.add_argument("--repeat", type=int, default=9, help="parses per input, default 9")
    parser.add_argument("--baseline", metavar="REV", help="also time this git revision's parsers")
    args = parse_args(parser, argv)
    print(run(args.repeat, args.baseline), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
