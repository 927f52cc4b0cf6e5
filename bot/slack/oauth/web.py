"""`GET /slack/install` and `GET /slack/oauth_redirect` on the app's aiohttp server.

Neither needs a signature (a browser comes here). Whatever breaks (the
database away, Slack unreachable, too many installs in progress) becomes a
plain page saying so, never a traceback.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.slack.oauth import pages
from bot.slack.oauth.flow import InstallFlow, failure_response
from bot.slack.oauth.stores import TooManyStates

log = logging.getLogger("mtasts.slack.oauth")


def add_install_routes(web_app: web.Application, flow: InstallFlow) -> None:
    async def install(request: web.Request) -> web.Response:
        try:
            response = await flow.handle_installation(await to_bolt_request(request))
        except TooManyStates:
            log.warning("install page refused reason=too_many_states")
            response = failure_response("busy", 503)
        except Exception as exc:
            log.error("install page failed error=%s", type(exc).__name__)
            response = failure_response("unavailable", 503)
        return await to_aiohttp_response(response)

    async def redirect(request: web.Request) -> web.Response:
        try:
            response = await flow.handle_callback(await to_bolt_request(request))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("install failed: slack unreachable error=%s", type(exc).__name__)
            response = failure_response("slack_unreachable", 502)
        except Exception as exc:  # the state store's database, say
            log.error("install failed error=%s", type(exc).__name__)
            response = failure_response("unavailable", 503)
        return await to_aiohttp_response(response)

    web_app.router.add_get(pages.INSTALL_PATH, install)
    web_app.router.add_get(pages.REDIRECT_PATH, redirect)
