"""`mtasts check` as people and scripts run it: a real process against the testbed."""

from __future__ import annotations

import json

import pytest

from bot.testbed.bed import Testbed
from bot.testbed.cli import run_mtasts as _mtasts


async def test_json_lines_in_input_order_and_exit_status(testbed: Testbed) -> None:
    code, out, err = await _mtasts(
        testbed, "--json", "dash-id.example", "Good.Example.", "user@testing.example"
    )
    lines = out.splitlines()
    reports = [json.loads(line) for line in lines]
    assert [r["domain"] for r in reports] == ["dash-id.example", "good.example", "testing.example"]
    assert [r["status"] for r in reports] == ["fail", "pass", "pass"]
    assert reports[1]["mode"] == "enforce"
    assert reports[1]["record"]["id"]
    assert all(mx["tls"]["cert_valid"] for mx in reports[1]["mx"])
    assert code == 1  # one domain failed
    assert err == ""


async def test_all_passing_exits_zero_with_a_human_summary(testbed: Testbed) -> None:
    code, out, err = await _mtasts(testbed, "good.example")
    assert code == 0, err
    assert out.startswith("PASS  good.example  mode: enforce")
    assert "mx1.good.example" in out
    assert "\x1b[" not in out  # no colour when not on a terminal


async def test_not_a_domain_is_one_line_on_stderr_and_exit_2(testbed: Testbed) -> None:
    code, out, err = await _mtasts(testbed, "--json", "10.0.0.1", "good.example", "localhost")
    assert code == 2
    assert [json.loads(line)["domain"] for line in out.splitlines()] == ["good.example"]
    errors = err.strip().splitlines()
    assert len(errors) == 2
    assert "'10.0.0.1' is not a domain" in errors[0]
    assert "'localhost' is not a domain" in errors[1]
    assert "Traceback" not in err


async def test_blocks_prints_the_slack_payload(testbed: Testbed) -> None:
    code, out, _ = await _mtasts(testbed, "--blocks", "testing-backup.example")
    payload = json.loads(out)
    assert code == 0
    assert "testing-backup.example" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    action_ids = [
        e["action_id"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert len(action_ids) == 6


async def test_bad_setting_is_a_usage_error(testbed: Testbed) -> None:
    code, out, err = await _mtasts(testbed, "--nameserver", "not-an-ip", "good.example")
    assert code == 2
    assert out == ""
    assert "not-an-ip" in err
    assert "Traceback" not in err


async def test_a_bug_in_one_check_is_one_line_and_the_others_still_print(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing real can make the engine raise, so here (only) a stand-in does."""
    import io

    import bot.checker.engine as engine
    from bot.checker.model import Report
    from bot.checker.settings import Settings
    from bot.cli import _run_all

    async def check(domain: str, settings: Settings) -> Report:
        if domain == "b.example":
            raise RuntimeError("boom")
        return Report(domain=domain)

    monkeypatch.setattr(engine, "check", check)
    out = io.StringIO()
    failed = await _run_all(["a.example", "b.example", "c.example"], Settings(), str, out)
    printed = out.getvalue()
    assert failed is True
    assert "a.example" in printed
    assert "c.example" in printed
    assert "b.example" not in printed
    err = capsys.readouterr().err
    assert err.strip() == (
        "mtasts: could not check b.example: internal error (RuntimeError: boom); "
        "please report this bug"
    )


async def test_worker_processes_print_the_same_in_input_order(testbed: Testbed) -> None:
    domains = ["testing.example", "dash-id.example", "good.example", "no-record.example"] * 3
    one_code, one_out, _ = await _mtasts(testbed, "--json", "--workers", "1", *domains)
    two_code, two_out, two_err = await _mtasts(testbed, "--json", "--workers", "3", *domains)
    assert two_err == ""
    assert two_code == one_code == 1

    def comparable(out: str) -> list[tuple[str, str, list[str]]]:
        reports = [json.loads(line) for line in out.splitlines()]
        return [
            (r["domain"], r["status"], sorted(f["code"] for f in r["findings"])) for r in reports
        ]

    assert [d for d, _, _ in comparable(two_out)] == domains
    assert comparable(two_out) == comparable(one_out)


async def test_worker_processes_render_the_human_summary_too(testbed: Testbed) -> None:
    code, out, err = await _mtasts(testbed, "--workers", "2", "good.example", "testing.example")
    assert code == 0, err
    assert out.index("PASS  good.example") < out.index("testing.example  mode: testing")
