"""Run `mtasts check` as a real process pointed at a running testbed (for tests)."""

from __future__ import annotations

import asyncio
import os
import sys

from bot.testbed.bed import Testbed


async def run_mtasts(
    bed: Testbed,
    *args: str,
    wait: float = 30,
    command: str = "check",
    stdin: bytes | None = None,
) -> tuple[int, str, str]:
    """`python -m bot check --nameserver … --ca-file … --allow-private --timeout 5 ARGS`,
    with the testbed's ports; returns (exit status, stdout, stderr). `command`: another
    subcommand taking the checker's flags (`tlsrpt`); `stdin`: bytes for its input."""
    ns = bed.dns_address
    env = dict(os.environ)
    env.update(
        MTASTS_TEST_HTTPS_PORT=str(bed.https_port),
        MTASTS_TEST_SMTP_PORT=str(bed.smtp_port),
        NO_COLOR="1",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command,
        "--nameserver", f"{ns.ip}:{ns.port}", "--ca-file", bed.ca_file,
        "--allow-private", "--timeout", "5", *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin), wait)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
