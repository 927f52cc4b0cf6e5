from __future__ import annotations

import re

from slack_bolt.app.async_app import AsyncApp

from bot.slack.listeners.events.app_mention import app_mention
from bot.slack.listeners.events.direct_message import direct_message
from bot.slack.listeners.events.other_events import other_events
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    app.event("app_mention")(app_mention(services))
    # Every message event is matched (and most ignored) so none is left "unhandled".
    app.event("message")(direct_message(services))
    app.event(re.compile(".*"))(other_events())  # last: Bolt runs the first match
