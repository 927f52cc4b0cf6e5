"""`python -m bot.testbed.serve_watch --interval S --lease S`: `mtasts serve` with watch
timings shortened for tests and benches.

The same code path as `mtasts serve` (bot.slack.serve.run, configured from the
environment), except that the watch interval, the scheduler's lease and its idle pause are
given here, below what production settings allow (MTASTS_WATCH_INTERVAL is at
least 60 s; the lease is not a setting at all): the multi-instance tests
(tests/watch/test_watch_instances.py) and bench.multi_instance use it so that
a dead instance's domains are taken over in seconds. Nothing in the app reads
these from the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from bot.slack.serve import run
from bot.watch.config import WatchConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.testbed.serve_watch")
    parser.add_argument("--interval", type=float, help="seconds between checks of a domain")
    parser.add_argument("--lease", type=float, help="seconds a claim holds")
    parser.add_argument("--concurrency", type=int, help="watch checks at once")
    parser.add_argument("--idle", type=float, help="longest pause between looks when idle")
    args = parser.parse_args(argv)
    config = WatchConfig.from_env()
    changes = {
        name: value
        for name, value in (
            ("interval", args.interval),
            ("lease", args.lease),
            ("concurrency", args.concurrency),
            ("idle", args.idle),
        )
        if value is not None
    }
    return run(watch_config=dataclasses.replace(config, **changes))


if __name__ == "__main__":
    sys.exit(main())
