from __future__ import annotations

import re

from slack_bolt.app.async_app import AsyncApp

from bot.slack.blocks.ids import (
    ACTION_DNS,
    ACTION_EXPLAIN,
    ACTION_HOME_UNWATCH,
    ACTION_MX,
    ACTION_POLICY,
    ACTION_RECHECK,
    ACTION_UNWATCH,
    ACTION_WATCH,
    any_numbered,
)
from bot.slack.flows.details import run_details
from bot.slack.flows.explain import run_explain
from bot.slack.flows.recheck import run_recheck
from bot.slack.flows.watch_buttons import run_home_unwatch, run_unwatch_button, run_watch_button
from bot.slack.listeners.actions.buttons import button
from bot.slack.listeners.actions.other_actions import other_actions
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    for action_id in (ACTION_POLICY, ACTION_DNS, ACTION_MX):
        app.action(action_id)(button(services, run_details))
    app.action(ACTION_EXPLAIN)(button(services, run_explain))
    app.action(ACTION_RECHECK)(button(services, run_recheck))
    app.action(ACTION_WATCH)(button(services, run_watch_button))
    app.action(any_numbered(ACTION_UNWATCH))(button(services, run_unwatch_button))
    app.action(any_numbered(ACTION_HOME_UNWATCH))(button(services, run_home_unwatch))
    # Last: Bolt runs the first listener that matches.
    app.action(re.compile(".*"))(other_actions(services))
