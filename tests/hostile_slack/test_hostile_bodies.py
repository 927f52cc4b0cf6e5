"""Correctly signed but malformed or odd bodies: never a 500, never a traceback in an answer.

Signed with the right secret, so they pass verification and reach Bolt and the
listeners: what a compromised or buggy sender (or a Slack format change) could
deliver.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_harness import Harness

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

_event = {"type": "event_callback", "team_id": "T0STANDIN", "event_id": "EvODD"}
ODD: list[tuple[str, str]] = [
    ("", FORM),
    ("", JSON),
    ("{", JSON),
    ("[]", JSON),
    ("null", JSON),
    ('"text"', JSON),
    ("payload=notjson", FORM),
    ("payload=%7B%7D", FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions"})}), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": "x"})}), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": [None, 1]})}), FORM),
    (
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "team": {"id": "T0STANDIN"},
                        "user": "not-a-dict",
                        "actions": [{"action_id": "mtasts_recheck", "value": ["x"]}],
                        "container": "y",
                        "response_url": "RESPONSE_URL",
                    }
                )
            }
        ),
        FORM,
    ),
    (urlencode({"payload": json.dumps({"type": "view_submission", "view": None})}), FORM),
    (urlencode({"command": "/mtasts"}), FORM),
    (urlencode({"command": "/mtasts", "team_id": "T0STANDIN", "text": "\x00\x01"}), FORM),
    (urlencode({"command": "/other", "team_id": "T0STANDIN", "text": "x.example"}), FORM),
    (json.dumps({**_event, "event": None}), JSON),
    (json.dumps({**_event, "event": []}), JSON),
    (json.dumps({**_event, "event": {"type": "app_mention"}}), JSON),
    (
        json.dumps(
            {**_event, "event_id": "EvODD2", "event": {"type": "app_mention", "text": 5, "ts": 1}}
        ),
        JSON,
    ),
    (
        json.dumps(
            {
                **_event,
                "event_id": "EvODD3",
                "event": {"type": "message", "channel_type": "im", "user": ["U"], "text": "x"},
            }
        ),
        JSON,
    ),
    (json.dumps({"type": "url_verification"}), JSON),
    (json.dumps({"type": "url_verification", "challenge": {"a": 1}}), JSON),
    ("\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), FORM),
]


async def _send_ok(h: Harness, body: str, content_type: str) -> None:
    sent = await h.send(h.slack.signed(body, content_type))
    assert sent.status != 500, (body[:80], sent.text[:200])
    assert sent.status < 500
    assert "Traceback" not in sent.text
    assert "Error" not in sent.text or sent.status == 401


@pytest.mark.parametrize(("body", "content_type"), ODD)
async def test_odd_signed_bodies_never_break_the_app(
    harness: Harness, body: str, content_type: str
) -> None:
    body = body.replace("RESPONSE_URL", quote(harness.standin.new_response_url(), safe=""))
    await _send_ok(harness, body, content_type)
    await harness.idle()
    for call in harness.standin.calls:
        assert "Traceback" not in json.dumps(call.args)
    # Still serving afterwards.
    sent = await harness.send(
        harness.slack.slash_command("help", response_url=harness.standin.new_response_url())
    )
    assert sent.status == 200


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(
        st.sampled_from(["command", "team_id", "user_id", "text", "response_url", "channel_id"]),
        st.text(max_size=40),
    )
)
async def test_fuzzed_signed_command_forms_never_500(
    harness: Harness, form: dict[str, str]
) -> None:
    form = {**form, "response_url": harness.standin.new_response_url()}
    await _send_ok(harness, urlencode(form), FORM)
