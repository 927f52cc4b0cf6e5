"""Bench 9: several `mtasts serve` instances on PostgreSQL and Redis, against one.

    .venv/bin/python -m bench.multi_instance [--instances 3] [--requests 200] [--level 50]
        [--once 1000] [--duplicates 0.1] [--domains 5000] [--window 20] [--concurrency 8]
        [--delay-ms 25] [--scheduler-delay-ms 100] [--database URL] [--redis URL]
        [--parts acks,once,scheduler]

Real app processes (`python -m bot serve`, HTTP mode, bot/testbed/instances.py),
each on a fresh PostgreSQL database and a fresh Redis key prefix for every
configuration; a testbed of healthy domains in its own process (D on every DNS,
HTTP and SMTP reply); the Slack stand-in in this process. In one run:

* acks: `--requests` signed /mtasts commands for fresh domains, `--level` at a
  time, spread round-robin over 1 instance, then over `--instances`: ack
  latency (request to HTTP answer; Slack's 3 s rule) and time to the posted
  result; then the same for cached domains;
* once: `--once` requests (half /mtasts commands, half mentions) over the
  instances, `--level` at a time, a `--duplicates` share of them delivered a
  second time to *another* instance (a command: the very same signed request,
  as a retrying proxy would send it; a mention: Slack's retry, re-signed, with
  X-Slack-Retry-Num): how many requests were answered exactly once, never, or
  more than once;
* scheduler: `--domains` watched domains, all due at once, checked by 1
  instance, then by `--instances` (each with MTASTS_WATCH_CONCURRENCY =
  `--concurrency`, its interval long enough that each domain is due once):
  checks per second over `--window` seconds, the ratio, and duplicate checks
  (a domain checked more than once, from the database and the instances' logs).

An instance checks at most `--concurrency` watched domains at once, so its
throughput is that over a check's latency (its round trips at D, 100 ms by
default for this part: a check then waits on the network far more than it
computes, as against real mail servers); more instances multiply it until the
machine's CPUs run out: the header says how many there are and how loaded they
were, and the table how much CPU the instances used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.common import (
    BedInfo,
    TestbedProcess,
    fresh_postgres,
    header,
    median,
    parse_args,
    percentile,
    process_cpu,
    table,
)
from bench.slack_ack import BOT_TOKEN, SIGNING_SECRET, result_times
from bot.testbed.instances import SERVE, ServeProcesses
from bot.testbed.slack_standin import SignedRequest, SlackRequests, SlackStandin

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
CHANNELS = 10
CHECK_LINE = re.compile(r"watch check domain=(\S+) .*?outcome=recorded")


# -- the deployment ---------------------------------------------------------------------------


def app_env(bed: BedInfo, standin: SlackStandin, database: str, redis: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MTASTS_", "REDIS_", "DATABASE_"))
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=standin.api_url,
        PORT="0",
        MTASTS_NAMESERVERS=bed.nameserver,
        MTASTS_CA_FILE=bed.ca_file,
        MTASTS_ALLOW_PRIVATE="1",
        MTASTS_TEST_HTTPS_PORT=str(bed.https_port),
        MTASTS_TEST_SMTP_PORT=str(bed.smtp_port),
        MTASTS_DATABASE_URL=database,
        REDIS_URL=redis,
        MTASTS_REDIS_PREFIX=f"bench-{secrets.token_hex(4)}:",
    )
    return env


@contextlib.asynccontextmanager
async def deployment(
    bed: BedInfo,
    standin: SlackStandin,
    count: int,
    args: argparse.Namespace,
    *,
    entry: Sequence[str] = SERVE,
    **extra: str,
) -> AsyncIterator[ServeProcesses]:
    async with fresh_postgres(args.database) as database:
        env = app_env(bed, standin, database, args.redis)
        env.update(extra)
        async with ServeProcesses(env, count, args=entry) as instances:
            yield instances


# -- acks -------------------------------------------------------------------------------------


@dataclass
class AckRow:
    instances: int
    kind: str
    acks: list[float] = field(default_factory=list)
    results: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    missing: int = 0


class Sender:
    def __init__(self, http: aiohttp.ClientSession, standin: SlackStandin) -> None:
        self.http = http
        self.standin = standin
        self.n = 0

    def slack(self) -> tuple[SlackRequests, str]:
        """Each request from its own workspace and person: the rate limits do not apply."""
        self.n += 1
        return SlackRequests(SIGNING_SECRET, team_id=f"TB{self.n:06d}"), f"UB{self.n:06d}"

    async def post(self, url: str, request: SignedRequest) -> tuple[int, float]:
        start = time.monotonic()
        async with self.http.post(url, data=request.body, headers=request.headers) as r:
            await r.read()
            return r.status, time.monotonic() - start


async def ack_row(
    sender: Sender,
    instances: ServeProcesses,
    kind: str,
    domains: Sequence[str],
    level: int,
) -> AckRow:
    row = AckRow(len(instances), kind)
    sent: dict[str, float] = {}
    standin = sender.standin

    async def one(i: int, domain: str) -> None:
        slack, user = sender.slack()
        url = standin.new_response_url()
        sent[url.rsplit("/", 1)[-1]] = time.monotonic()
        request = slack.slash_command(domain, response_url=url, user_id=user)
        status, seconds = await sender.post(instances[i % len(instances)].events_url, request)
        row.acks.append(seconds)
        row.statuses[status] += 1

    for start in range(0, len(domains), level):
        batch = domains[start : start + level]
        await asyncio.gather(*(one(start + i, d) for i, d in enumerate(batch)))

    def answered() -> bool:
        ids = {c.response_id for c in standin.calls if c.method == "response_url"}
        return ids >= sent.keys()

    with contextlib.suppress(TimeoutError):
        await standin.wait_until(answered, timeout=60)
    row.results, row.missing = result_times(standin, sent)
    return row


async def part_acks(
    bed: BedInfo, standin: SlackStandin, args: argparse.Namespace, names: list[str]
) -> list[AckRow]:
    rows: list[AckRow] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sender = Sender(http, standin)
        for count in sorted({1, args.instances}):
            async with deployment(bed, standin, count, args) as instances:
                warm = [names.pop() for _ in range(2 * count)]
                await ack_row(sender, instances, "warm", warm, count)  # imports, connections
                fresh = [names.pop() for _ in range(args.requests)]
                rows.append(await ack_row(sender, instances, "fresh", fresh, args.level))
                cached = [fresh[i % len(fresh)] for i in range(args.requests)]
                rows.append(await ack_row(sender, instances, "cached", cached, args.level))
    return rows


# -- answered once -----------------------------------------------------------------------------


@dataclass
class Once:
    requests: int = 0
    duplicated: int = 0
    exactly_once: int = 0
    never: int = 0
    more: int = 0
    duplicate_statuses: Counter[int] = field(default_factory=Counter)


async def part_once(
    bed: BedInfo, standin: SlackStandin, args: argparse.Namespace, domains: Sequence[str]
) -> Once:
    out = Once(requests=args.once)
    rng = random.Random(6)  # the same deliveries every run
    answers: dict[str, str] = {}  # request -> the response_url id or channel it is answered on
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        deployment(bed, standin, args.instances, args) as instances,
    ):
        sender = Sender(http, standin)
        count = len(instances)

        async def one(i: int) -> None:
            slack, user = sender.slack()
            domain = domains[i % len(domains)]
            target = i % count
            if i % 2 == 0:
                url = standin.new_response_url()
                answers[f"r{i}"] = url.rsplit("/", 1)[-1]
                request = slack.slash_command(domain, response_url=url, user_id=user)
                again = request  # a proxy's retry: the same bytes
            else:
                channel = f"C0ONCE{i:05d}"
                answers[f"r{i}"] = channel
                request = slack.mention(domain, channel=channel, user=user)
                event = json.loads(request.body)
                stamp = int(request.headers["X-Slack-Request-Timestamp"]) + 1
                again = slack.event(
                    event["event"], event_id=event["event_id"], retry_num=1, timestamp=stamp
                )
            await sender.post(instances[target].events_url, request)
            if rng.random() < args.duplicates:
                out.duplicated += 1
                other = (target + 1 + rng.randrange(count - 1)) % count if count > 1 else 0
                status, _ = await sender.post(instances[other].events_url, again)
                out.duplicate_statuses[status] += 1

        for start in range(0, args.once, args.level):
            await asyncio.gather(
                *(one(i) for i in range(start, min(start + args.level, args.once)))
            )

        def counts() -> Counter[str]:
            seen: Counter[str] = Counter()
            for call in standin.calls:
                if call.method == "response_url" and call.response_id:
                    seen[call.response_id] += 1
                elif call.method == "chat.postMessage":
                    seen[str(call.args.get("channel"))] += 1
            return seen

        wanted = set(answers.values())
        with contextlib.suppress(TimeoutError):
            await standin.wait_until(lambda: wanted <= set(counts()), timeout=120)
        await asyncio.sleep(2)  # a late second answer would arrive within this
        seen = counts()
    for where in answers.values():
        n = seen.get(where, 0)
        out.exactly_once += n == 1
        out.never += n == 0
        out.more += n > 1
    return out


# -- the scheduler ---------------------------------------------------------------------------


@dataclass
class Throughput:
    instances: int
    checks: int = 0
    seconds: float = 0.0
    duplicates_db: int = 0
    duplicates_log: int = 0
    cpu: float = 0.0  # CPU seconds of the app processes and their workers in the window
    delay_ms: float = 0.0  # the testbed's D

    @property
    def rate(self) -> float:
        return self.checks / self.seconds if self.seconds else float("nan")


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its descendants (its checker workers), from /proc."""
    total = process_cpu(pid)
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_cpu(int(child))
    return total


