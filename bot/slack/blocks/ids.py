"""Action and callback ids shared by the block builders and the listeners."""

from __future__ import annotations

import re

ACTION_POLICY = "mtasts_show_policy"  # "Policy file" button: modal with the raw policy
ACTION_DNS = "mtasts_show_dns"  # "DNS records" button: modal with TXT/MX/TLS-RPT/CNAME
ACTION_MX = "mtasts_show_mx"  # "MX & TLS" button: modal with per-MX, per-address details
ACTION_EXPLAIN = "mtasts_explain"  # "Explain in thread": threaded reply explaining failures
ACTION_RECHECK = "mtasts_recheck"  # "Re-check": bypass the cache, replace the message

ACTION_WATCH = "mtasts_watch"  # "Watch": watch this domain in this conversation
ACTION_UNWATCH = "mtasts_unwatch"  # "Unwatch" on an alert or confirmation: stop, here
# "Unwatch" in the App Home tab: the value is "CHANNEL_ID DOMAIN" (Home has no conversation)
ACTION_HOME_UNWATCH = "mtasts_home_unwatch"


def numbered(action_id: str, n: int) -> str:
    """One of several buttons of a kind in one message or view ("mtasts_unwatch:3"), so
    that every action_id there is unique."""
    return f"{action_id}:{n}"


def any_numbered(action_id: str) -> re.Pattern[str]:
    """What the listener of `action_id` matches: the id itself, or numbered."""
    return re.compile(rf"^{re.escape(action_id)}(:\d+)?$")


RESULT_ACTIONS = (
    ACTION_POLICY,
    ACTION_DNS,
    ACTION_MX,
    ACTION_EXPLAIN,
    ACTION_RECHECK,
    ACTION_WATCH,
)

# Every button's `value` is the normalised domain (ASCII, at most 253 characters).
VIEW_CALLBACK_DETAILS = "mtasts_details"
