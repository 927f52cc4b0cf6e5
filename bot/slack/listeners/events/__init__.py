from __future__ import annotations

import re

from slack_bolt.app.async_app import AsyncApp

from bot.slack.listeners.events.conversation import conversation
from bot.slack.listeners.events.home import home_opened, uninstalled
from bot.slack.listeners.events.other_events import other_events
from bot.slack.listeners.events.report_share import register as register_report_share
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    register_report_share(app, services)  # first: shared files and pasted reports
    app.event("app_mention")(conversation(services, name="app_mention", direct=False))
    # Every message event is matched (and most ignored) so none is left "unhandled".
    app.event("message")(conversation(services, name="message.im", direct=True))
    app.event("app_home_opened")(home_opened(services))
    for name in ("app_uninstalled", "tokens_revoked"):
        app.event(name)(uninstalled(services, name=name))
    app.event(re.compile(".*"))(other_events())  # last: Bolt runs the first match
