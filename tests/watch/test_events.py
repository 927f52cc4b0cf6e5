"""Two states compared: which alerts, with which keys, incidents and threads."""

from __future__ import annotations

import dataclasses

import pytest
from reports import DOMAIN, make, policy_text

from bot.checker.model import Report
from bot.watch.events import (
    CERT_EXPIRING,
    MODE_CHANGED,
    MX_CHANGED,
    POLICY_CHANGED,
    RECOVERED,
    WORSE,
    Event,
    cert_threshold,
    detect,
)
from bot.watch.state import DomainState, snapshot

MX1, MX2, MX3 = f"mx1.{DOMAIN}", f"mx2.{DOMAIN}", f"mx3.{DOMAIN}"


class Timeline:
    """Feeds reports one after another, as the scheduler would (each change is a new seq)."""

    def __init__(self, first: Report) -> None:
        self.state: DomainState = snapshot(first)
        self.seq = 1

    def then(self, report: Report) -> list[Event]:
        self.seq += 1
        self.state, events = detect(self.state, snapshot(report, self.state), self.seq)
        return events


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def test_nothing_changed_nothing_to_say() -> None:
    line = Timeline(make())
    assert line.then(make(checked_at="2026-11-30T11:00:00Z")) == []


def test_worse_names_the_new_findings_and_opens_an_incident() -> None:
    line = Timeline(make())
    events = line.then(make(findings=[("tlsrpt_missing", DOMAIN)]))
    assert kinds(events) == [WORSE]
    worse = events[0]
    assert (worse.before, worse.after) == ("pass", "warn")
    assert [k.code for k in worse.findings] == ["tlsrpt_missing"]
    assert worse.incident == 1
    assert worse.key == "worse:1"
    assert [i.id for i in line.state.incidents] == [1]


def test_recovered_closes_the_incident_in_its_thread() -> None:
    line = Timeline(make())
    line.then(make(findings=[("policy_content_type", DOMAIN)]))
    events = line.then(make())
    assert kinds(events) == [RECOVERED]
    back = events[0]
    assert (back.before, back.after) == ("fail", "pass")
    assert back.resolves == (1,)
    assert back.thread_of == 1
    assert [k.code for k in back.findings] == ["policy_content_type"]
    assert line.state.incidents == ()


def test_incidents_stack_by_level_and_close_from_the_worst() -> None:
    line = Timeline(make())
    assert line.then(make(findings=[("tlsrpt_missing", DOMAIN)]))[0].incident == 1
    failing = [("tlsrpt_missing", DOMAIN), ("policy_content_type", DOMAIN)]
    assert line.then(make(findings=failing))[0].incident == 2
    better = line.then(make(findings=[("tlsrpt_missing", DOMAIN)]))
    assert kinds(better) == [RECOVERED]
    assert better[0].resolves == (2,)
    assert better[0].thread_of == 2
    well = line.then(make())
    assert well[0].resolves == (1,)
    assert well[0].thread_of == 1
    # later good news with no incident open is threaded under the latest one
    line.then(make(findings=[("policy_content_type", DOMAIN)]))  # incident 3, fail
    line.then(make(findings=[("tlsrpt_missing", DOMAIN)]))  # closes 3 (now warn)
    last = line.then(make())
    assert last[0].resolves == ()
    assert last[0].thread_of == 3


def test_one_worsening_to_fail_is_one_incident_and_one_alert() -> None:
    line = Timeline(make())
    events = line.then(make(findings=[("policy_content_type", DOMAIN)]))
    assert kinds(events) == [WORSE]
    assert events[0].after == "fail"
    back = line.then(make())
    assert back[0].resolves == (1,)


def test_mode_downgrade_is_mode_changed_not_worse() -> None:
    line = Timeline(make())
    events = line.then(make(mode="testing", record_id="20260102"))
    assert kinds(events) == [MODE_CHANGED]
    assert (events[0].before, events[0].after) == ("enforce", "testing")
    assert events[0].key.startswith("mode:2:")


def test_mode_raised_over_an_uncovered_mx_carries_the_incident() -> None:
    line = Timeline(make(mode="testing", covered=[MX1]))
    events = line.then(make(mode="enforce", covered=[MX1], record_id="20260102"))
    assert kinds(events) == [MODE_CHANGED]  # mx_not_covered went warning → error: explained
    assert events[0].incident == 1
    assert [k.code for k in events[0].findings] == ["mx_not_covered"]


def test_withdrawing_to_none_is_mode_changed() -> None:
    line = Timeline(make())
    events = line.then(make(mode="none", record_id="20260102"))
    assert kinds(events) == [MODE_CHANGED]
    assert events[0].after == "none"
    assert events[0].incident == 1  # mode_none is a warning: the status got worse


def test_policy_edited_without_a_new_id() -> None:
    line = Timeline(make())
    edited = policy_text("enforce", [MX1, MX2], max_age=86400 * 14)
    events = line.then(make(text=edited))
    assert kinds(events) == [POLICY_CHANGED]
    assert events[0].key.startswith("policy:2:")


@pytest.mark.parametrize(
    "text",
    [
        policy_text("enforce", [MX1, MX2], newline="\r\n"),
        policy_text("enforce", [MX1, MX2]).replace("\n", "  \n") + "\n\n",
    ],
)
def test_line_endings_and_trailing_whitespace_are_not_a_change(text: str) -> None:
    line = Timeline(make())
    assert line.then(make(text=text)) == []


