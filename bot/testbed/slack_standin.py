"""A local stand-in for the Slack Web API and for response_urls, plus signed requests.

Used by the tests, the demo and the benchmarks: an aiohttp server on
127.0.0.1 (random port) that answers the Web API methods the app calls,
enforces the rules that bite in production (trigger ids expire after 3 s and
work once; a response_url takes at most 5 posts in 30 minutes; the bot cannot
post where it is not a member), records every call, and lets a caller await
calls without sleeping (`await standin.wait_for(predicate, timeout=5)`).

`SlackRequests` builds requests the way Slack signs them
(`v0:{timestamp}:{body}`, HMAC-SHA256, as `slack_sdk.signature.SignatureVerifier`
checks): slash commands, events, block actions and url_verification.

Files shared with the bot are served too: `upload_file(...)` stores one and
returns its Slack file object; `files.info` describes it, and its
`url_private_download` serves the bytes to a request carrying a bot or user
token (`Authorization: Bearer xoxb-…`), else redirects to a sign-in page as
Slack does. Downloads are recorded as calls of method "files.download".

Socket Mode is played too: `apps.connections.open` (with an `xapp-` token)
hands out a WebSocket URL on the stand-in, which greets with `hello`; a test
pushes envelopes with `send_envelope(...)` and the app's acks are recorded as
calls of method "socket_ack".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from aiohttp import WSMsgType, web

T = TypeVar("T")

TRIGGER_TTL = 3.0  # seconds a trigger_id can be exchanged
RESPONSE_URL_MAX_POSTS = 5
RESPONSE_URL_WINDOW = 30 * 60.0

TEAM_ID = "T0STANDIN"
BOT_USER_ID = "U0STANDBOT"
BOT_ID = "B0STANDBOT"
APP_ID = "A0STANDAPP"


@dataclass(slots=True)
class Call:
    """One request the stand-in received and how it answered."""

    method: str  # Web API method ("chat.postMessage"), or "response_url"
    args: dict[str, Any]  # the JSON or form body (form values as strings)
    at: float  # time.monotonic() when it arrived
    status: int = 200
    error: str | None = None  # the `error` it answered with, if any
    response_id: str | None = None  # which response_url, for "response_url"
    token: str | None = None  # the bearer token the caller sent

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass(slots=True)
class _Fault:
    status: int
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class SlackStandin:
    """`async with SlackStandin() as slack:` then point the app at `slack.api_url`."""

    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._clock = clock
        self.calls: list[Call] = []
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._ids = itertools.count(1)
        self._triggers: dict[str, float] = {}  # trigger_id -> issued at
        self._used_triggers: set[str] = set()
        self._views: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> as now
        self._response_posts: dict[str, list[float]] = defaultdict(list)
        self._not_in_channel: set[str] = set()
        self._channel_not_found: set[str] = set()
        self._restricted: dict[str, str] = {}  # channel -> restricted_action* error
        self._faults: dict[str, list[_Fault]] = defaultdict(list)
        self._sockets: set[web.WebSocketResponse] = set()
        self._holds: dict[str, asyncio.Event] = {}
        self._socket_url: str | None = None  # refuse_socket_connections()
        self.arrived: dict[str, int] = defaultdict(int)  # calls received, answered or not
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}  # file id -> (info, bytes)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> SlackStandin:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandin:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL / AsyncWebClient(base_url=...) should be."""
        return f"{self.base_url}/api/"

    # -- things a test arranges ------------------------------------------------------

    def new_response_url(self) -> str:
        return f"{self.base_url}/response/R{next(self._ids):06d}"

    def new_trigger_id(self) -> str:
        """A trigger_id that views.open accepts once, within 3 seconds from now."""
        trigger_id = f"{next(self._ids)}.{int(self._clock() * 1000)}.standin"
        self._triggers[trigger_id] = self._clock()
        return trigger_id

    def set_not_in_channel(self, channel: str) -> None:
        """chat.postMessage to `channel` answers `not_in_channel` from now on."""
        self._not_in_channel.add(channel)

    def restrict_posting(self, channel: str, error: str = "restricted_action") -> None:
        """chat.postMessage to `channel` answers `error` (an announcement-only channel)."""
        self._restricted[channel] = error

    def set_channel_not_found(self, channel: str) -> None:
        self._channel_not_found.add(channel)

    def refuse_socket_connections(self) -> None:
        """apps.connections.open hands out a WebSocket URL where nothing listens."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # closed again: connecting there is refused
        self._socket_url = f"ws://127.0.0.1:{port}/socket"

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait (unanswered, unrecorded) until the returned event is set."""
        gate = self._holds[method] = asyncio.Event()
        return gate

    def rate_limit_once(self, method: str, retry_after: int = 0) -> None:
        """The next call of `method` answers 429 with Retry-After ("response_url": any one)."""
        self._faults[method].append(_Fault(429, "ratelimited", {"Retry-After": str(retry_after)}))

    def server_error_once(self, method: str, status: int = 500) -> None:
        """The next call of `method` answers a 5xx ("response_url": the next post to any)."""
        self._faults[method].append(_Fault(status))

    def fail_once(self, method: str, error: str) -> None:
        """The next call of `method` answers 200 `{"ok": false, "error": error}`."""
        self._faults[method].append(_Fault(200, error))

    def upload_file(
        self,
        name: str,
        content: bytes,
        *,
        filetype: str = "binary",
        mimetype: str = "application/octet-stream",
        user: str = "U0CALLER",
        claimed_size: int | None = None,
    ) -> dict[str, Any]:
        """Store a file as if `user` uploaded it; returns its Slack file object.

        `claimed_size`: the `size` Slack states (default the true size), to test
        that a download is bounded by what arrives, not by what was announced.
        """
        file_id = f"F{next(self._ids):08d}"
        base = f"{self.base_url}/files-pri/{self.team_id}-{file_id}"
        info: dict[str, Any] = {
            "id": file_id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "external_type": "",
            "size": len(content) if claimed_size is None else claimed_size,
            "url_private": f"{base}/{quote(name)}",
            "url_private_download": f"{base}/download/{quote(name)}",
            "permalink": f"https://standin.slack.invalid/files/{user}/{file_id}/{quote(name)}",
        }
        self._files[file_id] = (info, content)
        return dict(info)

    # -- reading what happened -------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def response_posts(self, response_url: str | None = None) -> list[Call]:
        rid = response_url.rsplit("/", 1)[-1] if response_url else None
        return [
            c
            for c in self.calls
            if c.method == "response_url" and (rid is None or c.response_id == rid)
        ]

    async def wait_for(
        self,
        predicate: Callable[[list[Call]], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is the point of the call
    ) -> T:
        """Wait until `predicate(calls)` is truthy and return its value; TimeoutError if not."""
        result: list[T] = []

        def check() -> bool:
            value = predicate(self.calls)
            if value:
                result.append(value)
                return True
            return False

        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(check)
        return result[-1]

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the timeout is the point of the call
    ) -> None:
        """Wait until `condition()` holds; it is re-tested whenever a call arrives or ends."""
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(condition)

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._cond:
            self._cond.notify_all()

    # -- the Web API -----------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_body(request)
        self.arrived[method] += 1
        if (gate := self._holds.get(method)) is not None:
            await self._notify()
            await gate.wait()
        args.update({k: v for k, v in request.query.items() if k not in args})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        token = token or (args.get("token") if isinstance(args.get("token"), str) else None)
        call = Call(method=method, args=args, at=self._clock(), token=token)
        try:
            status, payload, headers = self._answer(method, args, token)
        except Exception as exc:  # a stand-in bug must not look like a Slack answer
            status, payload, headers = 500, {"ok": False, "error": f"standin: {exc!r}"}, {}
        call.status = status
        call.error = payload.get("error") if not payload.get("ok") else None
        await self._record(call)
        return web.json_response(payload, status=status, headers=headers)

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "apps.connections.open":
            if not token or not token.startswith("xapp-"):
                return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
            url = f"ws://127.0.0.1:{self._port}/socket?ticket={next(self._ids)}"
            if self._socket_url is not None:
                url = f"{self._socket_url}?ticket={next(self._ids)}"
            return 200, {"ok": True, "url": url}, {}
        if not token or not token.startswith(("xoxb-", "xoxp-")):
            return 200, {"ok": False, "error": "not_authed" if not token else "invalid_auth"}, {}
        if self._faults.get(method):
            fault = self._faults[method].pop(0)
            body = {"ok": False, "error": fault.error or "internal_error"}
            return fault.status, body, fault.headers
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update_message,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "files.info": self._files_info,
        }.get(method)
        if handler is None:
            return 200, {"ok": True}, {}
        return 200, handler(args), {}

    def _auth_test(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://standin.slack.invalid/",
            "team": "Stand-in Workspace",
            "user": "mtasts",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _channel_error(self, channel: Any) -> str | None:
        if not isinstance(channel, str) or not channel:
            return "channel_not_found"
        if channel in self._channel_not_found:
            return "channel_not_found"
        if channel in self._not_in_channel:
            return "not_in_channel"
        return None

    def _post_message(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if error := self._channel_error(args.get("channel")):
            return {"ok": False, "error": error}
        if error := self._restricted.get(args["channel"]):
            return {"ok": False, "error": error}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = f"{int(time.time())}.{next(self._ids):06d}"
        message = {"type": "message", "text": args.get("text", ""), "ts": ts}
        message.update({"bot_id": self.bot_id, "user": self.bot_user_id})
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("blocks"):
            message["blocks"] = args["blocks"]
        self.messages[(args["channel"], ts)] = message
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def _update_message(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if error := self._channel_error(args.get("channel")):
            return {"ok": False, "error": error}
        key = (args["channel"], args.get("ts"))
        if not isinstance(key[1], str) or key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        message = {**self.messages[key], "text": args.get("text", "")}
        message.pop("blocks", None)
        if args.get("blocks"):
            message["blocks"] = args["blocks"]
        self.messages[key] = message
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}

    def _post_ephemeral(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if error := self._channel_error(args.get("channel")):
            return {"ok": False, "error": error}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ids):06d}"}

    def _views_open(self, args: Mapping[str, Any]) -> dict[str, Any]:
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or trigger_id not in self._triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        if trigger_id in self._used_triggers:
            return {"ok": False, "error": "exchanged_trigger_id"}
        if self._clock() - self._triggers[trigger_id] > TRIGGER_TTL:
            return {"ok": False, "error": "expired_trigger_id"}
        view = _as_dict(args.get("view"))
        if view is None:
            return {"ok": False, "error": "invalid_arguments"}
        self._used_triggers.add(trigger_id)
        view_id = f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "hash": f"h{next(self._ids)}"}
        self._views[view_id] = stored
        return {"ok": True, "view": stored}

    def _views_update(self, args: Mapping[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not isinstance(view_id, str) or view_id not in self._views:
            return {"ok": False, "error": "not_found"}
        view = _as_dict(args.get("view"))
        if view is None:
            return {"ok": False, "error": "invalid_arguments"}
        current = self._views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        stored = {**view, "id": view_id, "hash": f"h{next(self._ids)}"}
        self._views[view_id] = stored
        return {"ok": True, "view": stored}

    def _files_info(self, args: Mapping[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(args.get("file", "")))
        if stored is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": dict(stored[0]), "comments": [], "response_metadata": {}}

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A file's url_private(_download): the bytes for a bearer token, else Slack's sign-in."""
        team_file = request.match_info["team_file"]
        file_id = team_file.rsplit("-", 1)[-1]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        call = Call(method="files.download", args={"file": file_id}, at=self._clock(), token=token)
        stored = self._files.get(file_id)
        if not token or not token.startswith(("xoxb-", "xoxp-")):
            # What Slack does without a usable token: send the browser to sign in.
            call.status, call.error = 302, "not_authed"
            await self._record(call)
            raise web.HTTPFound("https://standin.slack.invalid/?redir=%2Ffiles-pri%2F" + team_file)
        if stored is None or not team_file.startswith(f"{self.team_id}-"):
            call.status, call.error = 404, "file_not_found"
            await self._record(call)
            return web.Response(status=404, text="file not found")
        await self._record(call)
        info, content = stored
        return web.Response(body=content, content_type=str(info["mimetype"]))

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The view as it stands now (after any views.update)."""
        return self._views.get(view_id)

    # -- Socket Mode ---------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        return len(self._sockets)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        await self._record(Call(method="socket_connect", args={}, at=self._clock()))
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        args = json.loads(msg.data)
                    except ValueError:
                        args = {"_raw": msg.data}
                    call = Call(method="socket_ack", args=args, at=self._clock())
                    await self._record(call)
        finally:
            self._sockets.discard(ws)
        return ws

    async def send_envelope(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        retry_attempt: int = 0,
        envelope_id: str | None = None,
    ) -> str:
        """Push an envelope (`slash_commands`, `events_api`, `interactive`) to every socket;
        `envelope_id`: send one again, as Slack does when it missed the acknowledgement."""
        envelope_id = envelope_id or f"env-{next(self._ids):06d}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        for ws in list(self._sockets):
            await ws.send_json(envelope)
        return envelope_id

    # -- response_urls ---------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        args = await _read_body(request)
        now = self._clock()
        posts = [t for t in self._response_posts[rid] if now - t < RESPONSE_URL_WINDOW]
        call = Call(method="response_url", args=args, at=now, response_id=rid)
        if self._faults.get("response_url"):  # rate_limit_once / server_error_once("response_url")
            fault = self._faults["response_url"].pop(0)
            call.status, call.error = fault.status, fault.error or "internal_error"
            await self._record(call)
            return web.Response(status=fault.status, text=call.error, headers=fault.headers)
        if len(posts) >= RESPONSE_URL_MAX_POSTS:
            call.status, call.error = 404, "used_url"
            await self._record(call)
            return web.Response(status=404, text="used_url")
        if not args.get("text") and not args.get("blocks") and not args.get("delete_original"):
            call.status, call.error = 400, "no_text"
            await self._record(call)
            return web.Response(status=400, text="no_text")
        posts.append(now)
        self._response_posts[rid] = posts
        await self._record(call)
        return web.Response(status=200, text="ok")


async def _read_body(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    if not raw:
        return {}
    if request.content_type == "application/json" or raw.lstrip().startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"_raw": raw}
        return parsed if isinstance(parsed, dict) else {"_raw": parsed}
    return dict(parse_qsl(raw, keep_blank_values=True))


def _as_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


# -- signed requests, as Slack sends them --------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedRequest:
    body: str
    headers: dict[str, str]


def sign(signing_secret: str, body: str, timestamp: int) -> str:
    """`X-Slack-Signature` for `body` sent at `timestamp` (SignatureVerifier's scheme)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackRequests:
    """Builds signed requests for one app (signing secret) in one workspace."""

    def __init__(
        self,
        signing_secret: str,
        *,
        team_id: str = TEAM_ID,
        api_app_id: str = APP_ID,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = signing_secret
        self.team_id = team_id
        self.api_app_id = api_app_id
        self._clock = clock
        self._ids = itertools.count(1)

    def signed(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        secret: str | None = None,
    ) -> SignedRequest:
        ts = int(self._clock()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(secret or self._secret, body, ts),
        }
        headers.update(extra_headers or {})
        return SignedRequest(body, headers)

    def slash_command(
        self,
        text: str,
        *,
        response_url: str,
        trigger_id: str = "0.0.unused",
        command: str = "/mtasts",
        user_id: str = "U0CALLER",
        channel_id: str = "C0GENERAL",
        **sign_kw: Any,
    ) -> SignedRequest:
        form = {
            "token": "legacy-verification-token-unused",
            "team_id": self.team_id,
            "team_domain": "standin",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "caller",
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        return self.signed(urlencode(form), "application/x-www-form-urlencoded", **sign_kw)

    def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **sign_kw: Any,
    ) -> SignedRequest:
        """An `event_callback`; `retry_num` adds Slack's retry headers."""
        payload = {
            "token": "legacy-verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(self._clock()),
            "authorizations": [{"team_id": self.team_id, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        extra = dict(sign_kw.pop("extra_headers", None) or {})
        if retry_num is not None:
            extra.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"})
        return self.signed(json.dumps(payload), "application/json", extra_headers=extra, **sign_kw)

    def mention(
        self,
        text: str,
        *,
        channel: str = "C0GENERAL",
        user: str = "U0CALLER",
        ts: str | None = None,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> SignedRequest:
        """`@mtasts text` in a channel; `files`: Slack file objects shared with the mention."""
        stamp = ts or self.new_ts()
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": stamp,
            "channel": channel,
            "event_ts": stamp,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files is not None:
            event["files"] = files
            event["upload"] = False
        return self.event(event, **kw)

    def file_share(
        self,
        files: list[dict[str, Any]],
        text: str = "",
        *,
        channel: str = "D0CALLER",
        user: str = "U0CALLER",
        ts: str | None = None,
        **kw: Any,
    ) -> SignedRequest:
        """Files shared in a direct message with the bot: a `message` of subtype `file_share`."""
        return self.direct_message(
            text,
            channel=channel,
            user=user,
            ts=ts,
            extra={
                "subtype": "file_share",
                "files": files,
                "upload": False,
                "display_as_bot": False,
            },
            **kw,
        )

    def direct_message(
        self,
        text: str,
        *,
        channel: str = "D0CALLER",
        user: str = "U0CALLER",
        ts: str | None = None,
        extra: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> SignedRequest:
        stamp = ts or self.new_ts()
        event: dict[str, Any] = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": stamp,
            "channel": channel,
            "event_ts": stamp,
        }
        event.update(extra or {})
        return self.event(event, **kw)

    def block_action(
        self,
        action_id: str,
        value: str,
        *,
        response_url: str,
        trigger_id: str,
        channel: str = "C0GENERAL",
        message_ts: str = "1700000000.000100",
        user_id: str = "U0CALLER",
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
        message_blocks: list[dict[str, Any]] | None = None,
        message_text: str = "result",
        **sign_kw: Any,
    ) -> SignedRequest:
        """A button click on a message; `thread_ts`: the message is a reply in that thread."""
        message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": message_text}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        if message_blocks is not None:
            message["blocks"] = message_blocks
        payload = {
            "type": "block_actions",
            "user": {"id": user_id, "username": "caller", "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token-unused",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": is_ephemeral,
            },
            "trigger_id": trigger_id,
            "team": {"id": self.team_id, "domain": "standin"},
            "channel": {"id": channel, "name": "general"},
            "message": message,
            "response_url": response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "mtasts_actions",
                    "type": "button",
                    "value": value,
                    "action_ts": f"{self._clock():.6f}",
                }
            ],
        }
        if thread_ts is not None:
            payload["container"]["thread_ts"] = thread_ts  # type: ignore[index]
        body = urlencode({"payload": json.dumps(payload)})
        return self.signed(body, "application/x-www-form-urlencoded", **sign_kw)

    def url_verification(self, challenge: str, **sign_kw: Any) -> SignedRequest:
        payload = {"token": "unused", "challenge": challenge, "type": "url_verification"}
        return self.signed(json.dumps(payload), "application/json", **sign_kw)

    def new_ts(self) -> str:
        return f"{int(self._clock())}.{next(self._ids):06d}"
