"""Bench 6: watching 2,000 domains, on SQLite and on PostgreSQL, while people use the app.

    .venv/bin/python -m bench.watch [--domains 2000] [--interval 60] [--intervals 3]
                                    [--databases sqlite,postgresql] [--edits 20]

For each database, the real app (`mtasts serve`, through bench/watch_app.py)
runs in a child process against a testbed in a third process (D on every
reply, standard ports), with the Slack stand-in here. The database is filled
with `--domains` watches (one workspace, ten channels) that have never been
checked, due at their slots in the first interval. The run lasts `--intervals`
intervals from the moment the app is up:

* interval 1: every domain gets its first check (its baseline);
* interval 2: `--edits` domains have their policy file edited without a new
  `id` (the testbed does it), which must give exactly one
  `policy_changed_same_id` alert each; meanwhile signed `/mtasts` requests
  (fresh and cached, `--level` at a time) measure the ack and result times;
* later intervals: steady state.

From the app's log (one line per watch check: domain, check time, database
time) and the stand-in's calls:

* checks per domain after the first interval (one per interval each), the
  gaps between a domain's checks (interval ± 10 %), duplicates (two checks of
  one domain less than half an interval apart);
* alerts: how many, duplicates (one event posted twice), where;
* scheduler overhead: database time per check (claim share + reading the
  state + writing state and alert intents) over the check's own time;
* peak RSS of the app process (VmHWM) and of its two worker processes.

The same `/mtasts` load is sent once more to the app with MTASTS_WATCH=off
(nothing watched), so the ack and result figures are compared in one run.

On a machine shared with other work, that work takes CPU from the watch worker
(which runs niced, below everything else) and from the app: the CPU pressure
is shown beside the figures. `--realtime` runs the bench, testbed and app
under SCHED_FIFO priority 2 and the app's watch worker at priority 1 (below
the app, above other load), so other load no longer decides the figures; the
run keeps about a core busy for its few minutes.
`--interval` below 60 (the environment's minimum) gives a compressed-time
run, e.g. for the smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.common import (
    ROOT,
    TestbedProcess,
    cpu_pressure,
    fresh_postgres,
    header,
    launch_app,
    median,
    parse_args,
    percentile,
    process_cpu,
    serving_port,
    set_realtime,
    stop_app,
    table,
    wait_healthy,
)
from bench.slack_ack import BOT_TOKEN, SIGNING_SECRET, Level, _Sender
from bot.slack.blocks.alert_builder import ALERT_ACTIONS_BLOCK_ID
from bot.slack.serve import EVENTS_PATH
from bot.store.migrate import open_store
from bot.store.url import DatabaseUrl, parse
from bot.testbed.slack_standin import SlackStandin
from bot.testbed.watched import watch_domains
from bot.watch.evaluate import next_slot

CHANNELS = 10
STARTUP = 5.0  # seconds the app gets to start before the first interval (at most 2 intervals)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
_LINE = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO mtasts\.watch watch check "
    r"domain=(?P<domain>\S+) .*?outcome=(?P<outcome>\w+).*? check_ms=(?P<check>[\d.]+) "
    r"db_ms=(?P<db>[\d.]+)"
)


@dataclass(frozen=True, slots=True)
class Check:
    at: float  # seconds since the app was up
    domain: str
    outcome: str
    check_ms: float
    db_ms: float


def parse_checks(lines: Sequence[str], start: float) -> list[Check]:
    """The watch-check lines of the app's log, timed from `start` (UNIX seconds)."""
    out: list[Check] = []
    for line in lines:
        m = _LINE.match(line)
        if m is None:
            continue
        when = dt.datetime.strptime(m["when"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        out.append(
            Check(when - start, m["domain"], m["outcome"], float(m["check"]), float(m["db"]))
        )
    return out


@dataclass(slots=True)
class Schedule:
    """How the checks fell: per domain counts after the first interval, gaps, duplicates."""

    domains: int
    # how many domains had each pattern of checks per interval after the first, e.g.
    # (1, 1): checked once in interval 2 and once in interval 3
    counts: Counter[tuple[int, ...]] = field(default_factory=Counter)
    gaps: list[float] = field(default_factory=list)
    duplicates: int = 0
    within: float = 0.0  # share of gaps within interval ± 10 %
    db_share: float = 0.0  # database time / check time
    db_ms_median: float = 0.0
    check_ms_median: float = 0.0
    last_interval: int = 0  # checks in the last interval


def slack(interval: float) -> float:
    """How late in its interval a check may end and still count for it (10 %)."""
    return interval / 10


def judge(
    checks: Sequence[Check], names: Sequence[str], interval: float, intervals: int
) -> Schedule:
    """Checks per domain in each interval after the first (the baselines), gaps between a
    domain's checks from then on, duplicates (two checks less than half an interval apart).

    Interval k is [k I + s, (k + 1) I + s), s = 10 % of I: a check due at the end of an
    interval is logged when it ends, a moment later, and still belongs to it.
    """
    out = Schedule(len(names))
    lag = slack(interval)
    by_domain: dict[str, list[float]] = defaultdict(list)
    for c in checks:
        by_domain[c.domain].append(c.at)
    for name in names:
        times = sorted(by_domain.get(name, []))
        per = [
            sum(1 for t in times if k * interval + lag <= t < (k + 1) * interval + lag)
            for k in range(1, intervals)
        ]
        out.counts[tuple(per)] += 1
        steady = [t for t in times if t >= interval + lag]  # after the baselines
        gaps = [b - a for a, b in itertools.pairwise(steady)]
        out.gaps += gaps
        out.duplicates += sum(1 for g in gaps if g < interval / 2)
    if out.gaps:
        out.within = sum(1 for g in out.gaps if abs(g - interval) <= interval / 10) / len(out.gaps)
    end = intervals * interval + lag
    out.last_interval = sum(1 for c in checks if end - interval <= c.at < end)
    recorded = [c for c in checks if c.outcome == "recorded"]
    total_check = sum(c.check_ms for c in recorded)
    out.db_share = sum(c.db_ms for c in recorded) / total_check if total_check else float("nan")
    out.db_ms_median = median([c.db_ms for c in recorded])
    out.check_ms_median = median([c.check_ms for c in recorded])
    return out


@dataclass(slots=True)
class Alerts:
    total: int = 0
    duplicates: int = 0
    domains: int = 0
    edited: int = 0


def judge_alerts(standin: SlackStandin, edited: Sequence[str]) -> Alerts:
    seen: Counter[tuple[str, str]] = Counter()
    for call in standin.calls:
        if call.method != "chat.postMessage" or not call.ok:
            continue
        blocks = str(call.args.get("blocks"))
        if ALERT_ACTIONS_BLOCK_ID not in blocks:
            continue
        text = str(call.args.get("text", ""))
        seen[(str(call.args.get("channel")), text)] += 1
    domains = {text.split(":", 1)[0] for _, text in seen}
    return Alerts(
        total=sum(seen.values()),
        duplicates=sum(n - 1 for n in seen.values()),
        domains=len(domains),
        edited=len(domains & set(edited)),
    )


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process (its own peak: reset at exec), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(t) for t in text]
    return found


# -- databases -------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def database(kind: str, folder: Path):  # type: ignore[no-untyped-def]
    """A fresh database of `kind`: its URL (SQLAlchemy form), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    base = os.environ.get("MTASTS_BENCH_DATABASE_URL", DEFAULT_PG)
    async with fresh_postgres(base) as url:
        yield "postgresql+asyncpg://" + url.split("://", 1)[1]


async def fill(url: str, names: Sequence[str], interval: float, start: float) -> float:
    """Watch every domain (never checked yet, due at its slot in the first interval);
    returns the seconds the inserts took."""
    store = await open_store(DatabaseUrl(parse(url), "MTASTS_DATABASE_URL"))
    begin = time.perf_counter()
    try:
        await watch_domains(
            store,
            names,
            due=lambda name: next_slot(name, start - interval / 2, interval),  # from start
            now=start,
            channels=CHANNELS,
            user="UBENCH",
        )
    finally:
        await store.close()
    return time.perf_counter() - begin


# -- one run of the app ----------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    kind: str  # "off" or the database
    levels: list[Level] = field(default_factory=list)
    schedule: Schedule | None = None
    alerts: Alerts | None = None
    rss_app: float = float("nan")
    rss_workers: list[float] = field(default_factory=list)
    fill_seconds: float = 0.0
    span: float = 0.0
    pressure: str = ""  # the machine's CPU pressure (PSI avg10) while /mtasts was measured
    steady_cpu: tuple[float, float] = (float("nan"), float("nan"))  # app, workers: CPU s
    steady_from: float = 0.0  # when the steady-state CPU measurement began (since up)


async def _run_app(
    kind: str,
    info: object,
    bed: TestbedProcess,
    *,
    url: str,
    watched: Sequence[str],
    interval: float,
    intervals: int,
    edited: Sequence[str],
    requests: int,
    level: int,
    fresh: list[str],
    log_dir: Path | None = None,
) -> Run:
    out = Run(kind)
    async with SlackStandin() as standin:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.api_url,
            "MTASTS_NAMESERVERS": info.nameserver,  # type: ignore[attr-defined]
            "MTASTS_CA_FILE": info.ca_file,  # type: ignore[attr-defined]
            "MTASTS_ALLOW_PRIVATE": "1",
            "MTASTS_DATABASE_URL": url,
            "MTASTS_WATCH": "off" if kind == "off" else "on",
        }
        start = time.time()
        lead = min(STARTUP, 2 * interval)  # the first interval begins this long after start
        if watched:
            out.fill_seconds = await fill(url, watched, interval, start + lead)
        args = ["bench.watch_app", "--port", "0", "--interval", repr(interval)]
        app = await launch_app(args, env, log=True)
        log = _Log()
        try:
            port = await serving_port(app, log.lines)
        except BaseException:
            await stop_app(app)
            raise
        reader = asyncio.create_task(log.read(app))
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=level * 2)
            ) as session:
                await wait_healthy(session, base, 60)
                up = start + lead if watched else time.time()
                sender = _Sender(session, base + EVENTS_PATH, standin)
                names = iter(fresh)
                cache = [next(names) for _ in range(level)]
                await sender.level("warm", 10, cache, app.pid, wait=60)
                if watched:
                    # Edit once the first interval is over and those domains have their
                    # baseline (a baseline taken after the edit would see no change).
                    await _sleep_until(up + interval)
                    await log.wait_checked(edited, timeout=interval)
                    for name in edited:
                        await bed.command(f"edit-policy {name}")
                batch = [next(names) for _ in range(requests)]
                out.pressure = f"{cpu_pressure().get('avg10', '?')} %"
                out.levels.append(await sender.level("fresh", level, batch, app.pid, wait=60))
                hits = [cache[i % len(cache)] for i in range(requests)]
                out.levels.append(await sender.level("cached", level, hits, app.pid, wait=30))
                if watched:
                    # the last interval: what watching alone costs the app and its workers
                    await _sleep_until(up + (intervals - 1) * interval + slack(interval))
                    workers = children(app.pid)
                    before = process_cpu(app.pid), sum(process_cpu(w) for w in workers)
                    await _sleep_until(up + intervals * interval + slack(interval))
                    after = process_cpu(app.pid), sum(process_cpu(w) for w in workers)
                    out.steady_cpu = (after[0] - before[0], after[1] - before[1])
                out.rss_app = peak_rss_mb(app.pid)
                out.rss_workers = [peak_rss_mb(c) for c in children(app.pid)]
                out.span = time.time() - up
        finally:
            await stop_app(app, 40)
            await reader
        if log_dir is not None:
            await asyncio.to_thread(_keep_log, log_dir / f"watch-{kind}.log", log.lines)
        if watched:
            checks = parse_checks(log.lines, up)
            out.schedule = judge(checks, watched, interval, intervals)
            out.alerts = judge_alerts(standin, edited)
    return out


class _Log:
    """The app's log, read as it comes, with the domains checked so far."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.checked: set[str] = set()
        self._changed = asyncio.Event()

    async def read(self, app: asyncio.subprocess.Process) -> None:
        assert app.stderr is not None
        while raw := await app.stderr.readline():
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            if (m := _LINE.match(line)) is not None:
                self.checked.add(m["domain"])
                self._changed.set()

    async def wait_checked(self, domains: Sequence[str], *, timeout: float) -> None:  # noqa: ASYNC109
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not set(domains) <= self.checked:
                    self._changed.clear()
                    await self._changed.wait()


def _keep_log(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


async def _run(args: argparse.Namespace) -> list[Run]:
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    fresh_needed = (args.requests + args.level) * (len(kinds) + 1)
    runs: list[Run] = []
    bed = TestbedProcess(args.domains + fresh_needed, args.delay / 1000, standard_ports=True)
    async with bed as info:
        watched = info.domains[: args.domains]
        spare = iter(info.domains[args.domains :])

        def take(n: int) -> list[str]:
            return [next(spare) for _ in range(n)]

        with tempfile.TemporaryDirectory(prefix="mtasts-bench-watch-") as tmp:
            # First the app with watching off (the /mtasts figures to compare with), on SQLite.
            # Each database's run edits other domains (the testbed keeps the earlier edits).
            plan = [("off", "sqlite", [], [])] + [
                (k, k, watched, watched[i * args.edits : (i + 1) * args.edits])
                for i, k in enumerate(kinds)
            ]
            for kind, backend, names, edited in plan:
                folder = Path(tmp) / kind
                folder.mkdir()
                async with database(backend, folder) as url:
                    run = await _run_app(
                        kind,
                        info,
                        bed,
                        url=url,
                        watched=names,
                        interval=args.interval,
                        intervals=args.intervals,
                        edited=edited,
                        requests=args.requests,
                        level=args.level,
                        fresh=take(args.requests + args.level),
                        log_dir=args.log_dir,
                    )
                runs.append(run)
    return runs


def report(runs: Sequence[Run], args: argparse.Namespace) -> str:
    text = header(
        "Bench 6: watching domains (scheduler, alerts, and the /mtasts path meanwhile)",
        "bench.watch",
        "--domains",
        args.domains,
        "--interval",
        f"{args.interval:g}",
        "--intervals",
        args.intervals,
        "--databases",
        args.databases,
        "--edits",
        args.edits,
        "--delay-ms",
        f"{args.delay:g}",
    )
    compressed = (
        " (compressed time: below the 60 s minimum of the environment)"
        if args.interval < 60
        else ""
    )
    text += (
        f"\n{args.domains} watched domains (10 channels, one workspace), interval "
        f"{args.interval:g} s{compressed}, {args.intervals} intervals per database; testbed "
        f"D = {args.delay:g} ms; {args.edits} policies edited without a new id in interval 2. "
        "Targets: each domain checked once per interval (± 10 %), no duplicate check or "
        "alert, database time per check < 5 % of the check, peak RSS of the app < 250 MB, "
        f"/mtasts ack p99 at {args.level} concurrent < 100 ms and no worse than with "
        "watching off.\n\n"
    )
    rows = []
    for r in runs:
        if r.schedule is None or r.alerts is None:
            continue
        s, a = r.schedule, r.alerts
        per = "; ".join(
            f"{'·'.join(str(n) for n in pattern)}: {d}" for pattern, d in s.counts.most_common()
        )
        rows.append(
            [
                r.kind,
                f"{r.fill_seconds:.1f} s",
                per,
                f"{s.within:.1%}",
                f"{min(s.gaps, default=float('nan')):.1f} / {median(s.gaps):.1f} / "
                f"{max(s.gaps, default=float('nan')):.1f} s",
                str(s.duplicates),
                f"{a.total} ({a.edited} of {args.edits} edited domains)",
                str(a.duplicates),
                f"{s.db_ms_median:.2f} ms / {s.check_ms_median:.0f} ms",
                f"{s.db_share:.2%}",
                f"{r.rss_app:.0f} MB",
                " + ".join(f"{w:.0f}" for w in r.rss_workers) + " MB",
                _per_check(r, args.interval),
            ]
        )
    text += table(
        [
            "database",
            "fill",
            f"checks in intervals 2·…·{args.intervals}: domains",
            "gaps within ± 10 %",
            "gap min / median / max",
            "duplicate checks",
            "alerts",
            "duplicate alerts",
            "db / check time (median)",
            "db time / check time",
            "app peak RSS",
            "workers' peak RSS",
            "CPU per watch check, last interval: app / workers",
        ],
        rows,
    )
    text += "\n\n"
    ack_rows = []
    for r in runs:
        for lv in r.levels:
            ack_rows.append(
                [
                    "watching off" if r.kind == "off" else f"watching {args.domains} ({r.kind})",
                    lv.kind,
                    str(lv.level),
                    f"{median(lv.acks) * 1000:.1f} ms",
                    f"{percentile(lv.acks, 99) * 1000:.1f} ms",
                    f"{median(lv.results) * 1000:.1f} ms",
                    f"{percentile(lv.results, 99) * 1000:.1f} ms",
                    str(lv.missing),
                    r.pressure,
                ]
            )
    text += table(
        [
            "app",
            "results",
            "concurrent",
            "ack median",
            "ack p99",
            "result median",
            "result p99",
            "missing",
            "CPU pressure of the machine (PSI avg10)",
        ],
        ack_rows,
    )
    return text + "\n"


def run(argv: Sequence[str] | None = None) -> str:
    """Parse `argv` like the command line, run the bench, return its report."""
    args = _args(argv)
    return report(asyncio.run(_run(args)), args)


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.watch", description=__doc__)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds, default 60")
    parser.add_argument("--intervals", type=int, default=3, help="per database, at least 3")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--edits", type=int, default=20, help="policies edited, default 20")
    parser.add_argument("--requests", type=int, default=100, help="/mtasts requests per row")
    parser.add_argument("--level", type=int, default=50, help="concurrent /mtasts requests")
    parser.add_argument("--delay-ms", dest="delay", type=float, default=25.0)
    parser.add_argument("--log-dir", type=Path, help="keep the app's logs here")
    args = parse_args(parser, argv)
    if args.realtime:
        # One step above the floor, so that the app's niced watch worker runs one step
        # lower (real-time priority 1), as it runs below the app without --realtime.
        set_realtime(True, priority=2)
    if args.edits * len(args.databases.split(",")) > args.domains:
        parser.error("--edits times the databases must not exceed --domains")
    if args.intervals < 3:
        parser.error("--intervals must be at least 3 (baselines, edits, steady state)")
    return args


def _per_check(r: Run, interval: float) -> str:
    if r.schedule is None or not r.schedule.last_interval:
        return "-"
    app, workers = r.steady_cpu
    n = r.schedule.last_interval
    return f"{app / n * 1000:.1f} ms / {workers / n * 1000:.1f} ms ({n} checks)"


def main(argv: Sequence[str] | None = None) -> int:
    print(run(argv), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
