"""Bench 8: start-up is part of the speed (issue 10, point 7). Four ratios, one run.

    .venv/bin/python -m bench.startup [--delay-ms 25] [--runs 11] [--no-install] [--realtime]

On the testbed with every DNS answer, HTTP response and SMTP reply delayed by D:

1. whole process, `mtasts check --no-smtp` against `mta-sts-query`
   (postfix-mta-sts-resolver), a new process and a fresh domain each run, start-up
   included (bench.peers' method: standard ports, a private resolv.conf): target
   ours / peer <= 0.8;
2. whole process, `mtasts check` (full) against its critical path of 5 D: <= 3;
3. in process, `engine.check` full and with smtp=False, testbed in another process,
   against their critical paths of 5 D and 2 D (bench.latency's method): <= 1.3 each.

Then where the whole process's time goes: `python -X importtime` of what a check
imports (the installed copy, bench/.venv-ours), the largest top-level imports.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from bench import latency, peers
from bench.common import header, median, parse_args, table

OURS_POLICY = "ours: mtasts check --no-smtp"
OURS_FULL = "ours: mtasts check (full)"
PEER = "postfix-mta-sts-resolver: mta-sts-query"
CHECK_IMPORTS = (
    "import bot.deferred_metadata as d; d.defer(); "  # as `mtasts check` starts
    "import bot.cli, bot.checker.engine, bot.checker.fetch"
)


def imports() -> tuple[float, list[tuple[str, float]]]:
    """`-X importtime` of what a check imports, as installed: the total, and the time of
    each top-level package (its modules' own times summed), largest first (seconds)."""
    with tempfile.TemporaryDirectory() as elsewhere:  # not the checkout's source
        done = subprocess.run(
            [peers.ours_python(), "-X", "importtime", "-c", CHECK_IMPORTS],
            capture_output=True,
            text=True,
            cwd=elsewhere,
            check=True,
        )
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \| +(\S+)$", line)
        if found:
            package = found[2].split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(found[1]) / 1e6
    ranked = sorted(by_package.items(), key=lambda item: -item[1])
    return sum(by_package.values()), ranked


def run(delay: float, runs: int) -> str:
    text = header(
        "Bench 8: start-up is part of the speed",
        "bench.startup",
        "--delay-ms",
        f"{delay * 1000:g}",
        "--runs",
        runs,
    )
    if not peers.peers_installed():
        return text + "\nskipped: bench/.venv-peers is not installed (run without --no-install)\n"
    with peers.resolv_conf() as resolv:
        tools = asyncio.run(peers.measure(delay, runs, resolv, only=(OURS_POLICY, PEER, OURS_FULL)))
    by_name = {tool.name: median([r.wall for r in tool.runs]) for tool in tools}
    ok = {tool.name: sum(tool.ok(r) for r in tool.runs) for tool in tools}
    found, _ = asyncio.run(latency.series_at(delay, runs))
    full, policy_only = median(found[True].wall), median(found[False].wall)
    path_full, path_policy = latency.HOPS_FULL * delay, latency.HOPS_POLICY * delay
    rows = [
        [
            "whole process: `mtasts check --no-smtp` / `mta-sts-query`",
            f"{by_name[OURS_POLICY] * 1000:.0f} ms / {by_name[PEER] * 1000:.0f} ms",
            f"{by_name[OURS_POLICY] / by_name[PEER]:.2f}",
            "<= 0.8",
        ],
        [
            f"whole process: `mtasts check` (full) / critical path {latency.HOPS_FULL} D",
            f"{by_name[OURS_FULL] * 1000:.0f} ms / {path_full * 1000:.0f} ms",
            f"{by_name[OURS_FULL] / path_full:.2f}",
            "<= 3",
        ],
        [
            f"in process: full check / critical path {latency.HOPS_FULL} D",
            f"{full * 1000:.1f} ms / {path_full * 1000:.0f} ms",
            f"{full / path_full:.2f}",
            "<= 1.3",
        ],
        [
            f"in process: smtp=False / critical path {latency.HOPS_POLICY} D",
            f"{policy_only * 1000:.1f} ms / {path_policy * 1000:.0f} ms",
            f"{policy_only / path_policy:.2f}",
            "<= 1.3",
        ],
    ]
    for row in rows:
        measured, target = float(row[2]), float(row[3].split()[-1])
        row.append("yes" if measured <= target else "no")
    text += (
        f"\nD = {delay * 1000:.0f} ms on every DNS answer, HTTP response and SMTP reply; "
        f"medians of {runs} runs each (whole process: a new process and a fresh domain each "
        "time, the installed copy run from outside the checkout, start-up and imports "
        "included; in process: engine.check, the testbed in another process). Healthy "
        f"runs: {', '.join(f'{name} {n}/{runs}' for name, n in ok.items())}.\n\n"
    )
    text += table(["ratio", "medians", "measured", "target", "met"], rows)
    total, top = imports()
    text += (
        f"\n\nImports of a check, as installed (`python -X importtime -c '{CHECK_IMPORTS}'`"
        f" with bench/.venv-ours): {total * 1000:.0f} ms in all; by top-level package (its"
        " modules' own times), the largest:\n\n"
    )
    text += table(["package", "import time"], [[m, f"{t * 1000:.1f} ms"] for m, t in top[:10]])
    return text + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--delay-ms", type=float, default=25.0, help="D, default 25")
    parser.add_argument("--runs", type=int, default=11, help="runs per row, default 11")
    peers.add_install_option(parser)
    args = parse_args(parser, argv)
    if not args.no_install:
        peers.install()
    print(run(args.delay_ms / 1000, args.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
