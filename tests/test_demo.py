"""`mtasts demo`: the real app answers a real signed /mtasts command against the testbed."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bot.demo as demo
from bot.slack.blocks.result_builder import VERDICT
from bot.testbed.scenarios import BY_DOMAIN

SGR = re.compile(r"\x1b\[[0-9;]*m")


async def _refuses(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def test_demo_shows_every_domain_saves_json_and_stops_everything(tmp_path: Path) -> None:
    out = io.StringIO()
    started = demo.Started()
    tasks_before = asyncio.all_tasks()
    folder = tmp_path / "out"

    code = await demo.main(out, output_dir=folder, width=100, started=started)

    text = out.getvalue()
    assert code == demo.EXIT_OK
    assert "\x1b" not in text  # no colour unless asked
    flat = " ".join(text.split())  # narration is wrapped to the width
    assert "/mtasts " + " ".join(demo.DEMO_DOMAINS) in flat
    assert "⧗ Checking good.example," in text  # the ephemeral ack
    # every domain, with the verdict the catalogue expects, in command order
    positions = []
    for domain in demo.DEMO_DOMAINS:
        verdict = VERDICT[BY_DOMAIN[domain].expect_status]
        assert f"{domain}: {verdict}" in text
        positions.append(text.index(f"· {domain} · posted to #general"))
    assert positions == sorted(positions)
    assert (
        "[ Policy file ] [ DNS records ] [ MX & TLS ] [ Explain in thread ] [ Re-check ] [ Watch ]"
        in text
    )
    # the button click answered in the thread
    assert "You click [ Explain in thread ] under testing-backup.example" in text
    assert "Here is what I found for testing-backup.example" in text
    assert "mtasts serve" in text
    assert "mtasts check example.com" in text
    assert f"{folder}/ (11 files)" in flat
    # watching: the confirmation, then the alert after the policy is edited under the same id
    assert "You type in #general: /mtasts watch good.example" in flat
    assert "Watching good.example here. Right now it ✔ checks out (mode enforce)." in flat
    assert "✎ good.example: policy changed, but its id did not" in text
    assert "+ mx: mx3.good.example" in text
    alert = json.loads((folder / "good.example.alert.json").read_text())
    assert alert["text"].startswith("good.example: the policy changed but its id")
    assert alert["blocks"][-1]["elements"][-1]["text"]["text"] == "Unwatch"
    # the TLS-RPT report shared in a DM, explained in its thread against the check
    assert "You share a TLS-RPT report with the bot in a DM" in text
    assert "TLS-RPT report for mx-expired.example" in text
    assert "Now: ✖ still failing — mx2.mx-expired.example's certificate expired on" in flat
    assert "Now: ✔ fixed since — mx1.mx-expired.example offers STARTTLS now." in flat
    assert "In the report: mode: testing" in text
    summary = json.loads((folder / "mx-expired.example.tlsrpt.json").read_text())
    assert summary["blocks"][0]["text"]["text"] == "TLS-RPT report for mx-expired.example"
    check = json.loads((folder / "mx-expired.example.tlsrpt-check.json").read_text())
    assert check["text"].startswith("mx-expired.example: ")

    for domain in demo.DEMO_DOMAINS:
        saved: dict[str, Any] = json.loads((folder / f"{domain}.json").read_text())
        assert saved["response_type"] == "in_channel"
        assert saved["text"].startswith(f"{domain}: ")
        assert saved["blocks"][0]["type"] == "header"
    explained = json.loads((folder / "testing-backup.example.explain.json").read_text())
    assert explained["blocks"]
    # the MX & TLS button opened a modal, shown framed
    assert "You click [ MX & TLS ] under mx-expired.example" in text
    assert "┏━ MX & TLS ━" in text
    assert "┃ Certificate: invalid — the certificate has expired" in text
    view = json.loads((folder / "mx-expired.example.mx-view.json").read_text())
    assert view["type"] == "modal"

    # nothing left listening, no task left running
    assert len(started.listening) >= 3 + len(demo.DEMO_DOMAINS)
    for host, port in started.listening:
        assert await _refuses(host, port), f"{host}:{port} still accepts connections"
    leftover = [t for t in asyncio.all_tasks() - tasks_before if not t.done()]
    assert leftover == []


async def test_a_failed_start_still_stops_the_testbed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.testbed.slack_standin import SlackStandin

    async def no_port(self: SlackStandin) -> SlackStandin:
        raise OSError("no free port")

    monkeypatch.setattr(SlackStandin, "start", no_port)
    started = demo.Started()
    with pytest.raises(OSError, match="no free port"):
        await demo.main(
            io.StringIO(), output_dir=tmp_path, domains=["good.example"], started=started
        )
    assert started.listening  # the testbed was up before the stand-in failed
    for host, port in started.listening:
        assert await _refuses(host, port), f"{host}:{port} still accepts connections"


async def test_unknown_domain_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    with pytest.raises(demo.DemoError, match=r"no testbed scenario for nope\.example"):
        await demo.main(io.StringIO(), output_dir=folder, domains=["nope.example"])
    with pytest.raises(demo.DemoError, match="1 to 5 domains"):
        await demo.main(io.StringIO(), output_dir=folder, domains=[])
    assert not folder.exists()


async def test_a_broken_check_is_shown_and_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import bot.checker.engine as engine

    real_check = engine.check

    async def check(domain: str, settings: Any) -> Any:
        if domain == "dash-id.example":
            raise RuntimeError("checker bug")
        return await real_check(domain, settings)

    monkeypatch.setattr(engine, "check", check)
    # Checks normally run in a worker process, which this patch cannot reach: run them
    # on a thread of this process instead, as the app did before (same interface).
    import bot.checker.background as background

    monkeypatch.setattr(background, "ProcessChecker", background.BackgroundChecker)
    out = io.StringIO()
    with pytest.raises(demo.DemoError, match=r"no result was posted for dash-id\.example"):
        await demo.main(
            out, output_dir=tmp_path, domains=["good.example", "dash-id.example"], explain=None
        )
    text = out.getvalue()
    assert "good.example: MTA-STS checks out" in text
    assert "2/2 · dash-id.example · no result posted" in text
    assert "The app posted this instead:" in text
    assert "Traceback" not in text


def test_failure_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the stand-in fell over\nTraceback (most recent call last): ...")

    monkeypatch.setattr(demo, "main", broken)
    assert demo.run(out=io.StringIO(), output_dir=tmp_path) == 1
    err = capsys.readouterr().err
    assert err == "mtasts demo: failed: RuntimeError: the stand-in fell over\n"

    async def late(*args: Any, **kwargs: Any) -> int:
        raise demo.DemoError("the result for good.example did not arrive within 20 s")

    monkeypatch.setattr(demo, "main", late)
    assert demo.run(out=io.StringIO(), output_dir=tmp_path) == 1
    assert capsys.readouterr().err == (
        "mtasts demo: the result for good.example did not arrive within 20 s\n"
    )


def test_missing_demo_extra_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "_missing_extra", lambda: "dnslib")
    assert demo.run(out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "dnslib" in err
    assert "pip install -e '.[demo]'" in err
    assert err.count("\n") == 1


def test_missing_demo_extra_in_a_fresh_process(tmp_path: Path) -> None:
    """As on a machine without the extra: dnslib cannot be imported."""
    code = "import sys; sys.modules['dnslib'] = None; from bot.cli import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", code, "demo"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "mtasts demo: dnslib is missing; the demo's testbed needs the demo extra: "
        "install with pip install -e '.[demo]'\n"
    )
    assert not (tmp_path / "demo-output").exists()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_on_a_terminal_unless_no_color() -> None:
    assert demo.want_colour(_Tty(), {})
    assert not demo.want_colour(_Tty(), {"NO_COLOR": "1"})
    assert demo.want_colour(_Tty(), {"NO_COLOR": ""})  # only a non-empty value counts
    assert not demo.want_colour(io.StringIO(), {})


def test_python_m_bot_demo(tmp_path: Path) -> None:
    """The README's first command, as a process: exit 0, no traceback, JSON in ./demo-output."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "good.example: MTA-STS checks out" in SGR.sub("", result.stdout)
    saved = sorted(p.name for p in (tmp_path / "demo-output").iterdir())
    assert saved == sorted(
        [f"{d}.json" for d in demo.DEMO_DOMAINS]
        + ["testing-backup.example.explain.json", "mx-expired.example.mx-view.json"]
        + ["good.example.watch.json", "good.example.alert.json"]
        + ["mx-expired.example.tlsrpt.json", "mx-expired.example.tlsrpt-check.json"]
    )
