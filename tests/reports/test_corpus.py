"""Every file of the corpus (tests/reports/corpus, made by build.py) read as the bot reads it.

Reports in each real-world shape are summarised with the right counts, and say what
they were missing; everything else gets its one sentence saying what it is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bot.reports.parse import parse_read
from bot.reports.reading import WHAT_I_READ, read_path
from bot.reports.summary import Summary, summarise

CORPUS = Path(__file__).parent / "corpus"

# file -> (reports, successful sessions, failed sessions, distinct failure groups)
REPORTS: dict[str, tuple[int, int, int, int]] = {
    "rfc8460-example.json": (1, 5326, 303, 3),
    "google-clean.json.gz": (1, 4210, 0, 0),
    "google-failures.json": (1, 3900, 53, 2),
    "microsoft-clean.json": (1, 212, 0, 0),
    "microsoft-failures.json.gz": (1, 180, 41, 1),
    "missing-fields.json": (1, 1010, 58, 2),
    "counts-as-strings.json": (1, 1000, 53, 2),
    "no-policy-found.json": (1, 70, 2, 1),
    "all-result-types.json": (1, 1000, 174, 12),
    "tlsa.json": (1, 1000, 6, 1),
    "week.zip": (7, 4221, 82, 1),
    "report.zip": (1, 1000, 53, 2),
    "report.eml": (1, 1000, 53, 2),
}

# file -> words the one sentence must hold
NOT_REPORTS: dict[str, str] = {
    "gzip-bomb.json.gz": "larger than 10 MiB once decompressed",
    "zip-bomb.zip": "larger than 10 MiB once decompressed",
    "many-parts-bomb.zip": "larger than 10 MiB once decompressed",
    "nested-archives.zip": "nests archives more than 3 deep",
    "dmarc-aggregate.xml": "is a DMARC aggregate report (XML), not a TLS-RPT report",
    "dmarc-google.zip": "is a DMARC aggregate report (XML), not a TLS-RPT report",
    "screenshot.png": "is an image (PNG), not a TLS-RPT report",
    "cut-off.json": "is not valid JSON (line 28, column 4: Expecting value) — it looks cut off",
    "truncated.json.gz": "is a gzip file cut short",
    "check-output.json": "is the JSON of an MTA-STS check (mtasts check --json)",
    "other-shape.json": "is JSON with the fields name, values but no policies",
    "empty.json": "is empty",
    "base64-noise.bin": "is a binary file I can't read",
}


def _summary(name: str) -> Summary:
    return summarise(parse_read(read_path(CORPUS / name, name=name)))


def test_the_corpus_is_complete_and_what_build_py_makes() -> None:
    made = {p.name for p in CORPUS.iterdir() if p.suffix != ".py"}
    assert made == set(REPORTS) | set(NOT_REPORTS)
    spec = importlib.util.spec_from_file_location("corpus_build", CORPUS / "build.py")
    assert spec is not None
    assert spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name, data in build.files().items():
        assert (CORPUS / name).read_bytes() == data, f"{name}: run build.py again"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_reports_are_summarised(name: str) -> None:
    reports, successes, failures, groups = REPORTS[name]
    summary = _summary(name)
    assert summary.problems == []
    assert summary.reports == reports
    assert summary.successes == successes
    assert summary.failures == failures
    assert sum(len(p.groups) for p in summary.policies()) == groups


@pytest.mark.parametrize("name", sorted(NOT_REPORTS))
def test_anything_else_gets_one_sentence(name: str) -> None:
    summary = _summary(name)
    assert summary.reports == 0
    assert len(summary.problems) == 1
    reason = summary.problems[0].reason
    assert NOT_REPORTS[name] in reason
    assert reason.endswith(".")
    assert reason.count(". ") == 0  # one sentence
    assert "Traceback" not in reason


def test_non_reports_say_what_is_read_instead() -> None:
    for name in ("screenshot.png", "dmarc-aggregate.xml", "other-shape.json", "cut-off.json"):
        assert WHAT_I_READ in _summary(name).problems[0].reason


def test_the_rfc_example_in_detail() -> None:
    summary = _summary("rfc8460-example.json")
    (sender,) = summary.senders
    assert sender.organization == "Company-X"
    assert sender.contacts == ["sts-reporting@company-x.example"]
    (policy,) = sender.sorted_policies()
    assert (policy.type, policy.domain) == ("sts", "company-y.example")
    assert policy.mx_hosts == ["*.mail.company-y.example"]
    assert policy.policy_strings == [
        ("version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400")
    ]
    groups = policy.sorted_groups()
    assert [(g.result_type, g.mx_host, g.count) for g in groups] == [
        ("starttls-not-supported", "mx2.mail.company-y.example", 200),
        ("certificate-expired", "mx1.mail.company-y.example", 100),
        ("validation-failure", "mx-backup.mail.company-y.example", 3),
    ]
    assert groups[0].receiving_ip == "203.0.113.56"
    assert groups[0].additional
    assert groups[0].additional.startswith("https://reports.company-x")
    # failure-error-code (the RFC example's spelling) is read as the reason code
    assert list(groups[2].reason_codes) == ["X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"]
    assert summary.notes.sentences() == ["1 failure detail without receiving-ip"]


def test_missing_fields_are_said() -> None:
    notes = _summary("missing-fields.json").notes.sentences()
    assert "3 failure details without receiving-ip" in notes
    assert "3 failure details without sending-mta-ip" in notes
    assert "1 policy without policy-string" in notes
    assert "2 sts policies without mx-host" in notes
    assert "1 policy with failures but no failure-details" in notes
    assert "1 report without contact-info" in notes
    assert "1 report without report-id" in notes


def test_google_and_microsoft_shapes() -> None:
    google = _summary("google-clean.json.gz")
    assert google.senders[0].organization == "Google Inc."
    assert google.notes.sentences() == ["1 sts policy without mx-host"]  # Google never sends it
    microsoft = _summary("microsoft-failures.json.gz")
    policy = next(iter(microsoft.policies()))
    assert policy.mx_hosts == ["mx1.company-y.example", "mx2.company-y.example"]  # a list
    assert policy.sorted_groups()[0].receiving_ip == "203.0.113.12"
    assert not _summary("microsoft-clean.json").notes  # an empty failure-details is fine


def test_counts_as_strings_and_extra_fields() -> None:
    summary = _summary("counts-as-strings.json")
    assert summary.senders[0].organization == "Company-X"  # read from Organization_Name
    assert summary.notes.sentences() == ["5 session counts written as text"]


def test_a_week_of_reports_is_one_sender_over_the_week() -> None:
    summary = _summary("week.zip")
    (sender,) = summary.senders
    assert sender.reports == 7
    assert sender.start is not None
    assert sender.end is not None
    assert (sender.start.date().isoformat(), sender.end.date().isoformat()) == (
        "2026-11-28",
        "2026-12-04",
    )
    (policy,) = sender.policies.values()
    assert policy.reports == 7
    (group,) = policy.groups.values()
    assert group.count == 82
    assert group.entries == 2


def test_every_rfc_result_type_and_an_unknown_one() -> None:
    summary = _summary("all-result-types.json")
    (policy,) = summary.policies()
    kinds = {g.result_type: g.known for g in policy.groups.values()}
    assert len(kinds) == 12
    assert kinds.pop("certificate-revoked") is False
    assert all(kinds.values())


def test_missing_session_counts_are_said_not_silently_zero() -> None:
    from bot.reports.model import Notes
    from bot.reports.parse import parse_value

    report = {
        "organization-name": "Example Mail",
        "date-range": {"start-datetime": "2026-12-01T00:00:00Z"},
        "report-id": "r1",
        "policies": [
            {
                "policy": {"policy-type": "sts", "policy-domain": "example.com"},
                "summary": {"total-failure-session-count": 3},
                "failure-details": [
                    {"result-type": "certificate-expired", "failed-session-count": 3},
                    {"result-type": "validation-failure"},
                ],
            }
        ],
    }
    notes = Notes()
    parsed = parse_value(report, "r.json", notes)
    assert not isinstance(parsed, str)
    sentences = notes.sentences()
    assert "1 policy summary without total-successful-session-count" in sentences
    assert "1 failure detail without failed-session-count" in sentences
