"""`python -m bench.watch_app --port P [--interval S]`: `mtasts serve`, for bench.watch.

The same code path as `mtasts serve` (bot.slack.serve.run, configured from
the environment), except that the watch interval may be given here, below the
60 s that MTASTS_WATCH_INTERVAL allows: bench.watch's compressed-time runs and
its smoke test use that. Without --interval it is exactly `mtasts serve`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from bot.slack.serve import run
from bot.watch.config import WatchConfig


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.watch_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval", type=float, help="seconds between checks of a domain")
    args = parser.parse_args()
    config = None
    if args.interval is not None:
        config = dataclasses.replace(WatchConfig.from_env(), interval=args.interval)
    return run(args.port, watch_config=config)


if __name__ == "__main__":
    sys.exit(main())
