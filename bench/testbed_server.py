"""Run a bench testbed in its own process: `python -m bench.testbed_server --count N --delay D`.

Serves N healthy enforce domains (two MX each, on the shared servers) with
every DNS answer, HTTP response and SMTP reply delayed by D seconds; prints one
JSON line on stdout (nameserver, ca_file, ports, domains, pid) and serves
until stdin closes. With --standard-ports the HTTPS server listens on 443 and
SMTP on 25 (as the CLI and the peer tools expect; needs root or
CAP_NET_BIND_SERVICE); --dns-port 53 likewise for tools that cannot be given
a DNS port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from bench.common import BenchTestbed, bench_domain, domain_names


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
        # Serve until stdin closes (the parent went away or is done).
        await loop.run_in_executor(None, sys.stdin.buffer.read)


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
