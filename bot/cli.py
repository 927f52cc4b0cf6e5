"""The `mtasts` command: check domains, serve the Slack app, run the demo, migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TextIO

from bot.checker.domain import DomainError, normalise_domain
from bot.checker.model import Report
from bot.checker.settings import Settings, SettingsError, parse_nameserver, parse_timeout

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
WORKERS_FROM = 100  # domains from which a check is spread over several processes
MAX_WORKERS = 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors exit 2 too
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _port(text: str) -> int:
    from bot.slack.config import port_argument  # the Slack side loads only for serve

    return port_argument(text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mtasts", description="Is a domain's MTA-STS protection really working?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = sub.add_parser(
        "check",
        help="check domains' MTA-STS and TLS-RPT",
        description="Check domains' MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) setup.",
    )
    check.add_argument("domains", nargs="+", metavar="DOMAIN")
    out = check.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON report per line")
    out.add_argument("--blocks", action="store_true", help="the Slack message payload, as JSON")
    add_checker_flags(check)
    check.add_argument("--concurrency", type=int, metavar="N", help="domains checked at once")
    check.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes to spread long domain lists over (default: one per core, up to 4, "
        f"for {WORKERS_FROM}+ domains)",
    )
    serve = sub.add_parser("serve", help="run the Slack app (Socket Mode or HTTP)")
    serve.add_argument(
        "--port",
        # 1 to 65535, checked here: a bad port is a usage error (exit 2), not a traceback
        type=_port,
        help="HTTP port (default $PORT, else 3000)",
    )
    sub.add_parser("demo", help="run the bot against a built-in testbed (no Slack, no internet)")
    db = sub.add_parser(
        "db",
        help="the database of watches (MTASTS_DATABASE_URL)",
        description="Manage the database of watches: MTASTS_DATABASE_URL, else DATABASE_URL, "
        "else mtasts.db in MTASTS_DATA_DIR (default: the current directory).",
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_sub.add_parser(
        "upgrade",
        help="migrate the database to this version's schema (mtasts serve also does it)",
    )
    from bot.cli_tlsrpt import add_parser as add_tlsrpt

    add_tlsrpt(sub)
    return parser


def add_checker_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that configure a check (also `mtasts tlsrpt`'s fresh check)."""
    parser.add_argument("--no-smtp", action="store_true", help="do not probe MX hosts on port 25")
    parser.add_argument(
        "--nameserver",
        action="append",
        metavar="IP[:PORT]",
        help="resolver to use (repeatable; default: the system's)",
    )
    parser.add_argument("--ca-file", metavar="PEM", help="trust anchors (replace the default)")
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="allow contacting loopback, private and link-local addresses",
    )
    parser.add_argument("--timeout", metavar="SECONDS", help="budget of one domain's check")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        from bot.deferred_metadata import defer

        defer()  # ~14 ms of start-up that a check never needs
        return _check(args)
    if args.command == "tlsrpt":
        from bot.cli_tlsrpt import run as run_tlsrpt

        return run_tlsrpt(args)
    if args.command == "serve":
        from bot.slack.serve import run

        return run(port=args.port)
    if args.command == "db":
        from bot.store.migrate import run_upgrade

        return run_upgrade()
    from bot.demo import run as run_demo

    return run_demo()


