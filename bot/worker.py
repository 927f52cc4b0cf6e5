"""A worker process of `mtasts check` for long domain lists (internal).

One check costs the checker ~10 ms of CPU (DNS parsing, TLS handshakes); with
hundreds of domains one process is bound by one core long before the network
is the limit. `mtasts check` then runs a few of these workers, hands each its
domains on stdin (`INDEX<TAB>DOMAIN` lines), and prints their answers in input
order. A worker checks up to `concurrency` domains at once and writes one line
per domain: `INDEX<TAB>STATUS<TAB>TEXT`, TEXT being the rendered output as a
JSON string (STATUS `error` when the check itself broke; TEXT then says why).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bot.checker.model import Report
from bot.checker.settings import Nameserver, Settings


def settings_to_json(settings: Settings) -> str:
    data = asdict(settings)
    data["nameservers"] = [[ns.ip, ns.port] for ns in settings.nameservers]
    data.pop("extra", None)
    return json.dumps(data)


def settings_from_json(text: str) -> Settings:
    data: dict[str, Any] = json.loads(text)
    data["nameservers"] = tuple(Nameserver(ip, int(port)) for ip, port in data["nameservers"])
    return Settings(**data)


def renderer(fmt: str) -> Callable[[Report], str]:
    if fmt == "json":
        return lambda r: json.dumps(r.to_json(), ensure_ascii=False)
    if fmt == "blocks":
        from bot.slack.blocks.result_builder import build_result_message

        return lambda r: json.dumps(build_result_message(r), ensure_ascii=False)
    from bot.checker.render_text import render

    colour = fmt == "text-colour"
    return lambda r: render(r, colour=colour) + "\n"


async def serve(settings: Settings, render: Callable[[Report], str]) -> None:
    from bot.checker.engine import check

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=4096)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    gate = asyncio.Semaphore(settings.concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: str, domain: str) -> None:
        async with gate:
            try:
                report = await check(domain, settings)
                line = f"{index}\t{report.status}\t{json.dumps(render(report))}\n"
            except Exception as exc:  # a bug of ours: the parent prints one line
                why = f"internal error ({type(exc).__name__}: {str(exc)[:200]})"
                why += "; please report this bug"
                line = f"{index}\terror\t{json.dumps(why)}\n"
        sys.stdout.write(line)
        sys.stdout.flush()

    while raw := await reader.readline():
        index, _, domain = raw.decode().strip().partition("\t")
        task = asyncio.create_task(one(index, domain))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    fmt, settings_json = args
    asyncio.run(serve(settings_from_json(settings_json), renderer(fmt)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
