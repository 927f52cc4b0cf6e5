"""What the benches share: the delayed testbed, the testbed process, figures and headers.

`BenchTestbed` is the project's `Testbed` with three changes made here by
subclassing (bot/testbed is not ours to edit):

* every HTTP response and every SMTP reply is delayed by the same D as the DNS
  answers (`Testbed(delay=D)` delays DNS only; HTTP and SMTP delays are
  per-behaviour data, and the shared SMTP server is always `Smtp()`, undelayed);
* an SMTP reply is delayed once, before its first line (the testbed's
  `_DelayedSMTP.push` sleeps before every *line*, so a 6-line EHLO reply costs
  6 D instead of one round trip);
* fixed ports can be asked for (443/25/53, for the CLI and the peer tools,
  which cannot be told other ports), and the DNS UDP socket gets a large
  receive buffer so bursts of queries are not dropped.

`TestbedProcess` runs it in a child process (`python -m bench.testbed_server`)
so that the checker's CPU is measured alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from bot.checker.settings import Nameserver, Settings
from bot.testbed import bed as bed_module
from bot.testbed.bed import Testbed
from bot.testbed.behaviour import HttpBehaviour, Mx, Smtp
from bot.testbed.pki import sni_context
from bot.testbed.postgres import fresh_database
from bot.testbed.scenario import Scenario, make, policy_text
from bot.testbed.smtp import SmtpServer, _DelayedSMTP, _Sink

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STDOUT_LINE = 4 * 1024 * 1024  # bytes: the testbed's JSON line (5,000 domains is ~130 KB)
DNS_RCVBUF = 8 * 1024 * 1024  # bytes; the default (~200 KiB) drops bursts of >~300 queries


# -- the testbed, delayed everywhere --------------------------------------------------


class _ReplyDelayedSMTP(_DelayedSMTP):
    """Delay once per SMTP reply (before its first line), not once per line."""

    _mid_reply = False

    async def push(self, status: Any) -> None:
        text = str(status)
        if self._delay and not self._mid_reply:
            await asyncio.sleep(self._delay)
        self._mid_reply = len(text) > 3 and text[3] == "-"
        await SMTP.push(self, status)


class _BenchSmtpServer(SmtpServer):
    """The shared STARTTLS server, with `_ReplyDelayedSMTP`."""

    async def listen(self, addresses: Iterable[str], port: int) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _ReplyDelayedSMTP(
                _Sink(),
                hostname=self.hostname,
                ident="mtasts-testbed",
                tls_context=self.tls_context,
                loop=loop,
                delay=self.behaviour.delay,
                owner=self,
            ),
            list(addresses),
            port,
        )
        self._servers.append(server)
        return port or int(server.sockets[0].getsockname()[1])


class BenchTestbed(Testbed):
    """`Testbed` with D on DNS, HTTP and SMTP alike, optional fixed ports, a big DNS buffer."""

    def __init__(
        self,
        scenarios: Iterable[Scenario] = (),
        *,
        delay: float = 0.0,
        dns_port: int = 0,
        https_port: int = 0,
        smtp_port: int = 0,
        timeout: float = bed_module.DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(scenarios, delay=delay, timeout=timeout)
        self._fixed = (dns_port, https_port, smtp_port)

    async def start(self) -> None:
        dns_port, https_port, smtp_port = self._fixed
        await self.dns.start(dns_port)
        _enlarge_rcvbuf(self.dns)
        self.https_port = await self.https.listen([bed_module.SHARED_HTTPS_ADDRESS], https_port)
        shared = _BenchSmtpServer(
            Smtp(delay=self.delay),
            "shared-mx.testbed.invalid",
            sni_context(self.pki, "shared-mx.testbed.invalid", "valid", self._smtp_certs.get),
        )
        self._smtp.append(shared)
        self.smtp_port = await shared.listen([bed_module.SHARED_SMTP_ADDRESS], smtp_port)
        self._started = True
        pending, self._pending = self._pending, []
        await self.add(*pending)


def _enlarge_rcvbuf(dns: object) -> None:
    """Give the DNS server's UDP socket a large receive buffer (whatever it is called)."""
    sock = getattr(dns, "_udp_sock", None)
    transport = getattr(dns, "_udp", None)
    if sock is None and transport is not None:
        sock = transport.get_extra_info("socket")
    if not isinstance(sock, socket.socket):
        return
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:  # root may exceed net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, force or socket.SO_RCVBUF, DNS_RCVBUF)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, DNS_RCVBUF)


