"""Bench 2: our CLI against the tools people use today, on the same delayed testbed.

    .venv/bin/python -m bench.peers [--delay-ms 25] [--runs 7] [--no-install]

The peers are installed by this script into their own virtualenv,
bench/.venv-peers (never project dependencies): checkdmarc and
postfix-mta-sts-resolver (its `mta-sts-query`).

Neither peer can be pointed at a DNS port, an HTTPS port or an SMTP port:
checkdmarc takes nameservers (port 53) for its DNS queries but fetches the
policy with `requests` and connects to the MX with `smtplib`, both resolving
through the system resolver (glibc, /etc/resolv.conf); mta-sts-query resolves
through c-ares (aiodns), which reads /etc/resolv.conf too, and aiohttp.
So the testbed runs in a child process with DNS on 127.77.0.1:53, HTTPS on
443 and SMTP on 25 (root, or CAP_NET_BIND_SERVICE), and every tool, ours
included, is started under `unshare -m` with a private bind mount of a
resolv.conf naming 127.77.0.1: the machine's own /etc/resolv.conf is not
touched. Trust in the testbed CA: SSL_CERT_FILE (ssl's default context:
smtplib, aiohttp) and REQUESTS_CA_BUNDLE (requests); ours gets --ca-file.

Like for like, one fresh domain per invocation, each tool a new process (so
interpreter start-up and imports count for everyone): ours --no-smtp vs
mta-sts-query (policy only), ours full vs checkdmarc's MTA-STS check (its
check_mta_sts + check_mx(check_mx_tls=True) + check_smtp_tls_reporting, run by
bench/peer_checkdmarc.py), plus the checkdmarc CLI with --check-mx-tls (which
also checks SPF, DMARC, BIMI, DNSSEC, NS and SOA) for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    PYTHON,
    ROOT,
    BedInfo,
    ChildRun,
    TestbedProcess,
    header,
    median,
    parse_args,
    run_child,
    table,
)

PEERS_VENV = ROOT / "bench" / ".venv-peers"
PEER_PACKAGES = ("checkdmarc", "postfix-mta-sts-resolver")
PEER_BIN = PEERS_VENV / "bin"
DNS_IP = "127.77.0.1"  # bot.testbed.bed.DNS_ADDRESS


# Ours as users get it (`pip install .`, not the editable dev install, whose import
# hook costs ~17 ms per start), in its own virtualenv like the peers.
OURS_VENV = ROOT / "bench" / ".venv-ours"
OURS_BIN = OURS_VENV / "bin"


def install_ours() -> None:
    """Create bench/.venv-ours and (re)install this checkout into it, as a regular install."""
    if not (OURS_BIN / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(OURS_VENV)], check=True)
        subprocess.run(
            [str(OURS_BIN / "python"), "-m", "pip", "install", "-q", str(ROOT)], check=True
        )
    subprocess.run(
        [str(OURS_BIN / "python"), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
         str(ROOT)],
        check=True,
    )  # fmt: skip


def add_install_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-install", action="store_true", help="do not create bench/.venv-peers if missing"
    )


def install() -> None:
    """The peers (once) and this checkout (again) into their virtualenvs."""
    if not peers_installed():
        install_peers()
    install_ours()


def ours_python() -> str:
    """The installed copy when there is one, else this (editable) environment."""
    return str(OURS_BIN / "python") if (OURS_BIN / "python").exists() else PYTHON


def peers_installed() -> bool:
    return (PEER_BIN / "mta-sts-query").exists() and (PEER_BIN / "checkdmarc").exists()


def install_peers() -> None:
    """Create bench/.venv-peers and pip-install the peer tools into it."""
    if not (PEER_BIN / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run(
        [str(PEER_BIN / "python"), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True
    )


def peer_versions() -> str:
    code = (
        "import importlib.metadata as m;"
        f"print(', '.join(p + ' ' + m.version(p) for p in {list(PEER_PACKAGES)!r}))"
    )
    out = subprocess.run([str(PEER_BIN / "python"), "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or "unknown versions"


@dataclass
class Tool:
    name: str
    command: Callable[[BedInfo, str], list[str]]
    ok: Callable[[ChildRun], bool]
    imports: list[str]  # a process that only starts and imports the tool: its start-up cost
    runs: list[ChildRun] = field(default_factory=list)
    startup: list[ChildRun] = field(default_factory=list)


def _ours_ok(run: ChildRun) -> bool:
    try:
        return run.returncode == 0 and json.loads(run.stdout)["status"] == "pass"
    except (ValueError, KeyError):
        return False


def _checkdmarc_api_ok(run: ChildRun) -> bool:
    try:
        return bool(json.loads(run.stdout)["ok"])
    except (ValueError, KeyError):
        return False


def _checkdmarc_cli_ok(run: ChildRun) -> bool:
    try:
        result = json.loads(run.stdout)
        hosts = result["mx"]["hosts"]
        return bool(result["mta_sts"]["valid"]) and all(h.get("starttls") for h in hosts)
    except (ValueError, KeyError, TypeError):
        return False


def _ours(smtp: bool) -> Callable[[BedInfo, str], list[str]]:
    def command(info: BedInfo, domain: str) -> list[str]:
        args = [ours_python(), "-m", "bot", "check", domain, "--json", "--allow-private"]
        args += ["--nameserver", info.nameserver, "--ca-file", info.ca_file]
        return args + ([] if smtp else ["--no-smtp"])

    return command


def ours_imports() -> list[str]:
    return [ours_python(), "-c", "import bot.cli, bot.checker.engine"]


CHECKDMARC_IMPORTS = [str(PEER_BIN / "python"), "-c", "import checkdmarc, checkdmarc._cli"]


def tools() -> list[Tool]:
    return [
        Tool("ours: mtasts check --no-smtp", _ours(False), _ours_ok, ours_imports()),
        Tool(
            "postfix-mta-sts-resolver: mta-sts-query",
            lambda info, d: [str(PEER_BIN / "mta-sts-query"), d],
            lambda r: r.returncode == 0 and "VALID" in r.stdout,
            [str(PEER_BIN / "python"), "-c", "import postfix_mta_sts_resolver.__main__"],
        ),
        Tool("ours: mtasts check (full)", _ours(True), _ours_ok, ours_imports()),
        Tool(
            "checkdmarc: MTA-STS check (API, check_mx_tls)",
            lambda info, d: [
                str(PEER_BIN / "python"),
                str(ROOT / "bench" / "peer_checkdmarc.py"),
                DNS_IP,
                d,
            ],
            _checkdmarc_api_ok,
            CHECKDMARC_IMPORTS,
        ),
        Tool(
            "checkdmarc CLI --check-mx-tls (all checks)",
            lambda info, d: [str(PEER_BIN / "checkdmarc"), d, "--check-mx-tls", "-n", DNS_IP],
            _checkdmarc_cli_ok,
            CHECKDMARC_IMPORTS,
        ),
    ]


# Pairs compared (ours, peer) by name prefix in `tools()`.
PAIRS = ((0, 1), (2, 3), (2, 4))


@contextlib.contextmanager
def resolv_conf() -> Iterator[str]:
    """A resolv.conf naming the testbed's DNS, for the tools to see as /etc/resolv.conf."""
    with tempfile.NamedTemporaryFile("w", suffix=".resolv.conf", delete=False) as f:
        f.write(f"nameserver {DNS_IP}\noptions timeout:2 attempts:1\n")
    try:
        yield f.name
    finally:
        Path(f.name).unlink(missing_ok=True)


