"""manifest.yml is a valid Slack app manifest declaring what the code relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from manifest_schema import SHARED, schema

REPO = Path(__file__).parents[2]
MANIFEST = REPO / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_valid_against_slack_schema(manifest: dict[str, Any]) -> None:
    jsonschema.validate(manifest, schema())


def test_the_vendored_schema_is_the_projects() -> None:
    if SHARED is None:
        pytest.skip("no shared/ folder beside this checkout to compare the vendored schema with")
    assert json.loads(SHARED.read_text(encoding="utf-8")) == schema()


def test_schema_would_catch_a_broken_manifest(manifest: dict[str, Any]) -> None:
    broken = dict(manifest, settings={**manifest["settings"], "socket_mode": "yes"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema())


def test_declares_the_command(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    mtasts = [c for c in commands if c["command"] == "/mtasts"]
    assert len(mtasts) == 1
    assert mtasts[0]["should_escape"] is False
    assert mtasts[0]["usage_hint"]
    assert "url" not in mtasts[0]  # Socket Mode: no request URL


def test_events_interactivity_socket_mode(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    events = settings["event_subscriptions"]["bot_events"]
    assert set(events) == {
        "app_mention",
        "message.im",
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert "message.channels" not in events
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"] == "mtasts"
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True  # the watches


def test_minimal_scopes(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "app_mentions:read", "chat:write", "im:history", "files:read"}


def test_comments_say_how_to_switch_to_http() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    assert "socket_mode_enabled: false" in text
    assert text.count("https://<your-host>/slack/events") >= 3
    assert "request_url" in text
