"""serve()/run(): HTTP mode, Socket Mode, /healthz, start-up errors and graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_harness import BOT_TOKEN, SIGNING_SECRET, FakeChecker

from bot.checker.settings import Settings
from bot.slack.app import build_app, make_client, services_of
from bot.slack.config import ConfigError, SlackConfig
from bot.slack.serve import EVENTS_PATH, drain_seconds, run, serve
from bot.testbed.slack_standin import SlackRequests, SlackStandin

APP_TOKEN = "xapp-1-A0STANDAPP-0000-secret"


@dataclass
class Served:
    base: str
    stop: asyncio.Event
    task: asyncio.Task[None]
    checker: FakeChecker


@asynccontextmanager
async def served(standin: SlackStandin, **config_kw: object) -> AsyncIterator[Served]:
    config = SlackConfig(
        bot_token=str(config_kw.pop("bot_token", BOT_TOKEN)),
        signing_secret=SIGNING_SECRET,
        api_url=standin.api_url,
        **config_kw,  # type: ignore[arg-type]
    )
    checker = FakeChecker()
    app = build_app(config, check=checker, client=make_client(config, retry_backoff=0.01))
    stop = asyncio.Event()
    bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(config, port=0, host="127.0.0.1", app=app, stop=stop, started=bound.set_result)
    )
    done, _ = await asyncio.wait({task, bound}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what serve raised
    port = await bound
    try:
        yield Served(f"http://127.0.0.1:{port}", stop, task, checker)
    finally:
        stop.set()
        for gate in checker.gates.values():
            gate.set()
        await asyncio.wait_for(task, 10)


async def test_http_mode_serves_healthz_and_slack_events() -> None:
    async with SlackStandin() as standin, served(standin) as s, aiohttp.ClientSession() as http:
        async with http.get(f"{s.base}/healthz") as r:
            assert r.status == 200
            assert (await r.json())["ok"] is True
        request = SlackRequests(SIGNING_SECRET).url_verification("abc")
        async with http.post(
            f"{s.base}{EVENTS_PATH}", data=request.body, headers=request.headers
        ) as r:
            assert r.status == 200
            assert await r.json() == {"challenge": "abc"}
        async with http.get(f"{s.base}{EVENTS_PATH}") as r:
            assert r.status == 405
        assert standin.calls_to("auth.test")  # tokens checked at start-up
    assert s.task.done()


async def test_a_refused_bot_token_stops_start_up_naming_it() -> None:
    async with SlackStandin() as standin:
        with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
            async with served(standin, bot_token="not-a-bot-token"):
                pass


async def test_shutdown_lets_work_in_flight_finish() -> None:
    async with SlackStandin() as standin, aiohttp.ClientSession() as http, served(standin) as s:
        gate = s.checker.hold("slow.example")
        url = standin.new_response_url()
        request = SlackRequests(SIGNING_SECRET).slash_command("slow.example", response_url=url)
        async with http.post(
            f"{s.base}{EVENTS_PATH}", data=request.body, headers=request.headers
        ) as r:
            assert r.status == 200
        await s.checker.started.wait()
        s.stop.set()  # SIGTERM arrives while the check runs
        gate.set()
        await asyncio.wait_for(s.task, 10)
        posts = standin.response_posts(url)
        assert len(posts) == 1
        assert posts[0].args["response_type"] == "in_channel"


async def test_socket_mode_connects_reports_health_and_answers() -> None:
    async with (
        SlackStandin() as standin,
        served(standin, app_token=APP_TOKEN) as s,
        aiohttp.ClientSession() as http,
    ):
        await standin.wait_for(lambda calls: standin.calls_to("socket_connect"))
        async with http.get(f"{s.base}/healthz") as r:
            body = await r.json()
            assert r.status == 200
            assert body == {
                "ok": True,
                "mode": "socket",
                "checks": {"slack": {"ok": True, "required": True, "connected": True}},
            }
        async with http.post(f"{s.base}{EVENTS_PATH}", data="{}") as r:
            assert r.status == 404  # no HTTP request URL in Socket Mode
        async with http.get(f"{s.base}/metrics") as r:
            assert r.status == 200
            assert "mtasts_requests_total" in await r.text()

        url = standin.new_response_url()
        slack = SlackRequests(SIGNING_SECRET)
        form = dict(parse_qsl(slack.slash_command("example.com", response_url=url).body))
        envelope_id = await standin.send_envelope("slash_commands", form)
        ack = (
            await standin.wait_for(
                lambda calls: [
                    c
                    for c in standin.calls_to("socket_ack")
                    if c.args["envelope_id"] == envelope_id
                ]
            )
        )[0]
        assert "Checking" in json.dumps(ack.args.get("payload"))
        post = (await standin.wait_for(lambda calls: standin.response_posts(url)))[0]
        assert post.args["response_type"] == "in_channel"

        # An event, then Slack's retry of it: answered once.
        event = json.loads(slack.mention("example.org", event_id="EvSOCK1", ts="1700000050.1").body)
        await standin.send_envelope("events_api", event)
        await standin.send_envelope("events_api", event, retry_attempt=1)
        await standin.wait_for(lambda calls: standin.calls_to("chat.postMessage"))
        await standin.wait_for(lambda calls: len(standin.calls_to("socket_ack")) == 3)
        assert len(standin.calls_to("chat.postMessage")) == 1
    assert standin.socket_connections == 0  # closed at shutdown


async def test_socket_mode_an_envelope_sent_again_is_acked_but_answered_once() -> None:
    async with SlackStandin() as standin, served(standin, app_token=APP_TOKEN) as s:
        await standin.wait_for(lambda calls: standin.calls_to("socket_connect"))
        url = standin.new_response_url()
        form = dict(
            parse_qsl(
                SlackRequests(SIGNING_SECRET).slash_command("a.example", response_url=url).body
            )
        )
        envelope_id = await standin.send_envelope("slash_commands", form)
        await standin.send_envelope("slash_commands", form, envelope_id=envelope_id)
        acks = await standin.wait_for(
            lambda calls: (
                len(standin.calls_to("socket_ack")) == 2 and standin.calls_to("socket_ack")
            )
        )
        await standin.wait_for(lambda calls: standin.response_posts(url))
        assert [a.args["envelope_id"] for a in acks] == [envelope_id, envelope_id]
        assert sum("Checking" in json.dumps(a.args.get("payload")) for a in acks) == 1
        assert s.checker.calls == ["a.example"]
    assert len(standin.response_posts(url)) == 1


async def test_a_refused_app_token_stops_start_up_naming_it() -> None:
    async with SlackStandin() as standin:
        with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
            async with served(standin, app_token="xoxb-wrong-kind"):
                pass


def test_run_with_missing_configuration_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert run(0) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "SLACK_BOT_TOKEN" in err


async def test_run_serves_until_sigterm_and_logs_no_secret(tmp_path: Path) -> None:
    async with SlackStandin() as standin, aiohttp.ClientSession() as http:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.api_url,
            "PORT": "0",
            "MTASTS_DATA_DIR": str(tmp_path),
        }
        env.pop("MTASTS_DATABASE_URL", None)
        env.pop("DATABASE_URL", None)
        env.pop("SLACK_APP_TOKEN", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from bot.slack.serve import run; sys.exit(run())",
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        lines: list[str] = []
        try:
            # start-up opens and migrates the database too: a bound for a very busy machine
            async with asyncio.timeout(30):
                while "serving mode=http" not in (lines[-1] if lines else ""):
                    line = (await proc.stderr.readline()).decode()
                    assert line, "".join(lines)
                    lines.append(line)
            port = int(lines[-1].split("port=")[1].split()[0])
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200
                health = await r.json()
            # the database of watches, opened and migrated at start-up, is a required check
            assert health["checks"]["database"] == {
                "ok": True,
                "required": True,
                "dialect": "sqlite",
            }
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                rest = (await proc.stderr.read()).decode()
                code = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        output = "".join(lines) + rest
        assert code == 0
        assert "stopped" in output
        assert (tmp_path / "mtasts.db").exists()  # the default database, migrated at start-up
        assert BOT_TOKEN not in output
        assert SIGNING_SECRET not in output


async def test_stop_ends_serve_while_socket_mode_cannot_connect() -> None:
    async with SlackStandin() as standin:
        standin.refuse_socket_connections()
        config = SlackConfig(
            bot_token=BOT_TOKEN, signing_secret=None, app_token=APP_TOKEN, api_url=standin.api_url
        )
        app = build_app(config, check=FakeChecker(), client=make_client(config, retry_backoff=0.01))
        stop = asyncio.Event()
        started: list[int] = []
        task = asyncio.create_task(
            serve(config, port=0, host="127.0.0.1", app=app, stop=stop, started=started.append)
        )
        # start-up's check, then the handler's own request for a URL (which refuses)
        await standin.wait_for(lambda calls: len(standin.calls_to("apps.connections.open")) >= 2)
        assert not task.done()
        stop.set()  # what SIGTERM / Ctrl-C do
        await asyncio.wait_for(task, 3)
        assert task.exception() is None
        assert started == []  # it never claimed to be serving
        assert standin.socket_connections == 0


def test_shutdown_drains_a_whole_check_budget_but_not_forever() -> None:
    def config(timeout: float) -> SlackConfig:
        return SlackConfig(bot_token=BOT_TOKEN, settings=Settings(timeout=timeout))

    assert drain_seconds(config(10)) >= 10 + 5  # a check begun just before SIGTERM ends
    assert drain_seconds(config(15)) == 20
    assert drain_seconds(config(600)) == 25  # leaves time to say so before a 30 s SIGKILL


async def test_work_cancelled_at_shutdown_tells_the_person_to_ask_again() -> None:
    async with SlackStandin() as standin, aiohttp.ClientSession() as http:
        config = SlackConfig(
            bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=standin.api_url
        )
        checker = FakeChecker()
        checker.hold("slow.example")  # never released: the check outlives the drain
        app = build_app(config, check=checker, client=make_client(config, retry_backoff=0.01))
        stop = asyncio.Event()
        bound: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve(
                config,
                port=0,
                host="127.0.0.1",
                app=app,
                stop=stop,
                started=bound.set_result,
                drain_timeout=0.05,
            )
        )
        url = f"http://127.0.0.1:{await asyncio.wait_for(bound, 5)}{EVENTS_PATH}"
        slack = SlackRequests(SIGNING_SECRET)
        response_url = standin.new_response_url()
        for request in (
            slack.slash_command("slow.example", response_url=response_url),
            slack.mention("slow.example", ts="1700000090.000100"),
        ):
            async with http.post(url, data=request.body, headers=request.headers) as r:
                assert r.status == 200
        assert await services_of(app).tracker.wait_started(2, 5)  # both are in flight
        await checker.started.wait()
        stop.set()
        await asyncio.wait_for(task, 10)
        posts = standin.response_posts(response_url)
        assert len(posts) == 1
        assert posts[0].args["response_type"] == "ephemeral"
        assert "restarted before I could finish" in posts[0].args["text"]
        said = standin.calls_to("chat.postMessage")
        assert len(said) == 1
        assert said[0].args["thread_ts"] == "1700000090.000100"
        assert "please ask again" in said[0].args["text"]
        assert "Traceback" not in said[0].args["text"]