async def measure(
    delay: float,
    runs: int,
    resolv: str,
    quick: bool = False,
    only: Sequence[str] | None = None,
) -> list[Tool]:
    """Each tool (or those named in `only`) `runs` times, a new process and a fresh domain
    each, round-robin, against a testbed process on the standard ports."""
    measured = [t for t in tools() if only is None or t.name in only]
    count = runs * len(measured) + 1
    async with TestbedProcess(
        count, delay, prefix=f"peer{int(delay * 1000)}-", standard_ports=True, dns_port=53
    ) as info:
        env = {**os.environ, "SSL_CERT_FILE": info.ca_file, "REQUESTS_CA_BUNDLE": info.ca_file}
        env.pop("PYTHONPATH", None)
        wrap = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"']
        wrap.append(resolv)
        domains = iter(info.domains)
        warm = next(domains)
        # Outside the checkout, so `python -m bot` runs the installed copy, as users get it
        # (in the checkout, `-m` would put its source first, compiled or not).
        with tempfile.TemporaryDirectory() as elsewhere:

            def child(args: list[str]) -> ChildRun:
                return run_child(args, env=env, timeout=120, cwd=elsewhere)

            for tool in [] if quick else measured:  # page in each tool's files once
                child(wrap + tool.command(info, warm))
            for _ in range(runs):
                for tool in measured:  # round-robin, so load noise spreads over all tools
                    tool.runs.append(child(wrap + tool.command(info, next(domains))))
                if delay == 0:
                    for tool in [] if quick else measured:
                        tool.startup.append(child(tool.imports))
    return measured