def test_policy_edited_with_a_new_id_is_fine() -> None:
    line = Timeline(make())
    edited = policy_text("enforce", [MX1, MX2], max_age=86400 * 14)
    assert line.then(make(text=edited, record_id="20260102")) == []


def test_policy_that_stops_being_usable_is_worse_not_changed() -> None:
    line = Timeline(make())
    events = line.then(make(mode=None, findings=[("policy_mode_invalid", DOMAIN)]))
    assert kinds(events) == [WORSE]
    assert line.state.policy is not None
    assert line.state.policy.mode == "enforce"


def test_policy_that_stops_being_usable_while_already_failing_is_worse() -> None:
    # A failing domain (an MX certificate is invalid) whose policy then breaks too: the
    # status stays `fail`, but senders' caches now start to run out: that is `worse`.
    line = Timeline(make(findings=[("mx_cert_invalid", MX2)]))
    broken = [("mx_cert_invalid", MX2), ("policy_http_status", DOMAIN)]
    events = line.then(make(mode=None, findings=broken))
    assert kinds(events) == [WORSE]
    assert (events[0].before, events[0].after) == ("fail", "fail")
    assert [k.code for k in events[0].findings] == ["policy_http_status"]
    assert events[0].incident == 1
    # ... once: the next check of the same broken state says nothing new
    assert line.then(make(mode=None, findings=broken, checked_at="2026-11-30T11:00:00Z")) == []


def test_policy_edit_that_breaks_coverage_is_one_alert() -> None:
    line = Timeline(make())
    edited = policy_text("enforce", [MX1])
    events = line.then(make(text=edited, covered=[MX1]))
    assert kinds(events) == [POLICY_CHANGED]  # the uncovered MX is its consequence
    assert events[0].incident == 1
    assert [k.code for k in events[0].findings] == ["mx_not_covered"]


def test_new_mx_not_covered_is_one_mx_changed_alert() -> None:
    line = Timeline(make())
    events = line.then(make(mx=[MX1, MX2, MX3], covered=[MX1, MX2]))
    assert kinds(events) == [MX_CHANGED]
    assert events[0].added == (MX3,)
    assert events[0].removed == ()
    assert events[0].incident == 1
    removed = line.then(make(mx=[MX1]))
    assert kinds(removed) == [MX_CHANGED, RECOVERED]
    assert removed[0].removed == (MX2, MX3)


def test_a_failed_mx_lookup_is_not_a_change_of_hosts() -> None:
    line = Timeline(make())
    events = line.then(make(mx=[], findings=[("mx_lookup_failed", DOMAIN)]))
    assert kinds(events) == [WORSE]
    assert kinds(line.then(make())) == [RECOVERED]  # hosts back: not "added"


@pytest.mark.parametrize(
    ("days", "threshold"),
    [(200, None), (14, None), (13, 14), (7, 14), (6, 7), (2, 3), (0, 1), (-1, 1), (None, None)],
)
def test_thresholds(days: int | None, threshold: int | None) -> None:
    assert cert_threshold(days) == threshold


def test_an_invalid_policy_certificate_is_worse_not_expiring() -> None:
    # The policy host now serves an expired certificate (read for the details view): that
    # is `worse` (policy_tls_invalid), not "expires in less than a day".
    line = Timeline(make())
    events = line.then(
        make(mode=None, policy_days=-2, findings=[("policy_tls_invalid", f"mta-sts.{DOMAIN}")])
    )
    assert kinds(events) == [WORSE]
    assert line.state.certs == tuple(c for c in line.state.certs if c.where != "policy")


def test_a_certificate_is_announced_once_per_threshold() -> None:
    line = Timeline(make())
    said: list[int | None] = []
    for left in (20, 13, 12, 10, 6, 5, 2, 1, 0):
        events = line.then(make(mx_days={MX1: left}))
        said += [e.threshold for e in events if e.kind == CERT_EXPIRING]
    assert said == [14, 7, 3, 1]


def test_a_certificate_first_seen_near_expiry_is_announced_at_its_threshold() -> None:
    line = Timeline(make())
    events = line.then(make(mx=[MX1, MX2, MX3], mx_days={MX3: 5}))
    assert kinds(events) == [MX_CHANGED, CERT_EXPIRING]
    assert events[1].threshold == 7
    assert events[1].certs[0].host == MX3


def test_cert_expiring_explains_its_warning_and_opens_the_incident() -> None:
    line = Timeline(make())
    report = make(mx_days={MX1: 9}, findings=[("cert_expiring", MX1)])
    events = line.then(report)
    assert kinds(events) == [CERT_EXPIRING]
    assert events[0].incident == 1
    assert events[0].key.endswith(":14")
    renewed = make()
    assert kinds(line.then(renewed)) == [RECOVERED]


def test_the_policy_host_certificate_counts_too() -> None:
    line = Timeline(make())
    events = line.then(make(policy_days=3))
    assert kinds(events) == [CERT_EXPIRING]
    assert events[0].certs[0].where == "policy"
    assert events[0].threshold == 7


def test_same_comparison_twice_gives_the_same_keys() -> None:
    first = snapshot(make())
    new = snapshot(make(findings=[("tlsrpt_missing", DOMAIN)], mx_days={MX1: 2}), first)
    one = detect(first, new, 7)
    two = detect(first, dataclasses.replace(new), 7)
    assert [e.key for e in one[1]] == [e.key for e in two[1]]
    assert one[0] == two[0]
