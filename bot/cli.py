"""The `mtasts` command: check, serve, demo."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mtasts", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check domains' MTA-STS")
    sub.add_parser("serve", help="run the Slack app")
    sub.add_parser("demo", help="run the bot against a built-in testbed")
    args = parser.parse_args(argv)
    print(f"mtasts {args.command}: not built yet", file=sys.stderr)
    return 2