async def _fill(database: str, names: Sequence[str], due: float) -> None:
    from bot.store import open_store
    from bot.store.url import DatabaseUrl, parse
    from bot.testbed.watched import watch_domains

    store = await open_store(DatabaseUrl(parse(database), "MTASTS_DATABASE_URL"))
    try:
        await watch_domains(store, names, due=due, now=due, channels=CHANNELS)
    finally:
        await store.close()


async def _checked(database: str) -> tuple[int, int]:
    """(checks recorded in all, domains checked more than once)."""
    import asyncpg

    conn = await asyncpg.connect(database)
    try:
        row = await conn.fetchrow(
            "SELECT coalesce(sum(checks), 0) AS n, count(*) FILTER (WHERE checks > 1) AS twice"
            " FROM watched_domains"
        )
    finally:
        await conn.close()
    return int(row["n"]), int(row["twice"])


async def scheduler_row(
    bed: BedInfo, standin: SlackStandin, args: argparse.Namespace, count: int
) -> Throughput:
    out = Throughput(count)
    names = bed.domains[: args.domains]
    entry = ("-m", "bot.testbed.serve_watch", "--interval", "86400")
    async with fresh_postgres(args.database) as database:
        from bot.store import open_store
        from bot.store.url import DatabaseUrl, parse

        store = await open_store(DatabaseUrl(parse(database), "MTASTS_DATABASE_URL"))
        await store.close()  # migrated before the instances start
        await _fill(database, names, due=time.time() + 3600)  # not due yet
        env = app_env(bed, standin, database, args.redis)
        env["MTASTS_WATCH_CONCURRENCY"] = str(args.concurrency)
        async with ServeProcesses(env, count, args=entry) as instances:
            import asyncpg

            conn = await asyncpg.connect(database)
            try:
                await conn.execute("UPDATE watched_domains SET next_check_at = $1", time.time())
            finally:
                await conn.close()
            # after a short ramp-up, count what is recorded in the window
            await asyncio.sleep(2)
            start_checks, _ = await _checked(database)
            cpu0 = sum(tree_cpu(one.proc.pid) for one in instances)
            start = time.monotonic()
            await asyncio.sleep(args.window)
            end_checks, out.duplicates_db = await _checked(database)
            out.seconds = time.monotonic() - start
            out.cpu = sum(tree_cpu(one.proc.pid) for one in instances) - cpu0
            out.checks = end_checks - start_checks
            logged: Counter[str] = Counter()
            for one in instances:
                logged.update(CHECK_LINE.findall(one.text()))
            out.duplicates_log = sum(1 for n in logged.values() if n > 1)
    return out