def checker_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, then the flags of `add_checker_flags`."""
    flagged = {
        "MTASTS_NAMESERVERS": bool(args.nameserver),
        "MTASTS_CA_FILE": bool(args.ca_file),
        "MTASTS_TIMEOUT": args.timeout is not None,
    }
    # a flag wins over its variable, even over a bad value there
    settings = Settings.from_env(validate=False, overridden={k for k, v in flagged.items() if v})
    changes: dict[str, Any] = {}
    if args.nameserver:
        changes["nameservers"] = tuple(parse_nameserver(ns) for ns in args.nameserver)
    if args.ca_file:
        changes["ca_file"] = args.ca_file
    if args.allow_private:
        changes["allow_private"] = True
    if args.timeout is not None:
        changes["timeout"] = parse_timeout(args.timeout)
    if getattr(args, "concurrency", None) is not None:
        changes["concurrency"] = args.concurrency
    if args.no_smtp:
        changes["smtp"] = False
    settings = replace(settings, **changes)
    settings.validate()
    return settings


def _check(args: argparse.Namespace) -> int:
    try:
        settings = checker_settings(args)
    except SettingsError as exc:
        print(f"mtasts: {exc}", file=sys.stderr)
        return EXIT_USAGE
    domains: list[str] = []
    bad_input = False
    for text in args.domains:
        try:
            domains.append(normalise_domain(text))
        except DomainError as exc:
            print(f"mtasts: {exc}", file=sys.stderr)
            bad_input = True
    workers = _workers(args.workers, len(domains))
    try:
        if workers > 1:
            failed = asyncio.run(
                _run_workers(domains, settings, _format(args), workers, sys.stdout)
            )
        else:
            failed = asyncio.run(_run_all(domains, settings, _emitter(args), sys.stdout))
    except KeyboardInterrupt:
        print("mtasts: interrupted", file=sys.stderr)
        return 130
    if bad_input:
        return EXIT_USAGE
    return EXIT_FAIL if failed else EXIT_OK


def _format(args: argparse.Namespace) -> str:
    """How each report is printed: JSON Lines, a Slack payload, or the human summary."""
    if args.json:
        return "json"
    if args.blocks:
        return "blocks"
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return "text-colour" if colour else "text"


def _emitter(args: argparse.Namespace) -> Callable[[Report], str]:
    from bot.worker import renderer

    return renderer(_format(args))


def _workers(asked: int | None, count: int) -> int:
    if asked is not None:
        return max(1, min(asked, MAX_WORKERS * 4, count))
    if count < WORKERS_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


async def _run_all(
    domains: list[str], settings: Settings, emit: Callable[[Report], str], out: TextIO
) -> bool:
    """Check all domains concurrently (bounded); print in input order as results arrive."""
    from bot.checker.engine import check

    gate = asyncio.Semaphore(settings.concurrency)

    async def one(domain: str) -> Report | None:
        async with gate:
            try:
                return await check(domain, settings)
            except Exception as exc:  # a bug of ours: say so in one line, go on
                print(
                    f"mtasts: could not check {domain}: internal error "
                    f"({type(exc).__name__}: {str(exc)[:200]}); please report this bug",
                    file=sys.stderr,
                )
                return None

    # Start at most `concurrency` tasks ahead of the one being printed, so 1,000
    # domains never mean 1,000 pending tasks holding reports.
    pending: list[asyncio.Task[Report | None]] = []
    failed = False
    index = 0
    # Finished reports wait here for a slow one ahead of them; a deep window keeps one
    # slow domain from stalling the rest, and still bounds memory.
    window = max(settings.concurrency * 8, 64)
    try:
        while index < len(domains) or pending:
            while index < len(domains) and len(pending) < window:
                pending.append(asyncio.create_task(one(domains[index])))
                index += 1
            report = await pending.pop(0)
            if report is None:
                failed = True
                continue
            failed = failed or report.status == "fail"
            out.write(emit(report) + "\n")
            out.flush()
    finally:
        for task in pending:
            task.cancel()
    return failed


async def _run_workers(
    domains: list[str], settings: Settings, fmt: str, workers: int, out: TextIO
) -> bool:
    """Spread the checks over `workers` processes (bot/worker.py); print in input order.

    The concurrency bound is shared out, so `--concurrency` still means domains at once.
    Domains are handed out as workers ask for more, so a slow share does not hold
    back the others.
    """
    from bot.worker import settings_to_json

    per_worker = max(1, settings.concurrency // workers)
    config = settings_to_json(replace(settings, concurrency=per_worker))
    todo = list(enumerate(domains))
    todo.reverse()  # pop() from the end hands them out in input order
    printer = _InOrder(domains, out)
    done, flush = printer.done, printer.flush

    async def drive() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.worker", fmt, config,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )  # fmt: skip
        assert proc.stdin is not None
        assert proc.stdout is not None
        assigned: set[int] = set()

        async def feed() -> None:
            assert proc.stdin is not None
            while todo and len(assigned) < per_worker * 2:
                index, domain = todo.pop()
                assigned.add(index)
                proc.stdin.write(f"{index}\t{domain}\n".encode())
            if not todo and not proc.stdin.is_closing():
                proc.stdin.close()
            with contextlib.suppress(ConnectionError):
                await proc.stdin.drain()

        try:
            await feed()
            while line := await proc.stdout.readline():
                index_text, status, text = line.decode().rstrip("\n").split("\t", 2)
                index = int(index_text)
                assigned.discard(index)
                done[index] = (status, json.loads(text))
                flush()
                await feed()
            await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        for index in assigned:  # the worker died with these unanswered
            done[index] = ("error", f"the worker process stopped (exit status {proc.returncode})")
        flush()

    await asyncio.gather(*(drive() for _ in range(workers)))
    flush()
    return printer.failed


class _InOrder:
    """Answers arrive in any order; print them in input order as soon as they can be."""

    def __init__(self, domains: list[str], out: TextIO) -> None:
        self.domains, self.out = domains, out
        self.done: dict[int, tuple[str, str]] = {}  # index -> (status, rendered text)
        self.next = 0
        self.failed = False

    def flush(self) -> None:
        while self.next in self.done:
            status, text = self.done.pop(self.next)
            if status == "error":
                domain = self.domains[self.next]
                print(f"mtasts: could not check {domain}: {text}", file=sys.stderr)
                self.failed = True
            else:
                self.failed = self.failed or status == "fail"
                self.out.write(text + "\n")
            self.next += 1
        self.out.flush()
