"""The three plain pages of an OAuth install (pure functions: text in, HTML out).

`/slack/install` shows what the app will be allowed to do and an "Add to
Slack" link to Slack's authorize page; `/slack/oauth_redirect` says
"installed" (and how to start), or why not and what to do. Everything that
comes from outside (a workspace's name, Slack's error code) is escaped.
"""

from __future__ import annotations

import html

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

# What each bot scope of manifest.yml lets the app do, in the words of someone installing it.
SCOPE_WORDS = {
    "commands": "add the /mtasts command",
    "app_mentions:read": "see messages that mention @mtasts",
    "chat:write": "post results and alerts where it is a member, and in its DMs",
    "im:history": "read the direct messages people send it",
    "files:read": "read TLS-RPT report files shared with it",
}

# Why an install did not happen, and what to do, by the reason the flow gives.
FAILURES = {
    "access_denied": (
        "The install was cancelled on Slack's page, so nothing was installed.",
        "To install after all, start again from the install page.",
    ),
    "invalid_browser": (
        "This install was started in another browser, or its cookie is gone.",
        "Start again from the install page, in this browser.",
    ),
    "invalid_state": (
        "This install link has expired or was already used (a link lasts 10 minutes).",
        "Start again from the install page.",
    ),
    "missing_code": (
        "Slack did not send the install's confirmation code.",
        "Start again from the install page.",
    ),
    "invalid_code": (
        "Slack did not confirm the install: its code was refused (expired or already used).",
        "Start again from the install page.",
    ),
    "storage_error": (
        "Slack confirmed the install, but this app could not save it (its database did not "
        "answer), so it is not installed.",
        "Try again in a minute; if it keeps happening, tell whoever runs this app.",
    ),
    "slack_unreachable": (
        "Slack could not be reached to complete the install, so nothing was installed.",
        "Try again in a minute from the install page.",
    ),
    "busy": (
        "Too many installs are in progress right now.",
        "Try again in a few minutes.",
    ),
    "unavailable": (
        "The install cannot start right now: this app's database did not answer.",
        "Try again in a minute; if it keeps happening, tell whoever runs this app.",
    ),
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;"
    "line-height:1.5;color:#1d1c1d}a.add{display:inline-block;padding:.6em 1.2em;"
    "background:#4a154b;color:#fff;border-radius:4px;text-decoration:none;font-weight:600}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def install_page(authorize_url: str, scopes: tuple[str, ...]) -> str:
    """The install page: what the app may do, and the link to Slack's authorize page."""
    items = "".join(
        f"<li>{html.escape(SCOPE_WORDS.get(scope, scope))} (<code>{html.escape(scope)}</code>)</li>"
        for scope in scopes
    )
    return _page(
        "Install mtasts",
        "<p>mtasts checks a domain's MTA-STS and TLS-RPT setup, says what to fix, and can "
        "watch domains and alert a channel when something breaks.</p>\n"
        f"<p>In your workspace it will be able to:</p>\n<ul>{items}</ul>\n"
        f'<p><a class="add" href="{html.escape(authorize_url)}">Add to Slack</a></p>\n'
        "<p>Slack asks you to choose the workspace and to confirm. This link works once, "
        "for 10 minutes.</p>",
    )


def installed_page(team_name: str | None, *, slack_url: str) -> str:
    """After a successful install: where it is installed and how to start."""
    where = f"in {html.escape(team_name)}" if team_name else "in your workspace"
    return _page(
        "mtasts is installed",
        f"<p>mtasts is installed {where}.</p>\n"
        "<p>Try <code>/mtasts example.com</code> in any channel, or send the bot a domain in "
        "a direct message. To watch a domain, invite the bot to the channel "
        "(<code>/invite @mtasts</code>) and type <code>/mtasts watch example.com</code>.</p>\n"
        f'<p><a href="{html.escape(slack_url)}">Open Slack</a></p>',
    )


def failure_page(reason: str) -> str:
    """Why the install did not happen, and what to do (`reason`: the flow's, or Slack's)."""
    what, todo = FAILURES.get(
        reason,
        (
            f"Slack refused the install ({reason}).",
            "Start again from the install page; if it happens again, tell whoever runs this "
            "app what Slack said.",
        ),
    )
    return _page(
        "mtasts was not installed",
        f"<p>{html.escape(what)}</p>\n<p>{html.escape(todo)}</p>\n"
        f'<p><a href="{INSTALL_PATH}">Go to the install page</a></p>',
    )