def _cell(runs: list[ChildRun]) -> float:
    return median([r.wall for r in runs])


def _least(runs: list[ChildRun]) -> float:
    """The fastest run: start-up noise only ever adds time, so the minimum is steadiest."""
    return min((r.wall for r in runs), default=float("nan"))


def run(delay: float, runs: int, quick: bool = False) -> str:
    text = header(
        "Bench 2: against other tools",
        "bench.peers",
        "--delay-ms",
        f"{delay * 1000:g}",
        "--runs",
        runs,
    )
    if not peers_installed():
        return text + "\nskipped: bench/.venv-peers is not installed (run without --no-install)\n"
    with resolv_conf() as resolv:
        at_d = asyncio.run(measure(delay, runs, resolv, quick))
        at_0 = asyncio.run(measure(0.0, runs, resolv, quick)) if delay > 0 else at_d
    rows = []
    for tool, floor in zip(at_d, at_0, strict=True):
        med = _cell(tool.runs)
        med0 = _cell(floor.runs)
        waited = (_least(tool.runs) - _least(floor.runs)) / delay if delay else float("nan")
        both = tool.runs + (floor.runs if floor is not tool else [])
        good = sum(tool.ok(r) for r in both)
        rows.append(
            [
                tool.name,
                f"{med * 1000:.0f} ms",
                f"{med0 * 1000:.0f} ms",
                f"{waited:.1f}" if delay else "-",
                f"{_cell(floor.startup) * 1000:.0f} ms",
                f"{median([r.cpu for r in tool.runs]) * 1000:.0f} ms",
                f"{median([r.cpu_wait for r in tool.runs]) * 1000:.0f} ms",
                f"{max(r.maxrss_mb for r in tool.runs):.0f} MB",
                f"{good}/{len(both)}",
            ]
        )
    ratios = []
    for ours, peer in PAIRS:
        o, p = _cell(at_d[ours].runs), _cell(at_d[peer].runs)
        o0, p0 = _cell(at_0[ours].runs), _cell(at_0[peer].runs)
        ow = _least(at_d[ours].runs) - _least(at_0[ours].runs)
        pw = _least(at_d[peer].runs) - _least(at_0[peer].runs)
        ratios.append(
            [
                at_d[peer].name,
                at_d[ours].name,
                f"{p / o:.2f}x",
                f"{p0 / o0:.2f}x",
                f"{pw / ow:.2f}x" if delay and ow > 0 else "-",
            ]
        )
    text += (
        f"\nPeers: {peer_versions()}. D = {delay * 1000:.0f} ms on every DNS answer, HTTP "
        f"response and SMTP reply; {runs} invocations per tool (a fresh domain and a new "
        "process each; start-up included), medians. 'round trips waited' = (fastest run at "
        "D - fastest at D=0) / D (start-up noise only adds time, so the fastest runs are "
        "steadiest). 'ok' = runs whose output shows the healthy domain passing.\n\n"
    )
    text += table(
        [
            "tool",
            f"median at D={delay * 1000:.0f} ms",
            "median at D=0",
            "round trips waited",
            "start-up + imports",
            "CPU (child)",
            "waited for a CPU",
            "peak RSS",
            "ok",
        ],
        rows,
    )
    text += "\n\n" + table(
        [
            "peer",
            "vs ours",
            "peer / ours at D (medians)",
            "at D=0",
            "round trips waited, peer / ours",
        ],
        ratios,
    )
    text += "\n"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--delay-ms", type=float, default=25.0, help="D, default 25")
    parser.add_argument("--runs", type=int, default=11, help="invocations per tool, default 11")
    add_install_option(parser)
    args = parse_args(parser, argv)
    if not args.no_install:
        install()
    print(run(args.delay_ms / 1000, args.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
