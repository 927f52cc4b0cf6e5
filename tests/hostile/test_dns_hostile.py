"""Hostile and broken DNS: each fault gives its own finding, says what happened, and the
check ends within its budget."""

from __future__ import annotations

import json

import pytest
from hostile_scenarios import HOSTILE, Checked

from bot.checker import limits
from bot.testbed.bed import Testbed


def test_every_hostile_scenario_gives_exactly_its_findings(hostile: dict[str, Checked]) -> None:
    """The whole hostile catalogue: exact codes, status and mode, all within budget."""
    for sc in HOSTILE:
        c = hostile[sc.domain]
        detail = "\n".join(f"  {f.code} [{f.subject}] {f.message}" for f in c.report.findings)
        assert c.codes == set(sc.expect_codes), f"{sc.domain}: {sc.description}\n{detail}"
        assert c.report.status == sc.expect_status, f"{sc.domain}\n{detail}"
        assert c.report.mode == sc.expect_mode, f"{sc.domain}\n{detail}"
        c.assert_within_budget()


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        ("h-servfail.example", "answered SERVFAIL"),
        ("h-refused.example", "answered REFUSED"),
        ("h-dns-timeout.example", "no answer from the DNS server"),
        ("h-cname-loop.example", "CNAME chain loops"),
        ("h-cname-long.example", f"longer than {limits.MAX_CNAME_CHAIN} names"),
    ],
)
def test_lookup_failures_say_what_happened(
    hostile: dict[str, Checked], domain: str, words: str
) -> None:
    c = hostile[domain]
    message = c.only("record_lookup_failed")
    assert words in message, message
    assert f"_mta-sts.{domain}" in message
    assert c.report.record is None
    c.assert_within_budget()


def test_cname_loop_names_the_loop(hostile: dict[str, Checked]) -> None:
    message = hostile["h-cname-loop.example"].only("record_lookup_failed")
    assert "_mta-sts.h-cname-loop.example → sts.h-cname-loop.example → " in message


def test_timeout_ends_at_the_budget_not_the_resolver_default(
    hostile: dict[str, Checked],
) -> None:
    c = hostile["h-dns-timeout.example"]
    assert c.budget - 0.2 <= c.seconds  # it did wait for the answer, then gave up
    c.assert_within_budget()


