"""Bench 4: the Slack path: ack latency of /mtasts and time to the posted result.

    .venv/bin/python -m bench.slack_ack [--requests 100] [--levels 1,10,50] [--delay-ms 25]
                                        [--redis redis://127.0.0.1:6379/0]

The real app runs as `python -m bot serve --port P` (HTTP mode) in a child
process, configured only through its environment: SLACK_API_URL points its Web
API client at the Slack stand-in (bot.testbed.slack_standin, in this process,
which also receives the response_url posts), and MTASTS_NAMESERVERS /
MTASTS_CA_FILE / MTASTS_ALLOW_PRIVATE point its checker at a testbed in a
third process (HTTPS on 443 and SMTP on 25, since the app has no port
settings; D on every reply). This process sends signed `/mtasts DOMAIN`
requests (as Slack signs them), `level` at a time, and measures:

* ack latency: from sending the request to the HTTP answer (Slack's 3 s rule);
* time to the result: from sending to the stand-in receiving the post on the
  command's response_url (a real check for a fresh domain, the cached report
  for a cached one).

Each request comes from its own user and workspace, so the app's rate limits
(10 checks per user, 60 per workspace at once) do not turn fresh checks into
"slow down" answers; every level waits for all its results before the next.

With `--redis URL` the app keeps its state there (REDIS_URL, under a prefix of
its own): the cache, running checks, dedupe, replay guard and rate limits, as
several instances would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.common import (
    ROOT,
    TestbedProcess,
    cpu_wait,
    drain_log,
    header,
    launch_app,
    median,
    parse_args,
    percentile,
    process_cpu,
    serving_port,
    stop_app,
    table,
    wait_healthy,
)
from bot.slack.serve import EVENTS_PATH
from bot.testbed.slack_standin import SlackRequests, SlackStandin

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-0000-token"


@dataclass
class Level:
    kind: str  # "fresh" or "cached"
    level: int
    acks: list[float] = field(default_factory=list)
    results: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    missing: int = 0
    app_cpu: float = 0.0
    app_waited: float = 0.0  # the app process runnable but waiting for a CPU
    wall: float = 0.0


def result_times(standin: SlackStandin, sent: Mapping[str, float]) -> tuple[list[float], int]:
    """`sent`: response id -> when its request went out. The seconds to each one's first
    result post, and how many have none."""
    first: dict[str, float] = {}
    for call in standin.calls:
        rid = call.response_id
        if call.method == "response_url" and rid in sent and rid not in first:
            first[rid] = call.at
    return [first[rid] - sent[rid] for rid in sent if rid in first], len(sent) - len(first)


class _Sender:
    def __init__(self, session: aiohttp.ClientSession, url: str, standin: SlackStandin) -> None:
        self.session = session
        self.url = url
        self.standin = standin
        self._ids = itertools.count(1)

    async def one(self, domain: str, out: Level, sent: dict[str, float]) -> None:
        n = next(self._ids)
        slack = SlackRequests(SIGNING_SECRET, team_id=f"TBENCH{n:05d}")
        response_url = self.standin.new_response_url()
        request = slack.slash_command(domain, response_url=response_url, user_id=f"UBENCH{n:05d}")
        start = time.monotonic()
        sent[response_url.rsplit("/", 1)[-1]] = start
        async with self.session.post(self.url, data=request.body, headers=request.headers) as r:
            await r.read()
            out.acks.append(time.monotonic() - start)
            out.statuses[r.status] = out.statuses.get(r.status, 0) + 1

    async def level(
        self, kind: str, level: int, domains: Sequence[str], app_pid: int, wait: float
    ) -> Level:
        out = Level(kind, level)
        sent: dict[str, float] = {}
        cpu0, wait0 = process_cpu(app_pid), cpu_wait(app_pid)
        start = time.monotonic()
        for i in range(0, len(domains), level):
            batch = domains[i : i + level]
            await asyncio.gather(*(self.one(d, out, sent) for d in batch))
        with contextlib.suppress(TimeoutError):  # missing results are counted below
            await self.standin.wait_for(
                lambda calls: (
                    sum(1 for c in calls if c.method == "response_url" and c.response_id in sent)
                    >= len(sent)
                ),
                timeout=wait,
            )
        out.wall = time.monotonic() - start
        out.app_cpu = process_cpu(app_pid) - cpu0
        out.app_waited = cpu_wait(app_pid) - wait0
        out.results, out.missing = result_times(self.standin, sent)
        return out


async def _run(
    requests: int, levels: Sequence[int], delay: float, redis: str | None = None
) -> list[Level]:
    need = requests * len(levels) + max(levels)
    async with (
        TestbedProcess(need, delay, prefix="slack", standard_ports=True) as info,
        SlackStandin() as standin,
    ):
        folder = tempfile.TemporaryDirectory(prefix="mtasts-bench-ack-")
        data_dir = folder.name
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.api_url,
            "MTASTS_NAMESERVERS": info.nameserver,
            "MTASTS_CA_FILE": info.ca_file,
            "MTASTS_ALLOW_PRIVATE": "1",
            "MTASTS_DATA_DIR": data_dir,  # its database of watches (none here), not in ROOT
        }
        if redis:
            env.update(REDIS_URL=redis, MTASTS_REDIS_PREFIX=f"bench-{secrets.token_hex(4)}:")
        env["PORT"] = "0"  # any free port, said in its log (`--port` takes 1 to 65535)
        app = await launch_app(["bot", "serve"], env, log=True)
        try:
            port = await serving_port(app)
        except BaseException:
            await stop_app(app)
            raise
        log = asyncio.create_task(drain_log(app))
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=max(levels) * 2)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                await wait_healthy(session, base)
                sender = _Sender(session, base + EVENTS_PATH, standin)
                names = iter(info.domains)
                cache = [next(names) for _ in range(max(levels))]
                results: list[Level] = []
                # warm the app (imports, first connections) and fill the cache: not measured
                await sender.level("warm", 10, cache, app.pid, wait=60)
                for level in levels:
                    fresh = [next(names) for _ in range(requests)]
                    results.append(await sender.level("fresh", level, fresh, app.pid, wait=60))
                for level in levels:
                    hits = [cache[i % len(cache)] for i in range(requests)]
                    results.append(await sender.level("cached", level, hits, app.pid, wait=30))
        finally:
            await stop_app(app)
            await log
            await asyncio.to_thread(folder.cleanup)
    return results


def run(requests: int, levels: Sequence[int], delay: float, redis: str | None = None) -> str:
    results = asyncio.run(_run(requests, levels, delay, redis))
    rows = []
    for r in results:
        rows.append(
            [
                r.kind,
                str(r.level),
                str(len(r.acks)),
                f"{median(r.acks) * 1000:.1f} ms",
                f"{percentile(r.acks, 99) * 1000:.1f} ms",
                f"{max(r.acks) * 1000:.1f} ms",
                f"{median(r.results) * 1000:.1f} ms",
                f"{percentile(r.results, 99) * 1000:.1f} ms",
                str(r.missing),
                ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items())),
                f"{r.app_cpu / max(r.wall, 1e-9):.0%}",
                f"{r.app_cpu / max(len(r.acks), 1) * 1000:.1f} ms",
                f"{r.app_waited / max(r.wall, 1e-9):.0%}",
            ]
        )
    text = header(
        "Bench 4: Slack path (/mtasts ack and result)",
        "bench.slack_ack",
        "--requests",
        requests,
        "--levels",
        ",".join(str(x) for x in levels),
        "--delay-ms",
        f"{delay * 1000:g}",
    )
    text += (
        f"\nThe real app (`python -m bot serve`) in a child process, Slack stand-in here, "
        f"testbed in a third process with D = {delay * 1000:.0f} ms; {requests} signed "
        "/mtasts requests per row, `level` at a time. 'ack' = request to HTTP answer; "
        "'result' = request to the post on its response_url (fresh: a real check; cached: "
        "the cache). 'app CPU' = the app process's CPU over the row's wall time. "
        "Targets: p99 ack < 100 ms at 50 concurrent; a cache hit posted within 50 ms."
        + (" State in Redis (REDIS_URL)." if redis else " State in process.")
        + "\n\n"
    )
    text += table(
        [
            "results",
            "concurrent",
            "requests",
            "ack median",
            "ack p99",
            "ack max",
            "result median",
            "result p99",
            "missing results",
            "HTTP status",
            "app CPU",
            "app CPU/request",
            "app waited for a CPU",
        ],
        rows,
    )
    return text + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_ack", description=__doc__)
    parser.add_argument("--requests", type=int, default=100, help="per row, default 100")
    parser.add_argument("--levels", default="1,10,50", help="concurrent requests, default 1,10,50")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="testbed D, default 25")
    parser.add_argument("--redis", metavar="URL", help="keep the app's state in this Redis")
    args = parse_args(parser, argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    print(run(args.requests, levels, args.delay_ms / 1000, args.redis), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
