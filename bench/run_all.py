"""Run all nine benches with their defaults and write bench/results/latest.md.

    .venv/bin/python -m bench.run_all [--quick] [--no-install]

--quick runs each on a tiny input (a smoke run, figures not meaningful).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence

from bench import latency, many, multi_instance, parsers, peers, slack_ack, startup, tlsrpt, watch
from bench.common import ROOT, header, set_realtime

RESULTS = ROOT / "bench" / "results" / "latest.md"
WATCH_QUICK = [
    *("--domains", "40", "--interval", "3", "--intervals", "3", "--databases", "sqlite"),
    *("--edits", "2", "--requests", "10", "--level", "5"),
]
INSTANCES_QUICK = [
    *("--requests", "10", "--level", "5", "--once", "20", "--domains", "40"),
    *("--window", "2", "--scheduler-delay-ms", "100"),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny inputs (smoke run)")
    parser.add_argument("--no-install", action="store_true", help="skip peers if not installed")
    parser.add_argument(
        "--no-realtime",
        action="store_true",
        help="do not run benches 1, 2, 4 and 8 under SCHED_FIFO (by default they do if permitted)",
    )
    args = parser.parse_args(argv)
    if not args.no_install and not peers.peers_installed():
        peers.install_peers()
    q = args.quick
    # Benches 1, 2, 4 and 8 mostly wait on the network: under SCHED_FIFO other load on a
    # shared machine cannot delay them. Bench 3 is CPU-bound at D=0, benches 5 and 7 are
    # CPU-bound (7 measures CPU time) and bench 6 runs for minutes; they run normally so
    # they never starve other work on the machine.
    rt = not args.no_realtime
    jobs = [
        ("latency", rt, lambda: latency.run(0.025, 3 if q else 15)),
        ("peers", rt, lambda: peers.run(0.025, 1 if q else 11, quick=q)),
        ("many", False, lambda: many.run(20 if q else 1000, [0.0, 0.025])),
        ("slack", rt, lambda: slack_ack.run(10 if q else 100, [1, 10, 50], 0.025)),
        ("tlsrpt", False, lambda: tlsrpt.run(0.5 if q else 10.0, 1 if q else 5)),
        # The watch bench keeps a core busy for minutes: normal priority, like bench 3.
        ("watch", False, lambda: watch.run(WATCH_QUICK if q else [])),
        ("parsers", False, lambda: parsers.run(1 if q else 9)),
        ("startup", rt, lambda: startup.run(0.025, 1 if q else 11)),
        # Several app processes with their workers, PostgreSQL and Redis: normal priority
        # (real-time app processes would starve the database and Redis, which are not).
        ("instances", False, lambda: multi_instance.run_sync(INSTANCES_QUICK if q else [])),
    ]
    parts = [header("mtasts-bot benchmarks", "bench.run_all", *(argv or sys.argv[1:]))]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for name, realtime, job in jobs:
        set_realtime(realtime)
        start = time.perf_counter()
        text = job()
        print(text, flush=True)
        parts.append(text + f"\n({name}: {time.perf_counter() - start:.0f} s)\n")
        RESULTS.write_text("\n".join(parts), encoding="utf-8")  # after each, in case of a stop
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.write_text("\n".join(parts) + f"\nfinished {stamp}\n", encoding="utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
