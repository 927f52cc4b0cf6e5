"""Several real `mtasts serve` processes run as one deployment (for tests and benches).

`ServeProcesses(env, count)` starts `python -m bot serve` `count` times with one
environment. Each listens on a port of its own (`PORT=0`: the port is read from its
"serving" log line), its log is read all along (kept in `log`, so the pipe never
fills), and leaving the context stops them all with SIGTERM, as a platform would.
`kill(i)` plays a crash (SIGKILL). `serve_env()` is the environment pointing an
instance at a testbed's servers (its resolver, CA and ports) and at the Slack
stand-in; add `REDIS_URL`, `MTASTS_DATABASE_URL`... to share state between them.
Without a database named, the instances share a SQLite file in a temporary folder
of their own (never the working directory), removed when they stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType

from bot.testbed.bed import Testbed

SERVING = re.compile(r"serving mode=(\w+) port=(\d+)")
START_TIMEOUT = 60.0  # seconds: Python, Bolt and the checker's worker process on a busy machine
STOP_TIMEOUT = 30.0  # the grace period the README asks platforms for
# What an instance must not inherit from the environment the tests run in.
NOT_INHERITED = (
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "REDIS_URL",
    "MTASTS_DATABASE_URL",
    "DATABASE_URL",
    "MTASTS_DATA_DIR",
)
DATABASE_VARS = ("MTASTS_DATABASE_URL", "DATABASE_URL", "MTASTS_DATA_DIR")


def serve_env(
    bed: Testbed,
    *,
    api_url: str,
    bot_token: str,
    signing_secret: str,
    **extra: str,
) -> dict[str, str]:
    """The environment of an HTTP-mode instance checking against `bed`, with Slack at
    `api_url` (the stand-in), plus `extra` variables."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    ns = bed.dns_address
    env.update(
        SLACK_BOT_TOKEN=bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=api_url,
        PORT="0",
        MTASTS_NAMESERVERS=f"{ns.ip}:{ns.port}",
        MTASTS_CA_FILE=bed.ca_file,
        MTASTS_ALLOW_PRIVATE="1",
        MTASTS_TIMEOUT="5",
        MTASTS_TEST_HTTPS_PORT=str(bed.https_port),
        MTASTS_TEST_SMTP_PORT=str(bed.smtp_port),
    )
    env.update(extra)
    return env


@dataclass
class ServeProcess:
    proc: asyncio.subprocess.Process
    port: int = 0
    log: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    def text(self) -> str:
        return "".join(self.log)


class ServeProcesses:
    def __init__(
        self, env: Mapping[str, str], count: int, *, start_timeout: float = START_TIMEOUT
    ) -> None:
        self._env = dict(env)
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if not any(self._env.get(name) for name in DATABASE_VARS):
            self._folder = tempfile.TemporaryDirectory(prefix="mtasts-instances-")
            self._env["MTASTS_DATA_DIR"] = self._folder.name
        self._count = count
        self._start_timeout = start_timeout
        self.processes: list[ServeProcess] = []

    def __getitem__(self, index: int) -> ServeProcess:
        return self.processes[index]

    def __iter__(self) -> Iterator[ServeProcess]:
        return iter(self.processes)

    def __len__(self) -> int:
        return len(self.processes)

    async def __aenter__(self) -> ServeProcesses:
        try:
            async with asyncio.timeout(self._start_timeout):
                await asyncio.gather(*(self._start() for _ in range(self._count)))
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _start(self) -> ServeProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve",
            env=self._env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        one = ServeProcess(proc)
        self.processes.append(one)  # stopped on failure, even before it serves
        assert proc.stderr is not None
        while True:
            line = (await proc.stderr.readline()).decode(errors="replace")
            if not line:
                await proc.wait()
                raise RuntimeError(
                    f"mtasts serve exited ({proc.returncode}) before serving:\n{one.text()}"
                )
            one.log.append(line)
            if match := SERVING.search(line):
                one.port = int(match.group(2))
                break
        one.reader = asyncio.create_task(self._read(one))
        return one

    @staticmethod
    async def _read(one: ServeProcess) -> None:
        assert one.proc.stderr is not None
        while line := await one.proc.stderr.readline():
            one.log.append(line.decode(errors="replace"))

    async def kill(self, index: int) -> None:
        """SIGKILL one instance (a crash: nothing drains, nothing is said)."""
        one = self.processes[index]
        if one.proc.returncode is None:
            one.proc.kill()
        await one.proc.wait()

    async def stop(self) -> list[int | None]:
        """SIGTERM every instance still running and wait (SIGKILL after STOP_TIMEOUT)."""
        for one in self.processes:
            if one.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    one.proc.send_signal(signal.SIGTERM)
        for one in self.processes:
            try:
                await asyncio.wait_for(one.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                one.proc.kill()
                await one.proc.wait()
            if one.reader is not None:
                await one.reader
        if self._folder is not None:
            await asyncio.to_thread(self._folder.cleanup)
            self._folder = None
        return [one.proc.returncode for one in self.processes]
