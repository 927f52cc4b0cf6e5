"""`mtasts demo`: the real Slack app answering a real `/mtasts` command, all on this machine.

No Slack workspace and no internet: the testbed serves sample domains (DNS,
HTTPS and SMTP on 127.77.x.x), a stand-in plays Slack's Web API and
response_urls, and the production app (`build_app`, served over HTTP with
`make_web_app`) gets a slash command signed the way Slack signs it. Each
message the app posts is shown as terminal text and saved as Block Kit JSON.
Everything started is stopped before `run()` returns; failures are one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import aiohttp

    from bot.checker.model import Report
    from bot.slack.services import Services
    from bot.testbed.bed import Testbed
    from bot.testbed.slack_standin import Call, SlackRequests, SlackStandin
    from bot.watch.service import WatchService

EXIT_OK, EXIT_FAILED, EXIT_MISSING_EXTRA = 0, 1, 2

# Realistic samples from the testbed catalogue (scenarios marked `demo`), one command's worth.
DEMO_DOMAINS: tuple[str, ...] = (
    "good.example",
    "testing-backup.example",
    "mx-expired.example",
    "expired-policy-cert.example",
    "dash-id.example",
)
EXPLAIN_DOMAIN = "testing-backup.example"  # whose "Explain in thread" button is clicked
DETAILS_DOMAIN = "mx-expired.example"  # whose "MX & TLS" button is clicked
WATCH_DOMAIN = "good.example"  # watched, then its policy edited without a new id
WATCH_INTERVAL = 1.0  # seconds between the demo's watch checks (the real minimum is 60)
REPORT_DOMAIN = "mx-expired.example"  # whose TLS-RPT report is shared with the bot at the end
OUTPUT_DIR = Path("demo-output")
# Made up: only the stand-in and the demo's own requests ever see them.
BOT_TOKEN = "xoxb-demo-0000-not-a-real-token"  # noqa: S105
SIGNING_SECRET = "mtasts-demo-signing-secret"  # noqa: S105
CHANNEL = "C0GENERAL"  # the stand-in's default channel, "#general"
WAIT = 20.0  # seconds to wait for any one answer from the app (checks take well under 1 s)
MAX_WIDTH = 100
_EXTRA_MODULES = ("dnslib", "trustme", "aiosmtpd")
INSTALL_HINT = "the demo's testbed needs the demo extra: install with pip install -e '.[demo]'"


class DemoError(Exception):
    """Something the demo needed did not happen; the message is one line for people."""


@dataclass(slots=True)
class Started:
    """What the demo listens on while it runs (for tests to check it all stopped)."""

    listening: list[tuple[str, int]] = field(default_factory=list)  # (host, TCP port)


def run(
    *,
    out: TextIO | None = None,
    output_dir: Path | None = None,
    colour: bool | None = None,
    width: int | None = None,
) -> int:
    """`mtasts demo`: 0 when every answer came, 1 on failure, 2 without the demo extra."""
    out = out or sys.stdout
    missing = _missing_extra()
    if missing:
        print(f"mtasts demo: {missing} is missing; {INSTALL_HINT}", file=sys.stderr)
        return EXIT_MISSING_EXTRA
    if colour is None:
        colour = want_colour(out)
    if width is None:
        width = min(shutil.get_terminal_size((MAX_WIDTH, 24)).columns, MAX_WIDTH)
    try:
        return asyncio.run(
            main(out, output_dir=output_dir or OUTPUT_DIR, colour=colour, width=width)
        )
    except KeyboardInterrupt:
        print("mtasts demo: interrupted", file=sys.stderr)
        return 130
    except DemoError as exc:
        print(f"mtasts demo: {exc}", file=sys.stderr)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in _EXTRA_MODULES:
            print(f"mtasts demo: {exc.name} is missing; {INSTALL_HINT}", file=sys.stderr)
            return EXIT_MISSING_EXTRA
        print(f"mtasts demo: failed: {_one_line(exc)}", file=sys.stderr)
    except Exception as exc:  # never a traceback: one line saying what broke
        print(f"mtasts demo: failed: {_one_line(exc)}", file=sys.stderr)
    return EXIT_FAILED


def _missing_extra() -> str | None:
    """The first package of the `demo` extra that cannot be imported, if any."""
    import importlib.util

    for name in _EXTRA_MODULES:
        if importlib.util.find_spec(name) is None:
            return name
    return None


def want_colour(out: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour on a terminal, unless NO_COLOR is set to anything (https://no-color.org)."""
    env = os.environ if environ is None else environ
    return _isatty(out) and not env.get("NO_COLOR")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