# -- the report ------------------------------------------------------------------------------


def _ms(values: Sequence[float], p: float | None = None) -> str:
    if not values:
        return "n/a"
    value = median(values) if p is None else percentile(values, p)
    return f"{value * 1000:.1f} ms"


def report(
    args: argparse.Namespace,
    acks: list[AckRow],
    once: Once | None,
    sched: list[Throughput],
) -> str:
    text = header(
        "Bench 9: several instances on PostgreSQL and Redis",
        "bench.multi_instance",
        *(
            f"--{k.replace('_', '-')}={v}"
            for k, v in vars(args).items()
            if k not in ("realtime", "database", "redis") and v is not None
        ),
    )
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text += (
        f"- CPUs this bench and its processes may use: {affinity}\n"
        f"- testbed: D = {args.delay_ms:g} ms on every reply (acks, once), "
        f"{args.scheduler_delay_ms} ms (scheduler); app instances: `python -m bot serve`, "
        "each configuration on a fresh database and Redis prefix\n\n"
    )
    if acks:
        text += "### Acknowledgements\n\n"
        text += table(
            ["instances", "domains", "requests", "concurrent", "ack median", "ack p99",
             "ack max", "result median", "result p99", "missing", "HTTP"],
            [
                [r.instances, r.kind, len(r.acks), args.level, _ms(r.acks), _ms(r.acks, 99),
                 f"{max(r.acks) * 1000:.1f} ms" if r.acks else "n/a", _ms(r.results),
                 _ms(r.results, 99), r.missing,
                 ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items()))]
                for r in acks
            ],
        )  # fmt: skip
        p99 = {(r.instances, r.kind): percentile(r.acks, 99) for r in acks}
        one, many = p99.get((1, "fresh")), p99.get((args.instances, "fresh"))
        if one and many:
            text += (
                f"\n\nFresh ack p99 with {args.instances} instances / with 1: "
                f"{many / one:.2f} (target: under 100 ms at {args.level} concurrent).\n\n"
            )
    if once is not None:
        text += "### Each request answered once\n\n"
        text += table(
            ["requests", "delivered twice", "answered once", "never", "more than once",
             "second deliveries answered"],
            [[once.requests, once.duplicated, once.exactly_once, once.never, once.more,
              ", ".join(f"HTTP {k}: {v}" for k, v in sorted(once.duplicate_statuses.items()))]],
        )  # fmt: skip
        text += (
            "\n\n(A command sent again is refused by the replay guard, 401; a mention's retry "
            "is acknowledged, 200, and dropped.)\n\n"
        )
    if sched:
        text += "### Watch scheduler\n\n"
        one = {t.delay_ms: t.rate for t in sched if t.instances == 1}
        text += table(
            ["D", "instances", "watched domains", "window", "checks", "checks/s",
             "vs 1 instance", "domains checked twice (db / logs)", "app CPU (with workers)"],
            [
                [f"{t.delay_ms:g} ms", t.instances, args.domains, f"{t.seconds:.1f} s", t.checks,
                 f"{t.rate:.1f}",
                 f"{t.rate / one[t.delay_ms]:.2f}x" if one.get(t.delay_ms) else "n/a",
                 f"{t.duplicates_db} / {t.duplicates_log}",
                 f"{t.cpu / t.seconds:.0%}" if t.seconds else "n/a"]
                for t in sched
            ],
        )  # fmt: skip
        text += (
            f"\n\nEach instance checks at most {args.concurrency} domains at once, so one "
            "instance's throughput is that over a check's latency; the ratio is bounded by the "
            "instances, and by the CPUs the machine has free (see the header): the larger D, "
            "the less CPU a second of checking takes, the closer the ratio comes to the "
            "number of instances.\n"
        )
    return text


