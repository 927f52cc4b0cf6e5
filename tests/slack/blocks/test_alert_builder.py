"""Alert messages, built from (previous state, new report): one test per event and per mode."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from reports import DOMAIN, make, policy_text
from slack_samples import EVIL, assert_message_limits, assert_no_markup_leak, blocks_text

from bot.checker.findings import finding
from bot.checker.model import Report
from bot.slack.blocks.alert_builder import build_alert, build_resolved, interval_words
from bot.slack.blocks.ids import (
    ACTION_DNS,
    ACTION_EXPLAIN,
    ACTION_MX,
    ACTION_POLICY,
    ACTION_RECHECK,
    ACTION_UNWATCH,
)
from bot.watch.events import Event, detect
from bot.watch.state import DomainState, snapshot

MX1, MX2, MX3 = f"mx1.{DOMAIN}", f"mx2.{DOMAIN}", f"mx3.{DOMAIN}"
NEW_ID = "20261201T000000"


def alert(before: Report, after: Report, kind: str) -> tuple[dict[str, Any], Event, DomainState]:
    """The alert of `kind` that comes from `before` then `after` (the real comparison)."""
    previous = snapshot(before)
    _, events = detect(previous, snapshot(after, previous), 2)
    (event,) = [e for e in events if e.kind == kind]
    payload = build_alert(event, previous, after, interval=3600)
    assert_message_limits(payload)
    assert_no_markup_leak(payload)
    return payload, event, previous


def header(payload: dict[str, Any]) -> str:
    return str(payload["blocks"][0]["text"]["text"])


def test_every_alert_has_the_result_buttons_and_unwatch() -> None:
    payload, _, _ = alert(make(), make(findings=[("tlsrpt_missing", DOMAIN)]), "worse")
    actions = payload["blocks"][-1]
    assert actions["type"] == "actions"
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (ACTION_POLICY, DOMAIN),
        (ACTION_DNS, DOMAIN),
        (ACTION_MX, DOMAIN),
        (ACTION_EXPLAIN, DOMAIN),
        (ACTION_RECHECK, DOMAIN),
        (ACTION_UNWATCH, DOMAIN),
    ]
    assert "I check this domain every hour" in blocks_text(payload)


# -- worse -------------------------------------------------------------------------------


def test_worse_in_enforce_says_mail_bounces_and_gives_the_fix() -> None:
    payload, _, _ = alert(make(), make(findings=[("mx_starttls_missing", MX2)]), "worse")
    assert header(payload) == f":rotating_light: {DOMAIN} got worse: checks out → failing"
    assert payload["text"] == f"{DOMAIN} got worse: checks out → failing (1 new problem)"
    body = blocks_text(payload)
    assert "senders that support MTA-STS refuse to deliver" in body
    assert "MX lacks STARTTLS" in body
    assert "fix mx_starttls_missing" in body  # the finding's fix


def test_worse_in_testing_says_mail_still_flows() -> None:
    payload, _, _ = alert(
        make(mode="testing"), make(mode="testing", findings=[("tlsrpt_missing", DOMAIN)]), "worse"
    )
    assert "*testing* mode: senders report these failures" in blocks_text(payload)


def test_worse_in_none_says_nothing_bounces() -> None:
    before = make(mode="none")
    after = make(mode="none", findings=[("policy_content_type", DOMAIN)])
    payload, _, _ = alert(before, after, "worse")
    assert "MTA-STS is withdrawn, so nothing bounces" in blocks_text(payload)


def test_worse_when_the_policy_stops_being_usable_dates_the_senders_cache() -> None:
    after = make(
        mode=None, findings=[("policy_http_status", DOMAIN)], checked_at="2026-12-01T09:00:00Z"
    )
    payload, _, _ = alert(make(), after, "worse")
    body = blocks_text(payload)
    assert "*no usable policy* now" in body
    # last fetched 2026-11-30 10:00 UTC + max_age 7 days
    assert "*Until about 2026-12-07 10:00 UTC*" in body
    assert "mode `enforce`, last fetched 2026-11-30 10:00 UTC, max_age 7 days" in body


def test_worse_when_a_failing_domain_loses_its_policy_dates_the_senders_cache() -> None:
    broken_mx = ("mx_cert_invalid", f"mx2.{DOMAIN}")
    after = make(
        mode=None,
        findings=[broken_mx, ("policy_http_status", DOMAIN)],
        checked_at="2026-12-01T09:00:00Z",
    )
    payload, event, _ = alert(make(findings=[broken_mx]), after, "worse")
    assert (event.before, event.after) == ("fail", "fail")
    assert payload["blocks"][0]["text"]["text"].endswith("the policy is no longer usable")
    assert "still *failing*, and the policy is no longer usable" in blocks_text(payload)
    assert "*Until about 2026-12-07 10:00 UTC*" in blocks_text(payload)


# -- recovered ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["enforce", "testing", "none"])
def test_recovered_lists_what_was_fixed(mode: str) -> None:
    payload, event, _ = alert(
        make(mode=mode, findings=[("policy_content_type", DOMAIN)]),  # type: ignore[arg-type]
        make(mode=mode),  # type: ignore[arg-type]
        "recovered",
    )
    body = blocks_text(payload)
    assert "*Fixed:*" in body
    assert "Policy is not text/plain" in body
    if mode == "none":  # mode none is a warning itself: better, not recovered
        assert header(payload) == f":white_check_mark: {DOMAIN} is better: failing → warnings"
        assert "*Still open:*" in body
    else:
        assert header(payload) == f":white_check_mark: {DOMAIN} recovered: failing → checks out"
        assert "Nothing left to fix." in body
    assert event.after == ("warn" if mode == "none" else "pass")


# -- mode_changed ------------------------------------------------------------------------


def test_mode_downgraded_enforce_to_testing() -> None:
    payload, _, _ = alert(make(), make(mode="testing", record_id=NEW_ID), "mode_changed")
    assert header(payload) == f":arrow_down: {DOMAIN}: mode downgraded (enforce → testing)"
    body = blocks_text(payload)
    assert "senders no longer refuse mail when TLS fails" in body
    assert "until about 2026-12-07 10:00 UTC" in body  # the old policy in senders' caches


def test_mode_raised_testing_to_enforce_is_good_news_with_what_now_fails() -> None:
    before = make(mode="testing", covered=[MX1])
    after = make(mode="enforce", covered=[MX1], record_id=NEW_ID)
    payload, _, _ = alert(before, after, "mode_changed")
    assert header(payload) == f":arrow_up: {DOMAIN}: mode raised (testing → enforce)"
    body = blocks_text(payload)
    assert "Good news" in body
    assert "MX not covered by policy" in body  # now an error: it is in the alert


def test_mode_withdrawn_to_none() -> None:
    payload, _, _ = alert(make(), make(mode="none", record_id=NEW_ID), "mode_changed")
    assert header(payload) == f":arrow_down: {DOMAIN}: MTA-STS withdrawn (enforce → none)"
    assert "Mode `none` tells senders to forget the policy" in blocks_text(payload)


# -- policy_changed_same_id -------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("enforce", "mail to a host only the new policy lists is refused"),
        ("testing", "your TLS-RPT reports describe the old one"),
        ("none", "keep enforcing its old mode"),
    ],
)
def test_policy_changed_same_id(mode: str, says: str) -> None:
    before = make(mode=mode)  # type: ignore[arg-type]
    edited = policy_text(mode, [MX1, MX2, MX3])
    after = make(mode=mode, text=edited, checked_at="2026-12-01T08:30:00Z")  # type: ignore[arg-type]
    payload, _, _ = alert(before, after, "policy_changed_same_id")
    assert header(payload) == f":memo: {DOMAIN}: policy changed, but its id did not"
    body = blocks_text(payload)
    assert f"+ mx: {MX3}" in body
    assert says in body
    assert "up to its max_age (7 days)" in body
    assert f'_mta-sts.{DOMAIN}. TXT "v=STSv1; id=20261201T083000"' in body


def test_policy_diff_is_escaped() -> None:
    edited = policy_text("enforce", [MX1, MX2]) + f"comment: {EVIL}\n"
    payload, _, _ = alert(make(), make(text=edited), "policy_changed_same_id")
    assert "&lt;!channel&gt;" in blocks_text(payload)


# -- mx_changed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("enforce", "*not covered* by the enforced policy: senders that support MTA-STS refuse"),
        ("testing", "in testing mode mail still flows but senders report it"),
        ("none", "in mode `none` nothing bounces"),
    ],
)
def test_new_mx_not_covered(mode: str, says: str) -> None:
    before = make(mode=mode)  # type: ignore[arg-type]
    after = make(mode=mode, mx=[MX1, MX2, MX3], covered=[MX1, MX2])  # type: ignore[arg-type]
    payload, _, _ = alert(before, after, "mx_changed")
    assert header(payload) == f":incoming_envelope: {DOMAIN}: MX hosts changed"
    assert payload["text"] == f"{DOMAIN}: MX hosts changed (1 added)"
    body = blocks_text(payload)
    assert f"`{MX3}` (30) · :x: not covered" in body
    assert says in body


def test_mx_removed_and_added_covered() -> None:
    after = make(mx=[MX1, MX3])
    payload, _, _ = alert(make(), after, "mx_changed")
    body = blocks_text(payload)
    assert f"*Removed:* `{MX2}`" in body
    assert "Every new host is covered by the policy." in body


# -- cert_expiring ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("enforce", "refuse to deliver to this MX"),
        ("testing", "senders report failed TLS to this MX"),
        ("none", "nothing bounces"),
    ],
)
def test_mx_certificate_expiring(mode: str, says: str) -> None:
    before = make(mode=mode)  # type: ignore[arg-type]
    after = make(mode=mode, mx_days={MX1: 6}, findings=[("cert_expiring", MX1)])  # type: ignore[arg-type]
    payload, event, _ = alert(before, after, "cert_expiring")
    assert event.threshold == 7
    assert header(payload) == f":hourglass_flowing_sand: {DOMAIN}: a certificate expires in 6 days"
    body = blocks_text(payload)
    assert f"The certificate of `{MX1}` (on `192.0.2.10`) expires on *2027-01-01*" in body
    assert says in body
    assert "renew it now" in body


def test_policy_host_certificate_expiring() -> None:
    payload, _, _ = alert(make(), make(policy_days=0), "cert_expiring")
    assert header(payload).endswith("a certificate expires in less than a day")
    assert "senders cannot fetch the policy any more" in blocks_text(payload)


# -- size and hostile text -----------------------------------------------------------------


def test_a_huge_change_stays_within_limits() -> None:
    hosts = [f"mx{i}.{DOMAIN}" for i in range(60)]
    many = [("policy_unknown_key", f"k{i} {EVIL}") for i in range(200)]
    after = make(mx=hosts, covered=hosts[:1], findings=many)
    payload, _, _ = alert(make(), after, "mx_changed")
    assert len(payload["blocks"]) <= 50


def test_hostile_finding_text_is_escaped() -> None:
    after = make()
    after.findings.append(finding("tlsrpt_invalid", EVIL, EVIL, EVIL))
    payload, _, _ = alert(make(), after, "worse")
    assert "&lt;@U123&gt;" in blocks_text(payload)


# -- resolved --------------------------------------------------------------------------------


def test_resolved_update_marks_the_opening_alert_once() -> None:
    payload, _, _ = alert(make(), make(findings=[("tlsrpt_missing", DOMAIN)]), "worse")
    resolved = build_resolved(payload, status="pass", when="2026-12-01 10:00 UTC")
    assert header(resolved) == f"Resolved: {header(payload)}"
    assert resolved["text"].startswith("Resolved: ")
    assert "*Resolved* 2026-12-01 10:00 UTC: now checks out" in blocks_text(resolved)
    again = build_resolved(resolved, status="warn", when="2026-12-02 10:00 UTC")
    assert header(again) == header(resolved)
    assert "now warnings" in blocks_text(again)
    assert "now checks out" not in blocks_text(again)
    assert_message_limits(again)
    assert resolved["blocks"][-1] == payload["blocks"][-1]  # the buttons stay


def test_interval_words() -> None:
    assert [interval_words(s) for s in (3600, 60, 1800, 86400, 7200, 1, 5, 90)] == [
        "every hour",
        "every minute",
        "every 30 minutes",
        "every day",
        "every 2 hours",
        "every second",
        "every 5 seconds",
        "every 90 seconds",
    ]


def test_same_inputs_same_payload() -> None:
    worse = make(findings=[("mx_starttls_missing", MX2)])
    first, _, _ = alert(make(), worse, "worse")
    second, _, _ = alert(make(), dataclasses.replace(worse), "worse")
    assert first == second