async def main(
    out: TextIO,
    *,
    output_dir: Path,
    colour: bool = False,
    width: int = MAX_WIDTH,
    domains: Sequence[str] = DEMO_DOMAINS,
    explain: str | None = EXPLAIN_DOMAIN,
    details: str | None = DETAILS_DOMAIN,
    watch: str | None = WATCH_DOMAIN,
    report: str | None = REPORT_DOMAIN,
    started: Started | None = None,
) -> int:
    """Run the demo, writing to `out`; raises DemoError when an answer does not come."""
    if not 1 <= len(domains) <= 5:
        raise DemoError("the demo sends one /mtasts command: give 1 to 5 domains")
    from bot.testbed.scenarios import BY_DOMAIN

    unknown = [d for d in domains if d not in BY_DOMAIN]
    if unknown:
        raise DemoError(f"no testbed scenario for {', '.join(unknown)}")
    scenarios = [BY_DOMAIN[d] for d in domains]
    started = started or Started()
    show = _Printer(out, colour=colour, width=width)
    _intro(show, {s.domain: s.description for s in scenarios})
    begin = time.perf_counter()

    import aiohttp
    from aiohttp import web

    from bot.slack.app import build_app, build_services, services_of
    from bot.slack.config import SlackConfig
    from bot.slack.serve import EVENTS_PATH, make_web_app
    from bot.slack.tokens import SingleWorkspaceToken
    from bot.testbed.bed import Testbed
    from bot.testbed.slack_standin import SlackRequests, SlackStandin

    async with contextlib.AsyncExitStack() as stack:  # every stop runs, even if one fails
        stack.enter_context(_quiet_logs())
        bed = Testbed(scenarios)
        stack.push_async_callback(bed.stop)
        await bed.start()
        started.listening += _testbed_endpoints(bed)
        standin = SlackStandin()
        stack.push_async_callback(standin.stop)
        await standin.start()
        started.listening.append(("127.0.0.1", int(standin.base_url.rsplit(":", 1)[1])))
        config = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=standin.api_url,
            settings=bed.settings(),
        )
        watching = await _watching(stack) if watch in domains else None
        app = build_app(config, services=build_services(config, watch=watching))
        stack.push_async_callback(_drain, services_of(app))
        runner = web.AppRunner(make_web_app(app), access_log=None, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)  # first to run: stop taking requests
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        started.listening.append(("127.0.0.1", port))
        took = time.perf_counter() - begin
        show.say(f"Started the testbed, the Slack stand-in and the app in {took:.1f} s.", "2")
        show.line()
        session = await stack.enter_async_context(aiohttp.ClientSession())
        demo = _Demo(
            show=show,
            standin=standin,
            slack=SlackRequests(SIGNING_SECRET),
            url=f"http://127.0.0.1:{port}{EVENTS_PATH}",
            output_dir=output_dir,
            session=session,
        )
        if watching is not None:
            watching.start(
                check=_checker(bed), client=app.client, tokens=SingleWorkspaceToken(BOT_TOKEN)
            )
        await demo.play(
            list(domains),
            explain if explain in domains else None,
            details if details in domains else None,
            watch if watching is not None else None,
            bed,
            report if report in domains else None,
        )
    return EXIT_OK


async def _watching(stack: contextlib.AsyncExitStack) -> WatchService:
    """Watching for the demo: a SQLite file in a temporary folder, checks every second."""
    from bot.store import open_store
    from bot.store.url import DatabaseUrl, parse
    from bot.watch.config import WatchConfig
    from bot.watch.service import WatchService

    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="mtasts-demo-"))
    url = DatabaseUrl(parse(f"sqlite:///{folder}/mtasts.db"), "default")
    store = await open_store(url)
    stack.push_async_callback(store.close)
    service = WatchService(store, WatchConfig(interval=WATCH_INTERVAL, confirm=1))
    stack.push_async_callback(service.stop)
    return service


