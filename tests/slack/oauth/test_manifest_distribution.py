"""manifest.yml's comments on OAuth distribution: followed to the letter, the manifest is
still valid, and the install asks for exactly the manifest's bot scopes."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from manifest_schema import schema as manifest_schema

from bot.slack.oauth.flow import BOT_SCOPES
from bot.slack.oauth.pages import REDIRECT_PATH

REPO = Path(__file__).parents[3]
MANIFEST = REPO / "manifest.yml"
HOST = "https://mtasts.example.com"


def _manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _distributed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with the comments' seven changes made (HTTP mode, then OAuth)."""
    out = copy.deepcopy(manifest)
    url = f"{HOST}/slack/events"
    out["settings"]["socket_mode_enabled"] = False
    for command in out["features"]["slash_commands"]:
        command["url"] = url
    out["settings"]["event_subscriptions"]["request_url"] = url
    out["settings"]["interactivity"]["request_url"] = url
    out["oauth_config"]["redirect_urls"] = [f"{HOST}{REDIRECT_PATH}"]
    out["settings"]["token_rotation_enabled"] = True
    return out


def test_the_comments_name_the_redirect_url_install_page_and_rotation() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert f"https://<your-host>{REDIRECT_PATH}" in comments
    assert "https://<your-host>/slack/install" in comments
    assert "redirect_urls:" in comments
    assert "token_rotation_enabled: true" in comments
    assert "SLACK_REDIRECT_URI" in comments
    assert re.search(r"Activate Public Distribution", comments)


def test_the_distributed_manifest_is_valid() -> None:
    schema = manifest_schema()
    jsonschema.validate(_distributed(_manifest()), schema)
    broken = _distributed(_manifest())
    broken["oauth_config"]["redirect_urls"] = "not a list"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_the_install_asks_for_exactly_the_manifest_s_bot_scopes() -> None:
    assert list(BOT_SCOPES) == _manifest()["oauth_config"]["scopes"]["bot"]
