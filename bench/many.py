"""Bench 3: many domains through the real CLI, at its default concurrency.

    .venv/bin/python -m bench.many [--domains 1000] [--delays-ms 0,25]

The testbed (N healthy enforce domains, two MX each, all on the shared
servers) runs in a child process; `mtasts check D1 ... DN --json
--nameserver ... --ca-file ... --allow-private` runs as another child, at its
default concurrency. The CLI has no flags for the test-only HTTPS/SMTP ports,
so the testbed listens on 443 and 25 (root or CAP_NET_BIND_SERVICE needed).
Measured: total wall time, throughput, the CLI's own CPU time and peak RSS
(os.wait4 rusage of that child alone), the testbed's CPU over the run, and
whether every domain came back `pass`. The bound the concurrency and the
delays allow is concurrency / critical path (5 D per check, bench 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from bench.common import (
    PYTHON,
    ROOT,
    TestbedProcess,
    cpu_wait,
    header,
    parse_args,
    process_cpu,
    run_child,
    table,
)
from bot.checker import limits

HOPS_FULL = 5


async def _one(count: int, delay: float, concurrency: int | None) -> list[object]:
    async with TestbedProcess(
        count, delay, prefix=f"many{int(delay * 1000)}-", standard_ports=True
    ) as info:
        args = [PYTHON, "-m", "bot", "check", *info.domains, "--json", "--allow-private"]
        args += ["--nameserver", info.nameserver, "--ca-file", info.ca_file]
        if concurrency is not None:
            args += ["--concurrency", str(concurrency)]
        bed0, bed_wait0 = process_cpu(info.pid), cpu_wait(info.pid)
        run = run_child(args, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=900)
        bed_cpu = process_cpu(info.pid) - bed0
        bed_wait = cpu_wait(info.pid) - bed_wait0
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    statuses: dict[str, int] = {}
    for report in lines:
        statuses[report["status"]] = statuses.get(report["status"], 0) + 1
    codes: dict[str, int] = {}
    for report in lines:
        for f in report["findings"]:
            codes[f["code"]] = codes.get(f["code"], 0) + 1
    conc = concurrency or limits.DEFAULT_CONCURRENCY
    bound = conc / (HOPS_FULL * delay) if delay else float("inf")
    throughput = len(lines) / run.wall
    return [
        f"{delay * 1000:.0f} ms",
        str(count),
        str(conc),
        f"{run.wall:.2f} s",
        f"{throughput:.0f} /s",
        f"{bound:.0f} /s ({throughput / bound:.0%})" if delay else "-",
        f"{run.cpu:.1f} s ({run.cpu / run.wall:.0%})",
        f"{bed_cpu:.1f} s ({bed_cpu / run.wall:.0%})",
        f"{run.cpu_wait:.1f} s / {bed_wait:.1f} s",
        f"{run.maxrss_mb:.0f} MB",
        ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none",
        ", ".join(f"{k} {v}" for k, v in sorted(codes.items())) or "-",
        str(run.returncode),
    ]


def run(count: int, delays: Sequence[float], concurrency: int | None = None) -> str:
    rows = [asyncio.run(_one(count, d, concurrency)) for d in delays]
    extra = ["--concurrency", concurrency] if concurrency else []
    text = header(
        "Bench 3: many domains through the CLI",
        "bench.many",
        "--domains",
        count,
        "--delays-ms",
        ",".join(f"{d * 1000:g}" for d in delays),
        *extra,
    )
    text += (
        "\n`mtasts check <N domains> --json` as a child process at its default concurrency, "
        "testbed in another; D on every DNS answer, HTTP response and SMTP reply. "
        "'bound' = concurrency / (5 D), what the concurrency and the delays allow. CPU "
        "columns: seconds of CPU and that as a share of the wall time (100% = one core). "
        "Targets: throughput limited by the concurrency and the delays, not CPU; peak RSS "
        "< 150 MB.\n\n"
    )
    text += table(
        [
            "D",
            "domains",
            "concurrency",
            "total",
            "throughput",
            "bound (reached)",
            "CLI CPU",
            "testbed CPU",
            "waited for a CPU (CLI / testbed)",
            "CLI peak RSS",
            "statuses",
            "finding codes",
            "exit",
        ],
        rows,
    )
    return text + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.many", description=__doc__)
    parser.add_argument("--domains", type=int, default=1000, help="default 1000")
    parser.add_argument("--delays-ms", default="0,25", help="comma-separated, default 0,25")
    parser.add_argument("--concurrency", type=int, help="default: the CLI's own default")
    args = parse_args(parser, argv)
    delays = [float(x) / 1000 for x in args.delays_ms.split(",") if x.strip()]
    print(run(args.domains, delays, args.concurrency), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
