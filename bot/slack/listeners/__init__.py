"""Bolt listeners: thin handlers, one per file, registered from each package's `register`."""

from __future__ import annotations

from slack_bolt.app.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
