"""`mtasts tlsrpt FILE...`: explain TLS-RPT reports, and check their policy domains now.

Reads each FILE (`-` for standard input) as the Slack app reads a shared file,
summarises all reports together per sender, checks each policy domain afresh
(unless `--no-check`), and prints the summary with, per failure group,
whether it is still failing now. `--json` prints the summary as one JSON
object, `--blocks` the Slack payloads (the summary, then each check's result).

Exit status: 2 for usage errors or any FILE that could not be read as a
report (the others are still summarised); otherwise 1 when the reports show
failures the fresh check does not find fixed (with `--no-check`: any failure),
else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from bot.checker.settings import Settings, SettingsError
from bot.reports.compare import DomainCheck, checkable
from bot.reports.limits import MAX_DOMAINS_CHECKED_CLI
from bot.reports.parse import Parsed, parse_read
from bot.reports.reading import Read, read_path, read_stream, sentence
from bot.reports.render_text import render, to_json
from bot.reports.summary import Summary, summarise

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
STDIN = "-"
FIXED = ("fixed", "gone")  # the verdicts that clear a failure


def add_parser(sub: Any) -> None:
    """The `tlsrpt` subcommand (`sub`: the parser's subparsers)."""
    from bot.cli import add_checker_flags

    parser = sub.add_parser(
        "tlsrpt",
        help="explain TLS-RPT reports and check whether their failures are fixed",
        description=(
            "Summarise TLS-RPT aggregate reports (RFC 8460: .json, .json.gz, a .zip of them, "
            "or an e-mail with one attached) per sender and policy, explain each failure, "
            "and check the policy domains now to say which failures are still there."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a report file; - reads stdin")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the summary as one JSON object")
    out.add_argument("--blocks", action="store_true", help="the Slack payloads, one per line")
    parser.add_argument(
        "--no-check", action="store_true", help="do not check the policy domains now"
    )
    add_checker_flags(parser)


def run(args: argparse.Namespace) -> int:
    from bot.cli import checker_settings

    try:
        settings = checker_settings(args)
    except SettingsError as exc:
        print(f"mtasts: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parsed, unreadable = read_inputs(args.files)
    summary = summarise(parsed)
    for problem in summary.problems:
        print(f"mtasts: {problem.reason}", file=sys.stderr)
    if not summary.reports:
        return EXIT_USAGE
    try:
        checks = None if args.no_check else asyncio.run(check_domains(summary, settings))
    except KeyboardInterrupt:
        print("mtasts: interrupted", file=sys.stderr)
        return 130
    sys.stdout.write(_output(args, summary, checks) + "\n")
    sys.stdout.flush()
    if unreadable or summary.problems:
        return EXIT_USAGE
    return EXIT_FAIL if failures_remain(summary, checks) else EXIT_OK


def read_inputs(names: list[str]) -> tuple[Parsed, bool]:
    """Every FILE read and parsed; True as well when a FILE could not even be opened."""
    parsed = Parsed()
    unreadable = False
    for name in names:
        try:
            if name == STDIN:
                read: Read = read_stream(sys.stdin.buffer, "standard input")
            else:
                read = read_path(name)
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            print(f"mtasts: {sentence(f'cannot read {name}: {why}')}", file=sys.stderr)
            unreadable = True
            continue
        parsed.extend(parse_read(read))
    return parsed, unreadable


async def check_domains(summary: Summary, settings: Settings) -> dict[str, DomainCheck]:
    """A fresh check of each policy domain (those with most failures first), concurrently."""
    from bot.checker.engine import check

    domains = summary.domains()[:MAX_DOMAINS_CHECKED_CLI]
    gate = asyncio.Semaphore(settings.concurrency)

    async def one(domain: str) -> DomainCheck:
        name, why = checkable(domain)
        if name is None:
            return DomainCheck(domain, error=why)
        async with gate:
            try:
                return DomainCheck(domain, report=await check(name, settings))
            except Exception as exc:  # a bug of ours: say so, and go on
                return DomainCheck(domain, error=f"internal error ({type(exc).__name__})")

    results = await asyncio.gather(*(one(d) for d in domains))
    return {c.domain: c for c in results}


def failures_remain(summary: Summary, checks: dict[str, DomainCheck] | None) -> bool:
    """Any failure not found fixed (without checks: any failure at all)."""
    for policy in summary.policies():
        if not policy.failures:
            continue
        if checks is None:
            return True
        check = checks.get(policy.domain or "")
        if check is None or policy.undetailed:
            return True
        if any(check.verdict(g).state not in FIXED for g in policy.groups.values()):
            return True
    return False


def _output(
    args: argparse.Namespace, summary: Summary, checks: dict[str, DomainCheck] | None
) -> str:
    if args.json:
        return json.dumps(to_json(summary, checks), ensure_ascii=False)
    if args.blocks:
        from bot.slack.blocks.result_builder import build_result_message
        from bot.slack.blocks.tlsrpt_builder import build_report_message

        payloads = [build_report_message(summary, checks)]
        for check in (checks or {}).values():
            if check.report is not None:
                payloads.append(build_result_message(check.report))
        return "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads)
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(summary, checks, colour=colour, problems=False)
    if checks:
        from bot.checker.render_text import render as render_check

        for check in checks.values():
            if check.report is not None:
                text += f"\n\n── {check.domain} now (mtasts check) ──\n"
                text += render_check(check.report, colour=colour)
    return text
