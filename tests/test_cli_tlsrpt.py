"""`mtasts tlsrpt` on the corpus: output, exit statuses, JSON and Slack payloads.

In process (`bot.cli.main`) and with `--no-check`, so no network is touched; the
fresh check through a real process is in tests/reports/test_compare_testbed.py.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.testbed.reports import Failure, rfc_shape

CORPUS = Path(__file__).parent / "reports" / "corpus"


def _run(
    capsys: pytest.CaptureFixture[str], *args: str, stdin: bytes | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        code = main(["tlsrpt", "--no-check", *args])
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_human_summary_of_the_rfc_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(CORPUS / "rfc8460-example.json"))
    assert code == 1  # failures, and nothing checked to say they are fixed
    assert err == ""
    assert out.startswith("TLS-RPT: 1 report from 1 sender\n")
    assert "Company-X (sts-reporting@company-x.example) · 1 report · 2016-04-01" in out
    assert "sts policy for company-y.example: 5,326 sessions succeeded, 303 failed (5.4 %)" in out
    lines = out.splitlines()
    firsts = [i for i, line in enumerate(lines) if " at mx" in line]
    assert ["starttls" in lines[firsts[0]], "expired" in lines[firsts[1]]] == [True, True]
    assert "reason: X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED" in out
    assert "Read leniently: 1 failure detail without receiving-ip." in out
    assert "\x1b[" not in out


def test_clean_reports_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, str(CORPUS / "google-clean.json.gz"), str(CORPUS / "microsoft-clean.json")
    )
    assert code == 0
    assert "TLS-RPT: 2 reports from 2 senders" in out
    assert "0 failed (0.0 %)" in out


def test_several_files_summarise_together_per_sender(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "--json",
        str(CORPUS / "week.zip"),
        str(CORPUS / "google-failures.json"),
        str(CORPUS / "microsoft-failures.json.gz"),
    )
    data = json.loads(out)
    assert code == 1
    assert data["reports"] == 9
    senders = {s["organization_name"]: s for s in data["senders"]}
    assert set(senders) == {"Google Inc.", "Microsoft Corporation"}
    assert senders["Google Inc."]["reports"] == 8
    assert senders["Google Inc."]["start_datetime"] == "2026-11-28T00:00:00Z"
    groups = senders["Google Inc."]["policies"][0]["failure_groups"]
    assert [g["failed_session_count"] for g in groups] == sorted(
        (g["failed_session_count"] for g in groups), reverse=True
    )
    assert "checks" not in data  # --no-check


def test_unreadable_files_are_one_line_each_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        capsys,
        str(CORPUS / "screenshot.png"),
        str(CORPUS / "rfc8460-example.json"),
        str(CORPUS / "zip-bomb.zip"),
        str(CORPUS / "no-such-file.json"),
    )
    assert code == 2
    assert "TLS-RPT: 1 report" in out  # the readable one is still summarised
    errors = err.strip().splitlines()
    assert len(errors) == 3
    assert errors[0].startswith("mtasts: ")
    assert "no-such-file.json" in errors[0]
    assert "screenshot.png is an image (PNG), not a TLS-RPT report" in errors[1]
    assert "zip-bomb.zip is larger than 10 MiB once decompressed" in errors[2]
    assert "Traceback" not in err


def test_nothing_readable_exits_2_with_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, str(CORPUS / "dmarc-aggregate.xml"))
    assert (code, out) == (2, "")
    assert "is a DMARC aggregate report (XML)" in err


def test_standard_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "-", stdin=(CORPUS / "google-clean.json.gz").read_bytes())
    assert code == 0
    assert "Google Inc." in out


def test_blocks_is_the_slack_payload(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--blocks", str(CORPUS / "all-result-types.json"))
    (line,) = out.splitlines()  # no checks: the summary alone
    payload = json.loads(line)
    assert code == 1
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "TLS-RPT report for company-y.example",
            "emoji": True,
        },
    }
    assert "174 of 1,174 sessions failed" in json.dumps(payload)


def test_json_and_blocks_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["tlsrpt", "--json", "--blocks", "x.json"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_bad_setting_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tlsrpt", "--timeout", "soon", str(CORPUS / "rfc8460-example.json")])
    assert code == 2
    assert "timeout" in capsys.readouterr().err


def test_a_policy_domain_that_is_no_domain_is_not_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = rfc_shape("10.0.0.1", [Failure("certificate-expired", "mx.10.0.0.1", 3)])
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    code = main(["tlsrpt", str(path)])  # with the fresh check: none is attempted
    out = capsys.readouterr().out
    assert code == 1
    assert "Could not check 10.0.0.1 now: it is not a domain I can check" in out
    assert "now: CAN'T TELL — I couldn't check 10.0.0.1 now" in out
