from __future__ import annotations

import re

from slack_bolt.app.async_app import AsyncApp

from bot.slack.blocks.ids import (
    ACTION_DNS,
    ACTION_EXPLAIN,
    ACTION_MX,
    ACTION_POLICY,
    ACTION_RECHECK,
)
from bot.slack.listeners.actions.details import show_details
from bot.slack.listeners.actions.explain import explain
from bot.slack.listeners.actions.other_actions import other_actions
from bot.slack.listeners.actions.recheck import recheck
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    for action_id in (ACTION_POLICY, ACTION_DNS, ACTION_MX):
        app.action(action_id)(show_details(services))
    app.action(ACTION_EXPLAIN)(explain(services))
    app.action(ACTION_RECHECK)(recheck(services))
    # Last: Bolt runs the first listener that matches.
    app.action(re.compile(".*"))(other_actions(services))
