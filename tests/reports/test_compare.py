"""Failure groups against a check of the domain now: still failing, fixed since, or neither.

Checks built by hand here, to reach every branch; tests/reports/test_compare_testbed.py
does the same against the testbed's real servers.
"""

from __future__ import annotations

from bot.checker.findings import finding
from bot.checker.model import AddressProbe, CertInfo, MxHost, Policy, Report, Tls
from bot.reports.compare import DomainCheck, drift, verdict
from bot.reports.summary import FailureGroup, PolicySummary

D = "example.com"
POLICY_TEXT = (
    "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 604800\n"
)


def _tls(
    *,
    reachable: bool = True,
    starttls: bool | None = True,
    valid: bool | None = True,
    error: str | None = None,
    not_after: str = "2027-03-02T00:00:00Z",
    address: str = "192.0.2.2",
) -> Tls:
    probe = AddressProbe(
        address=address,
        reachable=reachable,
        starttls=starttls,
        cert_valid=valid,
        cert_error=error,
        cert=CertInfo(not_after=not_after, days_left=-3 if error else 80),
        error="the handshake failed" if valid is None and starttls else None,
    )
    return Tls(
        reachable=reachable,
        starttls=starttls,
        cert_valid=valid,
        cert_error=error,
        not_after=not_after,
        address=address,
        probes=[probe],
    )


def _report(mx2: Tls | None, *, findings: list | None = None, policy: bool = True) -> Report:
    return Report(
        domain=D,
        mode="enforce",
        policy=Policy("STSv1", "enforce", 604800, ["mx1.example.com"], POLICY_TEXT)
        if policy
        else None,
        mx=[
            MxHost(
                "mx1.example.com", 10, "mx1.example.com", ["192.0.2.1"], _tls(address="192.0.2.1")
            ),
            MxHost("mx2.example.com", 20, "mx2.example.com", ["192.0.2.2"], mx2),
        ],
        findings=findings or [],
    )


def _group(kind: str, host: str | None = "mx2.example.com", ip: str | None = None) -> FailureGroup:
    return FailureGroup(kind, host, ip, count=5)


EXPIRED = "the certificate has expired"


def test_an_expired_certificate_still_expired_names_the_date() -> None:
    now = _report(_tls(valid=False, error=EXPIRED, not_after="2026-12-04T09:00:00Z"))
    found = verdict(_group("certificate-expired"), now)
    assert found.state == "still_failing"
    assert found.text == "mx2.example.com's certificate expired on 2026-12-04 — still expired now."
    assert found.label == "still failing"


def test_an_expired_certificate_renewed_since() -> None:
    found = verdict(_group("certificate-expired"), _report(_tls()))
    assert found.state == "fixed"
    assert (
        found.text
        == "mx2.example.com's certificate has been renewed since: valid until 2027-03-02."
    )
    assert found.label == "fixed since"


def test_other_certificate_failures() -> None:
    mismatch = "the certificate is not valid for mx2.example.com (no matching DNS name in its SAN)"
    bad_name = _report(_tls(valid=False, error=mismatch))
    assert verdict(_group("certificate-host-mismatch"), bad_name).text == (
        "mx2.example.com's certificate still does not name it."
    )
    untrusted = _report(_tls(valid=False, error="the certificate is self-signed"))
    found = verdict(_group("certificate-not-trusted"), untrusted)
    assert found.state == "still_failing"
    assert "self-signed" in found.text
    # a different problem now than the one reported is still a failure, and says which
    expired_now = _report(_tls(valid=False, error=EXPIRED, not_after="2026-12-01T00:00:00Z"))
    found = verdict(_group("certificate-host-mismatch"), expired_now)
    assert found.text == "mx2.example.com's certificate expired on 2026-12-01 — expired now."
    assert verdict(_group("certificate-not-trusted"), _report(_tls())).state == "fixed"
    handshake = verdict(_group("validation-failure"), _report(_tls(valid=None)))
    assert handshake.state == "still_failing"
    assert "the handshake failed" in handshake.text


def test_starttls() -> None:
    none = _report(_tls(starttls=False, valid=None))
    assert verdict(_group("starttls-not-supported"), none).text == (
        "mx2.example.com still offers no STARTTLS."
    )
    assert verdict(_group("certificate-expired"), none).state == "still_failing"
    assert verdict(_group("starttls-not-supported"), _report(_tls())).text == (
        "mx2.example.com offers STARTTLS now."
    )


def test_validation_failure_of_an_mx_the_policy_does_not_cover() -> None:
    uncovered = finding("mx_not_covered", "mx2.example.com", "not covered", mode="enforce")
    found = verdict(_group("validation-failure"), _report(_tls(), findings=[uncovered]))
    assert found.state == "still_failing"
    assert "still not covered by the policy's mx patterns" in found.text