async def run(args: argparse.Namespace) -> str:
    parts = set(args.parts.split(","))
    acks: list[AckRow] = []
    once: Once | None = None
    sched: list[Throughput] = []
    async with SlackStandin() as standin:
        if parts & {"acks", "once"}:
            need = 2 * args.requests + 4 * args.instances + 40 if "acks" in parts else 20
            async with TestbedProcess(need, args.delay_ms / 1000, prefix="m") as bed:
                if "acks" in parts:
                    acks = await part_acks(bed, standin, args, list(bed.domains)[::-1])
                if "once" in parts:
                    once = await part_once(bed, standin, args, bed.domains[:20])
        if "scheduler" in parts:
            for delay_ms in _floats(args.scheduler_delay_ms):
                async with TestbedProcess(args.domains, delay_ms / 1000, prefix="w") as bed:
                    for count in sorted({1, args.instances}):
                        row = await scheduler_row(bed, standin, args, count)
                        row.delay_ms = delay_ms
                        sched.append(row)
    return report(args, acks, once, sched)


def _floats(text: str) -> list[float]:
    return [float(x) for x in str(text).split(",") if x.strip()]


def options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.multi_instance", description=__doc__)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="per ack row, default 200")
    parser.add_argument("--level", type=int, default=50, help="concurrent requests, default 50")
    parser.add_argument("--once", type=int, default=1000, help="requests, default 1000")
    parser.add_argument("--duplicates", type=float, default=0.1, help="share sent twice")
    parser.add_argument("--domains", type=int, default=5000, help="watched domains")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--concurrency", type=int, default=8, help="watch checks per instance")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="testbed D, default 25")
    parser.add_argument(
        "--scheduler-delay-ms",
        default="100,200",
        help="testbed D of the watch part (comma-separated: one row pair each), default 100,200",
    )
    parser.add_argument("--database", default=DEFAULT_PG, help="PostgreSQL server to use")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis to use")
    parser.add_argument("--parts", default="acks,once,scheduler")
    return parse_args(parser, argv)


def run_sync(argv: Sequence[str] = ()) -> str:
    """The whole bench from its command-line words (for bench.run_all)."""
    return asyncio.run(run(options(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    print(asyncio.run(run(options(argv))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