def _checker(bed: Testbed) -> Callable[[str], Awaitable[Report]]:
    from bot.checker.engine import check

    settings = bed.settings()

    async def run(domain: str) -> Report:
        return await check(domain, settings)

    return run


async def _drain(services: Services) -> None:
    """Let the app's listeners finish (cancel them after a while), then close the cache."""
    if not await services.tracker.wait_idle(5):
        await services.tracker.cancel_all()
    aclose = getattr(services.cache, "aclose", None)
    if aclose is not None:
        await aclose()


def _testbed_endpoints(bed: Testbed) -> list[tuple[str, int]]:
    from bot.testbed.bed import SHARED_HTTPS_ADDRESS, SHARED_SMTP_ADDRESS

    points = {
        (bed.dns_address.ip, bed.dns_address.port),
        (SHARED_HTTPS_ADDRESS, bed.https_port),
        (SHARED_SMTP_ADDRESS, bed.smtp_port),
    }
    for host, address in bed.addresses.items():
        port = bed.https_port if host.startswith("mta-sts.") else bed.smtp_port
        points.add((address, port))
    return sorted(points)


def _intro(show: _Printer, descriptions: dict[str, str]) -> None:
    show.say("mtasts demo — the real Slack app and checker, on this machine", "1")
    show.say(
        "No Slack workspace or internet needed: DNS, HTTPS and SMTP servers on 127.77.x.x "
        "play these domains, and a local stand-in plays Slack's Web API."
    )
    show.line()
    pad = max(len(d) for d in descriptions) + 2
    for domain, description in descriptions.items():
        show.say(f"  {domain.ljust(pad)}{description}", hang=pad)
    show.line()


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Keep library logging (e.g. aiosmtpd reporting a probe's aborted handshake) off screen.

    The demo judges every outcome itself; without a handler, Python would print
    warnings and tracebacks from the servers' loggers to standard error.
    """
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


class _Printer:
    """Writes the demo's narration and rendered messages."""

    def __init__(self, out: TextIO, *, colour: bool, width: int) -> None:
        self.out = out
        self.colour = colour
        self.width = max(width, 40)

    def style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def say(self, text: str, style: str | None = None, *, hang: int = 0) -> None:
        """Narration: wrapped to the width, continuation lines indented by `hang` more."""
        indent = text[: len(text) - len(text.lstrip(" "))]
        rows = textwrap.wrap(
            text,
            self.width,
            subsequent_indent=indent + " " * hang,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for row in rows or [""]:
            self.line(self.style(row, style) if style else row)

    def rule(self, title: str) -> None:
        from bot.slack.render_terminal import visible

        label = f"── {visible(title)} "
        self.line(self.style(label + "─" * max(self.width - len(label), 3), "1"))

    def payload(self, payload: dict[str, Any]) -> None:
        from bot.slack.render_terminal import render_payload

        text = render_payload(payload, colour=self.colour, width=self.width - 2)
        for row in text.splitlines():
            self.line(("  " + row).rstrip())


@dataclass
class _Demo:
    show: _Printer
    standin: SlackStandin
    slack: SlackRequests
    url: str
    output_dir: Path
    session: aiohttp.ClientSession | None = None
    missing: list[str] = field(default_factory=list)  # domains whose result never came
    _shown: set[int] = field(default_factory=set)

    async def play(
        self,
        domains: list[str],
        explain: str | None,
        details: str | None,
        watch: str | None = None,
        bed: Testbed | None = None,
        report: str | None = None,
    ) -> None:
        show = self.show
        posts = await self._command(domains)
        saved = [await asyncio.to_thread(self._write, d, args) for d, args in posts.items()]
        if explain is not None:
            saved += await self._explain(explain, posts)
        if details is not None and details in posts:
            saved += await self._details(details)
        if watch is not None and bed is not None:
            saved += await self._watch(watch, bed)
        if report is not None:
            saved += await self._report_share(report)
        show.line()
        where = self.output_dir if self.output_dir.is_absolute() else Path(".") / self.output_dir
        show.say(
            f"Saved the Block Kit JSON of every message and window in {where}/ "
            f"({len(saved)} files)."
        )
        show.line()
        show.say("Run it for real:", "1")
        show.say(
            "  1. Create a Slack app from manifest.yml "
            "(api.slack.com/apps → Create New App → From a manifest).",
            hang=3,
        )
        show.say(
            "  2. Install it, then set SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…).",
            hang=3,
        )
        show.say(
            "  3. Run `mtasts serve`, and type `/mtasts example.com` in Slack "
            "(`/mtasts watch example.com` to be told when it changes).",
            hang=3,
        )
        show.say("Check real domains from the terminal: `mtasts check example.com`.")
        show.say("Explain TLS-RPT reports there too: `mtasts tlsrpt report.json.gz`.")
        if self.missing:
            raise DemoError(f"no result was posted for {', '.join(self.missing)}")

    async def _post(self, body: str, headers: dict[str, str]) -> tuple[int, str, float]:
        assert self.session is not None
        begin = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=headers) as response:
            text = await response.text()
            return response.status, text, time.perf_counter() - begin

    async def _command(self, domains: list[str]) -> dict[str, dict[str, Any]]:
        show = self.show
        command = "/mtasts " + " ".join(domains)
        show.say(f"You type in #general:  {command}", "1", hang=4)
        response_url = self.standin.new_response_url()
        request = self.slack.slash_command(" ".join(domains), response_url=response_url)
        begin = time.perf_counter()
        status, text, took = await self._post(request.body, request.headers)
        if status != 200:
            raise DemoError(f"the app answered the slash command with HTTP {status}")
        show.say(
            f"Slack sends the app a signed request; it acknowledges in {took * 1000:.0f} ms "
            "(Slack allows 3 s). Only you see:"
        )
        show.line()
        ack = _json_object(text)
        if ack:
            show.payload(ack)
        show.line()
        show.say("Then the app posts one message per domain in #general, as each check finishes:")
        show.line()
        rid = response_url.rsplit("/", 1)[-1]
        posts: dict[str, dict[str, Any]] = {}
        for n, domain in enumerate(domains, 1):
            call = await self._wait(
                _post_for(rid, domain, len(domains)), f"the result for {domain}"
            )
            if call is _MISSING:
                self.missing.append(domain)
                show.rule(f"{n}/{len(domains)} · {domain} · no result posted")
                for other in self._unmatched(rid, domains):
                    show.line("  The app posted this instead:")
                    show.payload(dict(other.args))
                show.line()
                continue
            assert not isinstance(call, _Missing)
            args = dict(call.args)
            posts[domain] = args
            where = "#general" if args.get("response_type") == "in_channel" else "you only"
            after = call.at - begin if call.at > begin else 0.0
            show.rule(f"{n}/{len(domains)} · {domain} · posted to {where}")
            show.payload(args)
            show.say(f"  (arrived {after:.1f} s after the command)", "2")
            show.line()
        if not posts:
            raise DemoError("the app posted no results")
        return posts

    async def _details(self, domain: str) -> list[Path]:
        from bot.slack.blocks.ids import ACTION_MX
        from bot.slack.render_terminal import render_view

        show = self.show
        trigger_id = self.standin.new_trigger_id()
        request = self.slack.block_action(
            ACTION_MX,
            domain,
            response_url=self.standin.new_response_url(),
            trigger_id=trigger_id,
            channel=CHANNEL,
        )
        show.line()
        show.rule(f"You click [ MX & TLS ] under {domain}")
        status, _, took = await self._post(request.body, request.headers)
        if status != 200:
            raise DemoError(f"the app answered the button click with HTTP {status}")

        def opened(calls: list[Call]) -> Call | None:
            for c in calls:
                if c.method == "views.open" and c.args.get("trigger_id") == trigger_id:
                    return c
            return None

        call = await self._wait(opened, f"the MX & TLS window for {domain}")
        view = call.args.get("view")
        if isinstance(view, str):
            view = _json_object(view)
        if not isinstance(view, dict):
            raise DemoError("the app opened a window without a view")
        show.say(f"Acknowledged in {took * 1000:.0f} ms; the app opens a window for you:")
        show.line()
        text = render_view(view, colour=show.colour, width=show.width - 2)
        for row in text.splitlines():
            show.line(("  " + row).rstrip())
        return [await asyncio.to_thread(self._write_json, f"{domain}.mx-view", view)]

    async def _report_share(self, domain: str) -> list[Path]:
        """Share a TLS-RPT report for `domain` in a DM: the summary, updated with what is
        still failing, and the check's result message, all in the thread."""
        from bot.testbed.reports import demo_report

        show = self.show
        name, data = demo_report()
        info = self.standin.upload_file(name, data, filetype="gzip", mimetype="application/gzip")
        ts = f"{int(time.time())}.000900"
        request = self.slack.file_share([info], ts=ts)
        show.line()
        show.rule("You share a TLS-RPT report with the bot in a DM")
        show.say(
            f"{name}: Google's daily TLS-RPT report for {domain} ({len(data):,} bytes, gzip), "
            "as it arrives at the domain's rua address."
        )
        status, _, took = await self._post(request.body, request.headers)
        if status != 200:
            raise DemoError(f"the app answered the file share with HTTP {status}")

        def answered(calls: list[Call]) -> tuple[Call, Call] | None:
            update = next(
                (c for c in calls if c.method == "chat.update" and c.ok and c.args.get("ts")), None
            )
            threaded = [
                c
                for c in calls
                if c.method == "chat.postMessage" and c.ok and c.args.get("thread_ts") == ts
            ]
            if update is None or len(threaded) < 2:
                return None
            return update, threaded[1]

        update, result = await self._wait(answered, f"the explanation of the report for {domain}")
        show.say(
            f"Acknowledged in {took * 1000:.0f} ms. The app fetches the file from Slack, "
            "summarises it in the thread, checks the domain (from the cache: it was checked "
            "above) and updates the summary with what is still failing now:"
        )
        show.line()
        summary = dict(update.args)
        show.payload(summary)
        show.line()
        show.say(
            f"Then, in the same thread, {domain}'s result message from that check, with its "
            "buttons (the same as above)."
        )
        return [
            await asyncio.to_thread(self._write, f"{domain}.tlsrpt", summary),
            await asyncio.to_thread(self._write, f"{domain}.tlsrpt-check", dict(result.args)),
        ]

    def _unmatched(self, rid: str, domains: list[str]) -> list[Call]:
        """Posts to the command's response_url that are no domain's result, not yet shown."""
        out: list[Call] = []
        for call in self.standin.response_posts():
            if call.response_id != rid or id(call) in self._shown:
                continue
            if _domain_of(call.args) not in domains:
                self._shown.add(id(call))
                out.append(call)
        return out

    async def _explain(self, domain: str, posts: dict[str, dict[str, Any]]) -> list[Path]:
        from bot.slack.blocks.ids import ACTION_EXPLAIN

        show = self.show
        if domain not in posts:
            return []
        message_ts = f"{int(time.time())}.000100"
        request = self.slack.block_action(
            ACTION_EXPLAIN,
            domain,
            response_url=self.standin.new_response_url(),
            trigger_id=self.standin.new_trigger_id(),
            channel=CHANNEL,
            message_ts=message_ts,
        )
        show.rule(f"You click [ Explain in thread ] under {domain}")
        status, _, took = await self._post(request.body, request.headers)
        if status != 200:
            raise DemoError(f"the app answered the button click with HTTP {status}")

        def threaded(calls: list[Call]) -> Call | None:
            for c in calls:
                if c.method == "chat.postMessage" and c.args.get("thread_ts") == message_ts:
                    return c
            return None

        call = await self._wait(threaded, f"the explanation of {domain}")
        assert not isinstance(call, _Missing)
        show.say(f"Acknowledged in {took * 1000:.0f} ms; the app replies in the message's thread:")
        show.line()
        args = dict(call.args)
        show.payload(args)
        return [await asyncio.to_thread(self._write, f"{domain}.explain", args)]

    async def _watch(self, domain: str, bed: Testbed) -> list[Path]:
        """Watch a domain, edit its policy without a new id, show the alert that follows."""
        import dataclasses

        from bot.slack.blocks.alert_builder import ALERT_ACTIONS_BLOCK_ID
        from bot.testbed.behaviour import HttpBehaviour, PolicyHost
        from bot.testbed.scenario import policy_text

        show = self.show
        show.line()
        show.rule(f"You type in #general:  /mtasts watch {domain}")
        request = self.slack.slash_command(
            f"watch {domain}", response_url=self.standin.new_response_url()
        )
        status, _, took = await self._post(request.body, request.headers)
        if status != 200:
            raise DemoError(f"the app answered /mtasts watch with HTTP {status}")

        def confirmation(calls: list[Call]) -> Call | None:
            for c in calls:
                if c.method == "chat.postMessage" and str(c.args.get("text")).startswith(
                    f"Watching {domain}"
                ):
                    return c
            return None

        call = await self._wait(confirmation, f"the watch confirmation for {domain}")
        show.say(
            f"Acknowledged in {took * 1000:.0f} ms; after a baseline check the app says in "
            "#general that it watches the domain:"
        )
        show.line()
        show.payload(dict(call.args))
        saved = [await asyncio.to_thread(self._write, f"{domain}.watch", dict(call.args))]

        scenario = bed.scenario(domain)
        patterns = [m.host for m in scenario.mx] + [f"mx3.{domain}"]
        edited = dataclasses.replace(
            scenario,
            policy=PolicyHost(http=HttpBehaviour(body=policy_text("enforce", patterns))),
            expect_codes=scenario.expect_codes | {"mx_pattern_unused"},
        )
        await bed.change(edited)
        show.line()
        show.say(
            f"Someone adds `mx: mx3.{domain}` to the policy file on mta-sts.{domain}, but "
            "leaves the id in the _mta-sts TXT record as it was. Senders that cached the "
            "policy will not fetch it again. The app checks watched domains every hour "
            f"(every {WATCH_INTERVAL:g} s in this demo), notices, and posts in #general:",
            "1",
        )
        show.line()

        def alert(calls: list[Call]) -> Call | None:
            for c in calls:
                blocks = c.args.get("blocks")
                if c.method == "chat.postMessage" and ALERT_ACTIONS_BLOCK_ID in str(blocks):
                    return c
            return None

        call = await self._wait(alert, f"the alert about {domain}'s policy")
        show.payload(dict(call.args))
        saved.append(await asyncio.to_thread(self._write, f"{domain}.alert", dict(call.args)))
        return saved

    async def _wait(self, predicate: Callable[[list[Call]], Any], what: str) -> Any:
        try:
            return await self.standin.wait_for(predicate, timeout=WAIT)
        except TimeoutError:
            raise DemoError(f"{what} did not arrive within {WAIT:.0f} s") from None

    def _write(self, name: str, args: dict[str, Any]) -> Path:
        payload = {k: v for k, v in args.items() if k in ("text", "blocks", "response_type")}
        if isinstance(payload.get("blocks"), str):  # form-encoded posts carry JSON text
            with contextlib.suppress(ValueError):
                payload["blocks"] = json.loads(payload["blocks"])
        return self._write_json(name, payload)

    def _write_json(self, name: str, payload: dict[str, Any]) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"{name}.json"
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


class _Missing:
    """Truthy marker: every post arrived, none for this domain."""


_MISSING = _Missing()


def _post_for(rid: str, domain: str, expected: int) -> Callable[[list[Call]], Any]:
    def find(calls: list[Call]) -> Call | _Missing | None:
        posts = [c for c in calls if c.method == "response_url" and c.response_id == rid]
        for c in posts:
            if c.ok and _domain_of(c.args) == domain:
                return c
        return _MISSING if len(posts) >= expected else None

    return find


def _domain_of(payload: dict[str, Any]) -> str | None:
    """The domain a result message is about: the value its buttons carry."""
    blocks = payload.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return None
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "actions":
            for element in block.get("elements") or []:
                if isinstance(element, dict) and isinstance(element.get("value"), str):
                    return str(element["value"])
    return None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text} if text.strip() else {}
    return value if isinstance(value, dict) else {}
