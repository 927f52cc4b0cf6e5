from __future__ import annotations

from slack_bolt.app.async_app import AsyncApp

from bot.slack.listeners.commands.mtasts import COMMAND, mtasts_command
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    app.command(COMMAND)(mtasts_command(services))