def test_what_cannot_be_told_from_here() -> None:
    unreachable = verdict(_group("certificate-expired"), _report(_tls(reachable=False)))
    assert unreachable.state == "unknown"
    assert "port 25" in unreachable.text
    no_smtp = _report(None)
    no_smtp.smtp_checked = False
    assert "SMTP probes are off" in verdict(_group("certificate-expired"), no_smtp).text


def test_an_mx_that_is_gone_and_groups_without_a_host() -> None:
    gone = verdict(_group("certificate-expired", "mx-old.example.com"), _report(_tls()))
    assert gone.state == "gone"
    assert "mx-old.example.com is no longer an MX of example.com" in gone.text
    # by receiving IP when no host is named
    by_ip = verdict(
        _group("certificate-expired", None, "192.0.2.2"), _report(_tls(valid=False, error=EXPIRED))
    )
    assert by_ip.state == "still_failing"
    assert by_ip.text.startswith("mx2.example.com")
    # neither: every MX is looked at; one failing is enough
    anywhere = verdict(
        _group("certificate-expired", None), _report(_tls(valid=False, error=EXPIRED))
    )
    assert anywhere.state == "still_failing"
    all_fine = verdict(_group("certificate-expired", None), _report(_tls()))
    assert all_fine.state == "fixed"


def test_policy_failures() -> None:
    timeout = finding("policy_timeout", f"mta-sts.{D}", "The policy fetch timed out after 10 s.")
    still = verdict(
        _group("sts-policy-fetch-error", None), _report(_tls(), findings=[timeout], policy=False)
    )
    assert still.state == "still_failing"
    assert still.text == "Still failing now: The policy fetch timed out after 10 s."
    assert verdict(_group("sts-policy-fetch-error", None), _report(_tls())).text == (
        "The policy fetches now and it is served properly."
    )
    bad_cert = finding("policy_tls_invalid", f"mta-sts.{D}", "The certificate has expired.")
    webpki = verdict(
        _group("sts-webpki-invalid", None), _report(_tls(), findings=[bad_cert], policy=False)
    )
    assert webpki.state == "still_failing"
    assert "expired" in webpki.text
    # the reported problem is gone but another keeps the policy unusable
    other = verdict(
        _group("sts-policy-invalid", None), _report(_tls(), findings=[bad_cert], policy=False)
    )
    assert other.state == "still_failing"
    assert other.text.startswith("The policy still can't be used")
    withdrawn = finding("record_missing", f"_mta-sts.{D}", "No record.")
    gone = verdict(
        _group("sts-policy-invalid", None), _report(_tls(), findings=[withdrawn], policy=False)
    )
    assert gone.state == "gone"


def test_dane_and_unknown_types_are_not_compared() -> None:
    for kind in ("tlsa-invalid", "dnssec-invalid", "dane-required"):
        assert verdict(_group(kind), _report(_tls())).state == "not_checked"
    unknown = verdict(_group("certificate-revoked"), _report(_tls()))
    assert unknown.state == "not_checked"


def test_a_failed_check_cannot_tell() -> None:
    check = DomainCheck(D, error="the check timed out")
    found = check.verdict(_group("certificate-expired"))
    assert found.state == "unknown"
    assert found.text == "I couldn't check example.com now: the check timed out"
    assert check.drift(PolicySummary("sts", D)) is None


def _policy(lines: list[str] | None, kind: str = "sts") -> PolicySummary:
    policy = PolicySummary(kind, D)
    if lines is not None:
        policy.policy_strings.append(tuple(lines))
    return policy


def test_the_same_policy_does_not_drift_whatever_the_spacing_and_order() -> None:
    same = [
        "version:STSv1",
        "mx: mx2.example.com",
        "mode:  enforce",
        "mx: mx1.example.com",
        "max_age: 604800",
    ]
    assert drift(_policy(same), _report(_tls())) is None


def test_an_older_policy_in_the_report_is_named_line_by_line() -> None:
    older = ["version: STSv1", "mode: testing", "mx: mx1.example.com", "max_age: 86400"]
    moved = drift(_policy(older), _report(_tls()))
    assert moved is not None
    assert "the sender used an older policy from its cache" in moved.text
    assert moved.in_report == ("max_age: 86400", "mode: testing")
    assert moved.published == ("max_age: 604800", "mode: enforce", "mx: mx2.example.com")


def test_drift_when_no_policy_is_published_now_and_when_one_appeared() -> None:
    gone = drift(_policy(["version: STSv1"]), _report(_tls(), policy=False))
    assert gone is not None
    assert "publishes no usable policy now" in gone.text
    appeared = drift(_policy(None, "no-policy-found"), _report(_tls()))
    assert appeared is not None
    assert appeared.text == (
        "The sender found no MTA-STS policy then; example.com publishes one now (mode enforce)."
    )
    assert drift(_policy(None, "no-policy-found"), _report(_tls(), policy=False)) is None
    # a TLSA policy-string holds TLSA records, not an MTA-STS policy
    assert drift(_policy(["3 1 1 abcd"], "tlsa"), _report(_tls())) is None
    assert drift(_policy(None), _report(_tls())) is None  # no policy-string: nothing to compare
