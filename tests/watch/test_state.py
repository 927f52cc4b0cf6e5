"""A Report distilled into the state kept per watched domain."""

from __future__ import annotations

import dataclasses
import json

from reports import DOMAIN, make, policy_text

from bot.checker.findings import finding
from bot.watch.state import DomainState, normalise_policy, snapshot


def test_snapshot_keeps_what_alerts_compare() -> None:
    state = snapshot(make(mx_days={f"mx1.{DOMAIN}": 10}))
    assert state.status == "pass"
    assert state.mode == "enforce"
    assert state.record_id == "20260101"
    assert state.mx == (f"mx1.{DOMAIN}", f"mx2.{DOMAIN}")
    assert state.policy is not None
    assert state.policy.id == "20260101"
    assert state.policy.mode == "enforce"
    assert state.policy.max_age == 604800
    assert state.policy.fetched_at == "2026-11-30T10:00:00Z"
    hosts = {(c.host, c.where, c.days_left) for c in state.certs}
    assert (f"mx1.{DOMAIN}", "192.0.2.10", 10) in hosts
    assert (f"mta-sts.{DOMAIN}", "policy", 300) in hosts


def test_state_survives_json() -> None:
    state = snapshot(make(findings=[("tlsrpt_missing", DOMAIN)]))
    again = DomainState.from_json(state.to_json())
    assert again == state


def test_line_endings_and_trailing_space_do_not_change_a_policy() -> None:
    lf = policy_text("enforce", ["mx1.example.com"])
    crlf = policy_text("enforce", ["mx1.example.com"], newline="\r\n").replace(
        "mode: enforce", "mode: enforce  \t"
    )
    assert normalise_policy(lf) == normalise_policy(crlf + "\r\n\r\n")
    assert normalise_policy(lf) != normalise_policy(lf.replace("mx1", "mx9"))


def test_an_unusable_policy_keeps_the_last_usable_one_senders_cached() -> None:
    good = snapshot(make())
    broken = snapshot(make(mode=None, findings=[("policy_http_status", DOMAIN)]), good)
    assert broken.mode is None
    assert not broken.usable
    assert broken.policy == good.policy  # what senders still hold


def test_a_failed_mx_lookup_keeps_the_known_hosts() -> None:
    before = snapshot(make())
    failed = make(mx=[], findings=[("mx_lookup_failed", DOMAIN)])
    assert snapshot(failed, before).mx == before.mx
    assert snapshot(make(mx=[])).mx == ()


def test_a_renewed_certificate_is_another_certificate() -> None:
    first = snapshot(make(mx_days={f"mx1.{DOMAIN}": 5}))
    report = make(mx_days={f"mx1.{DOMAIN}": 5})
    probe = report.mx[0].tls.probes[0]  # type: ignore[union-attr]
    assert probe.cert is not None
    probe.cert = dataclasses.replace(probe.cert, not_after="2027-03-01T00:00:00Z", days_left=90)
    renewed = snapshot(report)
    ids = {c.host: c.id for c in first.certs}
    assert {c.host: c.id for c in renewed.certs}[f"mx1.{DOMAIN}"] != ids[f"mx1.{DOMAIN}"]


def test_an_invalid_certificate_is_not_tracked_for_expiry() -> None:
    report = make()
    probe = report.mx[0].tls.probes[0]  # type: ignore[union-attr]
    probe.cert_valid = False
    report.findings.append(
        finding("mx_cert_invalid", f"mx1.{DOMAIN}", "expired", None, mode="enforce")
    )
    state = snapshot(report)
    assert f"mx1.{DOMAIN}" not in {c.host for c in state.certs}
    assert state.status == "fail"


def test_the_hand_written_json_is_every_field() -> None:
    import dataclasses

    state = snapshot(make(mx_days={f"mx1.{DOMAIN}": 3}, findings=[("tlsrpt_missing", DOMAIN)]))
    state = dataclasses.replace(state, last_incident=2, incident_seq=2)
    as_json = json.dumps(state.to_json(), sort_keys=True)
    assert as_json == json.dumps(dataclasses.asdict(state), sort_keys=True)