def bench_domain(name: str, delay: float, mx_count: int = 2) -> Scenario:
    """A healthy enforce domain on the shared servers whose policy host answers after `delay`.

    Like `healthy_domain()`, plus the HTTP delay (the SMTP delay is the shared server's).
    """
    mx = tuple(Mx(f"mx{i}.{name}", 10 * i) for i in range(1, mx_count + 1))
    body = policy_text("enforce", [m.host for m in mx])
    return make(
        name,
        "healthy enforce domain on the shared servers (bench)",
        mx=mx,
        http=HttpBehaviour(body=body, delay=delay),
        shared=True,
    )


def domain_names(count: int, prefix: str = "d") -> list[str]:
    return [f"{prefix}{i:05d}.bench.example" for i in range(count)]


# -- the testbed in its own process ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BedInfo:
    """What `bench.testbed_server` prints: where its servers are."""

    nameserver: str  # "IP:PORT"
    ca_file: str
    https_port: int
    smtp_port: int
    domains: list[str]
    pid: int

    def settings(self, **overrides: Any) -> Settings:
        ip, port = self.nameserver.rsplit(":", 1)
        base = Settings(
            nameservers=(Nameserver(ip, int(port)),),
            ca_file=self.ca_file,
            allow_private=True,
            timeout=10.0,
            https_port=self.https_port,
            smtp_port=self.smtp_port,
        )
        return dataclasses.replace(base, **overrides)


class TestbedProcess:
    """`async with TestbedProcess(count, delay) as info:` a testbed in a child process."""

    __test__ = False

    def __init__(
        self,
        count: int,
        delay: float,
        *,
        prefix: str = "d",
        mx: int = 2,
        standard_ports: bool = False,
        dns_port: int = 0,
    ) -> None:
        self.args = [
            PYTHON,
            "-m",
            "bench.testbed_server",
            "--count",
            str(count),
            "--delay",
            repr(delay),
            "--prefix",
            prefix,
            "--mx",
            str(mx),
        ]
        if standard_ports:
            self.args.append("--standard-ports")
        if dns_port:
            self.args += ["--dns-port", str(dns_port)]
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BedInfo:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            limit=STDOUT_LINE,  # the first line lists every domain
        )
        assert self.proc.stdout is not None
        async with asyncio.timeout(120):
            line = await self.proc.stdout.readline()
        if not line:
            await self.proc.wait()
            raise RuntimeError(f"the testbed process ended early (status {self.proc.returncode})")
        data = json.loads(line)
        return BedInfo(**data)

    async def command(self, line: str) -> str:
        """Send the testbed a command (see bench.testbed_server) and return its answer."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()
        async with asyncio.timeout(30):
            return (await self.proc.stdout.readline()).decode().strip()

    async def __aexit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- the app in a child process ------------------------------------------------------------


async def launch_app(
    module_args: Sequence[str], env: dict[str, str], *, log: bool = False
) -> asyncio.subprocess.Process:
    """`python -m MODULE ARGS...` from the repository root (stderr piped when `log`)."""
    return await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        *module_args,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE if log else asyncio.subprocess.DEVNULL,
    )


async def serving_port(
    app: asyncio.subprocess.Process, lines: list[str] | None = None, seconds: float = 60.0
) -> int:
    """The port an app started with port 0 bound, read from its log (stderr, piped) as
    `mtasts serve` says it ("serving mode=http port=N"); the lines read go to `lines`.
    Port 0 leaves no gap between choosing a free port and binding it, in which another
    process (a test of another pytest worker) could take it."""
    from bot.testbed.instances import SERVING

    assert app.stderr is not None
    async with asyncio.timeout(seconds):
        while raw := await app.stderr.readline():
            line = raw.decode("utf-8", "replace")
            if lines is not None:
                lines.append(line)
            if (found := SERVING.search(line)) is not None:
                return int(found.group(2))
    raise RuntimeError(f"the app exited ({await app.wait()}) before serving")


async def drain_log(app: asyncio.subprocess.Process) -> None:
    """Read the rest of an app's piped log, so that a full pipe never stops it."""
    assert app.stderr is not None
    while await app.stderr.readline():
        pass


async def wait_healthy(session: Any, base: str, seconds: float = 30.0) -> None:
    """Until GET /healthz answers 200 (bounded); RuntimeError if it never does."""
    import aiohttp

    for _ in range(int(seconds * 10)):
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(base + "/healthz") as r:
                if r.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the app did not start within {seconds:g} s")