def test_truncated_udp_answer_is_retried_over_tcp(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    c = hostile["h-truncated.example"]
    assert c.report.record is not None
    assert c.report.record.id == "20240101T000000"
    assert c.codes == set()
    # Every UDP answer for this name has TC set: the record can only have come over TCP.
    assert hostile_bed.dns.tcp_queries.get("_mta-sts.h-truncated.example", 0) >= 1


def test_cname_chain_within_bounds_is_followed_and_shown(hostile: dict[str, Checked]) -> None:
    record = hostile["h-cname-ok.example"].report.record
    assert record is not None
    assert record.id == "chained"
    assert len(record.cname) == 3


def test_txt_strings_are_joined_without_spaces(hostile: dict[str, Checked]) -> None:
    record = hostile["h-txt-strings.example"].report.record
    assert record is not None
    assert record.txt == "v=STSv1; id=split2024"
    assert record.id == "split2024"


def test_a_10kb_record_is_read_whole_and_shown_cut(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    """The id after 10 KB of padding still counts (senders read the whole record); the
    report shows at most MAX_TXT_LENGTH characters and says how long the record was."""
    c = hostile["h-txt-10k.example"]
    assert c.report.record is not None
    assert c.report.record.id == "late10k"
    assert len(c.report.record.txt) < limits.MAX_TXT_LENGTH + 40
    assert "characters)" in c.report.record.txt
    assert all(len(t) < limits.MAX_TXT_LENGTH + 40 for t in c.report.dns.mta_sts_txt)
    # Too large for UDP: it came over TCP.
    assert hostile_bed.dns.tcp_queries.get("_mta-sts.h-txt-10k.example", 0) >= 1


def test_100_mx_records_are_all_checked(hostile: dict[str, Checked]) -> None:
    c = hostile["h-mx-100.example"]
    report = c.report
    assert report.dns.mx_total == 100
    assert len(report.dns.mx) == 100  # every published record is listed
    assert len(report.mx) == 100 == limits.MAX_MX_HOSTS  # and every host checked
    assert [m.preference for m in report.mx] == list(range(1, 101))
    assert all(m.tls is not None and m.tls.starttls and m.tls.cert_valid for m in report.mx)
    assert c.codes == set()
    c.assert_within_budget()


def test_mx_pointing_at_a_cname_is_followed(
    hostile: dict[str, Checked], hostile_bed: Testbed
) -> None:
    """RFC 2181 §10.3 says an MX must not name an alias, but senders follow it; the MX
    host name (not the alias target) is what the policy and the certificate must name."""
    c = hostile["h-mx-cname.example"]
    (mx,) = c.report.mx
    assert mx.host == "mail.h-mx-cname.example"
    assert mx.matched_by == "mail.h-mx-cname.example"
    assert mx.addresses == [hostile_bed.addresses["real.h-mx-cname.example"]]
    assert mx.tls is not None
    assert mx.tls.cert_valid
    assert c.report.status == "pass"


def test_mx_hosts_without_address_are_named_with_the_reason(hostile: dict[str, Checked]) -> None:
    c = hostile["h-mx-noaddr.example"]
    by_host = {f.subject: f.message for f in c.report.findings}
    assert "no such name" in by_host["mx1.h-mx-noaddr.example"]
    assert "no A/AAAA" in by_host["mx2.h-mx-noaddr.example"]
    assert all(m.tls is None for m in c.report.mx)  # nothing to probe


def test_many_addresses_are_probed_up_to_the_bound(hostile: dict[str, Checked]) -> None:
    c = hostile["h-many-addresses.example"]
    (mx,) = c.report.mx
    assert len(mx.addresses) == limits.MAX_ADDRESSES_PER_HOST
    assert mx.tls is not None
    assert len(mx.tls.probes) == limits.MAX_ADDRESSES_PER_HOST


def test_mx_and_pattern_floods_stay_bounded(hostile: dict[str, Checked]) -> None:
    """2,000 MX hosts against 2,000 policy patterns: the check takes no longer than its
    budget (no quadratic matching), and the report stays readable: at most
    MAX_FINDINGS_PER_CODE findings of a code plus one saying how many more."""
    c = hostile["h-mx-flood.example"]
    c.assert_within_budget()
    assert c.report.dns.mx_total == 2000
    assert len(c.report.dns.mx) == limits.MAX_MX_RECORDS
    assert len(c.report.mx) == limits.MAX_MX_HOSTS
    unchecked = c.only("mx_not_checked")
    assert "publishes 2000 MX hosts" in unchecked, unchecked
    assert f"so {2000 - limits.MAX_MX_HOSTS} were not checked" in unchecked, unchecked
    per_code: dict[str, int] = {}
    for f in c.report.findings:
        per_code[f.code] = per_code.get(f.code, 0) + 1
    assert all(n <= limits.MAX_FINDINGS_PER_CODE + 1 for n in per_code.values()), per_code
    more = [f.message for f in c.report.findings if f.code == "mx_pattern_unused"][-1]
    assert "1980 more" in more, more
    assert len(str(c.report.to_json())) < 512 * 1024


def test_every_hostile_report_is_one_bounded_json_line(hostile: dict[str, Checked]) -> None:
    """What `mtasts check --json` prints for each hostile domain: one line of JSON, small
    whatever the servers sent (10 MB bodies, 10 KB records, thousands of MX records)."""
    for domain, c in hostile.items():
        line = json.dumps(c.report.to_json(), ensure_ascii=False)
        assert "\n" not in line
        assert len(line.encode()) < 256 * 1024, (domain, len(line))
        assert json.loads(line)["domain"] == domain
