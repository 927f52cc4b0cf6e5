"""Run a bench testbed in its own process: `python -m bench.testbed_server --count N --delay D`.

Serves N healthy enforce domains (two MX each, on the shared servers) with
every DNS answer, HTTP response and SMTP reply delayed by D seconds; prints one
JSON line on stdout (nameserver, ca_file, ports, domains, pid) and serves
until stdin closes. A line `edit-policy DOMAIN` on stdin edits that domain's
policy file (one more `mx` line) without changing its TXT `id` (bench.watch
uses it to cause alerts); it answers `ok DOMAIN` on stdout.

With --standard-ports the HTTPS server listens on 443 and SMTP on 25 (as the
CLI and the peer tools expect; needs root or CAP_NET_BIND_SERVICE); --dns-port
53 likewise for tools that cannot be given a DNS port.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys

from bench.common import BenchTestbed, bench_domain, domain_names
from bot.testbed.scenario import Scenario, policy_text


async def serve(args: argparse.Namespace) -> None:
    names = domain_names(args.count, args.prefix)
    scenarios = [bench_domain(n, args.delay, args.mx) for n in names]
    bed = BenchTestbed(
        scenarios,
        delay=args.delay,
        dns_port=args.dns_port,
        https_port=443 if args.standard_ports else 0,
        smtp_port=25 if args.standard_ports else 0,
    )
    async with bed:
        if args.warm:
            # Issue every host's certificate now: the testbed makes them on first contact,
            # which would bill the (cold) testbed's key generation to the first check.
            for sc in scenarios:
                for host in (sc.policy_host, *(m.host for m in sc.mx)):
                    bed.pki.context(host, "valid")
        info = {
            "nameserver": str(bed.dns_address),
            "ca_file": bed.ca_file,
            "https_port": bed.https_port,
            "smtp_port": bed.smtp_port,
            "domains": names,
            "pid": os.getpid(),
        }
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        # Serve until stdin closes (the parent went away or is done); obey its commands.
        while line := await loop.run_in_executor(None, sys.stdin.buffer.readline):
            words = line.decode().split()
            if len(words) == 2 and words[0] == "edit-policy" and words[1] in bed.scenarios:
                await bed.change(edited_policy(bed.scenarios[words[1]]))
                sys.stdout.write(f"ok {words[1]}\n")
                sys.stdout.flush()


def edited_policy(scenario: Scenario) -> Scenario:
    """The same domain with one more `mx` line in its policy file, under the same TXT id."""
    patterns = [m.host for m in scenario.mx] + [f"mx9.{scenario.domain}"]
    http = dataclasses.replace(scenario.policy.http, body=policy_text("enforce", patterns))
    return dataclasses.replace(scenario, policy=dataclasses.replace(scenario.policy, http=http))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.testbed_server")
    parser.add_argument("--count", type=int, default=10, help="healthy domains to serve")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument("--prefix", default="d", help="first label prefix of the domains")
    parser.add_argument("--mx", type=int, default=2, help="MX hosts per domain")
    parser.add_argument("--standard-ports", action="store_true", help="HTTPS on 443, SMTP on 25")
    parser.add_argument(
        "--no-warm", dest="warm", action="store_false", help="make certificates on first use"
    )
    parser.add_argument("--dns-port", type=int, default=0, help="DNS port (default: any free)")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