async def stop_app(app: asyncio.subprocess.Process, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    import signal

    if app.returncode is None:
        app.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(timeout):
            await app.wait()
    except TimeoutError:
        app.kill()
        await app.wait()


# -- a database of its own ---------------------------------------------------------------


def fresh_postgres(base: str) -> contextlib.AbstractAsyncContextManager[str]:
    """A new database on the PostgreSQL server of `base` (any postgres URL): its plain
    `postgresql://` URL; dropped afterwards."""
    return fresh_database(base, "mtasts_bench_")


# -- figures -------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def header(title: str, module: str, *args: object) -> str:
    """Title, machine, date and the command that reproduces the figures."""
    words = [".venv/bin/python", "-m", module, *(str(a) for a in args)]
    if "SCHED_FIFO" in scheduling():
        words.append("--realtime")
    command = shlex.join(words)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"## {title}\n\n"
        f"- date: {now}\n"
        f"- machine: {os.cpu_count()} cores (os.cpu_count()), {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}\n"
        f"- load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        f"{_cpu_pressure()}\n"
        f"- scheduling: {scheduling()}\n"
        f"- reproduce: `{command}` (from the repository root)\n"
    )


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Add `--realtime` to a bench's options, parse them, and apply it."""
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run under SCHED_FIFO (root) so other load on the machine does not delay it",
    )
    args = parser.parse_args(argv)
    if args.realtime and not set_realtime(True):
        print("--realtime: not permitted here (needs root or CAP_SYS_NICE)", file=sys.stderr)
    return args


def set_realtime(on: bool, priority: int = 1) -> bool:
    """SCHED_FIFO priority 1 for this process and the children it starts (or back to normal).

    On a shared machine, other processes' CPU load otherwise delays every wake-up of the
    bench, the testbed and the checker (see the 'waited for a CPU' columns). Only for
    benches that mostly wait on the network: the kernel still keeps 5% of each CPU for
    everyone else. Returns False when not permitted.
    """
    try:
        if on:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        else:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except (OSError, AttributeError):
        return False
    return True


def scheduling() -> str:
    try:
        policy = os.sched_getscheduler(0)
    except (OSError, AttributeError):
        return "unknown"
    if policy == getattr(os, "SCHED_FIFO", -1):
        priority = os.sched_getparam(0).sched_priority
        return (
            f"SCHED_FIFO {priority} (--realtime: bench, testbed and measured processes are not "
            "delayed by other load)"
        )
    return "normal (SCHED_OTHER): other load on the machine can delay the measured processes"


def cpu_pressure() -> dict[str, str]:
    """Linux PSI now: the share of time some runnable task waited for a CPU (other load),
    as {"avg10": "3.69", "avg60": ...}; empty where the kernel does not say."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return {}
    return dict(part.split("=", 1) for part in first.split()[1:] if "=" in part)


def _cpu_pressure() -> str:
    fields = cpu_pressure()
    if not fields:
        return ""
    return f"; CPU pressure (PSI some avg10/avg60): {fields.get('avg10')}% / {fields.get('avg60')}%"


def rss_mb(kilobytes: int) -> float:
    """ru_maxrss is in KiB on Linux."""
    return kilobytes / 1024


def emit(text: str, out: Path | None = None) -> None:
    print(text, flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError), out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")


def cpu_wait(pid: int | str = "self") -> float:
    """Seconds a process's threads were runnable but waiting for a CPU (/proc schedstat).

    On a shared machine this is the part of a measured time that other load took.
    """
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1])
    except OSError:
        return float("nan")
    return total / 1e9


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


@dataclass(frozen=True, slots=True)
class ChildRun:
    """One child process run: wall time, its own CPU and peak RSS, exit status, output."""

    wall: float
    cpu: float
    cpu_wait: float  # runnable but waiting for a CPU (other load on the machine)
    maxrss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_child(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 300.0,
    cwd: str | Path | None = None,
) -> ChildRun:
    """Run `args` to completion through bench/_launch.py: its own wall, CPU and peak RSS."""
    import tempfile

    launcher = Path(__file__).with_name("_launch.py")
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as report,
    ):
        subprocess.run(
            [PYTHON, "-S", str(launcher), report.name, str(timeout), "--", *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            check=True,
            timeout=timeout + 30,
            cwd=cwd,
        )
        data = json.loads(Path(report.name).read_text())
        out.seek(0)
        err.seek(0)
        return ChildRun(
            wall=data["wall"],
            cpu=data["cpu"],
            cpu_wait=data["cpu_wait"],
            maxrss_mb=rss_mb(data["maxrss_kb"]),
            returncode=data["returncode"],
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
